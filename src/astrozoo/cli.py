"""The ``astrozoo`` command line (click). Plugins add commands through ``register_commands``."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import click

from astrozoo import evaluate, plugins
from astrozoo.errors import AstrozooError

USER_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EPERM}


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _store_error(exc: Exception) -> bool:
    """MLflow's errors and a store lost mid-command (after the up-front checks passed)."""
    mlflow_errors = sys.modules.get("mlflow.exceptions")
    requests_errors = sys.modules.get("requests.exceptions")
    return bool((mlflow_errors and isinstance(exc, mlflow_errors.MlflowException))
                or (requests_errors and isinstance(exc, requests_errors.ConnectionError)))


def _tracking_uri() -> str:
    from astrozoo.tracking import tracking_uri

    return tracking_uri()


@click.group()
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.option("--scheduler", default=None, metavar="dask|tcp://HOST:PORT",
              help="Data preparation (rendering, morphology) on Dask: a LocalCluster, or a scheduler's address.")
@click.version_option(package_name="astrozoo")
@click.pass_context
def cli(ctx, debug, scheduler):
    """astrozoo: a plugin-based model zoo for machine learning in astrophysics."""
    ctx.obj = {"debug": debug}
    if scheduler:
        os.environ["ASTROZOO_SCHEDULER"] = scheduler  # read by astrozoo.data.parallel.parallel_map


@cli.command()
@click.argument("task")
@click.option("--model", "-m", required=True, help="Model name (see `astrozoo list TASK`).")
@click.option("--dataset", "-d", default=None, help="Dataset name; default: the recipe's, else the task's.")
@click.option("--profile", "-p", default="quick", show_default=True, help="Recipe profile: quick (CPU-sized) or paper.")
@click.option("--seed", default=0, show_default=True, type=int, help="Training seed.")
@click.option("--seeds", default=1, show_default=True, type=int,
              help="Run seeds seed..seed+N-1 as child runs of one parent run (mean ± std).")
@click.option("--folds", default=0, type=int,
              help="K-fold cross-validation: K child runs under one parent (datasets with data.fold).")
@click.option("--grid", default=None, metavar="SECTION.KEY=V1,V2,...",
              help="One child run per value under one parent run, with a plot of the test metrics "
                   "against the value, e.g. --grid data.radius=0.5,1,2,3,5,8 (combines with --seeds/--folds).")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override a recipe value, e.g. --set params.epochs=5 (repeatable).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda[:N].")
@click.option("--resume", is_flag=True, help="Continue the unfinished run of the same name from its last checkpoint.")
@click.option("--register", metavar="NAME", default=None,
              help="Also register the trained model in MLflow's model registry as NAME (for `astrozoo predict`).")
@click.option("--devices", default=1, show_default=True, type=click.IntRange(min=1),
              help="Processes (devices) per node for torch models: CPU processes or GPUs (Lightning Fabric).")
@click.option("--nodes", default=1, show_default=True, type=click.IntRange(min=1),
              help="Nodes of a multi-node run (under torchrun or SLURM srun; see docs/distributed.md).")
@click.option("--strategy", default="auto", show_default=True, type=click.Choice(["auto", "ddp", "fsdp"]),
              help="How torch models are spread over the processes.")
@click.option("--precision", default="auto", show_default=True,
              type=click.Choice(["auto", "32", "bf16-mixed", "16-mixed"]),
              help="auto: bf16-mixed on CUDA (16-mixed without bf16), 32 elsewhere.")
def run(task, model, dataset, profile, seed, seeds, folds, grid, overrides, device, resume, register,
        devices, nodes, strategy, precision):
    """Train MODEL on TASK, score the test split and record everything in MLflow."""
    from astrozoo import runner, tracking, validate

    validate.check_run_options(seed, seeds, folds)
    spread = {"devices": devices, "nodes": nodes, "strategy": strategy, "precision": precision}
    if (seeds > 1 or folds > 1 or grid) and devices * nodes > 1:
        raise AstrozooError("--seeds/--folds/--grid run one process each: give them without --devices/--nodes")
    if grid and (resume or register):
        raise AstrozooError("--grid makes several runs: give it without --resume/--register")
    if grid:
        run_id = runner.run_grid(task, model, grid, seeds=range(seed, seed + seeds), folds=folds,
                                 overrides=overrides, profile=profile, dataset=dataset, device=device,
                                 echo=click.echo, precision=precision)
    elif seeds > 1 or folds > 1:
        run_id = runner.run_many(task, model, seeds=range(seed, seed + seeds), folds=folds,
                                 overrides=overrides, profile=profile, dataset=dataset,
                                 device=device, register=register, echo=click.echo, precision=precision)
    else:
        result, run_id = runner.run(task, model, dataset=dataset, profile=profile, seed=seed,
                                    overrides=overrides, device=device, resume=resume, register=register,
                                    echo=click.echo, **spread)
        if result is None:  # another rank of a distributed run: rank 0 reports
            return
    click.echo(f"run id: {run_id}  (experiment {task!r}, store {tracking.tracking_uri()})")
    click.echo("browse: astrozoo ui   compare: astrozoo compare " + task)


@cli.command(name="list")
@click.argument("pattern", default="*")
@click.option("--plugins", "show_plugins", is_flag=True, help="Also show which plugin provides each name.")
def list_(pattern, show_plugins):
    """List tasks, models, datasets and metrics whose names match PATTERN (wildcards allowed).

    A bare task name lists everything of that task: `astrozoo list halo-mass`.
    """
    from astrozoo.registry import get_registry

    registry = get_registry()
    found = registry.list_names(pattern)
    if not any(found.values()):
        raise AstrozooError(f"nothing matches {pattern!r}; try `astrozoo list` or a wildcard like 'cnn*'")
    if show_plugins:
        for name, owner in sorted(registry.providers(pattern).items()):
            click.echo(f"{name:40s} {owner}")
        return
    for kind, names in found.items():
        if names:
            click.echo(f"{kind}:")
            for name in names:
                click.echo(f"  {name}")


