"""Per-class scores of Su et al. (2020), registered through ``register_metrics``.

Su et al. score each class one-vs-rest: precision, recall, F1 and a balanced accuracy
BAcc = ½ (tp/(tp+fn) + tn/(tn+fp)) (their eq. 6); the 'average' numbers are the means over the
three classes. Note that this mean one-vs-rest BAcc is *not* scikit-learn's multi-class
``balanced_accuracy_score`` (the mean recall, the core's ``balanced_accuracy``).
Classes: 0 = CC, 1 = WCC, 2 = NCC.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from astrozoo.interfaces import Metric
from astrozoo.metrics.classification import to_labels

COOL_CORE_CLASSES = ("CC", "WCC", "NCC")


def one_vs_rest_counts(y_true, y_pred, k: int) -> tuple[int, int, int, int]:
    """(tp, fp, tn, fn) of class k against the rest."""
    labels = to_labels(y_pred)
    t, p = np.asarray(y_true) == k, labels == k
    return int((t & p).sum()), int((~t & p).sum()), int((~t & ~p).sum()), int((t & ~p).sum())


def class_bacc(y_true, y_pred, k: int) -> float:
    tp, fp, tn, fn = one_vs_rest_counts(y_true, y_pred, k)
    tpr = tp / (tp + fn) if tp + fn else 0.0
    tnr = tn / (tn + fp) if tn + fp else 0.0
    return 0.5 * (tpr + tnr)


def class_f1(y_true, y_pred, k: int) -> float:
    tp, fp, _, fn = one_vs_rest_counts(y_true, y_pred, k)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def class_precision(y_true, y_pred, k: int) -> float:
    tp, fp, _, _ = one_vs_rest_counts(y_true, y_pred, k)
    return tp / (tp + fp) if tp + fp else 0.0


def class_recall(y_true, y_pred, k: int) -> float:
    tp, _, _, fn = one_vs_rest_counts(y_true, y_pred, k)
    return tp / (tp + fn) if tp + fn else 0.0


def mean_bacc(y_true, y_pred) -> float:
    n = np.asarray(y_pred).shape[1] if np.asarray(y_pred).ndim == 2 else 2
    return float(np.mean([class_bacc(y_true, y_pred, k) for k in range(n)]))


METRICS = [Metric("bacc_ovr", mean_bacc, True, "classification",
                  "mean over classes of the one-vs-rest balanced accuracy ½(TPR+TNR) (Su et al. 2020 eq. 6)")]
for _k, _name in enumerate(COOL_CORE_CLASSES):
    METRICS += [
        Metric(f"{score}_{_name.lower()}", partial(fn, k=_k), True, "classification",
               f"one-vs-rest {label} of class {_name} (cool-core)")
        for score, fn, label in (("precision", class_precision, "precision"), ("recall", class_recall, "recall"),
                                 ("f1", class_f1, "F1"), ("bacc", class_bacc, "balanced accuracy"))
    ]
