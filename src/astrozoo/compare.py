"""One table per task from the MLflow runs: model × metrics, the paper's numbers beside ours."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

import numpy as np

from astrozoo import recipes, tracking
from astrozoo.registry import get_registry

TAG = tracking.TAG


def collect(task_name: str, profile: str | None = None, dataset: str | None = None) -> dict:
    """{model: {'runs': [run ids], 'seeds': n, metric: (mean, std)}} from the latest run per
    seed and fold."""
    get_registry().task(task_name)  # unknown task → a clear error
    latest: dict[tuple[str, str], object] = {}
    for run in tracking.finished_runs(task_name):  # newest first
        tags = run.data.tags
        if tags.get(TAG + "role") in ("parent", "evaluation"):  # children count one by one; see evaluate.py
            continue
        if profile and tags.get(TAG + "profile") != profile:
            continue
        if dataset and tags.get(TAG + "dataset") != dataset:
            continue
        key = (tags.get(TAG + "model"), tags.get(TAG + "seed"), tags.get(TAG + "fold", "-1"))
        latest.setdefault(key, run)
    table: dict[str, dict] = defaultdict(lambda: {"runs": []})
    values: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for (model, _seed, _fold), run in latest.items():
        table[model]["runs"].append(run.info.run_id)
        table[model]["provenance"] = run.data.tags.get(TAG + "provenance", "?")
        for name, value in run.data.metrics.items():
            if name.startswith("test_"):
                values[model][name[5:]].append(value)
    for model, metrics in values.items():
        table[model]["seeds"] = len(table[model]["runs"])
        for name, vals in metrics.items():
            table[model][name] = (float(np.mean(vals)), float(np.std(vals)) if len(vals) > 1 else None)
    return dict(table)


def paper_numbers(task_name: str) -> dict[str, dict[str, float]]:
    return {r.model: r.paper.get("metrics", {}) for r in recipes.all_recipes(task_name)
            if r.paper.get("metrics")}


def rows(task_name: str, profile: str | None = None, dataset: str | None = None) -> tuple[list[str], list[dict]]:
    """Header (metric names) and one row per model, best first by the task's primary metric."""
    task = get_registry().task(task_name)
    ours = collect(task_name, profile, dataset)
    paper = paper_numbers(task_name)
    # a dataset with a ``paper_key`` (e.g. one band) reads the paper's '<metric>_<key>' numbers
    paper_key = getattr(get_registry().dataset(task_name, dataset), "paper_key", None) if dataset else None
    metric_names = list(task.metrics) + sorted(
        {m for r in ours.values() for m in r if m.startswith("coverage_")})
    models = list(ours) + [m for m in paper if m not in ours]
    higher = get_registry().metric(task.primary_metric).higher_is_better

    def key(model):
        value = ours.get(model, {}).get(task.primary_metric)
        return (value is None, -value[0] if value and higher else (value[0] if value else 0))

    out = []
    for model in sorted(models, key=key):
        mine = ours.get(model, {})
        row = {"model": model, "seeds": mine.get("seeds", 0), "provenance": mine.get("provenance", ""),
               "run": (mine.get("runs") or [""])[0]}
        for name in metric_names:
            row[name] = mine.get(name)
            numbers = paper.get(model, {})
            row[f"{name}_paper"] = numbers.get(f"{name}_{paper_key}", numbers.get(name)) if paper_key \
                else numbers.get(name)
        out.append(row)
    return metric_names, out


def export_figures(task_name: str, dest, profile: str | None = None, dataset: str | None = None) -> list:
    """The plots of each model's latest run (the table's 'run' column) into ``dest/<model>/``."""
    _, table = rows(task_name, profile, dataset)
    return [path for row in table if row["run"]
            for path in tracking.download_plots(row["run"], Path(dest) / row["model"])]


def render(task_name: str, fmt: str = "markdown", profile: str | None = None, dataset: str | None = None) -> str:
    names, table = rows(task_name, profile, dataset)
    if fmt == "csv":
        buffer = io.StringIO()
        fields = ["model", "seeds", "provenance", "run"] + [f for n in names for f in (n, f"{n}_std", f"{n}_paper")]
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        for row in table:
            flat = {k: row[k] for k in ("model", "seeds", "provenance", "run")}
            for n in names:
                mean_std = row[n]
                flat[n] = "" if mean_std is None else f"{mean_std[0]:.6g}"
                flat[f"{n}_std"] = "" if mean_std is None or mean_std[1] is None else f"{mean_std[1]:.3g}"
                flat[f"{n}_paper"] = "" if row[f"{n}_paper"] is None else row[f"{n}_paper"]
            writer.writerow(flat)
        return buffer.getvalue()

    def cell(mean_std, paper):
        text = "—" if mean_std is None else f"{mean_std[0]:.3f}"
        if mean_std is not None and mean_std[1] is not None:
            text += f" ± {mean_std[1]:.3f}"
        return text + (f" ({paper:.3f})" if paper is not None else "")

    lines = [f"## {task_name}: ours (paper) on the test split",
             "",
             "| model | seeds | data | " + " | ".join(names) + " | run |",
             "|---|---|---|" + "---|" * len(names) + "---|"]
    for row in table:
        cells = [cell(row[n], row[f"{n}_paper"]) for n in names]
        lines.append(f"| {row['model']} | {row['seeds']} | {row['provenance'] or '—'} | "
                     + " | ".join(cells) + f" | {row['run'][:8]} |")
    lines += ["", "Ours: mean ± std over seeds and folds (column 'seeds' counts runs), latest finished run per seed and fold. In parentheses: the paper's "
              "reported number, measured on the paper's real data. Rows marked `mock` ran on the "
              "embedded mock data and are not results on real data."]
    task = get_registry().task(task_name)
    if task.tables is not None:  # the task's own tables of another shape
        lines += ["", task.tables(profile, dataset).rstrip()]
    return "\n".join(lines) + "\n"
