"""Kill a real `astrozoo run` mid-training, then `--resume`: training continues from the last
checkpoint, in the same MLflow run, and the run finishes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow

ASTROZOO = str(Path(sys.executable).parent / "astrozoo")
EPOCHS = 40
ARGS = ["run", "toy", "--model", "net", "--set", f"params.epochs={EPOCHS}", "--set", "params.pause=0.1"]


def test_killed_run_resumes_in_the_same_mlflow_run(workdir):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.Popen([ASTROZOO, *ARGS], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True)
    checkpoints = Path(".astrozoo/checkpoints")  # beside the store (tracking.checkpoint_dir)
    deadline = time.time() + 600
    while time.time() < deadline and not list(checkpoints.glob("*/last.pt")):
        assert first.poll() is None, first.stdout.read().decode()
        time.sleep(0.5)
    os.killpg(first.pid, signal.SIGKILL)  # no clean-up at all: MLflow still says RUNNING
    first.wait()
    (last,) = checkpoints.glob("*/last.pt")
    run_id = last.parent.name
    assert mlflow.get_run(run_id).info.status != "FINISHED"

    second = subprocess.run([ASTROZOO, *ARGS, "--resume"], env=env, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stdout + second.stderr
    out = second.stdout + second.stderr
    resumed_at = int(out.split("at epoch ")[1].split()[0])
    assert 0 < resumed_at < EPOCHS, out
    assert f"run id: {run_id}" in out
    run = mlflow.get_run(run_id)
    assert run.info.status == "FINISHED" and "test_rmse" in run.data.metrics
    steps = {m.step for m in mlflow.MlflowClient().get_metric_history(run_id, "val_loss")}
    assert steps == set(range(EPOCHS))  # every epoch logged once or, around the kill, twice