@cli.command(name="plugins")
def plugins_():
    """Installed plugins and the hooks each implements."""
    from astrozoo.registry import get_registry

    registry = get_registry()
    for row in plugins.plugin_table(registry.problems):
        click.echo(f"{row['name']}  [{row['package']}]  {row['status']}")
        click.echo(f"    hooks: {', '.join(row['hooks']) or '-'}")
    for problem in registry.problems:
        click.echo(f"problem: {problem}")
    if registry.problems:
        raise SystemExit(2)


@cli.command()
@click.argument("task")
@click.option("--format", "fmt", type=click.Choice(["markdown", "csv"]), default="markdown", show_default=True)
@click.option("--profile", default=None, help="Only runs of this profile.")
@click.option("--dataset", default=None, help="Only runs on this dataset.")
@click.option("--where", default=None, metavar="FILTER",
              help="Only runs matching an MLflow search filter, e.g. \"params.`params.epochs` = '5'\".")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write the table to a file.")
@click.option("--figures", type=click.Path(file_okay=False), default=None,
              help="Also copy each model's figures (its run's plots/) into FIGURES/<model>/.")
def compare(task, fmt, profile, dataset, where, output, figures):
    """One table for TASK: every model's test metrics from MLflow, the paper's numbers beside."""
    from astrozoo import compare as comparing
    from astrozoo import tracking

    tracking.check_store()
    text = comparing.render(task, fmt, profile, dataset, where)
    if output:
        Path(output).write_text(text)
        click.echo(f"wrote {output}")
    else:
        click.echo(text)
    if figures:
        paths = comparing.export_figures(task, figures, profile, dataset)
        click.echo(f"wrote {len(paths)} figures under {figures}/")


cli.add_command(evaluate.command)


@cli.command()
@click.argument("task")
@click.option("--model-uri", required=True, metavar="URI",
              help="models:/NAME/VERSION, models:/NAME@alias, runs:/RUN_ID/pyfunc, or any run: runs:/RUN_ID.")
@click.option("--input", "input_", required=True, type=click.Path(exists=True, dir_okay=False),
              help="A catalogue in the task's HDF5 format.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="The CSV file to write.")
def predict(task, model_uri, input_, output):
    """Predict every object of a new catalogue with a trained model; write a CSV of
    id, y_pred (class probabilities p0..pK for classifiers) and y_std where the model has it."""
    from astrozoo import serving, tracking
    from astrozoo.registry import get_registry

    get_registry().task(task)  # unknown task → a one-line error with near matches
    tracking.check_store()
    predictor = serving.load_predictor(model_uri)
    if predictor.task != task:
        raise AstrozooError(f"{model_uri} was trained for task {predictor.task!r}, not {task!r}")
    table = predictor.predict_catalogue(input_)
    table.to_csv(output, index=False)
    click.echo(f"wrote {len(table)} predictions ({', '.join(table.columns)}) to {output}")


@cli.command(name="new-plugin")
@click.argument("name")
@click.option("--task", default="halo-mass", show_default=True, help="The task the plugin's model is for.")
@click.option("--model", default=None, help="The model's name; default: NAME.")
@click.option("--output", "-o", type=click.Path(file_okay=False), default=None,
              help="The folder to create; default: ./astrozoo-NAME.")
def new_plugin(name, task, model, output):
    """Create a working plugin package NAME: a model for TASK, its recipe card and a test."""
    from astrozoo import scaffold

    folder = scaffold.create(name, task=task, model=model, output=output)
    click.echo(f"created {folder}:")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        click.echo(f"  {path.relative_to(folder)}")
    click.echo("next:\n"
               f"  pip install -e {folder}\n"
               f"  astrozoo run {task} --model {model or name}\n"
               f"  pytest {folder / 'tests'}")


def _add_core_commands():
    from astrozoo import runs, ui

    cli.add_command(runs.runs)
    cli.add_command(ui.ui)


_add_core_commands()


from astrozoo.sweep import sweep  # noqa: E402  (optuna is imported inside the command)
cli.add_command(sweep)


def main(argv=None):
    """Entry point: load plugin commands, run click, turn AstrozooError (and a full disk, a denied
    permission, a tracking store lost mid-command) into one line + exit 2."""
    import warnings

    from astrozoo.registry import get_registry

    # torch_geometric still calls torch.jit.script at import; torch 2.14 warns on every start
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*deprecated", category=FutureWarning)
    get_registry()
    plugins.call_each("register_commands", {"cli": cli})
    debug = "--debug" in (argv if argv is not None else sys.argv[1:]) or plugins.strict()
    try:
        cli.main(args=argv, prog_name="astrozoo", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except AstrozooError as exc:
        if debug:
            raise
        click.echo(f"error: {_one_line(exc)}", err=True)
        sys.exit(2)
    except Exception as exc:
        if debug:
            raise
        if _store_error(exc):  # the store was lost mid-command, after the up-front checks passed
            click.echo(f"error: tracking store {_tracking_uri()}: {_one_line(exc)[:300]}", err=True)
        elif isinstance(exc, OSError) and exc.errno in USER_ERRNOS:  # disk full, permissions, read-only
            click.echo(f"error: {exc.strerror}: {exc.filename or ''}".rstrip(": "), err=True)
        else:
            raise
        sys.exit(2)
    sys.exit(0)
