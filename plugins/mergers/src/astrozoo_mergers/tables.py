"""The paper's tables of another shape, for ``astrozoo compare mergers`` (``Task.tables``).

* **Table 2** of Chudy et al.: the fraction of pre-mergers and post-mergers classified correctly
  (merger), with the ongoing mergers and the non-mergers (classified non-merger; the paper's
  Fig. 13) beside them. Like the paper: the mean of 1000 bootstrap resamples of the test split ±
  (upper bound of the 95% interval − mean), read from each run's ``plots/mergers_bins.json``;
  a run without that artifact shows its logged ``test_<stage>_accuracy`` without ±.
* **Accuracy per redshift bin** (the paper's Fig. 7, which gives no numbers), from the same file.

Table 1 (accuracy, precision, recall, F1) is the standard model × metric table above these.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

#: the ± of the paper's Table 2 (upper 95% bound − mean); the means are in the cards' [paper.metrics]
PAPER_TABLE2_PM = {"cnn-raw": {"pre_merger_accuracy": 0.006, "post_merger_accuracy": 0.015},
                   "cnn-model": {"pre_merger_accuracy": 0.006, "post_merger_accuracy": 0.016},
                   "cnn-residual": {"pre_merger_accuracy": 0.006, "post_merger_accuracy": 0.014}}
PAPER_ORDER = ("cnn-raw", "cnn-model", "cnn-residual")  # CNN1, CNN2, CNN3
PAPER_NAMES = {"cnn-raw": "CNN1", "cnn-model": "CNN2", "cnn-residual": "CNN3"}
#: (stage in the catalogue, logged metric, column title)
STAGES = (("pre", "pre_merger_accuracy", "pre-mergers"), ("post", "post_merger_accuracy", "post-mergers"),
          ("ongoing", "ongoing_merger_accuracy", "ongoing"), ("non-merger", "non_merger_accuracy", "non-mergers"))


def _model_order(models) -> list[str]:
    return [m for m in PAPER_ORDER if m in models] + sorted(m for m in models if m not in PAPER_ORDER)


def _percent(mean, pm=None) -> str:
    if mean is None or not np.isfinite(mean):
        return "—"
    text = f"{100 * mean:.1f}"
    if pm is not None and np.isfinite(pm):
        text += f" ± {100 * pm:.1f}"
    return text + "%"


def _bootstrap_cell(results: list[dict]) -> tuple[float | None, float | None, int]:
    """Mean over runs of the bootstrap means, mean of their half-widths, images per run."""
    results = [r for r in results if r and r.get("mean") is not None and np.isfinite(r["mean"])]
    if not results:
        return None, None, 0
    mean = float(np.mean([r["mean"] for r in results]))
    pm = float(np.mean([r["high"] - r["mean"] for r in results if r.get("high") is not None]))
    return mean, pm, int(round(np.mean([r.get("n", 0) for r in results])))


def render(ours: dict, paper: dict, bins: dict[str, list[dict]]) -> str:
    """Markdown for the two tables. ``ours``: :func:`astrozoo.compare.by_model`'s dict (model →
    metric → (mean, std)); ``paper``: model → the card's paper metrics; ``bins``: model → the
    ``mergers_bins.json`` of each of its runs (those that have one)."""
    models = _model_order(set(ours) | {m for m in PAPER_ORDER if paper.get(m)})
    lines = ["### Table 2 (Chudy et al.): fraction of each stage classified correctly, test split", "",
             "| model | " + " | ".join(title for _, _, title in STAGES) + " | test images (pre/post/ongoing/non) |",
             "|---|" + "---|" * (len(STAGES) + 1)]
    for model in models:
        cells, counts = [], []
        for stage, metric, _ in STAGES:
            mean, pm, n = _bootstrap_cell([b.get("stage", {}).get(stage) for b in bins.get(model, [])])
            if mean is None and ours.get(model, {}).get(metric) is not None:
                mean = ours[model][metric][0]  # no bootstrap table: the logged value, no ±
            cell = _percent(mean, pm)
            reference = paper.get(model, {}).get(metric)
            if reference is not None:
                cell += f" ({_percent(reference, PAPER_TABLE2_PM.get(model, {}).get(metric))})"
            cells.append(cell)
            counts.append(str(n) if n else "—")
        name = f"{model} ({PAPER_NAMES[model]})" if model in PAPER_NAMES else model
        lines.append(f"| {name} | " + " | ".join(cells) + " | " + "/".join(counts) + " |")
    lines += ["", "Pre-, post- and ongoing mergers: fraction classified as mergers; non-mergers: fraction "
              "classified as non-mergers (the paper's Fig. 13), at the threshold where precision = recall on "
              "the validation split. Ours: mean of 1000 bootstrap resamples ± (upper 95% bound − mean), as the "
              "paper quotes (averaged over runs when there are several seeds). In parentheses: the paper's "
              "numbers on its (real) data: Table 2, and for non-mergers the confusion matrices of its Fig. 13."]

    edges = next((b["redshift"]["edges"] for runs in bins.values() for b in runs if "redshift" in b), None)
    if edges:
        titles = [f"{lo:.2f} ≤ z < {hi:.2f}" for lo, hi in zip(edges[:-1], edges[1:])]
        lines += ["", "### Accuracy per redshift bin (the paper's Fig. 7), test split", "",
                  "| model | " + " | ".join(titles) + " |", "|---|" + "---|" * len(titles)]
        for model in _model_order(bins):
            runs = [b for b in bins[model] if "redshift" in b]
            if not runs:
                continue
            cells = []
            for i in range(len(titles)):
                mean, pm, n = _bootstrap_cell([b["redshift"]["accuracy"][i] for b in runs])
                cells.append(_percent(mean, pm) + (f" (n={n})" if n else ""))
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
        lines += ["", "Bootstrap mean ± (upper 95% bound − mean) of 1000 resamples per bin; n = test images in "
                  "the bin. The paper shows these as a figure only."]
    return "\n".join(lines) + "\n"


def _bins_of(run_id: str) -> dict | None:
    """A run's ``plots/mergers_bins.json``, or None when it has none."""
    from astrozoo import tracking

    mlflow = tracking._mlflow()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="plots/mergers_bins.json",
                                                       dst_path=tmp)
            return json.loads(Path(path).read_text())
    except Exception:  # no report (it failed, or the run predates it): fall back to the logged metrics
        return None


def tables(rows: list, profile: str | None = None, dataset: str | None = None) -> str:
    """The Task's ``tables``: Table 2 and accuracy per redshift bin from the runs ``compare`` read."""
    from astrozoo import compare

    from astrozoo_mergers.task import TASK

    ours = compare.by_model(rows, prefer=TASK.default_dataset)
    paper = compare.paper_numbers("mergers")
    bins = {}
    for model, row in ours.items():
        found = [b for b in (_bins_of(run) for run in row.get("runs", [])) if b]
        if found:
            bins[model] = found
    return render(ours, paper, bins)
