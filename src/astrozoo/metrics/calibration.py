"""Calibrated uncertainties of regression models: split-conformal intervals, coverage and PIT.

A model's raw σ is its own (``predict_std``: a network's predicted variance, a forest's spread
over its trees) or, for a model without one, a constant. The normalised residuals
z = (y − ŷ)/σ of the validation split calibrate it (split-conformal prediction, Vovk et al. 2005;
Lei et al. 2018): the interval at level p is ŷ ± s_p·σ with s_p the ⌈(n+1)p⌉-th smallest of the
n validation |z|, so it covers a fraction ≥ p of any new objects exchangeable with the
validation ones, whatever the shape of the residuals (heavy tails, satellites far below the
centrals' relation). With a constant σ these are the plain absolute-residual intervals; with the
model's σ they are as wide as the model says, rescaled.

Coverage at 68% and 95% (:data:`LEVELS`) is the fraction of test objects inside; the PIT of a
test object is its place in the calibrated predictive distribution ŷ + σ·Z (Z symmetric, |Z|
distributed as the validation |z|), uniform on [0, 1] when the calibration holds.
"""

from __future__ import annotations

import numpy as np

LEVELS = {"68": 0.6827, "95": 0.95}  # a Gaussian's ±1σ and ±1.96σ
GAUSSIAN_Z = {"68": 1.0, "95": 1.96}


def normalised_residuals(y_true, y_pred, y_std) -> np.ndarray:
    """z = (y − ŷ)/σ per object (σ may be a scalar; σ = 0 gives ±inf)."""
    y_true, y_pred = np.asarray(y_true, float).ravel(), np.asarray(y_pred, float).ravel()
    y_std = np.broadcast_to(np.asarray(y_std, float).ravel(), y_true.shape)
    if not (np.isfinite(y_std).all() and (y_std >= 0).all()):
        raise ValueError("σ must be non-negative and finite")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y_true == y_pred, 0.0, (y_true - y_pred) / y_std)


def conformal_scale(z_cal, level: float) -> float:
    """The ⌈(n+1)·level⌉-th smallest of the n calibration |z| (the largest when that is beyond n)."""
    scores = np.sort(np.abs(np.asarray(z_cal, float)))
    if not scores.size:
        raise ValueError("no calibration objects")
    k = int(np.ceil((scores.size + 1) * level))
    return float(scores[min(k, scores.size) - 1])


def coverage_curve(z_cal, z_test, levels=np.linspace(0.05, 0.95, 19)) -> tuple[np.ndarray, np.ndarray]:
    """(levels, observed): the fraction of test objects inside each level's conformal interval."""
    z_test = np.abs(np.asarray(z_test, float))
    levels = np.asarray(levels, float)
    return levels, np.array([np.mean(z_test <= conformal_scale(z_cal, p)) for p in levels])


def gaussian_curve(z, levels=np.linspace(0.05, 0.95, 19)) -> tuple[np.ndarray, np.ndarray]:
    """(levels, observed): the fraction inside ±Φ⁻¹((1+p)/2)·σ, σ taken as a Gaussian's."""
    from scipy.special import ndtri

    z = np.abs(np.asarray(z, float))
    levels = np.asarray(levels, float)
    return levels, np.array([np.mean(z < ndtri(0.5 + p / 2)) for p in levels])


def coverages(z_cal, z_test) -> dict[str, float]:
    """``{"coverage_68", "coverage_95"}``: the test fractions inside the conformal intervals."""
    z_test = np.abs(np.asarray(z_test, float))
    return {f"coverage_{name}": float(np.mean(z_test <= conformal_scale(z_cal, p))) for name, p in LEVELS.items()}


def gaussian_coverages(z) -> dict[str, float]:
    """The fractions inside ±1σ and ±1.96σ of a raw σ read as a Gaussian's."""
    z = np.abs(np.asarray(z, float))
    return {f"coverage_{name}": float(np.mean(z < k)) for name, k in GAUSSIAN_Z.items()}


def pit(z_cal, z_test) -> np.ndarray:
    """Each test object's PIT in ŷ + σ·Z, Z symmetric with |Z| ~ the calibration |z|:
    ½ + ½·sign(z)·F(|z|), F the calibration objects' empirical distribution (rank/(n+1))."""
    scores = np.sort(np.abs(np.asarray(z_cal, float)))
    z_test = np.asarray(z_test, float)
    rank = np.searchsorted(scores, np.abs(z_test), side="right")
    return 0.5 + 0.5 * np.sign(z_test) * rank / (scores.size + 1)
