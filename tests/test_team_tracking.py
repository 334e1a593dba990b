"""Team tracking: an MLflow tracking server backed by PostgreSQL, serving the artifacts, and
four `astrozoo run`s logging to it at once through MLFLOW_TRACKING_URI (docs/tracking.md).

PostgreSQL (Debian's, started here on 127.0.0.1 in a temporary data folder; as root it runs as
the unprivileged `postgres` user) and psycopg2 (the `team` extra) come from scripts/ci-deps.sh.
Without them the test is skipped with the reason — except in CI (CI=true), where it fails.
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest


BIN = Path(sys.executable).parent
SEEDS = range(4)


def need(what: str) -> None:
    reason = f"{what} is not installed (run scripts/ci-deps.sh)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the team-tracking test: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait(check, what: str, process, timeout: float, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what} did not answer in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(process, sig=signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def postgres():
    """A throwaway PostgreSQL on 127.0.0.1: yields the database URI for MLflow."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not binaries:
        need("Debian's postgresql")
    try:
        import psycopg2
    except ImportError:
        need("psycopg2 (pip install -e '.[team]')")
    bindir = Path(binaries[-1])
    user = {}
    data = Path(tempfile.mkdtemp(prefix="astrozoo-pg-"))  # not under pytest's 0700 tmp: postgres must enter it
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        account = pwd.getpwnam("postgres" if "postgres" in {p.pw_name for p in pwd.getpwall()} else "nobody")
        os.chown(data, account.pw_uid, account.pw_gid)
        user = {"user": account.pw_uid, "group": account.pw_gid}
    port = free_port()
    log = data.parent / f"{data.name}.log"
    try:
        subprocess.run([bindir / "initdb", "-D", data / "db", "-U", "astrozoo", "--auth=trust", "-E", "UTF8",
                        "--no-sync"], cwd=data, check=True, capture_output=True, **user)
        server = subprocess.Popen([bindir / "postgres", "-D", data / "db", "-h", "127.0.0.1", "-p", str(port),
                                   "-k", data, "-c", "fsync=off"], cwd=data, stdout=open(log, "w"),
                                  stderr=subprocess.STDOUT, start_new_session=True, **user)
        try:
            connect = lambda db: psycopg2.connect(host="127.0.0.1", port=port, user="astrozoo", dbname=db)  # noqa: E731
            wait(lambda: connect("postgres").close() or True, "PostgreSQL", server, 60, log)
            admin = connect("postgres")
            admin.autocommit = True
            admin.cursor().execute("CREATE DATABASE mlflow")
            admin.close()
            yield f"postgresql+psycopg2://astrozoo@127.0.0.1:{port}/mlflow"  # SQLAlchemy 2.1 defaults to psycopg 3
        finally:
            stop(server, signal.SIGINT)  # PostgreSQL's fast shutdown
    finally:
        shutil.rmtree(data, ignore_errors=True)
        log.unlink(missing_ok=True)


@pytest.fixture
def team_server(postgres, workdir):
    """`mlflow server` on PostgreSQL, proxying artifacts to a local folder: yields (url, folder)."""
    artifacts = workdir / "team-artifacts"
    port = free_port()
    log = workdir / "mlflow-server.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", postgres,
         "--serve-artifacts", "--artifacts-destination", str(artifacts),
         "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait(lambda: urllib.request.urlopen(url + "/health", timeout=2).status == 200,
             "the MLflow server", server, 300, log)
        yield url, artifacts
    finally:
        stop(server)


@pytest.mark.slow  # 2-5 min on 2 cores: two servers start, four trainings share the CPU
def test_four_concurrent_runs_log_to_a_postgres_backed_server(team_server, workdir):
    url, artifacts = team_server
    env = {**os.environ, "MLFLOW_TRACKING_URI": url, "MLFLOW_DISABLE_TELEMETRY": "true", "PYTHONWARNINGS": "ignore"}
    started = time.monotonic()
    runs = [subprocess.Popen([BIN / "astrozoo", "run", "toy", "--model", "line", "--seed", str(k)]
                             + (["--register", "team-line"] if k == 0 else []),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for k in SEEDS]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0, err
        assert f"store {url}" in out
    print(f"4 concurrent runs: {time.monotonic() - started:.0f} s")

    from mlflow import MlflowClient

    client = MlflowClient(url)
    experiment = client.get_experiment_by_name("toy")
    everywhere = [e.experiment_id for e in client.search_experiments()]
    found = client.search_runs(everywhere)
    assert {r.info.experiment_id for r in found} == {experiment.experiment_id}  # none in "Default"
    names = sorted(r.info.run_name for r in found)
    assert names == [f"toy/line/quick/seed{k}" for k in SEEDS]
    for run in found:
        assert run.info.status == "FINISHED"
        assert {"test_rmse", "test_mae", "test_nmad"} <= set(run.data.metrics)
        listed = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"model", "predictions", "plots", "recipe"} <= listed
    # the artifacts went through the server into its artifact folder, not into ./mlruns
    assert len(list(artifacts.rglob("model.azm"))) >= len(SEEDS)
    assert not (workdir / "mlruns").exists()
    assert client.get_model_version("team-line", "1").status == "READY"
