"""``astrozoo sweep TASK --model M --trials K``: a hyperparameter search with Optuna.

The search space is the card's ``[sweep]`` table: each key names a key of ``[params]``; a list
is a categorical choice, a table ``{low, high[, log, step]}`` a range (integers when ``low``
and ``high`` are integers)::

    [sweep]
    lr = { low = 1e-4, high = 1e-2, log = true }
    hidden = [8, 16, 32]

Each trial is one ``astrozoo run`` with the sampled values as ``--set params.*`` overrides,
recorded as a nested MLflow run under one parent run of the sweep. Its objective is the best
validation loss; after every epoch the loss is reported to Optuna, whose median pruner stops
trials that fall behind (their runs end FAILED, tagged ``astrozoo.sweep.pruned``).
``--workers W`` processes pull trials from the same study; with ``--storage`` a PostgreSQL
(or any RDB) URL, processes on other machines can join it (same ``--study``). The default
storage is the SQLite file ``optuna.db`` in the working folder. The best parameters are
written as a new card, ``<out>/<task>/<model>-best.toml`` (``base = "<model>"``), runnable
with ``ASTROZOO_REGISTRY=<out> astrozoo run TASK --model <model>-best``.
"""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import click

from astrozoo import recipes
from astrozoo.errors import AstrozooError


def space(card: recipes.Recipe) -> dict:
    """The card's ``[sweep]`` table, checked against its ``[params]``."""
    where = card.path or f"(no card for {card.task}/{card.model})"
    if not card.sweep:
        raise AstrozooError(f"{where}: no [sweep] table: add one (see docs/distributed.md) to sweep {card.model}")
    for name, spec in card.sweep.items():
        if name not in card.params:
            raise AstrozooError(f"{where}: sweep.{name} is not a key of [params] "
                                f"(known: {', '.join(sorted(card.params))})")
        if isinstance(spec, dict):
            if set(spec) - {"low", "high", "log", "step"} or not {"low", "high"} <= set(spec):
                raise AstrozooError(f"{where}: sweep.{name} must be a list or {{low, high[, log, step]}}, got {spec}")
            if not spec["low"] < spec["high"]:
                raise AstrozooError(f"{where}: sweep.{name}: low must be below high, got {spec}")
        elif not isinstance(spec, list) or not spec:
            raise AstrozooError(f"{where}: sweep.{name} must be a list or {{low, high[, log, step]}}, got {spec!r}")
    return card.sweep


def suggest(trial, table: dict) -> dict:
    values = {}
    for name, spec in table.items():
        if isinstance(spec, list):
            values[name] = trial.suggest_categorical(name, spec)
        elif isinstance(spec["low"], int) and isinstance(spec["high"], int):
            values[name] = trial.suggest_int(name, spec["low"], spec["high"], step=spec.get("step", 1),
                                             log=spec.get("log", False))
        else:
            values[name] = trial.suggest_float(name, spec["low"], spec["high"], step=spec.get("step"),
                                               log=spec.get("log", False))
    return values


def _toml(value) -> str:
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)  # true/false, 3, 0.001
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise AstrozooError(f"cannot write {value!r} into a card")


def _worker(job: dict) -> None:
    """One process: pull trials from the study until its share is done. Trials nest under the
    sweep's parent run, reopened here."""
    import optuna

    from astrozoo import runner, tracking, training

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=job["study"], storage=job["storage"],
                              sampler=optuna.samplers.TPESampler(seed=job["seed"] + job["worker"]),
                              pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=2))

    def objective(trial):
        values = suggest(trial, job["space"])
        overrides = [*job["overrides"], *(f"params.{k}={_toml(v) if not isinstance(v, str) else v}"
                                         for k, v in values.items())]

        def report(epoch: int, val_loss: float, tracker) -> None:
            trial.report(val_loss, epoch)
            if trial.should_prune():
                tracker.set_tags({"astrozoo.sweep.pruned": "true", "astrozoo.sweep.trial": trial.number})
                raise optuna.TrialPruned(f"epoch {epoch}: validation loss {val_loss:.4g} behind the median")

        with training.epoch_hook(report):
            result, run_id = runner.run(job["task"], job["model"], profile=job["profile"], seed=job["seed"],
                                        overrides=overrides, device=job["device"], echo=lambda *a, **k: None)
        trial.set_user_attr("run_id", run_id)
        print(f"trial {trial.number}: {values} → best val_loss {min(result.history['val_loss']):.4g} (run {run_id})",
              flush=True)
        return min(result.history["val_loss"])

    with tracking.start_run(job["task"], job["name"], {}, run_id=job["parent"]):
        study.optimize(objective, n_trials=job["trials"], catch=(AstrozooError,))


