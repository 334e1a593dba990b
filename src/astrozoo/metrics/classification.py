"""Classification metrics of the merger and cluster papers, from scikit-learn.

``y_pred`` holds probabilities: shape (N,) — the probability of class 1 — for binary tasks,
(N, K) for K classes. Binary scores use the positive class; multi-class ones are macro
averages (ROC-AUC one-vs-rest).
"""

import numpy as np

from astrozoo.hookspecs import hookimpl
from astrozoo.interfaces import Metric


def _skm():
    """scikit-learn's metrics, imported when a score is computed (not when the CLI starts)."""
    from sklearn import metrics

    return metrics


def to_labels(y_pred, threshold: float = 0.5) -> np.ndarray:
    """Class labels from probabilities: threshold for binary (N,), argmax for (N, K)."""
    y_pred = np.asarray(y_pred, dtype=float)
    if y_pred.ndim == 1:
        return (y_pred >= threshold).astype(int)
    return y_pred.argmax(axis=1)


def _average(y_pred):
    return "binary" if np.asarray(y_pred).ndim == 1 else "macro"


def accuracy(y_true, y_pred):
    return _skm().accuracy_score(y_true, to_labels(y_pred))


def balanced_accuracy(y_true, y_pred):
    return _skm().balanced_accuracy_score(y_true, to_labels(y_pred))


def precision(y_true, y_pred):
    return _skm().precision_score(y_true, to_labels(y_pred), average=_average(y_pred), zero_division=0)


def recall(y_true, y_pred):
    return _skm().recall_score(y_true, to_labels(y_pred), average=_average(y_pred), zero_division=0)


def f1(y_true, y_pred):
    return _skm().f1_score(y_true, to_labels(y_pred), average=_average(y_pred), zero_division=0)


def roc_auc(y_true, y_pred):
    y_pred = np.asarray(y_pred, dtype=float)
    if y_pred.ndim == 1:
        return _skm().roc_auc_score(y_true, y_pred)
    return _skm().roc_auc_score(y_true, y_pred, multi_class="ovr", average="macro",
                             labels=np.arange(y_pred.shape[1]))


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Counts[i, j] = true class i predicted as j (not a scalar metric: reports draw it)."""
    labels = None if n_classes is None else np.arange(n_classes)
    return _skm().confusion_matrix(y_true, to_labels(y_pred), labels=labels)


METRICS = [
    Metric("accuracy", accuracy, True, "classification"),
    Metric("balanced_accuracy", balanced_accuracy, True, "classification"),
    Metric("precision", precision, True, "classification"),
    Metric("recall", recall, True, "classification"),
    Metric("f1", f1, True, "classification"),
    Metric("roc_auc", roc_auc, True, "classification", "area under the ROC curve"),
]


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric)
