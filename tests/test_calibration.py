"""Calibrated uncertainties: split-conformal scales, coverage, PIT, the runner's calibration and its figures."""

import numpy as np
import pytest

from astrozoo.metrics import calibration as C
from astrozoo.plots import plt
from astrozoo.runner import calibrate, calibration_figures


def test_conformal_scale_is_the_finite_sample_quantile():
    z = np.array([0.1, -0.2, 0.3, -0.4, 0.5, 0.6, -0.7, 0.8, 0.9])  # n = 9
    assert C.conformal_scale(z, 0.5) == pytest.approx(0.5)  # ⌈10·0.5⌉ = 5th smallest |z|
    assert C.conformal_scale(z, 0.68) == pytest.approx(0.7)  # ⌈6.8⌉ = 7th
    assert C.conformal_scale(z, 0.95) == pytest.approx(0.9)  # ⌈9.5⌉ = 10th → beyond n: the largest
    with pytest.raises(ValueError, match="no calibration"):
        C.conformal_scale([], 0.5)


def test_coverage_pit_and_curves_of_exchangeable_data_are_calibrated():
    rng = np.random.default_rng(0)
    # heavy-tailed residuals whose width the model knows up to a factor 3: conformal fixes both
    sigma = rng.uniform(0.1, 1.0, 20000)
    y_pred = rng.normal(12, 1, 20000)
    y_true = y_pred + 3 * sigma * rng.standard_t(3, 20000)
    z = C.normalised_residuals(y_true, y_pred, sigma)
    z_cal, z_test = z[:10000], z[10000:]
    gaussian = C.Calibration(z_cal, conformal=False)
    assert gaussian.coverages(z_test)["coverage_68"] < 0.5  # the model's σ is 3× too small
    fitted = C.fit(z_cal, own_sigma=True)
    assert fitted.conformal and not C.consistent(z_cal)
    assert fitted.coverages(z_test) == pytest.approx({"coverage_68": 0.6827, "coverage_95": 0.95}, abs=0.015)
    levels, observed = fitted.curve(z_test)
    assert np.allclose(observed, levels, atol=0.02)
    counts, _ = np.histogram(fitted.pit(z_test), bins=10, range=(0, 1))
    assert counts.min() > 900 and counts.max() < 1100  # flat: 1000 per bin
    _, observed = gaussian.curve(z_test / 3)  # σ right in scale, but t-tails: too many outside at 95%
    assert observed[-1] < 0.95


def test_a_good_sigma_is_kept_and_a_constant_is_always_calibrated():
    z = np.random.default_rng(2).normal(size=300)
    assert C.consistent(z) and not C.fit(z, own_sigma=True).conformal  # a calibrated σ stays as it is
    assert C.fit(z, own_sigma=True).scale(0.95) == pytest.approx(1.96, abs=0.01)
    assert C.fit(z, own_sigma=False).conformal  # no σ of its own: conformal always
    assert not C.consistent(1.5 * z)  # 1.5× too narrow: recalibrated


def test_runner_calibrates_on_validation_with_or_without_a_models_sigma(tmp_path):
    rng = np.random.default_rng(1)

    def split(n, sigma):
        y_pred = rng.normal(12, 1, n)
        return {"ids": np.arange(n), "y_true": y_pred + rng.normal(0, 1, n) * sigma, "y_pred": y_pred,
                "y_std": sigma / 2}  # the model's σ is half the truth

    predictions = {name: split(n, rng.uniform(0.1, 0.5, n)) for name, n in
                   (("train", 50), ("val", 3000), ("test", 3000))}
    fitted, scores = calibrate(predictions)
    assert fitted.conformal
    assert fitted.scale(0.6827) == pytest.approx(2.0, rel=0.06) and fitted.scale(0.95) == pytest.approx(2 * 1.96, rel=0.06)
    assert scores["raw_coverage_68"] == pytest.approx(0.383, abs=0.03)  # ±σ/2 of a Gaussian
    assert scores["coverage_68"] == pytest.approx(0.683, abs=0.03)
    assert scores["coverage_95"] == pytest.approx(0.95, abs=0.015)
    test = predictions["test"]
    assert np.allclose(test["y_std"], fitted.scale(0.6827) * test["y_std_raw"])  # the calibrated 1σ
    paths = calibration_figures(predictions, tmp_path, "toy")
    assert [p.name for p in paths] == ["pit_histogram.png", "calibration_curve.png"]
    for path in paths:  # a drawn figure, not a blank canvas
        image = plt.imread(path)
        assert image.shape[0] > 200 and image.shape[1] > 200 and image[..., :3].std() > 0.05

    for pred in predictions.values():  # a model without σ: a constant, calibrated all the same
        del pred["y_std"], pred["y_std_raw"]
    fitted, scores = calibrate(predictions)
    assert "raw_coverage_68" not in scores
    assert scores["coverage_68"] == pytest.approx(0.683, abs=0.03)
    assert np.all(predictions["test"]["y_std"] == fitted.scale(0.6827))
