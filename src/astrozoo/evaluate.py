"""``astrozoo evaluate``: score an already trained model on another dataset, without retraining.

The scores go to a new MLflow run in the task's experiment, tagged ``astrozoo.role = evaluation``
and linked to the training run (``astrozoo.trained_run``); ``astrozoo evaluate TASK --matrix``
prints the trained-on × tested-on table of every such run (domain shift, as in the halo-mass
paper's §5.4). The model is loaded by :func:`load_trained` alone, so it is one place to change when
model artifacts move.
"""

from __future__ import annotations

import re

import click

from astrozoo.errors import AstrozooError


def load_trained(ref: str):
    """(fitted model, recipe config) of a training run: a run id, ``runs:/ID[/model]`` or ``models:/NAME/VERSION``.

    Reads the run's ``recipe/recipe.json`` and its saved model through :mod:`astrozoo.serving`
    (which loads no code from the store)."""
    import json
    import tempfile
    from pathlib import Path

    from astrozoo import serving, tracking

    mlflow = tracking._mlflow()
    run_id = _run_id(mlflow, ref)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            recipe = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="recipe/recipe.json",
                                                         dst_path=tmp)
            config = json.loads(Path(recipe).read_text())
        return serving.load_predictor(f"runs:/{run_id}").model, {**config, "run_id": run_id}
    except AstrozooError:
        raise
    except Exception as exc:  # MLflow raises many kinds; the user needs one line
        raise AstrozooError(f"cannot load the trained model of run {run_id} from {tracking.tracking_uri()}: "
                            f"{str(exc).splitlines()[0]}") from exc


def _run_id(mlflow, ref: str) -> str:
    match = re.fullmatch(r"(?:runs:/)?([0-9a-f]{32})(?:/.*)?", ref)
    if match:
        return match.group(1)
    match = re.fullmatch(r"models:/([^/@]+)/(\d+)", ref)
    if match:
        try:
            return mlflow.MlflowClient().get_model_version(match.group(1), match.group(2)).run_id
        except Exception as exc:
            raise AstrozooError(f"no registered model {ref}: {str(exc).splitlines()[0]}") from exc
    raise AstrozooError(f"{ref!r}: expected a run id, runs:/RUN_ID or models:/NAME/VERSION")


def tested_on(dataset: str, overrides: dict) -> str:
    """The column label of a test set: the dataset and the data values that differ from training."""
    return " ".join([dataset] + [f"{k}={v}" for k, v in sorted(overrides.items())])


def evaluate(task_name: str, ref: str, dataset: str | None = None, overrides=(), split: str = "test",
             echo=print) -> tuple[dict[str, float], str]:
    """Score the model of training run ``ref`` on ``dataset`` (default: its own) with the training run's
    ``[data]`` values changed by ``overrides`` (``data.KEY=VALUE``); returns (scores, evaluation run id)."""
    import numpy as np

    from astrozoo import recipes, tracking
    from astrozoo.registry import get_registry

    registry = get_registry()
    task = registry.task(task_name)
    model, config = load_trained(ref)
    if config.get("task") != task_name:
        raise AstrozooError(f"run {config['run_id']} trained a model for task {config.get('task')!r}, "
                            f"not {task_name!r}")
    data = dict(config["data"])
    changed = {}
    for text in overrides:
        section, key, value = recipes.parse_override(text)
        if section != "data":
            raise AstrozooError(f"--set {text}: only data.KEY=VALUE can change when evaluating (the model is trained)")
        if key not in data:
            raise AstrozooError(f"--set {text}: unknown key 'data.{key}' (known: {', '.join(sorted(data))})")
        if value != data[key]:
            changed[key] = value
        data[key] = value
    dataset_cls = registry.dataset(task_name, dataset or config["dataset"])
    label = tested_on(dataset_cls.name, changed)
    echo(f"[evaluate] {config['model']} of run {config['run_id']} (trained on {config['dataset']}) on {label}, "
         f"split {split!r}")
    loaded = dataset_cls(**data).load(split)
    y_pred = np.asarray(model.predict(loaded))
    scores = {name: registry.metric(name)(loaded.y, y_pred) for name in task.metrics}
    tags = {"task": task_name, "role": "evaluation", "model": config["model"], "dataset": dataset_cls.name,
            "provenance": dataset_cls.provenance, "profile": config.get("profile", ""),
            "trained_run": config["run_id"], "trained_on": config["dataset"], "tested_on": label,
            "split": split}
    name = f"{task_name}/{config['model']}/evaluate/{label}"
    with tracking.start_run(task_name, name, tags) as tracker:
        tracker.log_params({**recipes.flatten({"data": data}), "trained_run": config["run_id"],
                            f"data.n_{split}": len(loaded)})
        tracker.log_metrics({f"test_{k}": v for k, v in scores.items()})
        run_id = tracker.run_id
    for key, value in scores.items():
        echo(f"  {key:>12s} = {value:.4f}")
    return scores, run_id


