"""Calibrated uncertainties of regression models: split-conformal intervals, coverage and PIT.

A model's raw σ is its own (``predict_std``: a network's predicted variance, a forest's spread
over its trees) or, for a model without one, a constant. The normalised residuals
z = (y − ŷ)/σ of the validation split calibrate it (split-conformal prediction, Vovk et al. 2005;
Lei et al. 2018): the interval at level p is ŷ ± s_p·σ with s_p the ⌈(n+1)p⌉-th smallest of the
n validation |z|, so it covers a fraction ≥ p of any new objects exchangeable with the
validation ones, whatever the shape of the residuals (heavy tails, satellites far below the
centrals' relation). With a constant σ these are the plain absolute-residual intervals; with the
model's σ they are as wide as the model says, rescaled.

A model's own σ is kept as it is (intervals ±1σ, ±1.96σ of a Gaussian) when it already covers the
validation objects as nominal at 68% and 95% within their binomial noise (2σ): recalibration only
where the raw σ is off, so that a good σ is not traded for the noise of a small validation split
(:func:`fit`).

Coverage at 68% and 95% (:data:`LEVELS`) is the fraction of test objects inside; the PIT of a
test object is its place in the predictive distribution ŷ + σ·Z — Z Gaussian, or for conformal
intervals symmetric with |Z| distributed as the validation |z| — uniform on [0, 1] when the
calibration holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVELS = {"68": 0.6827, "95": 0.95}  # a Gaussian's ±1σ and ±1.96σ


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


def conformal_pit(z_cal, z_test) -> np.ndarray:
    """Each test object's PIT in ŷ + σ·Z, Z symmetric with |Z| ~ the calibration |z|:
    ½ + ½·sign(z)·F(|z|), F the calibration objects' empirical distribution (rank/(n+1))."""
    scores = np.sort(np.abs(np.asarray(z_cal, float)))
    z_test = np.asarray(z_test, float)
    rank = np.searchsorted(scores, np.abs(z_test), side="right")
    return 0.5 + 0.5 * np.sign(z_test) * rank / (scores.size + 1)


@dataclass
class Calibration:
    """Intervals ŷ ± scale(p)·σ: conformal on ``z_cal`` (``conformal``) or a Gaussian's."""

    z_cal: np.ndarray
    conformal: bool

    def scale(self, level: float) -> float:
        from scipy.special import ndtri

        return conformal_scale(self.z_cal, level) if self.conformal else float(ndtri(0.5 + level / 2))

    def coverages(self, z) -> dict[str, float]:
        """``{"coverage_68", "coverage_95"}``: the fractions of ``z`` inside the intervals."""
        z = np.abs(np.asarray(z, float))
        return {f"coverage_{name}": float(np.mean(z <= self.scale(p))) for name, p in LEVELS.items()}

    def curve(self, z, levels=np.linspace(0.05, 0.95, 19)) -> tuple[np.ndarray, np.ndarray]:
        """(levels, observed): the fraction of ``z`` inside each level's interval."""
        z = np.abs(np.asarray(z, float))
        return np.asarray(levels, float), np.array([np.mean(z <= self.scale(p)) for p in levels])

    def pit(self, z) -> np.ndarray:
        from scipy.special import ndtr

        return conformal_pit(self.z_cal, z) if self.conformal else ndtr(np.asarray(z, float))


def consistent(z) -> bool:
    """Whether ±1σ and ±1.96σ cover the objects of ``z`` as nominal within binomial noise (2σ)."""
    z = np.abs(np.asarray(z, float))
    return all(abs(np.mean(z <= Calibration(z, False).scale(p)) - p) <= 2 * np.sqrt(p * (1 - p) / z.size)
               for p in LEVELS.values())


def fit(z_cal, own_sigma: bool) -> Calibration:
    """A model's own σ as it is where it covers the calibration objects as nominal
    (:func:`consistent`); otherwise, and for a model without σ, conformal intervals."""
    return Calibration(np.asarray(z_cal, float), conformal=not (own_sigma and consistent(z_cal)))
