"""kill -9 a real `astrozoo run` at a random epoch, then `--resume` it from a different working
folder: the same MLflow run continues, and its per-epoch metrics are exactly those of an
uninterrupted twin — no step lost, none logged twice (checkpoints live beside the tracking
store, keyed to the run; every random state is restored; metrics follow the checkpoint)."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest

from toy_plugin import requires

PLUGINS = "halo-mass"  # slow checks of the training loop through the halo-mass GNN and CNN

ASTROZOO = str(Path(sys.executable).parent / "astrozoo")
EPOCHS = 12
ARGS = ["run", "halo-mass", "--model", "gnn", "--set", f"params.epochs={EPOCHS}"]
KEYS = ("train_loss", "val_loss", "lr")


def curves(uri: str, run_id: str) -> dict:
    client = mlflow.MlflowClient(tracking_uri=uri)
    return {key: sorted((m.step, m.value) for m in client.get_metric_history(run_id, key)) for key in KEYS}


def only_run(uri: str):
    (run,) = mlflow.MlflowClient(tracking_uri=uri).search_runs(
        [mlflow.MlflowClient(tracking_uri=uri).get_experiment_by_name("halo-mass").experiment_id])
    return run


def astrozoo(args, cwd, uri, **kwargs):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MLFLOW_TRACKING_URI": uri}
    return subprocess.run([ASTROZOO, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, **kwargs)


@requires("halo-mass")
@pytest.mark.slow  # three CLI processes: about 70 CPU-s, 3.5 min on this shared machine
def test_killed_run_resumes_from_another_folder_identical_to_a_twin(workdir):
    folders = {name: workdir / name for name in ("first", "second", "twin")}
    for folder in folders.values():
        folder.mkdir()
    uri, twin_uri = f"sqlite:///{workdir / 'store.db'}", f"sqlite:///{workdir / 'twin.db'}"
    twin = astrozoo(ARGS, folders["twin"], twin_uri)  # also builds the data cache for the others
    assert twin.returncode == 0, twin.stdout + twin.stderr

    kill_after = random.randint(1, EPOCHS - 4)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MLFLOW_TRACKING_URI": uri}
    first = subprocess.Popen([ASTROZOO, *ARGS], cwd=folders["first"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    client, deadline = mlflow.MlflowClient(tracking_uri=uri), time.time() + 300
    while time.time() < deadline:
        assert first.poll() is None, "the first run ended before it was killed"
        runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
        if runs and any(m.step >= kill_after for m in client.get_metric_history(runs[0].info.run_id, "val_loss")):
            break
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    run_id = only_run(uri).info.run_id
    assert len(curves(uri, run_id)["val_loss"]) < EPOCHS

    second = astrozoo([*ARGS, "--resume"], folders["second"], uri)
    out = second.stdout + second.stderr
    assert second.returncode == 0, out
    assert "resuming gnn at epoch" in out and f"run id: {run_id}" in out
    assert not list(folders["second"].rglob("*.pt")) and not list(folders["first"].rglob("*.pt"))
    run, twin_run = only_run(uri), only_run(twin_uri)  # still one run in the store
    assert run.info.run_id == run_id and run.info.status == "FINISHED"
    resumed, straight = curves(uri, run_id), curves(twin_uri, twin_run.info.run_id)
    for key in KEYS:
        assert [step for step, _ in resumed[key]] == list(range(EPOCHS)), (key, kill_after)  # once each
        assert resumed[key] == straight[key], (key, kill_after)  # bit-identical values
    assert run.data.metrics["test_rmse"] == twin_run.data.metrics["test_rmse"]
