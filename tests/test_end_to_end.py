"""The README's path as a user walks it: run → MLflow run with everything → compare; and a
plugin written outside the repository, pip-installed, listed and run."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow
import pytest

from astrozoo.testing import run_cli

BIN = Path(sys.executable).parent


def cli(args, capsys):
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    return out


def test_run_logs_everything_and_compare_shows_the_paper(workdir, capsys):
    out = cli(["run", "toy", "--model", "line"], capsys)
    assert "rmse" in out and "run id:" in out
    run_id = out.split("run id: ")[1].split()[0]
    run = mlflow.get_run(run_id)
    assert run.info.status == "FINISHED"
    tags, params, metrics = run.data.tags, run.data.params, run.data.metrics
    assert tags["astrozoo.provenance"] == "mock" and tags["astrozoo.model"] == "line"
    assert params["params.degree"] == "1" and params["data.noise"] == "0.1"  # tests/toy_cards/toy/line.toml
    assert {"test_rmse", "test_mae"} <= set(metrics)
    artifacts = {a.path for a in mlflow.artifacts.list_artifacts(run_id=run_id)}
    assert {"recipe", "predictions", "model", "plots"} <= artifacts
    plots = {Path(a.path).name for a in mlflow.artifacts.list_artifacts(run_id=run_id, artifact_path="plots")}
    assert "predicted_vs_true.png" in plots  # the task's report

    table = cli(["compare", "toy"], capsys)
    row = next(line for line in table.splitlines() if line.startswith("| line"))
    assert f"{metrics['test_rmse']:.3f} (0.125)" in row  # the card's paper number beside ours
    csv_text = cli(["compare", "toy", "--format", "csv", "--output", "t.csv", "--figures", "figs"], capsys)
    assert "wrote t.csv" in csv_text and "rmse_paper" in Path("t.csv").read_text()
    assert {p.name for p in Path("figs/line").iterdir()} == plots  # the figures as files


PLUGIN = '''
import numpy as np
from astrozoo import hookimpl
from astrozoo.interfaces import Model


class Linear(Model):
    """A straight line in x: the smallest possible third-party model."""
    name, tasks = "linear", ("toy",)

    def fit(self, train, val, context):
        self.coef = np.polyfit(train.data["columns"]["x"], train.y, 1)
        return self

    def predict(self, split):
        return np.polyval(self.coef, split.data["columns"]["x"])


@hookimpl
def register_models(register):
    register(Linear)
'''


def test_third_party_plugin_installs_lists_and_runs(workdir, tmp_path):
    package = tmp_path / "astrozoo-linear"
    (package / "astrozoo_linear").mkdir(parents=True)
    (package / "astrozoo_linear" / "__init__.py").write_text(PLUGIN)
    (package / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"
        [project]
        name = "astrozoo-linear"
        version = "0.0.1"
        [project.entry-points.astrozoo]
        linear = "astrozoo_linear"
    '''))
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(package)]
    subprocess.run(pip, check=True)
    try:
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "ASTROZOO_PLUGINS": "toy,linear"}
        listed = subprocess.run([BIN / "astrozoo", "list", "linear*"], capture_output=True, text=True, env=env)
        assert "toy/linear" in listed.stdout, listed.stderr
        plugins = subprocess.run([BIN / "astrozoo", "plugins"], capture_output=True, text=True, env=env)
        assert "linear  [astrozoo-linear 0.0.1]  ok" in plugins.stdout
        ran = subprocess.run([BIN / "astrozoo", "run", "toy", "--model", "linear"],
                             capture_output=True, text=True, env=env)
        assert ran.returncode == 0, ran.stderr
        assert "rmse" in ran.stdout and "run id:" in ran.stdout
    finally:
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "-q", "-y", "astrozoo-linear"], check=True)


def test_compare_appends_the_tasks_own_tables(workdir, capsys, monkeypatch):
    import dataclasses

    from astrozoo.registry import get_registry

    registry = get_registry()
    seen = []

    def tables(rows, profile, dataset):
        seen.append((rows, profile, dataset))
        return "## per-stage table\n\n| stage | fraction |\n"

    entry = registry.tasks["toy"][0]
    monkeypatch.setattr(entry, "target", dataclasses.replace(entry.target, tables=tables))
    cli(["run", "toy", "--model", "mean"], capsys)
    cli(["run", "toy", "--model", "mean", "--profile", "paper"], capsys)  # another profile: not handed over
    out = cli(["compare", "toy", "--profile", "quick"], capsys)
    assert out.index("## toy") < out.index("## per-stage table")
    [(rows, profile, dataset)] = seen
    assert (profile, dataset) == ("quick", None)
    assert [(r.model, r.profile, len(r.runs)) for r in rows] == [("mean", "quick", 1)]  # the runs compare read
