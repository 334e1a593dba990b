"""Eight `astrozoo run`s started at once on one fresh store — a new SQLite file, and the
PostgreSQL-backed tracking server of tests/test_team_tracking.py — give eight FINISHED runs,
each with its metrics, none lost and none in MLflow's Default experiment."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_team_tracking import postgres, team_server  # noqa: F401  (fixtures)


BIN = Path(sys.executable).parent
SEEDS = range(8)


def eight_runs(uri: str) -> float:
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_DISABLE_TELEMETRY": "true", "PYTHONWARNINGS": "ignore"}
    started = time.monotonic()
    runs = [subprocess.Popen([BIN / "astrozoo", "run", "toy", "--model", "line", "--seed", str(k),
                              "--set", "params.degree=2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for k in SEEDS]
    outputs = [run.communicate(timeout=900) for run in runs]
    for run, (_, err) in zip(runs, outputs):
        assert run.returncode == 0, err[-2000:]
    return time.monotonic() - started


def check_eight_finished(uri: str) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("toy")
    found = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert {r.info.experiment_id for r in found} == {experiment.experiment_id}
    assert sorted(r.info.run_name for r in found) == sorted(f"toy/line/quick/seed{k}" for k in SEEDS)
    assert [r.info.status for r in found] == ["FINISHED"] * len(SEEDS)
    assert all("test_rmse" in r.data.metrics for r in found)


@pytest.mark.slow  # eight processes on two cores: several minutes
def test_eight_concurrent_runs_on_a_fresh_sqlite_store(workdir):
    uri = f"sqlite:///{workdir / 'fresh' / 'mlflow.db'}"
    (workdir / "fresh").mkdir()
    print(f"8 concurrent runs on SQLite: {eight_runs(uri):.0f} s")
    check_eight_finished(uri)


@pytest.mark.slow
def test_eight_concurrent_runs_on_the_postgres_server(team_server, workdir):  # noqa: F811
    url, _ = team_server
    print(f"8 concurrent runs on the PostgreSQL server: {eight_runs(url):.0f} s")
    check_eight_finished(url)
