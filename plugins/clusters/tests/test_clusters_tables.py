"""The papers' tables that `astrozoo compare` appends (Task.tables), the one-vs-all scores behind
Table 6, and one clear error for data files whose labels do not match the images (fast: no
training, no MLflow; the end-to-end checks are in test_clusters_runs.py)."""

import numpy as np
import pytest

from astrozoo import compare
from astrozoo.data import store as h5
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import Split
from astrozoo.registry import get_registry
from astrozoo_clusters import tables
from astrozoo_clusters.candidates.dataset import MockXClass
from astrozoo_clusters.candidates.conventions import SHORT
from astrozoo_clusters.candidates.task import evaluate
from astrozoo_clusters.coolcore.dataset import MockCoolCore


# -- Table 6's per-class scores ---------------------------------------------------------------------
def test_evaluate_scores_each_class_one_vs_all():
    y_true = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    y_pred = np.full((10, 5), 0.05)
    y_pred[np.arange(10), y_true] = 0.8
    y_pred[2] = [0.8, 0.05, 0.05, 0.05, 0.05]  # one high-z cluster called low-z
    test = {"ids": np.arange(10), "y_true": y_true, "y_pred": y_pred}
    splits = {"test": Split("test", np.arange(10), y_true, {"class_names": SHORT})}
    scores = evaluate({"test": test}, splits)
    assert scores["ova_accuracy_lowz"] == pytest.approx(0.9) and scores["ova_precision_lowz"] == pytest.approx(2 / 3)
    assert scores["ova_recall_hiz"] == pytest.approx(0.5) and scores["ova_precision_hiz"] == 1.0
    assert scores["ova_recall_galaxy"] == 1.0 and scores["ova_auc_other"] == 1.0
    assert scores["ova_accuracy"] == pytest.approx(np.mean([0.9, 0.9, 1, 1, 1]))
    assert {f"ova_{s}_{k}" for s in ("accuracy", "precision", "recall", "auc")
            for k in ("lowz", "hiz", "galaxy", "point", "other")} <= set(scores)
    binary = {"test": {"ids": np.arange(4), "y_true": np.array([0, 1, 0, 1]), "y_pred": np.array([.1, .9, .2, .8])}}
    assert evaluate(binary, {"test": Split("test", np.arange(4), np.array([0, 1, 0, 1]))}) == {}


# -- the tables' shape --------------------------------------------------------------------------------
def test_candidate_tables_have_the_papers_shape(monkeypatch):
    ours = {"cnn": {"seeds": 3, "accuracy": (0.9123, 0.0211), "precision": (0.8, 0.01), "recall": (0.95, 0.02),
                    "roc_auc": (0.97, 0.005)},
            "volunteers": {"seeds": 1, "accuracy": (0.7, None), "precision": (0.99, None), "recall": (0.41, None)},
            "cnn-5class": {"seeds": 2, "ova_accuracy_hiz": (0.81, 0.02), "ova_accuracy": (0.86, 0.01)}}
    monkeypatch.setattr(compare, "by_model", lambda rows, prefer=None: ours)
    text = tables.candidate_tables([], "quick")
    assert "Table 5" in text and "Table 6" in text and "Volunteers against the experts" in text
    assert "| CN-E | `cnn` | 3 | 0.912 ± 0.021 (0.90) | 0.800 ± 0.010 (0.89) |" in text
    assert "| CN-E solo optical | `cnn-optical` | 0 | — (0.68) |" in text  # the paper's row, no run of ours
    assert "| weighted (G_i = C_i/Q_i) | `volunteers` | 1 | 0.700 (0.818) | 0.990 (0.982) | 0.410 (0.647) |" in text
    assert "| CN | `cnn-5class` | 2 | High-z cluster | 0.810 ± 0.020 (0.84) | — (0.44) | — (0.65) | — (0.89) |" in text
    assert "| CN | `cnn-5class` | 2 | **mean** | 0.860 ± 0.010 (0.85) |" in text
    assert text.count("| MN | `mobilenet-5class` |") == 6  # five classes and the mean
    assert "profile quick" in text and "not results on real data" in text


def test_cool_core_table_has_su_et_al_shape(monkeypatch):
    ours = {"resnet18": {"seeds": 10, "f1": (0.8, 0.05), "bacc_ovr": (0.85, 0.04), "f1_cc": (0.9, 0.1)},
            "density": {"seeds": 10, "f1": (0.7, 0.06)}}
    monkeypatch.setattr(compare, "by_model", lambda rows, prefer=None: ours)
    text = tables.cool_core_tables([])
    assert "| Deep learning | `resnet18` | 10 | 0.800 ± 0.050 (0.79) | 0.850 ± 0.040 (0.85) | CC | — (0.81) | " \
           "— (0.86) | 0.900 ± 0.100 (0.83) | — (0.92) |" in text
    assert "| | | | | | NCC | — (0.57) | — (0.99) | — (0.72) | — (0.86) |" in text  # density's NCC row
    assert "| Concentration (fixed cuts) | `concentration` | 0 | — (0.33) | — |" in text
    assert text.count("| CC |") == 4


def test_both_tasks_hand_their_tables_to_compare():
    registry = get_registry()
    assert registry.task("cluster-candidates").tables is tables.candidate_tables
    assert registry.task("cool-core").tables is tables.cool_core_tables
    assert registry.task("cluster-candidates").evaluate is evaluate


# -- label and image files that do not match --------------------------------------------------------
def test_mock_files_whose_labels_do_not_match_the_images(tmp_path):
    from astrozoo_clusters.candidates.mock import generate as generate_candidates

    columns, images, attrs = generate_candidates(seed=0, n_objects=40, size=16)
    bad = h5.write(tmp_path / "xclass-bad.h5", {"catalogue": columns, "images": {"rgb": images[:-1]}}, attrs)
    with pytest.raises(AstrozooError, match=r"labels do not match the images: the catalogue lists 40 objects, "
                                            r"images/rgb holds 39"):
        MockXClass(n_objects=40, image_size=16, path=str(bad)).load("train").data["images"]()

    from astrozoo_clusters.coolcore.mock import COLUMN_UNITS, generate

    columns, counts, attrs = generate(seed=1, box_mpc=100.0, size=16)
    bad = tmp_path / "cc-bad.h5"
    h5.write(bad, {"catalogue": columns, "images": {"counts": counts[:-1]}}, attrs, COLUMN_UNITS)
    n = len(columns["label"])
    with pytest.raises(AstrozooError, match=f"labels do not match the images: the catalogue lists {n} clusters, "
                                            f"images/counts holds {n - 1}"):
        MockCoolCore(image_size=16, path=str(bad), n_folds=4).load("train").data["counts"]()
