"""The one place that talks to MLflow.

Store: ``$MLFLOW_TRACKING_URI`` if set, else ``sqlite:///./mlflow.db`` in the working directory
(the same store ``astrozoo ui`` opens). One experiment per task, one run per training, named
``task/model/profile/seed``; flat parameters; per-epoch metrics with ``step``; artifacts in
folders (``plots/``, ``predictions/``, ``model/``, ``recipe/``).
"""

from __future__ import annotations

import os
import platform
import subprocess
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from astrozoo.errors import AstrozooError

TAG = "astrozoo."


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def _mlflow():
    import logging

    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    mlflow.set_tracking_uri(tracking_uri())
    return mlflow


def check_reachable(timeout: float = 5.0) -> None:
    """Fail fast, before any training, when a remote tracking server does not answer."""
    uri = tracking_uri()
    if not uri.startswith(("http://", "https://")):
        return
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout) as response:
            if response.status != 200:
                raise OSError(f"HTTP {response.status}")
    except (OSError, urllib.error.URLError) as exc:
        raise AstrozooError(f"MLflow tracking server {uri} is unreachable ({exc}); nothing was trained") from exc


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

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step)

    def log_artifact(self, path, folder: str | None = None) -> None:
        self.mlflow.log_artifact(str(path), artifact_path=folder)

    def set_tags(self, tags: dict) -> None:
        self.mlflow.set_tags({k: str(v) for k, v in tags.items()})

    def url(self) -> str:
        return f"#/experiments/{self.experiment_id}/runs/{self.run_id}"


@contextmanager
def start_run(task: str, run_name: str, tags: dict, run_id: str | None = None,
              system_metrics: bool = False):
    """Open (or reopen, for ``--resume``) the MLflow run of one training. Opened while another
    run is active, it becomes that run's child (folds and seeds under one parent)."""
    mlflow = _mlflow()
    mlflow.set_experiment(task)
    kwargs = {"run_id": run_id} if run_id else {"run_name": run_name}
    nested = mlflow.active_run() is not None
    with mlflow.start_run(log_system_metrics=system_metrics, nested=nested, **kwargs) as run:
        tracker = Tracker(mlflow, run)
        tracker.set_tags({**{TAG + k: v for k, v in tags.items()},
                          "mlflow.source.git.commit": git_commit(),
                          **{TAG + "version." + k: v for k, v in versions().items()}})
        yield tracker


def find_resumable(task: str, run_name: str) -> str | None:
    """The newest unfinished run of that name (killed or failed), to continue with ``--resume``."""
    mlflow = _mlflow()
    experiment = mlflow.get_experiment_by_name(task)
    if experiment is None:
        return None
    runs = mlflow.search_runs(
        [experiment.experiment_id],
        filter_string=f"attributes.run_name = '{run_name}' and attributes.status != 'FINISHED'",
        order_by=["attributes.start_time DESC"], max_results=1, output_format="list")
    return runs[0].info.run_id if runs else None


def finished_runs(task: str) -> list:
    """Every finished run of a task, newest first (``astrozoo compare`` builds on these)."""
    mlflow = _mlflow()
    experiment = mlflow.get_experiment_by_name(task)
    if experiment is None:
        return []
    return mlflow.search_runs([experiment.experiment_id], filter_string="attributes.status = 'FINISHED'",
                              order_by=["attributes.start_time DESC"], output_format="list")
