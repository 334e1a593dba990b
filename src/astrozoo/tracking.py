"""The one place that talks to MLflow.

Store: ``$MLFLOW_TRACKING_URI`` if set, else ``sqlite:///./mlflow.db`` in the working directory
(the same store ``astrozoo ui`` opens). One experiment per task, one run per training, named
``task/model/profile/seed``; flat parameters; per-epoch metrics with ``step``; artifacts in
folders (``plots/``, ``predictions/``, ``model/``, ``recipe/``). Serving a logged model
(``--register``, ``astrozoo predict``) lives in :mod:`astrozoo.serving`.

Before a run opens, :func:`check_store` makes sure the store can be used at all: a well-formed
URI, a server that answers within seconds, a SQLite file (and its folder) that can be written.
MLflow's own HTTP retries are kept short, so an unreachable server is a one-line error in
seconds, not minutes of silent retries.

**Dead runs.** Every run records the process that runs it: tags ``astrozoo.host``,
``astrozoo.pid`` and ``astrozoo.pid_start`` (the process's start time, so a reused pid is not
mistaken for the run's). A run still ``RUNNING`` whose host is this machine and whose process
is gone was killed (``kill -9``, a power cut): it is marked ``KILLED`` the next time this machine
opens a run in the store, or by ``astrozoo runs gc``. Runs of other hosts are left alone (their
processes cannot be seen from here).

**Checkpoints** live beside the store, keyed by run id (:func:`checkpoint_dir`), so ``--resume``
finds them from any working folder; ``astrozoo runs gc`` removes those of finished runs.
"""

from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from astrozoo.errors import AstrozooError

TAG = "astrozoo."
SCHEMES = ("sqlite", "http", "https", "postgresql", "mysql", "mssql", "file", "databricks")
# MLflow's defaults retry an unreachable server for minutes (7 retries, backoff factor 2, 120 s)
HTTP_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "60"}


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def _mlflow():
    import logging

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # no usage reports leave the machine
    for key, value in HTTP_ENV.items():
        os.environ.setdefault(key, value)
    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    _create_sqlite_store_once(mlflow, uri)
    return mlflow


_READY: set[Path] = set()  # SQLite stores this process has seen complete


def _create_sqlite_store_once(mlflow, uri: str) -> None:
    """A new SQLite store is created and migrated by the first client that opens it; two runs
    started at once on a fresh folder both try, and both fail (duplicate column, alembic). So
    the first use by each process is serialised with a file lock (a file that exists may still
    be half-migrated by another process)."""
    if not uri.startswith("sqlite:///"):
        return
    path = Path(uri.removeprefix("sqlite:///"))
    if path in _READY:
        return
    import fcntl
    import hashlib

    key = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"astrozoo-mlflow-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        mlflow.MlflowClient().search_experiments(max_results=1)  # creates and migrates the schema
    _READY.add(path)


def check_store(timeout: float = 5.0, consequence: str = "") -> str:
    """Fail fast, before any data is loaded or run opened, when the store cannot be used: a
    malformed URI, a server that does not answer within ``timeout`` s, a SQLite store that
    cannot be written. ``consequence`` ends the message of an unreachable server (e.g.
    "nothing was trained"). Returns the URI."""
    uri = tracking_uri()
    parsed = urllib.parse.urlparse(uri)
    scheme = parsed.scheme.split("+")[0] or ("file" if uri.startswith(("/", "./", "../", "~")) else "")
    if scheme not in SCHEMES:
        raise AstrozooError(f"MLFLOW_TRACKING_URI={uri!r} is not a tracking URI "
                            "(expected e.g. sqlite:////abs/path/mlflow.db or http://host:5000)")
    if scheme in ("http", "https"):
        if not parsed.hostname:
            raise AstrozooError(f"MLFLOW_TRACKING_URI={uri!r} has no host")
        check_reachable(timeout, consequence)
    elif scheme == "sqlite":
        if not uri.startswith("sqlite:///") or uri == "sqlite:///":
            raise AstrozooError(f"MLFLOW_TRACKING_URI={uri!r}: write sqlite:///relative/path.db "
                                "or sqlite:////absolute/path.db")
        path = Path(uri.removeprefix("sqlite:///"))
        if path.is_dir():
            raise AstrozooError(f"tracking store {path} is a folder, not a SQLite file")
        folder = path.parent
        if not folder.is_dir():
            raise AstrozooError(f"tracking store {path}: folder {folder} does not exist")
        if not _writable(folder) or (path.exists() and not os.access(path, os.W_OK)):
            raise AstrozooError(f"tracking store {path} is not writable (folder {folder})")
        if path.exists() and path.stat().st_size:
            with open(path, "rb") as fh:
                if fh.read(16) != b"SQLite format 3\x00":
                    raise AstrozooError(f"tracking store {path} is not a SQLite database")
        artifacts = Path.cwd() / "mlruns"  # MLflow's default artifact root beside a local store
        if not _writable(artifacts if artifacts.is_dir() else Path.cwd()):
            raise AstrozooError(f"artifact folder {artifacts} is not writable")
    return uri


