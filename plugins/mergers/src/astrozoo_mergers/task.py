"""The mergers task: merger (1) or not (0) from one galaxy image; scored as Chudy et al. did.

Test metrics (logged as ``test_<name>``, compared by ``astrozoo compare mergers``): ROC AUC; and,
at the threshold where precision equals recall on the validation split, accuracy, precision,
recall, F1, and the fraction of pre-, ongoing and post-mergers classified as mergers and of
non-mergers classified as non-mergers. ``threshold`` is logged too. The report draws the paper's
figures (PNG) and writes the bootstrap tables (``mergers_bins.json``); ``astrozoo compare mergers``
prints the paper's Table 2 and the accuracy per redshift bin from them (:mod:`.tables`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from astrozoo.interfaces import RunResult, Task


from astrozoo_mergers.tables import tables as paper_tables

# scikit-learn, matplotlib and torch, imported when a run is scored or drawn

METRICS = ("roc_auc", "accuracy", "precision", "recall", "f1", "pre_merger_accuracy", "ongoing_merger_accuracy",
           "post_merger_accuracy", "non_merger_accuracy")


def _evaluation():
    """astrozoo_mergers.evaluation (scikit-learn), imported when a run is scored or drawn, not at start-up."""
    from astrozoo_mergers import evaluation

    return evaluation


def _figures():
    """astrozoo_mergers.figures (matplotlib), imported when a run is scored or drawn, not at start-up."""
    from astrozoo_mergers import figures

    return figures


def _occlusion_module():
    """astrozoo_mergers.occlusion (torch), imported when a run is scored or drawn, not at start-up."""
    from astrozoo_mergers import occlusion

    return occlusion


def _example_rows(columns: dict, y_score: np.ndarray, per_group: int = 2) -> list[tuple[int, str]]:
    """A few test images per stage for the raw/model/residual gallery (Fig. 4)."""
    out = []
    for stage in ("pre", "ongoing", "post", "non-merger"):
        rows = np.flatnonzero(np.asarray(columns["stage"]) == stage)[:per_group]
        out += [(int(r), f"{stage} z={columns['redshift'][r]:.2f} score {y_score[r]:.2f}") for r in rows]
    return out


def _finite(tree):
    """JSON-safe copy: numpy numbers → Python numbers, NaN → null."""
    if isinstance(tree, dict):
        return {k: _finite(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_finite(v) for v in tree]
    if isinstance(tree, (float, np.floating)):
        return float(tree) if np.isfinite(tree) else None
    if isinstance(tree, np.integer):
        return int(tree)
    return tree


def report(result: RunResult, outdir: Path) -> list[Path]:
    outdir = Path(outdir)
    test, val = result.predictions["test"], result.predictions["val"]
    y, score = np.asarray(test["y_true"]).astype(int), np.asarray(test["y_pred"], dtype=float)
    threshold = float(result.metrics.get("threshold", _evaluation().equal_pr_threshold(val["y_true"], val["y_pred"])))
    split = result.splits["test"]
    columns = split.data["columns"]
    seed = int(result.config.get("seed", 0))
    name = result.model_name
    paths = [
        _figures().roc_curve(y, score, outdir / "roc.png", f"{name}: ROC (test)"),
        _figures().confusion(y, score, threshold, outdir / "confusion_matrix.png",
                          f"{name}: threshold {threshold:.2f} (P = R on validation)"),
        _figures().versus_threshold(_evaluation().versus_threshold(y, score), threshold, outdir / "metrics_vs_threshold.png",
                                 f"{name}: metrics vs threshold (test)"),
    ]
    tables = _evaluation().binned(test, columns, threshold, seed=seed)
    paths.append(_figures().per_redshift(tables, outdir / "metrics_per_redshift.png", f"{name}: per redshift bin (test)"))
    paths.append(_figures().per_time(tables, outdir / "merger_fraction_per_time.png", f"{name}: per merger time (test)"))
    ellip = np.asarray(columns["sersic_ellip"], dtype=float)
    tables["ellipticity"] = _evaluation().balanced_ellipticity(y, score, ellip, threshold, seed=seed)
    paths.append(_figures().ellipticity(y, ellip, tables["ellipticity"], outdir / "ellipticity_bins.png",
                                     f"{name}: Sérsic ellipticity of the central galaxy (test)"))
    bins = outdir / "mergers_bins.json"
    bins.write_text(json.dumps(_finite(tables), indent=1))
    paths.append(bins)

    views = split.data.get("views")
    if views:
        rows = _example_rows(columns, score)
        if rows:
            images = {v: fn()[[r for r, _ in rows]] for v, fn in views.items()}
            paths.append(_figures().examples(images, [c for _, c in rows], outdir / "examples.png",
                                          "raw / Sérsic model / residual (test; display stretch x^0.2)"))
    paths += _occlusion(result, split, y, score, threshold, outdir)
    return paths


def _occlusion(result, split, y, score, threshold, outdir) -> list[Path]:
    model = result.model
    n = int(getattr(model, "occlusion_examples", 0))  # image models declare it; the oracle does not
    if n <= 0:
        return []
    view = getattr(model, "view", "") or "raw"
    try:
        chosen = _occlusion_module().choose_examples(y, score, split.data["columns"]["stage"], threshold, n)
        if not chosen:
            return []
        images_of_view = split.data["views"][view]() if split.data.get("views") else split.data["images"]()
        images = images_of_view[[r for r, _ in chosen]]
        stride = int(model.occlusion_stride)
        maps = np.stack([_occlusion_module().occlusion_map(model, image, view, stride=stride, seed=i) for i, image in enumerate(images)])
    except Exception as exc:  # a report figure must not lose a finished run
        print(f"mergers: occlusion maps skipped ({type(exc).__name__}: {exc})", file=sys.stderr)
        return []
    return [_figures().occlusion_maps(images, maps, [c for _, c in chosen], outdir / "occlusion.png",
                                   f"{result.model_name} ({view}): 8×8 box, stride {stride}")]


TASK = Task(
    name="mergers",
    target="merger (1): a major merger within the last 0.3 Gyr or the next 0.8 Gyr; else 0",
    default_dataset="mock-hsc",
    metrics=METRICS,
    primary_metric="roc_auc",
    kind="classification",
    inputs=("images", "views", "columns: image_id, redshift, z_bin, fit_ok and the Sérsic fit columns"),
    truth=("label", "stage", "stage_code", "t_merge", "sequence_id", "projected_kpc", "tidal_strength", "separation_kpc"),
    description="Merger vs non-merger from HSC-like images: CNNs on raw, Sérsic-model and residual images "
                "(Chudy et al.)",
    report=report,
    evaluate=lambda predictions, splits: _evaluation().evaluate(predictions, splits),
    tables=paper_tables,
)
