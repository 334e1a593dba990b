"""Tables of like with like from the MLflow runs: model × metrics, the paper's numbers beside.

Runs are grouped by what makes them comparable: the dataset (name and ``data.*`` parameters),
the profile, the model and its resolved ``params.*``. One table per dataset and profile (a table
never mixes them); within it one row per model and recipe, runs with ``--set`` overrides in rows
of their own labelled with the overrides. A row averages the newest finished run of each seed
and fold of its group (mean ± std, with the number of runs and seeds), and lists the run ids it
used (``--format csv``). Ceilings (models that read the mock's truth, such as ``oracle``) are
listed apart, under the real models.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from astrozoo import tracking
from astrozoo.registry import get_registry

TAG = tracking.TAG
# parameters that differ between the runs of one comparable group, or describe rather than choose
_NOT_IDENTITY = ("data.info.", "data.n_train", "data.n_val", "data.n_test", "data.fold", "data.n_folds")


@dataclass
class Row:
    """One comparable group of runs: a model with one resolved recipe on one dataset and profile."""

    model: str
    dataset: str
    profile: str
    overrides: str = ""
    data_overrides: str = ""
    ceiling: bool = False
    provenance: str = ""
    runs: list = field(default_factory=list)  # newest first, one per (seed, fold)
    seeds: set = field(default_factory=set)
    metrics: dict = field(default_factory=dict)  # name -> (mean, std or None)

    @property
    def label(self) -> str:
        text = self.model + (f" [{self.overrides}]" if self.overrides else "")
        return text + (" (ceiling)" if self.ceiling else "")

    @property
    def section(self) -> tuple[str, str, str]:
        return self.dataset, self.profile, self.data_overrides


def _identity(run) -> tuple[str, str]:
    params = run.data.params
    data = {k: v for k, v in params.items() if k.startswith("data.") and not k.startswith(_NOT_IDENTITY)}
    model = {k: v for k, v in params.items() if k.startswith("params.")}
    return json.dumps(data, sort_keys=True), json.dumps(model, sort_keys=True)


def groups(task_name: str, profile: str | None = None, dataset: str | None = None,
           where: str | None = None) -> list[Row]:
    """Every comparable group of finished runs of a task, as rows (not yet ordered)."""
    get_registry().task(task_name)  # unknown task → a clear error
    found: dict[tuple, Row] = {}
    latest: set[tuple] = set()
    for run in tracking.finished_runs(task_name, where):  # newest first
        tags = run.data.tags
        if tags.get(TAG + "role") in ("parent", "evaluation"):  # children count one by one; see evaluate.py
            continue
        if (profile and tags.get(TAG + "profile") != profile) or (dataset and tags.get(TAG + "dataset") != dataset):
            continue
        model = tags.get(TAG + "model", "?")
        data_key, params_key = _identity(run)
        key = (tags.get(TAG + "dataset"), tags.get(TAG + "profile"), data_key, model, params_key)
        seed, fold = tags.get(TAG + "seed"), tags.get(TAG + "fold", "-1")
        if key + (seed, fold) in latest:
            continue  # an older run of the same seed and fold
        latest.add(key + (seed, fold))
        overrides = _overrides(tags.get(TAG + "overrides", ""))
        row = found.setdefault(key, Row(
            model=model, dataset=key[0] or "?", profile=key[1] or "?",
            overrides=", ".join(o for o in overrides if not o.startswith("data.")),
            data_overrides=", ".join(o for o in overrides if o.startswith("data.")),
            ceiling=tags.get(TAG + "ceiling") == "true" or (TAG + "ceiling" not in tags and model == "oracle"),
            provenance=tags.get(TAG + "provenance", "?")))
        row.runs.append(run)
        row.seeds.add(seed)
    for row in found.values():
        values = defaultdict(list)
        for run in row.runs:
            for name, value in run.data.metrics.items():
                if name.startswith("test_"):
                    values[name[5:]].append(value)
        row.metrics = {name: (float(np.mean(v)), float(np.std(v)) if len(v) > 1 else None)
                       for name, v in values.items()}
    return list(found.values())


def _overrides(text: str) -> list[str]:
    """The run's ``--set`` values from its tag (a JSON list)."""
    try:
        return list(json.loads(text)) if text else []
    except ValueError:
        return text.split()


