"""The cluster-search task: classify IR or microwave cutouts as cluster, source or random field
(Fomicheva 2025); scored by accuracy (the slides' table) and macro precision, recall, F1, ROC-AUC.
``astrozoo compare cluster-search`` adds the slides' network × band table (:mod:`.tables`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astrozoo.interfaces import RunResult, Split, Task
from astrozoo_cluster_search import tables


MAP_STRIDE = 8  # px between the centres of the windows slid over the sky field


def _figures():
    """astrozoo_cluster_search.figures (matplotlib and astropy), imported when a run is scored or drawn, not at start-up."""
    from astrozoo_cluster_search import figures

    return figures


def probability_map(model, field: np.ndarray, size: int, stride: int = MAP_STRIDE) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities of every ``size``-px window of a preprocessed (C, H, W) field."""
    windows, centres = _figures().sliding_windows(field, size, stride)
    split = Split("sky-field", np.arange(len(windows)), np.zeros(len(windows), np.int64), {"images": windows})
    return np.asarray(model.predict(split)), centres


def report(result: RunResult, outdir: Path) -> list[Path]:
    test = result.predictions["test"]
    split = result.splits["test"]
    cat, band = split.data["catalogue"], split.data["band"]
    title = f"{result.model_name} on {result.config.get('dataset', band)} (test)"
    paths = [_figures().predicted_per_kind(cat["kind"], test["y_pred"], outdir / "predicted_per_type.png", title)]
    clusters = test["y_true"] == 0
    if clusters.sum() >= 5:
        paths.append(_figures().recall_by_redshift(cat["z"][clusters], cat["m500"][clusters], test["y_pred"][clusters],
                                                outdir / "recall_by_redshift.png", f"recall: {title}"))
    model = getattr(result, "model", None)  # the fitted model, where the core hands it over
    if model is not None and "sky_field" in split.data:
        field, table = split.data["sky_field"]()
        size = int(split.data["image_size"])
        probs, centres = probability_map(model, field, size)
        paths.append(_figures().probability_maps(field, table, probs, centres, outdir / "probability_map.png", band,
                                              f"{result.model_name}: probability maps over a mock {band} field"))
    return paths


TASK = Task(
    name="cluster-search",
    target="object class of a cutout: 0 cluster, 1 source (galaxy, star, AGN; radio or dusty), 2 random field",
    default_dataset="mock-ir",
    metrics=("accuracy", "precision", "recall", "f1", "roc_auc"),
    primary_metric="accuracy",
    kind="classification",
    inputs=("images()", "catalogue: id", "band", "classes", "image_size", "sky_field() (test)"),
    truth=("label", "kind", "z", "m500"),
    description="Galaxy clusters vs sources vs random fields in IR (WISE) and microwave (ACT) cutouts (Fomicheva 2025)",
    report=report,
    tables=tables.render,  # the slides' accuracy table, network × band, after compare's model × metric table
)
