"""The ``astrozoo`` command line (click). Plugins add commands through ``register_commands``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click

from astrozoo import plugins
from astrozoo.errors import AstrozooError


@click.group()
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.version_option(package_name="astrozoo")
@click.pass_context
def cli(ctx, debug):
    """astrozoo: a plugin-based model zoo for machine learning in astrophysics."""
    ctx.obj = {"debug": debug}


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
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override a recipe value, e.g. --set params.epochs=5 (repeatable).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda[:N].")
@click.option("--resume", is_flag=True, help="Continue the unfinished run of the same name from its last checkpoint.")
def run(task, model, dataset, profile, seed, seeds, folds, overrides, device, resume):
    """Train MODEL on TASK, score the test split and record everything in MLflow."""
    from astrozoo import runner, tracking

    if seeds > 1 or folds > 1:
        run_id = runner.run_many(task, model, seeds=range(seed, seed + seeds), folds=folds,
                                 overrides=overrides, profile=profile, dataset=dataset,
                                 device=device, echo=click.echo)
    else:
        _, run_id = runner.run(task, model, dataset=dataset, profile=profile, seed=seed,
                               overrides=overrides, device=device, resume=resume, echo=click.echo)
    click.echo(f"run id: {run_id}  (experiment {task!r}, store {tracking.tracking_uri()})")
    click.echo("browse: astrozoo ui   compare: astrozoo compare " + task)


@cli.command(name="list")
@click.argument("pattern", default="*")
def list_(pattern):
    """List tasks, models, datasets and metrics whose names match PATTERN (wildcards allowed).

    A bare task name lists everything of that task: `astrozoo list halo-mass`.
    """
    from astrozoo.registry import get_registry

    found = get_registry().list_names(pattern)
    if not any(found.values()):
        raise AstrozooError(f"nothing matches {pattern!r}; try `astrozoo list` or a wildcard like 'cnn*'")
    for kind, names in found.items():
        if names:
            click.echo(f"{kind}:")
            for name in names:
                click.echo(f"  {name}")


@cli.command(name="plugins")
def plugins_():
    """Installed plugins and the hooks each implements."""
    from astrozoo.registry import get_registry

    get_registry()
    for row in plugins.plugin_table():
        click.echo(f"{row['name']}  [{row['package']}]  {row['status']}")
        click.echo(f"    hooks: {', '.join(row['hooks']) or '-'}")


@cli.command()
@click.argument("task")
@click.option("--format", "fmt", type=click.Choice(["markdown", "csv"]), default="markdown", show_default=True)
@click.option("--profile", default=None, help="Only runs of this profile.")
@click.option("--dataset", default=None, help="Only runs on this dataset.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write the table to a file.")
def compare(task, fmt, profile, dataset, output):
    """One table for TASK: every model's test metrics from MLflow, the paper's numbers beside."""
    from astrozoo import compare as comparing

    text = comparing.render(task, fmt, profile, dataset)
    if output:
        Path(output).write_text(text)
        click.echo(f"wrote {output}")
    else:
        click.echo(text)


@cli.command()
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
def ui(port, host):
    """Start the MLflow UI on the store `astrozoo run` writes to (Ctrl-C stops it)."""
    from astrozoo import tracking

    uri = tracking.tracking_uri()
    if uri.startswith("http"):
        click.echo(f"runs are on a tracking server: open {uri}")
        return
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
               "--host", host, "--port", str(port)]
    click.echo(f"MLflow UI for {uri} at http://{host}:{port}  (Ctrl-C to stop)")
    process = subprocess.Popen(command, start_new_session=True)
    try:
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if process.poll() is None:  # the server leaves workers: stop its whole process group
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)


def main(argv=None):
    """Entry point: load plugin commands, run click, turn AstrozooError into one line + exit 2."""
    from astrozoo.registry import get_registry

    get_registry()
    plugins.call_each("register_commands", cli=cli)
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
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
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    sys.exit(0)
