"""The cool-core task (Su et al. 2020): CC / WCC / NCC from an X-ray image alone.

Scored like the paper: per class (one-vs-rest) precision, recall, F1 and balanced accuracy; their
means ``precision``, ``recall``, ``f1`` (macro) and ``bacc_ovr``. Report: confusion matrix,
the per-class table, the labels' physics (t_cool against n_e and C_SB), and — for models with
class activation maps — the mean CAM of each class with radial profiles (their Figure 9).
``astrozoo compare`` appends Su et al.'s results table (method × class, ``tables``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astrozoo.interfaces import RunResult, Task
from astrozoo.metrics.classification import to_labels
from astrozoo_clusters.coolcore.physics import CLASSES
from astrozoo_clusters.metrics import class_bacc, class_f1, class_precision, class_recall
from astrozoo_clusters.tables import cool_core_tables


CAM_MIN_PROBABILITY = 0.9  # Su et al. average the CAMs of test clusters predicted right with p > 0.9


def _figures():
    """astrozoo_clusters.figures (matplotlib and scikit-learn), imported when a run is scored or drawn, not at start-up."""
    from astrozoo_clusters import figures

    return figures


def per_class_rows(y_true, y_pred) -> list[dict]:
    return [{"precision": class_precision(y_true, y_pred, k), "recall": class_recall(y_true, y_pred, k),
             "F1": class_f1(y_true, y_pred, k), "BAcc": class_bacc(y_true, y_pred, k)}
            for k in range(len(CLASSES))]


def mean_cams(model, split, y_pred) -> tuple[dict, str]:
    """Mean CAM of each class over the correctly predicted test clusters (p > 0.9 when any)."""
    cams = model.class_activation_maps(split)
    labels, best = to_labels(y_pred), np.asarray(y_pred).max(axis=1)
    right = labels == split.y
    confident = right & (best > CAM_MIN_PROBABILITY)
    chosen, note = (confident, f"correct, p > {CAM_MIN_PROBABILITY}") if confident.any() else (right, "correct")
    out = {}
    for k, name in enumerate(CLASSES):
        sel = chosen & (split.y == k)
        out[name] = (cams[sel, k].mean(axis=0), int(sel.sum())) if sel.any() else (None, 0)
    return out, note


def report(result: RunResult, outdir: Path) -> list[Path]:
    test = result.predictions["test"]
    split = result.splits["test"]
    title = f"{result.model_name} (test)"
    paths = [_figures().confusion_figure(test["y_true"], test["y_pred"], CLASSES, outdir / "confusion.png", title),
             _figures().per_class_table_figure(per_class_rows(test["y_true"], test["y_pred"]), CLASSES,
                                            outdir / "per_class.png", title)]
    from astrozoo_clusters.models.baselines import concentration

    columns = {k: np.concatenate([result.splits[s].data["columns"][k] for s in ("train", "val", "test")])
               for k in ("ne0", "tcool", "label")}
    csb = np.concatenate([concentration(result.splits[s]) for s in ("train", "val", "test")])
    paths.append(_figures().cooling_figure(columns, csb, outdir / "tcool_vs_baselines.png"))
    model = getattr(result, "model", None)  # the fitted model, where the core hands it over
    if model is not None and hasattr(model, "class_activation_maps"):
        maps, note = mean_cams(model, split, test["y_pred"])
        paths.append(_figures().cam_figure(maps, split.data["pixel_kpc"], outdir / "cam_per_class.png",
                                        f"{result.model_name}: mean CAM of test clusters ({note})"))
    return paths


TASK = Task(
    name="cool-core",
    target="CC (t_cool < 1 Gyr), WCC (1–7.7 Gyr) or NCC (> 7.7 Gyr) from the central cooling time",
    default_dataset="mock-cool-core",
    metrics=("f1", "bacc_ovr", "precision", "recall", "accuracy")
    + tuple(f"{score}_{c.lower()}" for c in CLASSES for score in ("precision", "recall", "f1", "bacc")),
    primary_metric="f1",
    kind="classification",
    inputs=("images()", "counts()", "columns: cluster_id, ne0, kT0, Z0", "pixel_kpc", "background_per_pixel"),
    truth=("label", "tcool"),
    description="cool cores from Chandra-like X-ray images: ResNet-18 against central density and concentration "
                "(Su et al. 2020)",
    report=report,
    tables=cool_core_tables,
)
