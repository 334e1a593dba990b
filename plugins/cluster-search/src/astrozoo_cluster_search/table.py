"""The slides' table: test accuracy per network × band, the paper's numbers beside ours, and the
learning rate each range test chose. Built from the MLflow runs through the core's compare
(``astrozoo compare cluster-search --dataset mock-ir`` gives every metric of one band)."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

BANDS = {"ir": "mock-ir", "microwave": "mock-microwave"}
TASK = "cluster-search"


def rows(profile: str | None = None, datasets: dict[str, str] = BANDS) -> list[dict]:
    """One row per model: {'model', '<band>': (mean, std, seeds), '<band>_paper', '<band>_lr'}."""
    from astrozoo import compare, tracking

    paper = compare.paper_numbers(TASK)
    table: dict[str, dict] = {}
    mlflow = None
    for band, dataset in datasets.items():
        for model, found in compare.collect(TASK, profile, dataset).items():
            row = table.setdefault(model, {"model": model})
            if "accuracy" in found:
                row[band] = (*found["accuracy"], found.get("seeds", 1))
            mlflow = mlflow or tracking._mlflow()
            lrs = [mlflow.get_run(run).data.metrics.get("chosen_lr") for run in found["runs"]]
            lrs = [lr for lr in lrs if lr is not None]
            row[f"{band}_lr"] = float(np.exp(np.mean(np.log(lrs)))) if lrs else None
    for model, numbers in paper.items():
        row = table.setdefault(model, {"model": model})
        for band in datasets:
            row[f"{band}_paper"] = numbers.get(f"accuracy_{band}")
    key = lambda r: -max((r[b][0] for b in datasets if b in r), default=-1)  # noqa: E731
    return sorted(table.values(), key=key)


def render(profile: str | None = None) -> str:
    def cell(row, band):
        ours = row.get(band)
        text = "—" if ours is None else f"{ours[0]:.3f}" + (f" ± {ours[1]:.3f}" if ours[1] is not None else "")
        paper = row.get(f"{band}_paper")
        return text + (f" ({paper:.3f})" if paper is not None else "")

    def lr(row, band):
        value = row.get(f"{band}_lr")
        return "—" if value is None else f"{value:.2g}"

    lines = ["## cluster-search: test accuracy, ours (paper), per network and band", "",
             "| model | IR | microwave | chosen lr (IR) | chosen lr (microwave) |", "|---|---|---|---|---|"]
    for row in rows(profile):
        lines.append(f"| {row['model']} | {cell(row, 'ir')} | {cell(row, 'microwave')} | {lr(row, 'ir')} | "
                     f"{lr(row, 'microwave')} |")
    lines += ["", "Ours: mean ± std over seeds on the embedded mocks (mock-ir, mock-microwave), latest finished "
              "run per seed. In parentheses: Fomicheva (2025) on real WISE/ACT data — a reference, not a target. "
              "Chosen lr: the learning-rate range test's choice (geometric mean over seeds)."]
    return "\n".join(lines) + "\n"


@click.command(name="cluster-search-table")
@click.option("--profile", default=None, help="Only runs of this profile.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write the table to a file.")
def table_command(profile, output):
    """cluster-search: accuracy per network × band (IR, microwave) with the paper's numbers and chosen lrs."""
    text = render(profile)
    if output:
        Path(output).write_text(text)
        click.echo(f"wrote {output}")
    else:
        click.echo(text)