def by_model(rows: list[Row], prefer: str | None = None) -> dict:
    """{model: {'runs': [run ids], 'seeds': n, 'provenance': p, metric: (mean, std)}} — for the
    tasks' own tables, from the rows ``compare`` collected: per model one group (preferably on
    the dataset ``prefer``), the one run with the card's recipe (no ``--set``) if there is one,
    else the newest. Rows without runs (a paper's model nobody ran) are left out."""
    table = {}
    for row in rows:
        if not row.runs:
            continue
        rank = (row.dataset == prefer, not (row.overrides or row.data_overrides), row.runs[0].info.start_time)
        if row.model in table and table[row.model]["_rank"] >= rank:
            continue
        table[row.model] = {"runs": [r.info.run_id for r in row.runs], "seeds": len(row.runs),
                            "provenance": row.provenance, "_rank": rank, **row.metrics}
    for entry in table.values():
        entry.pop("_rank")
    return table


def collect(task_name: str, profile: str | None = None, dataset: str | None = None) -> dict:
    """:func:`by_model` over the task's finished runs (on ``dataset`` if given, else preferably
    on the task's default dataset)."""
    return by_model(groups(task_name, profile, dataset), get_registry().task(task_name).default_dataset)


def paper_numbers(task_name: str) -> dict[str, dict[str, float]]:
    return {r.model: r.paper.get("metrics", {}) for r in get_registry().recipes(task_name)
            if r.paper.get("metrics")}


def sections(task_name: str, profile: str | None = None, dataset: str | None = None,
             where: str | None = None, rows: list[Row] | None = None) -> dict[tuple[str, str, str], list[Row]]:
    """(dataset, profile, data overrides) → its rows (``rows``, else :func:`groups`), real models
    best first, then ceilings."""
    task = get_registry().task(task_name)
    higher = get_registry().metric(task.primary_metric).higher_is_better
    out: dict[tuple, list[Row]] = defaultdict(list)
    for row in groups(task_name, profile, dataset, where) if rows is None else rows:
        out[row.section].append(row)
    if not out:  # no runs yet: the paper's numbers alone, for the data the cards reproduce
        out[(dataset or task.default_dataset, profile or "quick", "")] = []
    paper = paper_numbers(task_name)
    for (data_name, profile_name, data_overrides), rows in out.items():
        have = {r.model for r in rows if not r.overrides}
        for model in paper:
            row = Row(model=model, dataset=data_name, profile=profile_name, data_overrides=data_overrides)
            if model not in have and _paper_for(task_name, row, paper, task.primary_metric) is not None:
                rows.append(row)  # a model of the paper nobody has run here yet

    def key(row):
        value = row.metrics.get(task.primary_metric)
        return (row.ceiling, value is None, -value[0] if value and higher else (value[0] if value else 0))

    return {section: sorted(rows, key=key) for section, rows in sorted(out.items())}


def _paper_for(task_name: str, row: Row, paper: dict, name: str):
    """The paper's number beside a row on the data the card reproduces (its label says which
    overrides it ran with); a dataset with a ``paper_key`` (e.g. one band) reads the paper's
    '<metric>_<key>' numbers."""
    try:
        paper_key = getattr(get_registry().dataset(task_name, row.dataset), "paper_key", None)
    except Exception:  # a dataset no installed plugin provides any more
        paper_key = None
    card = get_registry().card(task_name, row.model)
    if not paper_key and row.dataset != ((card and card.dataset) or get_registry().task(task_name).default_dataset):
        return None  # the paper's numbers stand beside runs on the data the card reproduces
    numbers = paper.get(row.model, {})
    return numbers.get(f"{name}_{paper_key}", numbers.get(name)) if paper_key else numbers.get(name)


def metric_names(task_name: str, rows: list[Row]) -> list[str]:
    task = get_registry().task(task_name)
    return list(task.metrics) + sorted({m for r in rows for m in r.metrics if m.startswith("coverage_")})