def _writable(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (tried: permissions say little to root)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def check_reachable(timeout: float = 5.0, consequence: str = "nothing was trained") -> None:
    """Fail fast when a remote tracking server does not answer (local stores pass)."""
    uri = tracking_uri()
    if not uri.startswith(("http://", "https://")):
        return
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout) as response:
            if response.status != 200:
                raise OSError(f"HTTP {response.status}")
    except (OSError, ValueError, urllib.error.URLError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AstrozooError(f"MLflow tracking server {uri} is unreachable ({reason})"
                            + (f"; {consequence}" if consequence else "")) from exc


def checkpoint_dir(run_id: str) -> Path:
    """Where a run's checkpoints live: ``$ASTROZOO_CHECKPOINTS/<run id>`` if set, else beside a
    SQLite store (``<store folder>/.astrozoo/checkpoints/<run id>``), else in the cache under a
    folder named for the store, so any working folder finds them."""
    return checkpoint_root() / run_id


def checkpoint_root() -> Path:
    import hashlib

    if os.environ.get("ASTROZOO_CHECKPOINTS"):  # a folder every node of a multi-node run shares
        return Path(os.environ["ASTROZOO_CHECKPOINTS"])
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///")).resolve().parent / ".astrozoo" / "checkpoints"
    from astrozoo.data import cache_dir

    return cache_dir("checkpoints", hashlib.sha256(uri.encode()).hexdigest()[:16])


def _process_start(pid: int) -> str:
    """The start time of process ``pid`` (clock ticks since boot, from /proc), '' if unknown."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def process_tags() -> dict:
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "pid_start": _process_start(pid)}


def _alive(pid: str, start: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return not start or _process_start(int(pid)) in ("", start)


def reap_dead_runs(mlflow=None) -> list[str]:
    """Mark KILLED every RUNNING run of this host whose process is gone; returns their ids."""
    mlflow = mlflow or _mlflow()
    host = socket.gethostname().replace("'", "")
    runs = mlflow.search_runs(search_all_experiments=True, output_format="list",
                              filter_string=f"attributes.status = 'RUNNING' and tags.`{TAG}host` = '{host}'")
    client = mlflow.MlflowClient()
    dead = [r.info.run_id for r in runs
            if not _alive(r.data.tags.get(TAG + "pid", ""), r.data.tags.get(TAG + "pid_start", ""))]
    for run_id in dead:
        client.set_terminated(run_id, status="KILLED")
    return dead


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("astrozoo", "torch", "scikit-learn", "mlflow", "numpy"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found


class Tracker:
    """A thin handle on the active MLflow run; models log through it via ``FitContext.tracker``."""

    def __init__(self, mlflow, run):
        self.mlflow = mlflow
        self.run_id = run.info.run_id
        self.experiment_id = run.info.experiment_id

    def log_params(self, params: dict) -> None:
        existing = self.mlflow.get_run(self.run_id).data.params
        fresh = {k: str(v)[:6000] for k, v in params.items() if k not in existing}
        if fresh:
            self.mlflow.log_params(fresh)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None, timestamp: int | None = None) -> None:
        """``timestamp`` (ms) makes a repeated call idempotent: the store keeps one row."""
        self.mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step, timestamp=timestamp)

    def log_artifact(self, path, folder: str | None = None) -> None:
        self.mlflow.log_artifact(str(path), artifact_path=folder)

    def set_tags(self, tags: dict) -> None:
        self.mlflow.set_tags({k: str(v) for k, v in tags.items()})

    def log_dataset(self, name: str, digest: str, source: dict, context: str) -> None:
        """Record the data a run saw as an MLflow dataset input (the UI's Datasets column)."""
        from mlflow.data.code_dataset_source import CodeDatasetSource
        from mlflow.data.meta_dataset import MetaDataset

        dataset = MetaDataset(CodeDatasetSource({k: str(v) for k, v in source.items()}), name=name, digest=digest)
        self.mlflow.log_input(dataset, context=context)

    def url(self) -> str:
        return f"#/experiments/{self.experiment_id}/runs/{self.run_id}"


def _experiment(mlflow, task: str) -> str:
    """The id of the task's experiment, created if need be. Safe when several runs start at
    once: ``mlflow.set_experiment`` loses the race silently (the loser's run lands in the
    Default experiment), so the experiment is created here and its id passed explicitly."""
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(task)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return client.create_experiment(task)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        return client.get_experiment_by_name(task).experiment_id


@contextmanager
def start_run(task: str, run_name: str, tags: dict, run_id: str | None = None,
              system_metrics: bool = False):
    """Open (or reopen, for ``--resume``) the MLflow run of one training. Opened while another
    run is active, it becomes that run's child (folds and seeds under one parent)."""
    mlflow = _mlflow()
    if mlflow.active_run() is None:
        reap_dead_runs(mlflow)
    experiment_id = _experiment(mlflow, task)
    mlflow.set_experiment(experiment_id=experiment_id)
    kwargs = {"run_id": run_id} if run_id else {"run_name": run_name, "experiment_id": experiment_id}
    nested = mlflow.active_run() is not None
    with mlflow.start_run(log_system_metrics=system_metrics, nested=nested, **kwargs) as run:
        tracker = Tracker(mlflow, run)
        tracker.set_tags({**{TAG + k: v for k, v in {**tags, **process_tags()}.items()},
                          "mlflow.source.git.commit": git_commit(),
                          **{TAG + "version." + k: v for k, v in versions().items()}})
        yield tracker


FINGERPRINT = ("recipe_sha256", "data_sha256", "code")


def find_resumable(task: str, run_name: str, fingerprint: dict | None = None) -> str | None:
    """The newest unfinished run of that name (killed or failed), to continue with ``--resume``.
    It must have been made with the same resolved recipe, data and code (``fingerprint``: the
    tags :data:`FINGERPRINT`); otherwise, or while its process still runs, this refuses."""
    mlflow = _mlflow()
    reap_dead_runs(mlflow)
    experiment = mlflow.get_experiment_by_name(task)
    if experiment is None:
        return None
    runs = mlflow.search_runs(
        [experiment.experiment_id],
        filter_string=f"attributes.run_name = '{run_name}' and attributes.status != 'FINISHED'",
        order_by=["attributes.start_time DESC"], max_results=1, output_format="list")
    if not runs:
        return None
    run = runs[0]
    if run.info.status == "RUNNING":
        raise AstrozooError(f"--resume: run {run.info.run_id} ({run_name}) is still running "
                            f"(pid {run.data.tags.get(TAG + 'pid', '?')} on {run.data.tags.get(TAG + 'host', '?')})")
    for key, value in (fingerprint or {}).items():
        recorded = run.data.tags.get(TAG + key)
        if recorded != str(value):
            what = {"recipe_sha256": "recipe (card, profile, --set)", "data_sha256": "data",
                    "code": "code version"}.get(key, key)
            raise AstrozooError(f"--resume: run {run.info.run_id} ({run_name}) was made with another {what} "
                                f"({key} {recorded} here {value}); run without --resume to start afresh")
    return run.info.run_id


def finished_runs(task: str, where: str | None = None) -> list:
    """Every finished run of a task, newest first (``astrozoo compare`` builds on these);
    ``where``: an MLflow search filter, e.g. ``params.`params.epochs` = '5'``."""
    mlflow = _mlflow()
    experiment = mlflow.get_experiment_by_name(task)
    if experiment is None:
        return []
    from mlflow.exceptions import MlflowException

    query = "attributes.status = 'FINISHED'" + (f" and {where}" if where else "")
    try:
        return mlflow.search_runs([experiment.experiment_id], filter_string=query,
                                  order_by=["attributes.start_time DESC"], output_format="list")
    except MlflowException as exc:
        if where:
            raise AstrozooError(f"--where {where!r}: {str(exc).splitlines()[0]}") from exc
        raise


def download_plots(run_id: str, dest) -> list[Path]:
    """Copy a run's ``plots/`` artifacts into the folder ``dest``; returns the files."""
    import shutil

    mlflow = _mlflow()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if not mlflow.artifacts.list_artifacts(run_id=run_id, artifact_path="plots"):
        return []
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="plots", dst_path=tmp))
        return [Path(shutil.copy2(path, dest / path.name)) for path in sorted(local.iterdir())]




def collect_garbage() -> tuple[list[str], list[Path]]:
    """``astrozoo runs gc``: mark this host's dead RUNNING runs KILLED, and remove the checkpoint
    folders of runs that are finished, deleted or unknown to the store (killed and failed runs
    keep theirs for ``--resume``). Returns (runs marked killed, folders removed)."""
    import shutil

    from mlflow.exceptions import MlflowException

    mlflow = _mlflow()
    killed = reap_dead_runs(mlflow)
    client = mlflow.MlflowClient()
    removed = []
    for root in dict.fromkeys((checkpoint_root(), Path.cwd() / ".astrozoo" / "checkpoints")):
        for folder in sorted(root.iterdir()) if root.is_dir() else []:
            if not re.fullmatch(r"[0-9a-f]{32}", folder.name):
                continue  # not a run's folder: not ours to remove
            try:
                run = client.get_run(folder.name)
                done = run.info.status == "FINISHED" or run.info.lifecycle_stage == "deleted"
            except MlflowException:
                done = True  # not a run of this store
            if done and folder.is_dir():
                shutil.rmtree(folder)
                removed.append(folder)
    return killed, removed
