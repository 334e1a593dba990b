"""The ``astrozoo`` command line (click). Plugins add commands through ``register_commands``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click

from astrozoo import evaluate, plugins
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
@click.option("--register", metavar="NAME", default=None,
              help="Also register the trained model in MLflow's model registry as NAME (for `astrozoo predict`).")
def run(task, model, dataset, profile, seed, seeds, folds, overrides, device, resume, register):
    """Train MODEL on TASK, score the test split and record everything in MLflow."""
    from astrozoo import runner, tracking

    if seeds > 1 or folds > 1:
        run_id = runner.run_many(task, model, seeds=range(seed, seed + seeds), folds=folds,
                                 overrides=overrides, profile=profile, dataset=dataset,
                                 device=device, register=register, echo=click.echo)
    else:
        _, run_id = runner.run(task, model, dataset=dataset, profile=profile, seed=seed,
                               overrides=overrides, device=device, resume=resume, register=register,
                               echo=click.echo)
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
@click.option("--figures", type=click.Path(file_okay=False), default=None,
              help="Also copy each model's figures (its run's plots/) into FIGURES/<model>/.")
def compare(task, fmt, profile, dataset, output, figures):
    """One table for TASK: every model's test metrics from MLflow, the paper's numbers beside."""
    from astrozoo import compare as comparing

    text = comparing.render(task, fmt, profile, dataset)
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
    from astrozoo import tracking
    from astrozoo.registry import get_registry

    get_registry().task(task)  # unknown task → a one-line error with near matches
    tracking.check_reachable()
    predictor = tracking.load_predictor(model_uri)
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
    if not _port_free(host, port):
        raise AstrozooError(f"port {port} on {host} is in use; choose another with --port")
    url = f"http://{host}:{port}"
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
               "--host", host, "--port", str(port), "--workers", "1"]  # one person: one worker starts fastest
    click.echo(f"MLflow UI for {uri} at {url}  (starting; Ctrl-C to stop)")
    # its own process group, so that stopping it stops the server's workers too
    process = subprocess.Popen(command, start_new_session=True)
    stop = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the server like Ctrl-C does
    try:
        if _wait_until_up(url, process):
            click.echo(f"ready: {url}")
        if process.wait() != 0:
            raise AstrozooError(f"the MLflow UI exited with code {process.returncode} (its messages are above)")
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, stop)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        click.echo("MLflow UI stopped")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


def _wait_until_up(url: str, process, timeout: float = 120.0) -> bool:
    """Poll the server's /health until it answers (MLflow needs 5-20 s), or it exits."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def main(argv=None):
    """Entry point: load plugin commands, run click, turn AstrozooError into one line + exit 2."""
    import warnings

    from astrozoo.registry import get_registry

    # torch_geometric still calls torch.jit.script at import; torch 2.14 warns on every start
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*deprecated", category=FutureWarning)
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
