"""The paper's evaluation (Chudy et al. §3.2.3, §4): a decision threshold where precision equals
recall, chosen on the validation split; accuracy, precision, recall, F1, ROC AUC; the fraction of
pre-, ongoing and post-mergers classified as mergers; accuracy per redshift and merger-time bin
with 1000 bootstrap resamples; per Sérsic-ellipticity bin with balanced classes.

Metric functions here take (y_true, y_score) and a threshold and are plain numpy, because the
bootstrap calls them thousands of times.
"""

from __future__ import annotations

import numpy as np

from astrozoo.metrics.bootstrap import bootstrap, bootstrap_bins

Z_EDGES = (0.1, 0.31, 0.52, 0.76, 1.0)
MERGER_WINDOW_GYR = (-0.8, 0.3)
TIME_EDGES = tuple(np.round(np.arange(-1.0, 0.51, 0.1), 2))  # Gyr; the merger window is [-0.8, 0.3]
ELLIP_EDGES = tuple(np.round(np.arange(0.0, 1.01, 0.1), 2))
STAGE_METRICS = {"pre": "pre_merger_accuracy", "ongoing": "ongoing_merger_accuracy",
                 "post": "post_merger_accuracy", "non-merger": "non_merger_accuracy"}


def equal_pr_threshold(y_true, y_score) -> float:
    """The score threshold at which precision and recall are closest (the paper's choice: both
    kinds of error equally undesirable). Ties go to the threshold nearest 0.5."""
    y_true, y_score = np.asarray(y_true).astype(int), np.asarray(y_score, dtype=float)
    if y_true.sum() == 0 or y_true.sum() == len(y_true):
        return 0.5
    candidates = np.unique(y_score)
    order = np.argsort(-y_score)
    sorted_true, sorted_score = y_true[order], y_score[order]
    tp = np.cumsum(sorted_true)
    predicted = np.arange(1, len(y_true) + 1)
    # at threshold = sorted_score[i], everything with score >= it is positive: take the last index of each value
    last = np.searchsorted(-sorted_score, -candidates, side="right") - 1
    precision = tp[last] / predicted[last]
    recall = tp[last] / y_true.sum()
    gap = np.abs(precision - recall)
    best = np.flatnonzero(np.isclose(gap, gap.min()))
    return float(candidates[best[np.argmin(np.abs(candidates[best] - 0.5))]])


def _counts(y_true, y_score, threshold):
    y_true = np.asarray(y_true).astype(bool)
    y_hat = np.asarray(y_score, dtype=float) >= threshold
    tp = np.sum(y_hat & y_true)
    return tp, np.sum(y_hat & ~y_true), np.sum(~y_hat & y_true), np.sum(~y_hat & ~y_true)


def accuracy(y_true, y_score, threshold=0.5) -> float:
    tp, fp, fn, tn = _counts(y_true, y_score, threshold)
    n = tp + fp + fn + tn
    return float((tp + tn) / n) if n else np.nan


def precision(y_true, y_score, threshold=0.5) -> float:
    tp, fp, _, _ = _counts(y_true, y_score, threshold)
    return float(tp / (tp + fp)) if tp + fp else np.nan


def recall(y_true, y_score, threshold=0.5) -> float:
    tp, _, fn, _ = _counts(y_true, y_score, threshold)
    return float(tp / (tp + fn)) if tp + fn else np.nan


def f1(y_true, y_score, threshold=0.5) -> float:
    tp, fp, fn, _ = _counts(y_true, y_score, threshold)
    return float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else np.nan


