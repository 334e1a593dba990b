"""The slides' table: test accuracy per network × band, the paper's numbers beside ours, and the
learning rate each range test chose. Built from the runs the core's compare read, as
``Task.tables``, so ``astrozoo compare cluster-search`` prints it after the
model × metric table (``--dataset mock-ir`` keeps one band)."""

from __future__ import annotations

import numpy as np

BANDS = {"ir": "mock-ir", "microwave": "mock-microwave"}
TASK = "cluster-search"


def rows(groups: list, datasets: dict[str, str] = BANDS) -> list[dict]:
    """One row per model from compare's ``groups`` (:class:`astrozoo.compare.Row`): {'model', '<band>':
    (mean, std, seeds), '<band>_paper', '<band>_lr', '<band>_fallback'} (fallback: a range test of
    some seed was inconclusive, the card's lr was used)."""
    from astrozoo import compare, tracking

    paper = compare.paper_numbers(TASK)
    table: dict[str, dict] = {}
    mlflow = None
    for band, dataset in datasets.items():
        for model, found in compare.by_model([g for g in groups if g.dataset == dataset]).items():
            row = table.setdefault(model, {"model": model})
            if "accuracy" in found:
                row[band] = (*found["accuracy"], found.get("seeds", 1))
            mlflow = mlflow or tracking._mlflow()
            runs = [mlflow.get_run(run).data for run in found["runs"]]
            lrs = [run.metrics["chosen_lr"] for run in runs if run.metrics.get("chosen_lr") is not None]
            row[f"{band}_lr"] = float(np.exp(np.mean(np.log(lrs)))) if lrs else None
            # an inconclusive range test logs the card's lr as the choice: say so
            row[f"{band}_fallback"] = any(run.params.get("lr_range.inconclusive") == "True" for run in runs)
    for model, numbers in paper.items():
        row = table.setdefault(model, {"model": model})
        for band in datasets:
            row[f"{band}_paper"] = numbers.get(f"accuracy_{band}")
    key = lambda r: -max((r[b][0] for b in datasets if b in r), default=-1)  # noqa: E731
    return sorted(table.values(), key=key)


def bands(dataset: str | None = None) -> dict[str, str]:
    """{paper key: dataset} of the columns: both bands, or only ``dataset``'s (its ``paper_key``)."""
    if dataset is None:
        return dict(BANDS)
    for band, name in BANDS.items():
        if name == dataset:
            return {band: name}
    from astrozoo.registry import get_registry

    key = getattr(get_registry().dataset(TASK, dataset), "paper_key", None)
    return {key or dataset: dataset}


def render(groups: list, profile: str | None = None, dataset: str | None = None) -> str:
    """The network × band table as markdown; this is the task's ``tables(rows, profile, dataset)``."""
    columns = bands(dataset)

    def cell(row, band):
        ours = row.get(band)
        text = "—" if ours is None else f"{ours[0]:.3f}" + (f" ± {ours[1]:.3f}" if ours[1] is not None else "")
        paper = row.get(f"{band}_paper")
        return text + (f" ({paper:.3f})" if paper is not None else "")

    def lr(row, band):
        value = row.get(f"{band}_lr")
        return "—" if value is None else f"{value:.2g}" + (" *" if row.get(f"{band}_fallback") else "")

    title = {"ir": "IR", "microwave": "microwave"}
    names = [title.get(band, band) for band in columns]
    lines = ["## cluster-search: test accuracy, ours (paper), per network and band", "",
             "| model | " + " | ".join(names) + " | " + " | ".join(f"chosen lr ({n})" for n in names) + " |",
             "|---|" + "---|" * (2 * len(columns))]
    for row in rows(groups, columns):
        lines.append(f"| {row['model']} | " + " | ".join(cell(row, band) for band in columns) + " | "
                     + " | ".join(lr(row, band) for band in columns) + " |")
    lines += ["", f"Ours: mean ± std over seeds on {', '.join(columns.values())}, latest finished run per seed"
              + (f", profile {profile}" if profile else "") + ". In parentheses: Fomicheva (2025) on real WISE/ACT "
              "data — a reference, not a target. Chosen lr: the learning-rate range test's choice (geometric mean "
              "over seeds); — where the model has none (the baseline) or no run; * where the test was inconclusive "
              "(the loss did not fall by 2% and 4 standard errors) and the card's `lr` was used instead."]
    return "\n".join(lines) + "\n"
