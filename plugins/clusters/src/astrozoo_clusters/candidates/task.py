"""The cluster-candidates task (Kosiba et al. 2020): is an X-CLASS extended source a cluster?

Scored on the test split with accuracy, precision, recall and ROC AUC — of the cluster class
(threshold 0.5, as the paper) in binary mode, macro averages over the five classes in multiclass
mode. Report: ROC (one-vs-all with per-class A/P/R/AUC for five classes), confusion matrix, example
test images, and the volunteers against the experts when the data has votes.
"""

from __future__ import annotations

from pathlib import Path

from astrozoo.interfaces import RunResult, Task
from astrozoo_clusters import figures
from astrozoo_clusters.candidates.mock import CLUSTER_CLASSES, SHORT


def report(result: RunResult, outdir: Path) -> list[Path]:
    test = result.predictions["test"]
    split = result.splits["test"]
    names = split.data.get("class_names", SHORT)
    title = f"{result.model_name} (test)"
    paths = [figures.roc_figure(test["y_true"], test["y_pred"], names, outdir / "roc.png", title),
             figures.confusion_figure(test["y_true"], test["y_pred"], names, outdir / "confusion.png", title)]
    if test["y_pred"].ndim == 2:
        rows = figures.one_vs_all_scores(test["y_true"], test["y_pred"], test["y_pred"].shape[1])
        paths.append(figures.per_class_table_figure(rows, names, outdir / "table6_one_vs_all.png",
                                                    f"{result.model_name}: one vs all (test)"))
    images = split.data["images"]
    paths.append(figures.examples_figure(images() if callable(images) else images, test["y_true"], test["y_pred"],
                                         names, outdir / "examples.png"))
    shares = split.data.get("volunteer_shares")
    if shares is not None:
        paths.append(figures.volunteer_figure(split.data["expert_class"], shares, CLUSTER_CLASSES, SHORT,
                                              outdir / "volunteers_vs_experts.png"))
    return paths


TASK = Task(
    name="cluster-candidates",
    target="class of an X-ray extended source: cluster / non-cluster (or low-z, high-z, galaxy, point, other)",
    default_dataset="mock-xclass",
    metrics=("accuracy", "precision", "recall", "roc_auc"),
    primary_metric="accuracy",
    kind="classification",
    description="X-CLASS cluster candidates from X-ray + optical images (Kosiba et al. 2020; Tables 5, 6)",
    report=report,
)
