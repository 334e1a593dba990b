"""The cluster-candidates task (Kosiba et al. 2020): is an X-CLASS extended source a cluster?

Scored on the test split with accuracy, precision, recall and ROC AUC — of the cluster class
(threshold 0.5, as the paper) in binary mode, macro averages over the five classes in multiclass
mode; with five classes ``evaluate`` also logs each class one vs all (``ova_accuracy_lowz``, …,
``ova_auc_other``) and their mean accuracy ``ova_accuracy`` (the paper's multi-class 'accuracy').
Report: ROC (one-vs-all with per-class A/P/R/AUC for five classes), confusion matrix, example
test images, and the volunteers against the experts when the data has votes. ``astrozoo compare``
appends the paper's Tables 5 and 6 and the volunteers' table (``tables``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astrozoo.interfaces import RunResult, Task
from astrozoo_clusters.candidates.conventions import CLUSTER_CLASSES, SHORT
from astrozoo_clusters.tables import candidate_tables, class_key


def _figures():
    """astrozoo_clusters.figures (matplotlib and scikit-learn), imported when a run is scored or drawn, not at start-up."""
    from astrozoo_clusters import figures

    return figures


def evaluate(predictions: dict, splits: dict) -> dict[str, float]:
    """Five classes: accuracy, precision, recall and AUC of each class one vs all (Table 6), and
    the mean one-vs-all accuracy. Binary runs add nothing."""
    test = predictions["test"]
    y_pred = np.asarray(test["y_pred"], dtype=float)
    if y_pred.ndim != 2:
        return {}
    rows = _figures().one_vs_all_scores(test["y_true"], y_pred, y_pred.shape[1])
    names = splits["test"].data.get("class_names", SHORT)
    out = {f"ova_{score}_{class_key(name)}": row[score]
           for name, row in zip(names, rows) for score in ("accuracy", "precision", "recall", "auc")
           if np.isfinite(row[score])}
    out["ova_accuracy"] = float(np.mean([row["accuracy"] for row in rows]))
    return out


def report(result: RunResult, outdir: Path) -> list[Path]:
    test = result.predictions["test"]
    split = result.splits["test"]
    names = split.data.get("class_names", SHORT)
    title = f"{result.model_name} (test)"
    paths = [_figures().roc_figure(test["y_true"], test["y_pred"], names, outdir / "roc.png", title),
             _figures().confusion_figure(test["y_true"], test["y_pred"], names, outdir / "confusion.png", title)]
    if test["y_pred"].ndim == 2:
        rows = _figures().one_vs_all_scores(test["y_true"], test["y_pred"], test["y_pred"].shape[1])
        paths.append(_figures().per_class_table_figure(rows, names, outdir / "table6_one_vs_all.png",
                                                    f"{result.model_name}: one vs all (test)"))
    images = split.data["images"]
    paths.append(_figures().examples_figure(images() if callable(images) else images, test["y_true"], test["y_pred"],
                                         names, outdir / "examples.png"))
    shares = split.data.get("volunteer_shares")
    if shares is not None:
        paths.append(_figures().volunteer_figure(split.data["expert_class"], shares, CLUSTER_CLASSES, SHORT,
                                              outdir / "volunteers_vs_experts.png"))
    return paths


TASK = Task(
    name="cluster-candidates",
    target="class of an X-ray extended source: cluster / non-cluster (or low-z, high-z, galaxy, point, other)",
    default_dataset="mock-xclass",
    metrics=("accuracy", "precision", "recall", "roc_auc"),
    primary_metric="accuracy",
    kind="classification",
    inputs=("images()", "columns: object_id", "classes", "volunteer_shares (volunteer models)"),
    truth=("expert_class", "z", "log_m500", "counts", "theta_c", "kind", "n_members"),
    description="X-CLASS cluster candidates from X-ray + optical images (Kosiba et al. 2020; Tables 5, 6)",
    report=report,
    evaluate=evaluate,
    tables=candidate_tables,
)