def roc_auc(y_true, y_score) -> float:
    """Mann–Whitney form of the ROC AUC (ties count one half); NaN with one class."""
    from scipy.stats import rankdata

    y_true = np.asarray(y_true).astype(bool)
    n_pos, n_neg = y_true.sum(), (~y_true).sum()
    if n_pos == 0 or n_neg == 0:
        return np.nan
    ranks = rankdata(np.asarray(y_score, dtype=float))
    return float((ranks[y_true].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


SCORES = {"accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1}


def scores_at(y_true, y_score, threshold: float) -> dict[str, float]:
    out = {name: fn(y_true, y_score, threshold) for name, fn in SCORES.items()}
    out["roc_auc"] = roc_auc(y_true, y_score)
    return out


def correct_fraction(y_true, y_score, threshold) -> float:
    """Fraction classified correctly (for one stage: mergers predicted merger, or non-mergers non-merger)."""
    y_true = np.asarray(y_true).astype(bool)
    if y_true.size == 0:
        return np.nan
    return float(np.mean((np.asarray(y_score, dtype=float) >= threshold) == y_true))


def evaluate(predictions: dict, splits: dict) -> dict[str, float]:
    """The Task's ``evaluate``: threshold from validation, test scores at it, per-stage fractions."""
    val, test = predictions["val"], predictions["test"]
    threshold = equal_pr_threshold(val["y_true"], val["y_pred"])
    y, score = np.asarray(test["y_true"]), np.asarray(test["y_pred"], dtype=float)
    out = scores_at(y, score, threshold)
    out["threshold"] = threshold
    stages = splits["test"].data.get("columns", {}).get("stage")
    if stages is not None:
        for stage, name in STAGE_METRICS.items():
            rows = np.asarray(stages) == stage
            out[name] = correct_fraction(y[rows], score[rows], threshold) if rows.any() else np.nan
    return out


def _metric(name: str, threshold: float):
    fn = SCORES.get(name, None)
    if name == "correct":
        return lambda y, s: correct_fraction(y, s, threshold)
    return lambda y, s: fn(y, s, threshold)


def binned(predictions: dict, columns: dict, threshold: float, *, n_resamples: int = 1000, seed: int = 0,
           groups=None) -> dict:
    """Bootstrap tables: metrics per redshift bin, fraction correct per stage and per merger-time bin."""
    y, score = np.asarray(predictions["y_true"]), np.asarray(predictions["y_pred"], dtype=float)
    z, t = np.asarray(columns["redshift"], dtype=float), np.asarray(columns["t_merge"], dtype=float)
    kw = {"n_resamples": n_resamples, "seed": seed, "groups": groups}
    tables = {"threshold": threshold, "redshift": {"edges": list(Z_EDGES)}, "time": {"edges": list(TIME_EDGES)},
              "stage": {}}
    for name in ("accuracy", "precision", "recall", "f1"):
        tables["redshift"][name] = [r.as_dict() for r in bootstrap_bins(_metric(name, threshold), y, score, z, Z_EDGES, **kw)]
    # fraction classified as merger per time bin (= correct inside the window, wrong outside it)
    as_merger = lambda yy, ss: float(np.mean(ss >= threshold)) if len(ss) else np.nan  # noqa: E731
    tables["time"]["merger_fraction"] = [r.as_dict() for r in bootstrap_bins(as_merger, y, score, t, TIME_EDGES, **kw)]
    stages = np.asarray(columns["stage"])
    for stage in STAGE_METRICS:
        rows = np.flatnonzero(stages == stage)
        tables["stage"][stage] = bootstrap(_metric("correct", threshold), y[rows], score[rows],
                                           groups=None if groups is None else np.asarray(groups)[rows],
                                           n_resamples=n_resamples, seed=seed).as_dict()
    return tables


def balanced_ellipticity(y_true, y_score, ellip, threshold: float, *, per_class: int = 500, draws: int = 20,
                         seed: int = 0, edges=ELLIP_EDGES) -> dict:
    """Accuracy and precision per Sérsic-ellipticity bin with equal numbers of mergers and
    non-mergers: ``per_class`` of each, or as many as the rarer class has, drawn ``draws`` times."""
    y, score, ellip = np.asarray(y_true).astype(int), np.asarray(y_score, dtype=float), np.asarray(ellip, dtype=float)
    rng = np.random.default_rng(seed)
    out = {"edges": list(edges), "n_per_class": [], "accuracy": [], "accuracy_std": [], "precision": [],
           "precision_std": [], "raw_accuracy": [], "raw_precision": [], "n_mergers": [], "n_nonmergers": []}
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (ellip > lo) & (ellip <= hi) if lo > 0 else (ellip >= lo) & (ellip <= hi)
        pos, neg = np.flatnonzero(inside & (y == 1)), np.flatnonzero(inside & (y == 0))
        out["n_mergers"].append(int(pos.size))
        out["n_nonmergers"].append(int(neg.size))
        rows = np.flatnonzero(inside)
        out["raw_accuracy"].append(accuracy(y[rows], score[rows], threshold) if rows.size else np.nan)
        out["raw_precision"].append(precision(y[rows], score[rows], threshold) if rows.size else np.nan)
        k = min(per_class, pos.size, neg.size)
        out["n_per_class"].append(int(k))
        if k == 0:
            for key in ("accuracy", "accuracy_std", "precision", "precision_std"):
                out[key].append(np.nan)
            continue
        acc, prec = [], []
        for _ in range(draws):
            pick = np.concatenate([rng.choice(pos, k, replace=False), rng.choice(neg, k, replace=False)])
            acc.append(accuracy(y[pick], score[pick], threshold))
            prec.append(precision(y[pick], score[pick], threshold))
        out["accuracy"].append(float(np.nanmean(acc)))
        out["accuracy_std"].append(float(np.nanstd(acc)))
        out["precision"].append(float(np.nanmean(prec)) if np.isfinite(prec).any() else np.nan)
        out["precision_std"].append(float(np.nanstd(prec)) if np.isfinite(prec).any() else np.nan)
    return out


def versus_threshold(y_true, y_score, thresholds=None) -> dict:
    """Accuracy, precision, recall and F1 on a grid of thresholds (the paper's Fig. 6)."""
    thresholds = np.linspace(0.01, 0.99, 99) if thresholds is None else np.asarray(thresholds)
    out = {"threshold": thresholds.tolist()}
    for name, fn in SCORES.items():
        out[name] = [fn(y_true, y_score, t) for t in thresholds]
    return out
