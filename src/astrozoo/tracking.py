"""The one place that talks to MLflow.

Store: ``$MLFLOW_TRACKING_URI`` if set, else ``sqlite:///./mlflow.db`` in the working directory
(the same store ``astrozoo ui`` opens). One experiment per task, one run per training, named
``task/model/profile/seed``; flat parameters; per-epoch metrics with ``step``; artifacts in
folders (``plots/``, ``predictions/``, ``model/``, ``recipe/``).

With ``--register NAME`` the trained model is also logged as an MLflow pyfunc model (a
:class:`CataloguePredictor` around the pickled astrozoo model, with a signature: one
``catalogue`` column of HDF5 paths in, ``id, y_pred[, y_std]`` out) and registered under NAME;
``astrozoo predict`` loads such a model, or the pickled model of any run, by URI.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import tempfile
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from mlflow.pyfunc import PythonModel

from astrozoo.errors import AstrozooError

TAG = "astrozoo."


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def _mlflow():
    import logging

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # no usage reports leave the machine
    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    _create_sqlite_store_once(mlflow, uri)
    return mlflow


def _create_sqlite_store_once(mlflow, uri: str) -> None:
    """A new SQLite store is created and migrated by the first client that opens it; two runs
    started at once on a fresh folder both try, and both fail (duplicate column, alembic). So
    the first creation is serialised with a file lock."""
    if not uri.startswith("sqlite:///"):
        return
    path = Path(uri.removeprefix("sqlite:///"))
    if path.exists() and path.stat().st_size > 0:
        return
    import fcntl
    import hashlib

    key = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"astrozoo-mlflow-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        mlflow.MlflowClient().search_experiments(max_results=1)  # creates and migrates the schema


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

    def log_metrics(self, metrics: dict[str, float], step: int | None = None, timestamp: int | None = None) -> None:
        """``timestamp`` (ms) makes a repeated call idempotent: the store keeps one row."""
        self.mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step, timestamp=timestamp)

    def log_artifact(self, path, folder: str | None = None) -> None:
        self.mlflow.log_artifact(str(path), artifact_path=folder)

    def set_tags(self, tags: dict) -> None:
        self.mlflow.set_tags({k: str(v) for k, v in tags.items()})

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
    experiment_id = _experiment(mlflow, task)
    mlflow.set_experiment(experiment_id=experiment_id)
    kwargs = {"run_id": run_id} if run_id else {"run_name": run_name, "experiment_id": experiment_id}
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


# -- registered models and prediction on new catalogues --------------------------------------

def prediction_frame(ids, y_pred, y_std=None):
    """The table ``astrozoo predict`` writes: ``id``, ``y_pred`` (or class probabilities
    ``p0..pK-1``) and ``y_std`` where the model predicts its own uncertainty."""
    import pandas as pd

    y_pred = np.asarray(y_pred)
    frame = {"id": np.asarray(ids)}
    if y_pred.ndim == 1:
        frame["y_pred"] = y_pred.astype(float)
    else:
        frame.update({f"p{k}": y_pred[:, k].astype(float) for k in range(y_pred.shape[1])})
    if y_std is not None:
        frame["y_std"] = np.asarray(y_std, dtype=float)
    return pd.DataFrame(frame)


class CataloguePredictor(PythonModel):
    """MLflow pyfunc model around a pickled astrozoo model: it reads each input catalogue with
    the task's dataset class (``path=`` the file, split ``"all"``) and predicts every object.
    Its signature (one ``catalogue`` column in) is given when it is logged, not by type hints."""

    _skip_type_hint_validation = True  # MLflow: no type-hint wrapping of predict, no warning

    def __init__(self, task: str, dataset: str, data: dict, model=None):
        self.task, self.dataset, self.data = task, dataset, dict(data)
        self.model = model

    def load_context(self, context):
        from astrozoo.interfaces import Model

        self.model = Model.load(context.artifacts["model"])

    def predict(self, context, model_input, params=None):
        import pandas as pd

        frames = [self.predict_catalogue(path) for path in model_input["catalogue"]]
        return pd.concat(frames, ignore_index=True)

    def predict_catalogue(self, path):
        from astrozoo.registry import get_registry

        dataset_cls = get_registry().dataset(self.task, self.dataset)
        try:
            data = dataset_cls(**{**self.data, "path": str(path)})
        except TypeError as exc:
            raise AstrozooError(f"dataset {self.dataset!r} cannot read a catalogue from a file ({exc})") from exc
        split = data.load("all")
        return prediction_frame(split.ids, self.model.predict(split), self.model.predict_std(split))

    def __getstate__(self):  # the fitted model travels as the artifact model.pkl, not in here
        return {**self.__dict__, "model": None}


def _requirements(model) -> list[str]:
    """astrozoo and the distribution that ships the model's code, pinned (no slow inference)."""
    from importlib.metadata import packages_distributions, version

    top = type(model).__module__.split(".")[0]
    names = ["astrozoo"] + [d for d in packages_distributions().get(top, []) if d != "astrozoo"]
    return [f"{name}=={version(name)}" for name in dict.fromkeys(names)]