def export_figures(task_name: str, dest, profile: str | None = None, dataset: str | None = None) -> list:
    """The plots of each row's newest run into ``dest/<model>/`` (of the default dataset)."""
    paths = []
    for model, entry in collect(task_name, profile, dataset).items():
        paths += tracking.download_plots(entry["runs"][0], Path(dest) / model)
    return paths


def render(task_name: str, fmt: str = "markdown", profile: str | None = None, dataset: str | None = None,
           where: str | None = None) -> str:
    collected = groups(task_name, profile, dataset, where)  # the runs, read once
    found = sections(task_name, profile, dataset, where, collected)
    paper = paper_numbers(task_name)
    names = metric_names(task_name, [r for rows in found.values() for r in rows])
    if fmt == "csv":
        return _csv(task_name, found, names, paper)
    lines = []
    for (data_name, profile_name, data_overrides), rows in found.items():
        title = f"## {task_name} on {data_name}" + (f" [{data_overrides}]" if data_overrides else "")
        lines += [f"{title}, profile {profile_name}: ours (paper) on the test split", "",
                  "| model | runs | seeds | data | " + " | ".join(names) + " | newest run |",
                  "|---|---|---|---|" + "---|" * len(names) + "---|"]
        for i, row in enumerate(rows):
            if row.ceiling and (i == 0 or not rows[i - 1].ceiling):
                lines.append("| *ceilings (read the mock's truth)* |" + " |" * (len(names) + 4))
            cells = [_cell(row.metrics.get(n), _paper_for(task_name, row, paper, n)) for n in names]
            newest = row.runs[0].info.run_id[:8] if row.runs else ""
            lines.append(f"| {row.label} | {len(row.runs)} | {len(row.seeds)} | {row.provenance or '—'} | "
                         + " | ".join(cells) + f" | {newest} |")
        lines.append("")
    lines += ["Ours: mean ± std over the newest finished run of each seed and fold of a group (runs with "
              "the same dataset, profile, model and resolved recipe); each run's test metrics are those of "
              "the model it kept (torch models: the best-validation epoch). Rows with `[...]` ran with "
              "those `--set` overrides; in parentheses the paper's number, measured on the paper's real "
              "data (beside rows on the data the card reproduces). Rows marked `mock` ran on the embedded "
              "mock data and are not results on real data. `--format csv` lists every run id."]
    task = get_registry().task(task_name)
    if task.tables is not None:  # the task's own tables of another shape (e.g. network × band)
        lines += ["", task.tables(collected, profile, dataset).rstrip()]
    return "\n".join(lines) + "\n"


def _cell(mean_std, paper) -> str:
    text = "—" if mean_std is None else f"{mean_std[0]:.3f}"
    if mean_std is not None and mean_std[1] is not None:
        text += f" ± {mean_std[1]:.3f}"
    return text + (f" ({paper:.3f})" if paper is not None else "")


def _csv(task_name: str, found: dict, names: list[str], paper: dict) -> str:
    buffer = io.StringIO()
    fields = ["model", "overrides", "dataset", "data_overrides", "profile", "ceiling", "runs", "seeds",
              "provenance", "run_ids"] + [f for n in names for f in (n, f"{n}_std", f"{n}_paper")]
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for rows in found.values():
        for row in rows:
            flat = {"model": row.model, "overrides": row.overrides, "dataset": row.dataset,
                    "data_overrides": row.data_overrides, "profile": row.profile, "ceiling": row.ceiling,
                    "runs": len(row.runs), "seeds": len(row.seeds), "provenance": row.provenance,
                    "run_ids": ";".join(r.info.run_id for r in row.runs)}
            for n in names:
                mean_std, number = row.metrics.get(n), _paper_for(task_name, row, paper, n)
                flat[n] = "" if mean_std is None else f"{mean_std[0]:.6g}"
                flat[f"{n}_std"] = "" if mean_std is None or mean_std[1] is None else f"{mean_std[1]:.3g}"
                flat[f"{n}_paper"] = "" if number is None else number
            writer.writerow(flat)
    return buffer.getvalue()
