"""End to end: the X-CLASS folder loader and its errors, and `astrozoo run` of the cluster models on
small files (one MLflow store per module)."""

import csv
from pathlib import Path

import numpy as np
import pytest

from astrozoo import runner
from astrozoo.data.store import DataError
from astrozoo.registry import get_registry
from astrozoo.testing import run_cli
from astrozoo_clusters.candidates.real import load_folder

TINY_CNN = ["params.epochs=1", "params.batch_size=16"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Shared MLflow store, cache and working directory for the module's runs."""
    root = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        mp.setenv("ASTROZOO_CACHE", str(root / "cache"))
        mp.setenv("HF_HUB_OFFLINE", "1")
        yield root


def write_xclass(root: Path, n_train=20, n_test=6, size=356, classes=None) -> Path:
    """A folder in the public layout: PNGs [empty, optical, X-ray] and CSVs (names and indices mixed)."""
    from PIL import Image

    folder = root / "Kosiba2020"
    rng = np.random.default_rng(0)
    names = ["low-z", "hi-z", "galaxy", "point", "other"]
    for split, n in (("train", n_train), ("test", n_test)):
        (folder / f"{split}_images").mkdir(parents=True, exist_ok=True)
        with open(folder / f"{split}.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["image_id", "class"])
            for i in range(n):
                k = (classes or [0, 1, 2, 3, 4])[i % len(classes or [0, 1, 2, 3, 4])]
                image = rng.integers(0, 40, (size, size, 3), dtype=np.uint8)
                image[..., 0] = 0
                if k in (0, 1):  # a bright extended blob in X-ray
                    yy, xx = np.mgrid[:size, :size]
                    blob = 200 * np.exp(-((xx - size / 2) ** 2 + (yy - size / 2) ** 2) / (size / 6) ** 2)
                    image[..., 2] += blob.astype(np.uint8)
                Image.fromarray(image).save(folder / f"{split}_images" / f"{split}{i:03d}.png")
                writer.writerow([f"{split}{i:03d}", names[k] if i % 2 else k])
    return folder


# -- the X-CLASS loader ------------------------------------------------------------------------------
def test_xclass_folder_loads_and_resizes(tmp_path):
    folder = write_xclass(tmp_path, n_train=6, n_test=4)
    columns, images, attrs = load_folder(tmp_path, size=32)  # the parent of Kosiba2020/ is fine too
    assert images.shape == (10, 3, 32, 32) and images.dtype == np.uint8
    assert columns["expert_class"].tolist() == [0, 1, 2, 3, 4, 0, 0, 1, 2, 3]
    assert columns["file_split"].tolist() == ["train"] * 6 + ["test"] * 4
    assert attrs["provenance"] == "real"
    assert load_folder(folder)[1].shape == (10, 3, 356, 356)


def test_xclass_errors_name_the_file_and_the_problem(tmp_path):
    folder = write_xclass(tmp_path, n_train=6, n_test=4)
    (folder / "train_images" / "train002.png").unlink()
    (folder / "train_images" / "stray.png").write_bytes((folder / "train_images" / "train001.png").read_bytes())
    message = (r"train\.csv: labels do not match the images: 1 image_id\(s\) with no PNG in train_images/ "
               r"\(e\.g\. 'train002'\); 1 PNG\(s\) in train_images/ not listed")
    with pytest.raises(DataError, match=message):
        load_folder(folder)

    folder = write_xclass(tmp_path / "shape", n_train=6, n_test=4)
    from PIL import Image

    Image.fromarray(np.zeros((100, 120, 3), np.uint8)).save(folder / "test_images" / "test001.png")
    with pytest.raises(DataError, match=r"test001\.png: image has shape \(100, 120, 3\), expected \(356, 356, 3\)"):
        load_folder(folder)

    folder = write_xclass(tmp_path / "label", n_train=6, n_test=4)
    text = (folder / "test.csv").read_text().replace("test001,hi-z", "test001,supercluster")
    (folder / "test.csv").write_text(text)
    with pytest.raises(DataError, match=r"test\.csv, line 3: unknown class 'supercluster'"):
        load_folder(folder)
    with pytest.raises(DataError, match="no X-CLASS data here"):
        load_folder(tmp_path / "nowhere")


def test_cli_bad_labels_is_one_line_error(tmp_path, store, capsys):
    folder = write_xclass(tmp_path, n_train=6, n_test=4)
    (folder / "test_images" / "test003.png").unlink()
    code, _, err = run_cli(["run", "cluster-candidates", "-m", "cnn", "-d", "xclass",
                            "--set", f"data.path={folder}"], capsys)
    assert code == 2 and "labels do not match the images" in err and "test.csv" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_wrong_image_shape_is_one_line_error(tmp_path, store, capsys):
    folder = write_xclass(tmp_path, n_train=6, n_test=4, size=64)
    code, _, err = run_cli(["run", "cluster-candidates", "-m", "cnn", "-d", "xclass",
                            "--set", f"data.path={folder}"], capsys)
    assert code == 2 and "image has shape (64, 64, 3), expected (356, 356, 3)" in err
    assert len(err.strip().splitlines()) == 1


def test_cnn_runs_on_the_real_layout(tmp_path, store):
    folder = write_xclass(tmp_path, n_train=20, n_test=6, classes=[0, 3, 1, 4])
    result, _ = runner.run("cluster-candidates", "cnn", dataset="xclass",
                           overrides=[f"data.path={folder}", "data.image_size=32"] + TINY_CNN, echo=lambda *a: None)
    assert result.config["dataset"] == "xclass" and len(result.splits["test"]) == 6
    assert set(result.metrics) == {"accuracy", "precision", "recall", "roc_auc"}


# -- the registered models on the mocks ---------------------------------------------------------------
@pytest.fixture(scope="module")
def candidates_file(tmp_path_factory):
    from astrozoo_clusters.candidates.dataset import write_mock

    path = tmp_path_factory.mktemp("mockxclass") / "mock.h5"
    write_mock(path, seed=0, n_objects=80, size=32, votes_per_object=10)
    return [f"data.path={path}", "data.n_objects=80", "data.image_size=32", "data.votes_per_object=10"]


@pytest.fixture(scope="module")
def coolcore_file(tmp_path_factory):
    from astrozoo.data import store as h5
    from astrozoo_clusters.coolcore.mock import COLUMN_UNITS, generate

    columns, counts, attrs = generate(seed=2, box_mpc=150.0, size=32)
    path = tmp_path_factory.mktemp("mockcc") / "mock.h5"
    h5.write(path, {"catalogue": columns, "images": {"counts": counts}}, attrs, COLUMN_UNITS)
    return [f"data.path={path}", "data.image_size=32", "data.n_folds=4"]


def test_every_model_is_listed_with_a_card():

    registry = get_registry()
    for task in ("cluster-candidates", "cool-core"):
        models = {m for t, m in registry.models if t == task}
        cards = {r.model for r in registry.recipes(task)}
        assert models == cards, (task, models ^ cards)
    names = registry.list_names("cluster*")["models"]
    assert "cluster-candidates/cnn-xray" in names and "cluster-candidates/cnn-optical" in names


@pytest.mark.parametrize("model, extra", [
    ("volunteers", []),
    pytest.param("cnn", [], marks=pytest.mark.slow), pytest.param("cnn-5class", [], marks=pytest.mark.slow),
    pytest.param("cnn-volunteer", [], marks=pytest.mark.slow),
])
def test_candidate_models_run(model, extra, candidates_file, store):
    result, _ = runner.run("cluster-candidates", model, overrides=candidates_file + TINY_CNN * (model != "volunteers")
                           + extra, echo=lambda *a: None)
    y_pred = result.predictions["test"]["y_pred"]
    assert y_pred.shape == ((len(y_pred), 5) if model == "cnn-5class" else (len(y_pred),))
    y_true = result.predictions["test"]["y_true"]
    labels = y_pred.argmax(1) if y_pred.ndim == 2 else (y_pred >= 0.5).astype(int)
    assert result.metrics["accuracy"] == pytest.approx(np.mean(labels == y_true))  # scored on the test split
    plots = {p.name for p in result.task.report(result, store)}
    assert {"roc.png", "confusion.png", "examples.png", "volunteers_vs_experts.png"} <= plots
    if model == "cnn-5class":
        assert "table6_one_vs_all.png" in plots


def test_variant_needs_its_data(candidates_file, store):
    from astrozoo.errors import AstrozooError

    with pytest.raises(AstrozooError, match="meant for data.classes='multiclass'"):
        runner.run("cluster-candidates", "cnn-5class", overrides=candidates_file + TINY_CNN
                   + ["data.classes=binary"], echo=lambda *a: None)


@pytest.mark.parametrize("model", ["density", pytest.param("resnet18", marks=pytest.mark.slow),
                                   pytest.param("concentration-rank", marks=pytest.mark.slow)])
def test_cool_core_models_run(model, coolcore_file, store):
    extra = ["params.epochs=1", "params.batch_size=8", "params.cam_layer=layer4"] if model == "resnet18" else []
    result, _ = runner.run("cool-core", model, overrides=coolcore_file + extra, echo=lambda *a: None)
    assert {"f1", "bacc_ovr", "f1_cc", "bacc_ncc"} <= set(result.metrics)
    assert result.predictions["test"]["y_pred"].shape[1] == 3
    plots = {p.name for p in result.task.report(result, store)}
    assert {"confusion.png", "per_class.png", "tcool_vs_baselines.png"} <= plots
    assert ("cam_per_class.png" in plots) == (model == "resnet18")


@pytest.mark.slow
@pytest.mark.parametrize("model", ["cnn-noaug", "cnn-xray", "cnn-optical", "mobilenet", "mobilenet-noaug",
                                   "mobilenet-volunteer", "mobilenet-5class", "volunteers-unweighted"])
def test_remaining_candidate_models_run(model, candidates_file, store):
    tiny = TINY_CNN if model != "volunteers-unweighted" else []
    result, _ = runner.run("cluster-candidates", model, overrides=candidates_file + tiny, echo=lambda *a: None)
    test = result.predictions["test"]  # the logged score is the accuracy of the test predictions it kept
    assert result.metrics["accuracy"] == pytest.approx(get_registry().metric("accuracy")(test["y_true"], test["y_pred"]))


@pytest.mark.slow
def test_resnet_grad_cam_and_concentration(coolcore_file, store):
    result, _ = runner.run("cool-core", "resnet18", echo=lambda *a: None,
                           overrides=coolcore_file + ["params.epochs=1", "params.cam_layer=layer2"])
    cams = result.model.class_activation_maps(result.splits["test"])
    assert cams.shape == (len(result.splits["test"]), 3, 32, 32) and cams.min() >= 0 and cams.max() <= 1
    result, _ = runner.run("cool-core", "concentration", overrides=coolcore_file, echo=lambda *a: None)
    assert result.metrics["f1"] >= 0


# -- `astrozoo compare` prints the papers' tables; one-line errors for the mock files ------------------
def test_compare_prints_the_papers_tables(candidates_file, coolcore_file, store, capsys):
    """`astrozoo run` of models that need no training, then `astrozoo compare` of both tasks."""
    runner.run("cluster-candidates", "volunteers", overrides=candidates_file, echo=lambda *a: None)
    runner.run("cool-core", "density", overrides=coolcore_file, echo=lambda *a: None)
    code, out, _ = run_cli(["compare", "cluster-candidates"], capsys)
    assert code == 0 and out.index("## cluster-candidates on ") < out.index("Table 5") < out.index("Table 6")
    row = next(line for line in out.splitlines() if line.startswith("| weighted (G_i = C_i/Q_i) | `volunteers` |"))
    assert row.split("|")[4].strip()[0].isdigit()  # our accuracy beside the paper's
    code, out, _ = run_cli(["compare", "cool-core"], capsys)
    assert code == 0 and "Su et al. (2020) results table" in out
    row = next(line for line in out.splitlines() if line.startswith("| Density | `density` |"))
    assert row.split("|")[4].strip()[0].isdigit() and "(0.69)" in row


def test_cli_cool_core_labels_not_matching_images_is_one_line_error(tmp_path, store, capsys):
    from astrozoo.data import store as h5
    from astrozoo_clusters.coolcore.mock import COLUMN_UNITS, generate

    columns, counts, attrs = generate(seed=1, box_mpc=100.0, size=16)
    h5.write(tmp_path / "bad.h5", {"catalogue": columns, "images": {"counts": counts[:-1]}}, attrs, COLUMN_UNITS)
    h5.write(tmp_path / "good.h5", {"catalogue": columns, "images": {"counts": counts}}, attrs, COLUMN_UNITS)
    for path, size, message in (("bad.h5", 16, "labels do not match the images"),
                                ("good.h5", 32, "images have shape")):  # a file of 16-px images read as 32 px
        code, _, err = run_cli(["run", "cool-core", "-m", "concentration", "--set", f"data.path={tmp_path / path}",
                                "--set", f"data.image_size={size}", "--set", "data.n_folds=4"], capsys)
        assert code == 2 and message in err, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1


# -- the data life-cycle ----------------------------------------------------------------------------
def test_data_generate_writes_each_tasks_mock(tmp_path, capsys):
    from astrozoo_clusters.candidates.dataset import MockXClass
    from astrozoo_clusters.coolcore.dataset import MockCoolCore

    for task, sets in (("cool-core", ["box_mpc=100.0", "image_size=16"]),
                       ("cluster-candidates", ["n_objects=30", "image_size=16", "votes_per_object=5"])):
        args = ["data", "generate", task, "-o", str(tmp_path / f"{task}.h5")] + [a for s in sets for a in ("--set", s)]
        code, out, err = run_cli(args, capsys)
        assert code == 0 and f"wrote {tmp_path / task}.h5" in out, err
    folds = MockCoolCore(image_size=16, path=str(tmp_path / "cool-core.h5"), n_folds=3, fold=1)
    assert folds.load("test").data["images"]().shape[1:] == (1, 16, 16)
    candidates = MockXClass(n_objects=30, image_size=16, path=str(tmp_path / "cluster-candidates.h5"))
    assert sum(len(candidates.load(s)) for s in ("train", "val", "test")) == 30


def test_converted_xclass_archive_is_rebuilt_when_a_file_changes(tmp_path, monkeypatch):
    import os

    from astrozoo_clusters.candidates.dataset import XClass

    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path / "cache"))
    folder = write_xclass(tmp_path, n_train=6, n_test=4)
    first = XClass(path=str(folder), image_size=32).data_file()
    assert XClass(path=str(folder), image_size=32).data_file() == first  # converted once
    labels = folder / "train.csv"
    os.utime(labels, ns=(labels.stat().st_atime_ns, labels.stat().st_mtime_ns + 10**9))
    again = XClass(path=str(folder), image_size=32).data_file()
    assert again != first and again.exists()