def log_registered_model(tracker: Tracker, model, task: str, dataset: str, data: dict,
                         example: dict, name: str) -> str:
    """Log ``model`` as a pyfunc model with a signature into the active run and register it
    as ``name``; ``example`` is one split's predictions (``ids``, ``y_pred``[, ``y_std``]).
    Returns the new version number."""
    import logging
    import warnings

    import pandas as pd
    from mlflow.models import infer_signature

    mlflow = tracker.mlflow
    quiet = logging.getLogger("mlflow.pyfunc")  # the wrapper is importable: nothing unsafe in its pickle
    level = quiet.level
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        # MLflow's hints (integer ids; no input example, which would have to be a real file) do not apply
        warnings.simplefilter("ignore", UserWarning)
        quiet.setLevel(logging.ERROR)
        try:
            signature = infer_signature(
                pd.DataFrame({"catalogue": ["catalogue.h5"]}),
                prediction_frame(example["ids"][:5], example["y_pred"][:5],
                                 example["y_std"][:5] if "y_std" in example else None))
            info = mlflow.pyfunc.log_model(
                name="pyfunc", python_model=CataloguePredictor(task, dataset, data),
                artifacts={"model": str(model.save(Path(tmp) / "model.pkl"))}, signature=signature,
                pip_requirements=_requirements(model), registered_model_name=name,
                metadata={"astrozoo.task": task, "astrozoo.dataset": dataset})
        finally:
            quiet.setLevel(level)
    tracker.set_tags({TAG + "registered_model": f"{name}/{info.registered_model_version}"})
    return str(info.registered_model_version)


def load_predictor(uri: str) -> CataloguePredictor:
    """The predictor behind ``uri``: a pyfunc model (``models:/NAME/VERSION``,
    ``models:/NAME@alias``, ``runs:/ID/pyfunc``) or, for any run (``runs:/ID`` or a bare run
    id), the run's pickled ``model/model.pkl`` with its recipe."""
    import json

    mlflow = _mlflow()
    run_only = re.fullmatch(r"(?:runs:/)?([0-9a-f]{32})(?:/model)?/?", uri)
    try:
        if run_only:
            run_id = run_only.group(1)
            with tempfile.TemporaryDirectory() as tmp:
                recipe = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="recipe/recipe.json", dst_path=tmp)
                pickled = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="model/model.pkl", dst_path=tmp)
                config = json.loads(Path(recipe).read_text())
                from astrozoo.interfaces import Model

                return CataloguePredictor(config["task"], config["dataset"], config["data"], Model.load(pickled))
        loaded = mlflow.pyfunc.load_model(uri)
    except AstrozooError:
        raise
    except Exception as exc:  # MLflow raises many kinds; the user needs one line
        raise AstrozooError(f"cannot load model {uri!r} from {tracking_uri()}: {str(exc).splitlines()[0]}") from exc
    predictor = loaded.unwrap_python_model()
    if not isinstance(predictor, CataloguePredictor):
        raise AstrozooError(f"{uri} is not an astrozoo model (log one with `astrozoo run ... --register NAME`)")
    return predictor
