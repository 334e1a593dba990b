"""Regression metrics of the halo-mass paper (lower is better except R²).

Δ = y − ŷ. NMAD = 1.4826 · median(|Δ − median(Δ)|); bias = mean(ŷ − y) (the paper's formula
omits 1/N, its numbers are means); outlier fraction = fraction with |ŷ − y| > 3 · NMAD.
"""

import numpy as np

from astrozoo.hookspecs import hookimpl
from astrozoo.interfaces import Metric


def _skm():
    """scikit-learn's metrics, imported when a score is computed (not when the CLI starts)."""
    from sklearn import metrics

    return metrics


def _check(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} values but y_pred has {y_pred.size}")
    if not (np.isfinite(y_true).all() and np.isfinite(y_pred).all()):
        raise ValueError("regression metrics got NaN or infinite values")
    return y_true, y_pred


def mse(y_true, y_pred):
    return _skm().mean_squared_error(*_check(y_true, y_pred))


def mae(y_true, y_pred):
    return _skm().mean_absolute_error(*_check(y_true, y_pred))


def rmse(y_true, y_pred):
    return float(np.sqrt(mse(y_true, y_pred)))


def r2(y_true, y_pred):
    return _skm().r2_score(*_check(y_true, y_pred))


def nmad(y_true, y_pred):
    y_true, y_pred = _check(y_true, y_pred)
    delta = y_true - y_pred
    return float(1.4826 * np.median(np.abs(delta - np.median(delta))))


def bias(y_true, y_pred):
    y_true, y_pred = _check(y_true, y_pred)
    return float(np.mean(y_pred - y_true))


def outlier_fraction(y_true, y_pred):
    y_true, y_pred = _check(y_true, y_pred)
    return float(np.mean(np.abs(y_pred - y_true) > 3 * nmad(y_true, y_pred)))


METRICS = [
    Metric("mse", mse, False, "regression", "mean squared error"),
    Metric("mae", mae, False, "regression", "mean absolute error"),
    Metric("rmse", rmse, False, "regression", "root mean squared error"),
    Metric("r2", r2, True, "regression", "coefficient of determination R²"),
    Metric("bias", bias, False, "regression", "mean(ŷ − y); closer to 0 is better"),
    Metric("nmad", nmad, False, "regression", "1.4826·median(|Δ − median Δ|)"),
    Metric("f_outlier", outlier_fraction, False, "regression", "fraction with |ŷ − y| > 3·NMAD"),
]


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric)


def coverage(y_true, y_pred, y_std, z: float = 1.0) -> float:
    """Fraction of |y − ŷ| < z·σ: about 0.68 for z=1 and 0.95 for z=1.96 when σ is calibrated."""
    y_true, y_pred = _check(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred) < z * np.asarray(y_std, dtype=float).ravel()))
