"""The README's path as a user walks it: run → MLflow run with everything → compare; and a
plugin written outside the repository, pip-installed, listed and run."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow
import pytest

from astrozoo.cli import main

BIN = Path(sys.executable).parent


def cli(args, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr()
    assert info.value.code == 0, out.err
    return out.out


def test_run_logs_everything_and_compare_shows_the_paper(workdir, capsys):
    out = cli(["run", "halo-mass", "--model", "overdensity"], capsys)
    assert "rmse" in out and "run id:" in out
    run_id = out.split("run id: ")[1].split()[0]
    run = mlflow.get_run(run_id)
    assert run.info.status == "FINISHED"
    tags, params, metrics = run.data.tags, run.data.params, run.data.metrics
    assert tags["astrozoo.provenance"] == "mock" and tags["astrozoo.model"] == "overdensity"
    assert params["params.n_estimators"] == "100" and params["data.radius"] == "3.0"
    assert {"test_rmse", "test_mae", "test_nmad", "test_f_outlier", "test_r2"} <= set(metrics)
    artifacts = {a.path for a in mlflow.artifacts.list_artifacts(run_id=run_id)}
    assert {"recipe", "predictions", "model", "plots"} <= artifacts
    plots = {Path(a.path).name for a in mlflow.artifacts.list_artifacts(run_id=run_id, artifact_path="plots")}
    assert {"fig1_split.png", "fig2_predicted_vs_true.png"} <= plots

    table = cli(["compare", "halo-mass"], capsys)
    row = next(line for line in table.splitlines() if line.startswith("| overdensity"))
    assert "(0.374)" in row  # the paper's RMSE beside ours
    assert any(line.startswith("| combined | 0") for line in table.splitlines())  # paper-only row
    assert "Ceiling: run `astrozoo run halo-mass --model oracle`" in table  # the task's own table
    csv_text = cli(["compare", "halo-mass", "--format", "csv", "--output", "t.csv", "--figures", "figs"], capsys)
    assert "wrote t.csv" in csv_text and "rmse_paper" in Path("t.csv").read_text()
    assert {p.name for p in Path("figs/overdensity").iterdir()} == plots  # Figures 1-2 as files


PLUGIN = '''
import numpy as np
from astrozoo import hookimpl
from astrozoo.interfaces import Model


class LinearMstar(Model):
    """A straight line in log M*: the smallest possible third-party model."""
    name, tasks = "linear-mstar", ("halo-mass",)

    def fit(self, train, val, context):
        self.coef = np.polyfit(train.data["columns"]["log_mstar"], train.y, 1)
        return self

    def predict(self, split):
        return np.polyval(self.coef, split.data["columns"]["log_mstar"])


@hookimpl
def register_models(register):
    register(LinearMstar)
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
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        listed = subprocess.run([BIN / "astrozoo", "list", "linear*"], capture_output=True, text=True, env=env)
        assert "halo-mass/linear-mstar" in listed.stdout, listed.stderr
        plugins = subprocess.run([BIN / "astrozoo", "plugins"], capture_output=True, text=True, env=env)
        assert "linear  [astrozoo-linear 0.0.1]  ok" in plugins.stdout
        ran = subprocess.run([BIN / "astrozoo", "run", "halo-mass", "--model", "linear-mstar"],
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
        seen.append((profile, dataset))
        return "## per-stage table\n\n| stage | fraction |\n"

    entry = registry.tasks["halo-mass"][0]
    monkeypatch.setattr(entry, "target", dataclasses.replace(entry.target, tables=tables))
    out = cli(["compare", "halo-mass", "--profile", "quick"], capsys)
    assert out.index("## halo-mass") < out.index("## per-stage table")
    assert seen == [("quick", None)]


def test_compare_reads_the_papers_numbers_of_one_band(workdir, capsys):
    ir = cli(["compare", "cluster-search", "--dataset", "mock-ir"], capsys)
    microwave = cli(["compare", "cluster-search", "--dataset", "mock-microwave"], capsys)
    first_row = lambda table: next(line for line in table.splitlines() if line.startswith("| resnet18 |"))  # noqa: E731
    assert "(0.568)" in first_row(ir) and "(0.892)" in first_row(microwave)  # the slides' accuracy per band