def write_card(card: recipes.Recipe, params: dict, best: dict, out: Path, note: str) -> Path:
    path = Path(out) / card.task / f"{card.model}-best.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"task = {_toml(card.task)}", f"model = {_toml(card.model + '-best')}",
             f"base = {_toml(card.base or card.model)}"]
    if card.dataset:
        lines.append(f"dataset = {_toml(card.dataset)}")
    lines += [f"description = {_toml(note)}", "", "[params]"]
    lines += [f"{k} = {_toml(best.get(k, v))}" for k, v in params.items()]
    lines += ["", "[data]"] + [f"{k} = {_toml(v)}" for k, v in card.data.items()]
    path.write_text("\n".join(lines) + "\n")
    recipes.parse(path)  # what was written reads back as a valid card
    return path


@click.command()
@click.argument("task")
@click.option("--model", "-m", required=True, help="Model whose card has a [sweep] table.")
@click.option("--trials", default=10, show_default=True, type=click.IntRange(min=1), help="Trials to run.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Processes pulling trials from the study at once.")
@click.option("--storage", default=None, help="Optuna storage URL (postgresql://..., sqlite:///...); "
              "default: sqlite:///optuna.db in the working folder.")
@click.option("--study", "study_name", default=None, help="Study name; default TASK/MODEL/PROFILE (joined if it exists).")
@click.option("--profile", "-p", default="quick", show_default=True)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE", help="Fixed overrides for every trial.")
@click.option("--device", default="auto", show_default=True)
@click.option("--out", default="sweeps", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the best card (<out>/<task>/<model>-best.toml).")
def sweep(task, model, trials, workers, storage, study_name, profile, seed, overrides, device, out):
    """Search MODEL's hyperparameters on TASK with Optuna (the card's [sweep] table)."""
    import optuna

    from astrozoo import runner, tracking
    from astrozoo.registry import get_registry

    get_registry().model(task, model)
    card = recipes.resolve(task, model, profile, overrides)
    table = space(card)
    storage = storage or f"sqlite:///{Path.cwd() / 'optuna.db'}"
    study_name = study_name or f"{task}/{model}/{profile}"
    try:
        study = optuna.create_study(study_name=study_name, storage=storage, direction="minimize",
                                    load_if_exists=True)
    except Exception as exc:  # an unreachable or malformed storage
        raise AstrozooError(f"--storage {storage}: cannot open the Optuna study ({exc})") from exc
    tracking.check_reachable()
    name = f"{task}/{model}/{profile}/sweep"
    with tracking.start_run(task, name, {"task": task, "model": model, "profile": profile, "role": "sweep",
                                         "study": study_name}) as parent:
        parent.log_params({"sweep.trials": trials, "sweep.workers": workers, "sweep.space": json.dumps(table)})
        parent_id = parent.run_id
    job = {"task": task, "model": model, "profile": profile, "seed": seed, "overrides": list(overrides),
           "device": runner.resolve_device(device), "space": table, "study": study_name, "storage": storage,
           "name": name, "parent": parent_id}
    shares = [trials // workers + (i < trials % workers) for i in range(workers)]
    click.echo(f"sweep {study_name}: {trials} trials on {workers} worker(s), storage {storage}, parent run {parent_id}")
    spawn = multiprocessing.get_context("spawn")
    processes = [spawn.Process(target=_worker, args=({**job, "worker": i, "trials": n},)) for i, n in enumerate(shares) if n]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    if any(p.exitcode for p in processes):
        raise AstrozooError(f"sweep {study_name}: a worker failed (exit codes {[p.exitcode for p in processes]})")
    study = optuna.load_study(study_name=study_name, storage=storage)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        raise AstrozooError(f"sweep {study_name}: no trial completed")
    best = study.best_trial
    path = write_card(card, card.params, best.params, Path(out),
                      f"{card.description or model} — best of {len(study.trials)} Optuna trials "
                      f"(study {study_name}, trial {best.number}, best val_loss {best.value:.4g})")
    with tracking.start_run(task, name, {}, run_id=parent_id) as parent:
        parent.log_params({f"best.{k}": v for k, v in best.params.items()})
        parent.log_metrics({"best_val_loss": best.value, "trials": len(study.trials), "trials_complete": len(done),
                            "trials_pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)})
        parent.log_artifact(path, "card")
    click.echo(f"best trial {best.number}: {best.params} (val_loss {best.value:.4g}, run {best.user_attrs.get('run_id')})")
    click.echo(f"best card: {path}  (run it: ASTROZOO_REGISTRY={out} astrozoo run {task} --model {model}-best)")