def shift_matrix(task_name: str, metric: str = "rmse") -> tuple[list[str], dict[str, dict[str, float]]]:
    """(column labels, {row label: {column: value}}): rows are trained models ('gnn (mock-tng50)'), columns
    the test sets; the training run's own test score fills its own dataset's column. Newest run wins."""
    from astrozoo import tracking

    tag = tracking.TAG
    runs = tracking.finished_runs(task_name)  # newest first
    by_id = {run.info.run_id: run for run in runs}
    rows: dict[str, dict[str, float]] = {}
    columns: list[str] = []
    for run in runs:
        tags = run.data.tags
        if tags.get(tag + "role") != "evaluation" or f"test_{metric}" not in run.data.metrics:
            continue
        trained = by_id.get(tags.get(tag + "trained_run", ""))
        row = f"{tags.get(tag + 'model')} ({tags.get(tag + 'trained_on')})"
        cells = rows.setdefault(row, {})
        for column, source in ((tags.get(tag + "tested_on"), run),
                               (tags.get(tag + "trained_on"), trained)):
            if source is not None and column not in cells and f"test_{metric}" in source.data.metrics:
                cells[column] = source.data.metrics[f"test_{metric}"]
                if column not in columns:
                    columns.append(column)
    return sorted(columns, key=lambda c: (" " in c, c)), rows


def render_matrix(task_name: str, metric: str = "rmse") -> str:
    columns, rows = shift_matrix(task_name, metric)
    if not rows:
        return (f"no evaluation runs for {task_name!r} yet: `astrozoo evaluate {task_name} --run RUN_ID "
                "--dataset NAME` first")
    lines = [f"test {metric}: trained on (rows) × tested on (columns)", "",
             "| model (trained on) | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for row, cells in sorted(rows.items()):
        lines.append(f"| {row} | " + " | ".join(f"{cells[c]:.4f}" if c in cells else "–" for c in columns) + " |")
    return "\n".join(lines)


@click.command(name="evaluate")
@click.argument("task")
@click.option("--run", "run_id", default=None, metavar="RUN_ID", help="The training run whose model to score.")
@click.option("--model-uri", default=None, metavar="URI", help="runs:/RUN_ID or models:/NAME/VERSION instead of --run.")
@click.option("--dataset", "-d", default=None, help="The dataset to score on (default: the training run's).")
@click.option("--set", "overrides", multiple=True, metavar="data.KEY=VALUE",
              help="Change a data value of the training run's recipe, e.g. --set data.log_fstrip_vir=-0.9.")
@click.option("--split", default="test", show_default=True, help="Split to score: train, val, test or all.")
@click.option("--matrix", is_flag=True, help="Print the trained-on × tested-on table of all evaluation runs instead.")
@click.option("--metric", default="rmse", show_default=True, help="The metric of --matrix.")
def command(task, run_id, model_uri, dataset, overrides, split, matrix, metric):
    """Score a trained model on another dataset without retraining (domain shift); --matrix shows them all."""
    from astrozoo import tracking

    if matrix:
        click.echo(render_matrix(task, metric))
        return
    if bool(run_id) == bool(model_uri):
        raise AstrozooError("give exactly one of --run RUN_ID or --model-uri URI (or --matrix)")
    tracking.check_reachable()
    _, eval_id = evaluate(task, run_id or model_uri, dataset, overrides, split, echo=click.echo)
    click.echo(f"evaluation run id: {eval_id}  (experiment {task!r}; see `astrozoo evaluate {task} --matrix`)")
