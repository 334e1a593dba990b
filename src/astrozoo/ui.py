"""``astrozoo ui``: the MLflow UI on the store ``astrozoo run`` writes to.

The server runs in its own process group, so stopping it stops its workers too. It is stopped
when the CLI ends in any way: Ctrl-C or ``kill`` (handled here), and ``kill -9``, a closed
terminal or a crash, by a small watchdog process that waits for the CLI to disappear and then
stops the whole group. Bound beyond loopback (``--host 0.0.0.0``) it warns: the UI has no
accounts, anyone who reaches the port can read and delete runs.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys

import click

from astrozoo.errors import AstrozooError

# the watchdog: wait until the CLI (argv[1]) is gone, then stop the server's group (argv[2])
WATCHDOG = """
import os, signal, sys, time
cli, group = int(sys.argv[1]), int(sys.argv[2])
while os.getppid() == cli:  # the CLI is alive (when it dies, this process is handed to another parent)
    time.sleep(0.3)
try:
    os.killpg(group, signal.SIGTERM)
    for _ in range(50):
        time.sleep(0.2)
        os.killpg(group, 0)
    os.killpg(group, signal.SIGKILL)
except ProcessLookupError:
    pass
"""


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
def ui(port, host):
    """Start the MLflow UI on the store `astrozoo run` writes to (Ctrl-C stops it)."""
    from astrozoo import tracking

    uri = tracking.tracking_uri()
    if uri.startswith("http"):
        click.echo(f"runs are on a tracking server: open {uri}")
        return
    tracking.check_store()
    if not 0 < port < 65536:
        raise AstrozooError(f"--port {port}: expected 1-65535")
    if not loopback(host):
        click.echo(f"warning: --host {host} serves the MLflow UI beyond this machine; it has no accounts: "
                   "anyone who reaches the port can read and delete runs", err=True)
    if not _port_free(host, port):
        raise AstrozooError(f"port {port} on {host} is in use; choose another with --port")
    url = f"http://{host}:{port}"
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
               "--host", host, "--port", str(port), "--workers", "1"]  # one person: one worker starts fastest
    click.echo(f"MLflow UI for {uri} at {url}  (starting; Ctrl-C to stop)")
    process = subprocess.Popen(command, start_new_session=True)  # its own process group
    watchdog = subprocess.Popen([sys.executable, "-c", WATCHDOG, str(os.getpid()), str(process.pid)],
                                start_new_session=True)
    stop = signal.getsignal(signal.SIGTERM)
    hangup = signal.getsignal(signal.SIGHUP)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` and a closed terminal stop it like Ctrl-C
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        if _wait_until_up(url, process):
            click.echo(f"ready: {url}")
        if process.wait() != 0:
            raise AstrozooError(f"the MLflow UI exited with code {process.returncode} (its messages are above)")
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGHUP, hangup)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        watchdog.kill()  # the CLI stopped the server itself
        watchdog.wait()
        click.echo("MLflow UI stopped")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


def _wait_until_up(url: str, process, timeout: float = 120.0) -> bool:
    """Poll the server's /health until it answers (MLflow needs 5-55 s), or it exits."""
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
