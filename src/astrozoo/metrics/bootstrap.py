"""Bootstrap uncertainties of any metric: mean and percentile interval over resamples (Efron 1979).

``bootstrap(metric, y_true, y_pred)`` draws ``n_resamples`` samples of the same size with
replacement, scores each with ``metric(y_true, y_pred)`` and returns the mean, the standard
deviation and the central ``confidence`` percentile interval. ``groups`` resamples whole groups
(e.g. every image of one merger sequence together), the honest choice when rows are correlated.
``bootstrap_bins`` does the same per bin of a third variable (redshift, time to coalescence).

Resamples on which the metric cannot be computed (ROC AUC of a resample with one class, a
metric that raises) are skipped and counted in ``n_failed``; if every resample fails the values
are NaN. Everything is seeded: the same seed gives the same numbers.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

N_RESAMPLES = 1000


@dataclass(frozen=True)
class BootstrapResult:
    """``value``: the metric on the full sample; ``mean``/``std``/``low``/``high``: over resamples."""

    value: float
    mean: float
    std: float
    low: float
    high: float
    n: int
    n_resamples: int
    n_failed: int = 0
    confidence: float = 0.95

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def half_width(self) -> float:
        """Upper bound minus mean: the ± the merger paper quotes (its Table 2)."""
        return self.high - self.mean


def _score(metric: Callable, y_true, y_pred) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = float(metric(y_true, y_pred))
        except (ValueError, ZeroDivisionError, FloatingPointError, IndexError):
            return np.nan
    return value


def _nan_result(n: int, n_resamples: int, confidence: float, value: float = np.nan) -> BootstrapResult:
    return BootstrapResult(value, np.nan, np.nan, np.nan, np.nan, n, n_resamples, n_resamples, confidence)


def bootstrap(metric: Callable, y_true, y_pred, *, n_resamples: int = N_RESAMPLES, confidence: float = 0.95,
              seed: int = 0, groups=None) -> BootstrapResult:
    """Mean, standard deviation and ``confidence`` percentile interval of ``metric`` over resamples.

    ``metric`` is any ``fn(y_true, y_pred) -> float`` (an :class:`astrozoo.interfaces.Metric`
    works). ``y_pred`` may be (N,) or (N, K). With ``groups`` (length N), whole groups are drawn
    with replacement instead of rows.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    n = len(y_true)
    if len(y_pred) != n:
        raise ValueError(f"bootstrap: {n} true values but {len(y_pred)} predictions")
    if not 0 < confidence < 1:
        raise ValueError(f"bootstrap: confidence must lie in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"bootstrap: n_resamples must be positive, got {n_resamples}")
    if n == 0:
        return _nan_result(0, n_resamples, confidence)
    value = _score(metric, y_true, y_pred)
    rng = np.random.default_rng(seed)
    if groups is None:
        draws = (rng.integers(0, n, n) for _ in range(n_resamples))
    else:
        groups = np.asarray(groups)
        if len(groups) != n:
            raise ValueError(f"bootstrap: {len(groups)} group labels for {n} rows")
        _, inverse = np.unique(groups, return_inverse=True)
        members = [np.flatnonzero(inverse == g) for g in range(inverse.max() + 1)]
        draws = (np.concatenate([members[g] for g in rng.integers(0, len(members), len(members))])
                 for _ in range(n_resamples))
    scores = np.array([_score(metric, y_true[idx], y_pred[idx]) for idx in draws])
    ok = scores[np.isfinite(scores)]
    if ok.size == 0:
        return _nan_result(n, n_resamples, confidence, value)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(ok, [alpha, 1 - alpha])
    return BootstrapResult(value, float(ok.mean()), float(ok.std(ddof=1)) if ok.size > 1 else 0.0,
                           float(low), float(high), n, n_resamples, int(scores.size - ok.size), confidence)


def bootstrap_bins(metric: Callable, y_true, y_pred, values, edges, *, n_resamples: int = N_RESAMPLES,
                   confidence: float = 0.95, seed: int = 0, groups=None,
                   right: bool = False) -> list[BootstrapResult]:
    """:func:`bootstrap` in each bin ``[edges[i], edges[i+1])`` of ``values`` (``right=True``:
    ``(edges[i], edges[i+1]]``). Rows outside every bin or with NaN values are left out; an empty
    bin gives a NaN result with ``n = 0``. Bin ``i`` uses seed ``seed + i``."""
    y_true, y_pred, values = np.asarray(y_true), np.asarray(y_pred), np.asarray(values, dtype=float)
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"bootstrap_bins: edges must be increasing with at least two values, got {edges}")
    results = []
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        inside = (values > lo) & (values <= hi) if right else (values >= lo) & (values < hi)
        rows = np.flatnonzero(inside)
        results.append(bootstrap(metric, y_true[rows], y_pred[rows], n_resamples=n_resamples,
                                 confidence=confidence, seed=seed + i,
                                 groups=None if groups is None else np.asarray(groups)[rows]))
    return results
