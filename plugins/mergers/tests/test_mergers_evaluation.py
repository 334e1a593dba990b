"""The paper's threshold and metrics, the bootstrap tables, and occlusion."""

import numpy as np
import pytest

from astrozoo.interfaces import Split
from astrozoo_mergers import evaluation
from astrozoo_mergers.occlusion import choose_examples, occlusion_map


def test_threshold_makes_precision_equal_recall():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 2000)
    score = np.clip(0.35 * y + rng.normal(0.3, 0.2, 2000), 0, 1)
    t = evaluation.equal_pr_threshold(y, score)
    assert evaluation.precision(y, score, t) == pytest.approx(evaluation.recall(y, score, t), abs=0.01)
    assert evaluation.roc_auc(y, score) == pytest.approx(__import__("sklearn.metrics").metrics.roc_auc_score(y, score))
    assert evaluation.equal_pr_threshold(np.zeros(5), np.linspace(0, 1, 5)) == 0.5


def _predictions(n=600, seed=0):
    rng = np.random.default_rng(seed)
    stage = rng.choice(["non-merger", "pre", "ongoing", "post"], n, p=[0.5, 0.3, 0.1, 0.1])
    y = (stage != "non-merger").astype(int)
    boost = np.select([stage == "pre", stage == "ongoing", stage == "post"], [0.35, 0.4, 0.1], 0.0)
    score = np.clip(0.3 + boost + rng.normal(0, 0.15, n), 0, 1)
    t = np.where(y == 1, rng.uniform(-0.8, 0.3, n), np.where(rng.random(n) < 0.3, rng.uniform(-1, 0.5, n), np.nan))
    columns = {"stage": stage, "redshift": rng.uniform(0.1, 0.999, n), "t_merge": t,
               "sersic_ellip": rng.uniform(0, 0.9, n)}
    return {"ids": np.arange(n), "y_true": y, "y_pred": score}, columns


def test_evaluate_gives_the_papers_numbers_and_post_is_harder():
    val, _ = _predictions(seed=1)
    test, columns = _predictions(seed=2)
    splits = {"test": Split("test", test["ids"], test["y_true"], {"columns": columns})}
    scores = evaluation.evaluate({"val": val, "test": test}, splits)
    assert set(scores) >= {"roc_auc", "accuracy", "precision", "recall", "f1", "threshold", "pre_merger_accuracy",
                           "ongoing_merger_accuracy", "post_merger_accuracy", "non_merger_accuracy"}
    assert scores["pre_merger_accuracy"] > scores["post_merger_accuracy"]
    y, s, t = test["y_true"], test["y_pred"], scores["threshold"]
    assert scores["accuracy"] == pytest.approx(np.mean((s >= t) == y))


def test_bootstrap_tables_and_balanced_ellipticity_bins():
    test, columns = _predictions(seed=3)
    tables = evaluation.binned(test, columns, 0.5, n_resamples=200)
    assert len(tables["redshift"]["accuracy"]) == 4
    assert sum(r["n"] for r in tables["redshift"]["accuracy"]) == len(test["y_true"])
    assert len(tables["time"]["merger_fraction"]) == len(evaluation.TIME_EDGES) - 1
    inside = [r for r, lo in zip(tables["time"]["merger_fraction"], evaluation.TIME_EDGES) if -0.8 <= lo < 0.3]
    outside = [r for r, lo in zip(tables["time"]["merger_fraction"], evaluation.TIME_EDGES) if lo < -0.8 or lo >= 0.3]
    assert np.nanmean([r["mean"] for r in inside]) > np.nanmean([r["mean"] for r in outside])
    assert all(r["n_resamples"] == 200 for r in tables["stage"].values())
    balanced = evaluation.balanced_ellipticity(test["y_true"], test["y_pred"], columns["sersic_ellip"], 0.5,
                                               per_class=20, draws=5)
    assert all(k <= 20 and k <= min(a, b) for k, a, b in
               zip(balanced["n_per_class"], balanced["n_mergers"], balanced["n_nonmergers"]))
    assert len(balanced["accuracy"]) == len(evaluation.ELLIP_EDGES) - 1


class CentreModel:
    """Scores an image by the brightness of its central 8×8 pixels: occluding them matters most."""

    def predict(self, split):
        images = split.data["views"]["raw"]
        return images[:, 0, 12:20, 12:20].mean(axis=(1, 2))


def test_occlusion_map_finds_what_the_model_looks_at():
    y, x = np.mgrid[0:32, 0:32]
    image = np.exp(-((x - 15.5) ** 2 + (y - 15.5) ** 2) / 20.0)[None].astype(np.float32)
    image += np.random.default_rng(0).normal(0, 0.01, image.shape).astype(np.float32)
    heat = occlusion_map(CentreModel(), image, "raw", box=8, stride=2)
    assert heat.shape == (32, 32)
    assert heat[16, 16] < heat[2, 2] - 0.1  # covering the centre lowers the score
    with pytest.raises(ValueError, match="does not fit"):
        occlusion_map(CentreModel(), image[:, :4, :4], "raw")
    chosen = choose_examples([1, 1, 0, 0, 1], [0.9, 0.1, 0.2, 0.8, 0.7], ["pre", "post", "non-merger", "non-merger", "post"], 0.5)
    assert [row for row, _ in chosen] == [0, 4, 1, 2, 3]
