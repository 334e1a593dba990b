"""Serving a trained model: ``astrozoo run --register NAME`` logs it as an MLflow pyfunc model
(a :class:`CataloguePredictor` around the saved astrozoo model, with a signature: one
``catalogue`` column of HDF5 paths in, ``id, y_pred[, y_std]`` out) and registers it under NAME;
``astrozoo predict`` loads such a model, or the saved model of any run, by URI.

The model file is read with :meth:`astrozoo.interfaces.Model.load`, which runs no code from the
file (see its docstring). A catalogue to predict is checked against the dataset's schema first.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import numpy as np
from mlflow.pyfunc import PythonModel

from astrozoo import tracking
from astrozoo.errors import AstrozooError
from astrozoo.tracking import TAG, Tracker, tracking_uri

MODEL_FILE = "model.azm"  # the run's saved model (Model.save): a zip of tensors, arrays and a restricted pickle

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

        self.model = Model.load(context.artifacts["model"], task=self.task)

    def predict(self, context, model_input, params=None):
        import pandas as pd

        frames = [self.predict_catalogue(path) for path in model_input["catalogue"]]
        return pd.concat(frames, ignore_index=True)

    def predict_catalogue(self, path):
        from astrozoo.registry import get_registry

        from astrozoo import validate

        dataset_cls = get_registry().dataset(self.task, self.dataset)
        if getattr(dataset_cls, "schema", None):
            validate.check_data_file(path, dataset_cls.schema)
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
                artifacts={"model": str(model.save(Path(tmp) / MODEL_FILE))}, signature=signature,
                pip_requirements=_requirements(model), registered_model_name=name,
                metadata={"astrozoo.task": task, "astrozoo.dataset": dataset,
                          "astrozoo.data": json.dumps(data, default=str)})
        finally:
            quiet.setLevel(level)
    tracker.set_tags({TAG + "registered_model": f"{name}/{info.registered_model_version}"})
    return str(info.registered_model_version)


def load_predictor(uri: str) -> CataloguePredictor:
    """The predictor behind ``uri``: a registered or logged pyfunc model (``models:/NAME/VERSION``,
    ``models:/NAME@alias``, ``runs:/ID/pyfunc``) or, for any run (``runs:/ID`` or a bare run
    id), the run's saved ``model/model.azm`` (``model.pkl`` for runs before it) with its recipe.

    No pickle from the store is run: a pyfunc model is rebuilt from its ``MLmodel`` metadata and
    its saved astrozoo model, not from the ``python_model.pkl`` MLflow writes beside them."""
    import yaml

    from astrozoo.interfaces import Model

    mlflow = tracking._mlflow()
    remote = not tracking_uri().startswith(("sqlite:", "file:", "/"))
    run_only = re.fullmatch(r"(?:runs:/)?([0-9a-f]{32})(?:/model)?/?", uri)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if run_only:
                run_id = run_only.group(1)
                recipe = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="recipe/recipe.json",
                                                             dst_path=tmp)
                config = json.loads(Path(recipe).read_text())
                names = {a.path for a in mlflow.artifacts.list_artifacts(run_id=run_id, artifact_path="model")}
                name = f"model/{MODEL_FILE}" if f"model/{MODEL_FILE}" in names else "model/model.pkl"
                saved = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=name, dst_path=tmp)
                task, dataset, data = config["task"], config["dataset"], config["data"]
            else:
                folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp))
                meta = (yaml.safe_load((folder / "MLmodel").read_text()) or {}).get("metadata") or {}
                if "astrozoo.task" not in meta:
                    raise AstrozooError(f"{uri} is not an astrozoo model (log one with `astrozoo run ... --register NAME`)")
                task, dataset = meta["astrozoo.task"], meta["astrozoo.dataset"]
                data = json.loads(meta.get("astrozoo.data", "{}"))
                saved = next((p for p in (folder / "artifacts" / MODEL_FILE, folder / "artifacts" / "model.pkl")
                              if p.exists()), folder / "artifacts" / MODEL_FILE)
            if remote:
                _warn_remote(uri)
            model = Model.load(saved, task=task)
    except AstrozooError:
        raise
    except Exception as exc:  # MLflow raises many kinds; the user needs one line
        raise AstrozooError(f"cannot load model {uri!r} from {tracking_uri()}: {str(exc).splitlines()[0]}") from exc
    return CataloguePredictor(task, dataset, data, model)


def _warn_remote(uri: str) -> None:
    import click

    click.echo(f"warning: loading {uri} from the remote store {tracking_uri()}: only its tensors, arrays and "
               "astrozoo/torch/scikit-learn/XGBoost classes are read (Model.load)", err=True)
