"""`astrozoo ui`: the MLflow server goes when the CLI goes, even by kill -9; a bind beyond
loopback is warned about."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from astrozoo.testing import run_cli

ASTROZOO = str(Path(sys.executable).parent / "astrozoo")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_beyond_loopback_is_warned(workdir, capsys):
    with socket.socket() as busy:  # a port in use: the command stops right after its checks
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run_cli(["ui", "--host", "0.0.0.0", "--port", str(port)], capsys)
    assert code == 2
    assert "warning: --host 0.0.0.0 serves the MLflow UI beyond this machine" in err
    assert f"port {port} on 0.0.0.0 is in use" in err


@pytest.mark.slow
def test_kill_9_of_the_cli_stops_the_server(workdir):
    port = free_port()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "PYTHONUNBUFFERED": "1"}
    ui = subprocess.Popen([ASTROZOO, "ui", "--port", str(port)], env=env, start_new_session=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180  # MLflow takes 8-55 s to start here
        while not listening(port):
            assert ui.poll() is None and time.monotonic() < deadline, ui.stdout.read().decode()[-2000:]
            time.sleep(0.5)
        os.kill(ui.pid, signal.SIGKILL)  # the CLI only: no handler runs
        ui.wait()
        deadline = time.monotonic() + 30
        while listening(port) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert not listening(port), "the MLflow server outlived the CLI"
    finally:
        if ui.poll() is None:
            os.killpg(ui.pid, signal.SIGKILL)
