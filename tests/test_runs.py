"""Dead runs are marked KILLED, `astrozoo runs gc` removes finished runs' checkpoints, and
`--resume` reopens only a run made with the same recipe, data and code."""

import socket
import subprocess

import mlflow

from astrozoo import tracking
from astrozoo.testing import run_cli as cli


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def running(name, host=None, pid=None, start=""):
    """A RUNNING run as a process that ran it would have left it."""
    client = mlflow.MlflowClient()
    experiment = tracking._experiment(tracking._mlflow(), "toy")
    run = client.create_run(experiment, run_name=name, tags={
        "astrozoo.host": host or socket.gethostname(), "astrozoo.pid": str(pid or dead_pid()),
        "astrozoo.pid_start": start})
    return run.info.run_id


def status(run_id):
    return mlflow.get_run(run_id).info.status


def test_runs_of_dead_processes_are_marked_killed(workdir, capsys):
    import os

    dead = running("dead")
    reused = running("pid reused", pid=os.getpid(), start="1")  # this pid, but a process started earlier
    alive = running("alive", pid=os.getpid(), start=tracking._process_start(os.getpid()))
    elsewhere = running("other host", host="another-machine")
    code, out, err = cli(["runs", "gc"], capsys)
    assert code == 0, err
    assert "2 dead run(s) marked KILLED" in out
    assert (status(dead), status(reused), status(alive), status(elsewhere)) == ("KILLED", "KILLED", "RUNNING", "RUNNING")


def test_the_next_run_marks_dead_runs_killed(workdir, capsys):
    dead = running("dead")
    code, _, err = cli(["run", "toy", "--model", "line"], capsys)
    assert code == 0, err
    assert status(dead) == "KILLED"


def test_gc_removes_checkpoints_of_finished_runs_only(workdir, capsys):
    client = mlflow.MlflowClient()
    experiment = tracking._experiment(tracking._mlflow(), "toy")
    finished = client.create_run(experiment).info.run_id
    client.set_terminated(finished, "FINISHED")
    killed = client.create_run(experiment).info.run_id
    client.set_terminated(killed, "KILLED")
    root = tracking.checkpoint_root()
    assert root == workdir / ".astrozoo" / "checkpoints"  # beside the store
    for name in (finished, killed, "f" * 32, "notes"):
        (root / name).mkdir(parents=True)
        (root / name / "last.pt").write_bytes(b"x")
    code, out, err = cli(["runs", "gc"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in root.iterdir()) == sorted([killed, "notes"])  # an unknown run id goes too
    assert "2 checkpoint folder(s) removed" in out


def test_resume_reopens_only_a_matching_run(workdir, capsys):
    args = ["run", "toy", "--model", "line"]
    code, out, err = cli(args, capsys)
    assert code == 0, err
    run_id = out.split("run id: ")[1].split()[0]
    tags = mlflow.get_run(run_id).data.tags
    assert tags["astrozoo.pid"] and tags["astrozoo.host"] == socket.gethostname()
    mlflow.MlflowClient().set_terminated(run_id, "KILLED")

    code, out, err = cli(["run", "toy", "--model", "line", "--set", "params.degree=2", "--resume"], capsys)
    assert code == 2 and f"--resume: run {run_id} (toy/line/quick/seed0) was made with another recipe" in err
    assert len(err.strip().splitlines()) == 1
    mlflow.MlflowClient().set_tag(run_id, "astrozoo.code", "0123456789ab/astrozoo-0.0.1")
    code, out, err = cli(args + ["--resume"], capsys)
    assert code == 2 and "was made with another code version" in err
    mlflow.MlflowClient().set_tag(run_id, "astrozoo.code", tags["astrozoo.code"])
    code, out, err = cli(args + ["--resume"], capsys)
    assert code == 0, err
    assert f"run id: {run_id}" in out and status(run_id) == "FINISHED"
    assert len(mlflow.search_runs(experiment_names=["toy"])) == 1  # nothing else was created


def test_a_run_on_a_users_file_is_tagged_with_that_file(workdir, capsys):
    import hashlib

    from astrozoo.data import store

    code, _, err = cli(["data", "generate", "toy", "--seed", "3", "-o", "mine.h5"], capsys)
    assert code == 0, err
    args = ["run", "toy", "--model", "line", "--set", "data.path=mine.h5"]
    code, out, err = cli(args, capsys)
    assert code == 0, err
    run_id = out.split("run id: ")[1].split()[0]
    tags = mlflow.get_run(run_id).data.tags
    assert tags["astrozoo.dataset"] == "file" and tags["astrozoo.dataset.reader"] == "toy-data"
    assert tags["astrozoo.data.path"] == str(workdir / "mine.h5")
    assert tags["astrozoo.data.sha256"] == hashlib.sha256((workdir / "mine.h5").read_bytes()).hexdigest()
    assert tags["astrozoo.provenance"] == store.read_attrs("mine.h5")["provenance"] == "mock"  # the file says so

    # the file changes under a killed run: --resume refuses it
    mlflow.MlflowClient().set_terminated(run_id, "KILLED")
    columns, attrs = store.read("mine.h5", "catalogue")
    store.write("mine.h5", {"catalogue": columns}, {**attrs, "note": "edited"})
    code, _, err = cli(args + ["--resume"], capsys)
    assert code == 2 and "was made with another data" in err
