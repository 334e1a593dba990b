"""Contract checks for plugin authors — astrozoo's counterpart of scikit-learn's ``check_estimator``
— and the pytest fixtures shared by the core's tests and the plugins' tests (and yours).

::

    from astrozoo.testing import check_cards, check_dataset, check_model

    check_model("halo-mass", "my-ridge")            # its card, a small slice of the task's data
    check_model("halo-mass", MyRidge, params={"features": ["log_mstar"]}, splits=(train, val, test))
    check_dataset("halo-mass", "mock-tng50")         # splits, ids, targets, no leak, determinism
    check_cards("halo-mass")                         # every card builds its model and dataset

Each check raises :class:`ContractError` (an ``AssertionError``, so pytest shows it as a failed
check) with one line naming the model, dataset or card and what broke. Fixtures: put
``from astrozoo.testing import workdir, one_thread  # noqa: F401`` in your ``conftest.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from astrozoo import recipes
from astrozoo.api import parameters
from astrozoo.data.store import LazyRows
from astrozoo.interfaces import PROVENANCES, Dataset, FitContext, Model, Split, TruthAccessError
from astrozoo.errors import AstrozooError
from astrozoo.registry import get_registry
from astrozoo.runner import seed_everything

SPLITS = ("train", "val", "test")

#: parameters that make a check fast, applied to the keys a model's card (or, for a model
#: without a card, its constructor) has: one or two epochs, few trees, no weight downloads,
#: no learning-rate range test; ``fast=False`` keeps the card's values.
FAST = {"epochs": 1, "gnn_epochs": 1, "n_estimators": 10, "pretrained": False, "lr_range": False,
        "patience": 0, "precise_bn": 0, "occlusion_examples": 0}


class ContractError(AssertionError):
    """A model, dataset or card breaks the plugin contract (one line: who and what)."""


# -- models ---------------------------------------------------------------------------------------

def check_model(task: str, model, *, params: dict | None = None, data: dict | None = None,
                splits=None, profile: str = recipes.DEFAULT_PROFILE, n: int = 64, seed: int = 0,
                fast: bool = True) -> dict:
    """Check that a model keeps the contract on a small slice of the task's data.

    ``model`` is a registered name or a :class:`~astrozoo.interfaces.Model` subclass. Its card
    (``profile``) gives the parameters, then :data:`FAST` (unless ``fast=False``), then
    ``params``. The data are ``splits`` (train, val, test) when given, else the card's dataset
    with ``data`` over the card's ``[data]``, each split cut to ``n`` random rows.

    Checked: ``fit`` returns the model; ``predict`` on the test split as the runner hands it
    (no target, the task's truth hidden) does not read the truth and returns N finite values
    (regression) or N or (N, K) probabilities (classification); ``predict_std`` is None or N
    finite values ≥ 0; ``save``/``load`` predicts the same; a second fit with the same seed
    predicts the same. Returns ``{"model", "predictions", "splits"}``.
    """
    registry = get_registry()
    the_task = registry.task(task)
    cls = registry.model(task, model) if isinstance(model, str) else model
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise ContractError(f"{task}: {model!r} is not an astrozoo.interfaces.Model subclass")
    name = model if isinstance(model, str) else cls.name
    where = f"model {task}/{name}"
    if task not in cls.tasks:
        raise ContractError(f"{where}: {task!r} is not in {cls.__name__}.tasks {cls.tasks}")
    recipe = get_registry().resolve(task, name, profile)
    kwargs = dict(recipe.params)
    if fast:
        known = set(kwargs) or parameters(cls)  # the card's keys; a model without a card: its constructor's
        kwargs.update({key: value for key, value in FAST.items() if key in known})
    kwargs.update(params or {})
    if splits is None:
        dataset = registry.dataset(task, recipe.dataset or the_task.default_dataset)
        source = dataset(**{**recipe.data, **(data or {})})
        splits = [subsample(source.load(s), n, seed) for s in SPLITS]
    train, val, test = splits

    with tempfile.TemporaryDirectory() as tmp:
        fitted, predicted = _fit_predict(cls, kwargs, train, val, test, the_task, seed, Path(tmp) / "a", where)
        _check_predictions(predicted, len(test), the_task.kind, where)
        shown = _shown(test, the_task, cls, name)
        std = _predict(fitted, shown, where, fitted.predict_std)
        if std is not None:
            if std.shape != (len(test),) or not np.all(np.isfinite(std)) or np.any(std < 0):
                raise ContractError(f"{where}: predict_std must give {len(test)} finite values >= 0, "
                                    f"got shape {std.shape}")
        _, again = _fit_predict(cls, kwargs, train, val, test, the_task, seed, Path(tmp) / "b", where)
        if not np.allclose(again, predicted, rtol=1e-5, atol=1e-6, equal_nan=True):
            worst = float(np.nanmax(np.abs(np.asarray(again, float) - predicted)))
            raise ContractError(f"{where}: two fits with seed {seed} predict differently (largest difference "
                                f"{worst:.3g}): seed every random generator from context.seed")
        path = Path(fitted.save(Path(tmp) / "model.azm"))
        try:
            loaded = cls.load(path)
        except AstrozooError as exc:
            raise ContractError(f"{where}: its saved file does not load back ({exc})") from exc
        if not np.allclose(_predict(loaded, shown, where), predicted, rtol=1e-5, atol=1e-6, equal_nan=True):
            raise ContractError(f"{where}: the model loaded from {path.name} predicts differently from the one saved")
    return {"model": fitted, "predictions": predicted, "splits": (train, val, test)}


def _shown(split: Split, task, cls, name: str) -> Split:
    """The split as the runner hands it to ``predict``."""
    return split if cls.needs_truth else split.for_prediction(task.truth, f"model {name!r}")


def _predict(model: Model, split: Split, where: str, method=None) -> np.ndarray | None:
    """``model.predict(split)`` (or ``method(split)``) as floats; reading the truth is a ContractError."""
    try:
        out = (method or model.predict)(split)
    except TruthAccessError as exc:
        raise ContractError(f"{where}: {exc}") from None
    return None if out is None else np.asarray(out, dtype=float)


def _fit_predict(cls, kwargs, train, val, test, task, seed, checkpoints, where):
    seed_everything(seed)
    try:
        model = cls(**kwargs)
    except TypeError as exc:
        raise ContractError(f"{where}: cannot build {cls.__name__}(**params): {exc}") from None
    fitted = model.fit(train, val, FitContext(device="cpu", seed=seed, checkpoint_dir=checkpoints))
    if fitted is not model:
        raise ContractError(f"{where}: fit must return self, returned {type(fitted).__name__}")
    return model, _predict(model, _shown(test, task, cls, cls.name), where)


def _check_predictions(predicted: np.ndarray, n: int, kind: str, where: str) -> None:
    if kind == "classification":
        if predicted.ndim not in (1, 2) or predicted.shape[0] != n:
            raise ContractError(f"{where}: predict must give ({n},) or ({n}, K) probabilities, got shape "
                                f"{predicted.shape}")
        if not np.all(np.isfinite(predicted)) or predicted.min() < 0 or predicted.max() > 1:
            raise ContractError(f"{where}: predict must give probabilities in [0, 1], got values in "
                                f"[{np.nanmin(predicted):.3g}, {np.nanmax(predicted):.3g}]")
        if predicted.ndim == 2 and not np.allclose(predicted.sum(axis=1), 1, atol=1e-3):
            raise ContractError(f"{where}: the rows of the ({n}, K) probabilities must sum to 1")
    else:
        if predicted.shape != (n,):
            raise ContractError(f"{where}: predict must give {n} values, got shape {predicted.shape}")
        if not np.all(np.isfinite(predicted)):
            raise ContractError(f"{where}: predict gave {int((~np.isfinite(predicted)).sum())} non-finite values")


def subsample(split: Split, n: int, seed: int = 0) -> Split:
    """``split`` cut to ``n`` random rows (all of it if smaller): ids, targets and every per-row
    array or lazy store column in ``data`` (also inside dicts, and what its lazy callables
    return) alike."""
    if len(split) <= n:
        return split
    rows = np.sort(np.random.default_rng(seed).choice(len(split), n, replace=False))
    data = {key: _take(value, rows, len(split)) for key, value in split.data.items()}
    return Split(split.name, ids=split.ids[rows], y=split.y[rows], data=data)


def _take(value, rows: np.ndarray, n: int):
    if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == n:
        return value[rows]
    if isinstance(value, LazyRows) and value.shape[0] == n:
        return value.take(rows)  # still read only when indexed
    if isinstance(value, dict):
        return {key: _take(v, rows, n) for key, v in value.items()}
    if callable(value):
        return lambda: _take(value(), rows, n)
    return value


class RecordingRows:
    """``images`` as a lazy column (like :class:`astrozoo.data.store.LazyRows`) that records how
    many rows each read asks for (``reads``) and refuses to be read whole (``np.asarray``): to
    check that a model reads a batch at a time."""

    def __init__(self, images: np.ndarray):
        self.images, self.shape, self.reads = images, images.shape, []

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index) -> np.ndarray:
        rows = self.images[index]
        self.reads.append(len(rows))
        return rows

    def __array__(self, *args, **kwargs):
        raise AssertionError(f"all {len(self)} images read at once")


# -- datasets -------------------------------------------------------------------------------------

def check_dataset(task: str, dataset, *, skip=(), **params) -> dict[str, Split]:
    """Check that a dataset keeps the contract, built with ``params`` (e.g. a small mock).

    ``dataset`` is a registered name or a :class:`~astrozoo.interfaces.Dataset` subclass.
    Checked: its class attributes; ``train``, ``val`` and ``test`` are non-empty splits with
    unique ids, no id in two splits, one target per object (finite values for regression,
    class indices ≥ 0 for classification); the target does not reach a model under another
    name (no array ``predict`` can see equals it); every lazy entry of ``data`` (except the
    names in ``skip``) gives one row per object; a second instance gives the same splits;
    ``info()`` is a flat dict. Returns the splits.
    """
    registry = get_registry()
    the_task = registry.task(task)
    cls = registry.dataset(task, dataset) if isinstance(dataset, str) else dataset
    if not (isinstance(cls, type) and issubclass(cls, Dataset)):
        raise ContractError(f"{task}: {dataset!r} is not an astrozoo.interfaces.Dataset subclass")
    where = f"dataset {task}/{cls.name}"
    if cls.task != task:
        raise ContractError(f"{where}: {cls.__name__}.task is {cls.task!r}")
    if cls.provenance not in PROVENANCES:
        raise ContractError(f"{where}: provenance {cls.provenance!r} is not one of {PROVENANCES}")
    splits = {name: _load(cls(**params), name, where) for name in SPLITS}
    seen: dict = {}
    for name, split in splits.items():
        _check_split(split, the_task, skip, f"{where}: split {name!r}")
        for other, ids in seen.items():
            shared = np.intersect1d(ids, split.ids)
            if shared.size:
                raise ContractError(f"{where}: {shared.size} ids are in both {other!r} and {name!r} "
                                    f"(e.g. {shared[0]!r})")
        seen[name] = split.ids
    _check_no_leak(list(splits.values()), the_task, where)
    again = cls(**params)
    for name, split in splits.items():
        other = _load(again, name, where)
        if not (np.array_equal(other.ids, split.ids) and np.array_equal(other.y, split.y, equal_nan=True)):
            raise ContractError(f"{where}: a second instance with the same params gives another {name!r} split")
    info = cls(**params).info()
    if not isinstance(info, dict) or any(isinstance(v, (dict, list, tuple, np.ndarray)) for v in info.values()):
        raise ContractError(f"{where}: info() must return a flat dict of scalars (logged as MLflow params)")
    return splits


def _load(instance: Dataset, name: str, where: str) -> Split:
    split = instance.load(name)
    if not isinstance(split, Split):
        raise ContractError(f"{where}: load({name!r}) returned {type(split).__name__}, not a Split")
    return split


def _check_split(split: Split, task, skip, where: str) -> None:
    n = len(split)
    if n == 0:
        raise ContractError(f"{where}: is empty")
    if len(np.unique(split.ids)) != n:
        raise ContractError(f"{where}: ids are not unique")
    y = np.asarray(split.y)
    if y.shape != (n,):
        raise ContractError(f"{where}: y has shape {y.shape}, expected ({n},)")
    if task.kind == "classification":
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise ContractError(f"{where}: classification targets must be class indices >= 0, got {y.dtype}")
    elif not np.all(np.isfinite(y.astype(float))):
        raise ContractError(f"{where}: {int((~np.isfinite(y.astype(float))).sum())} targets are not finite")
    for key, value in split.data.items():
        if callable(value) and key not in skip:
            _check_rows(value(), n, f"{where}: data[{key!r}]()")


def _check_no_leak(splits: list[Split], task, where: str) -> None:
    """No per-object array a model sees in ``predict`` equals the target (all splits together,
    so that a constant column does not match a small split's constant target by chance)."""
    y = np.concatenate([s.y for s in splits])
    if len(np.unique(y)) < 2:
        return
    shown = [dict(_arrays(s.for_prediction(task.truth, "check_dataset").data)) for s in splits]
    for key in set.intersection(*(set(arrays) for arrays in shown)):
        values = [arrays[key] for arrays in shown]
        if all(v.shape == s.y.shape for v, s in zip(values, splits)) and np.array_equal(np.concatenate(values), y):
            raise ContractError(f"{where}: data{key} equals the target and predict can read it: add its name "
                                f"to the task's truth")


def _arrays(data: dict, prefix: str = ""):
    """(key path, array) for every per-object array in ``data`` (not calling lazy entries)."""
    for key in list(data):
        value = data[key]
        if isinstance(value, dict):
            yield from _arrays(value, f"{prefix}[{key!r}]")
        elif isinstance(value, np.ndarray):
            yield f"{prefix}[{key!r}]", value


def _check_rows(value, n: int, where: str) -> None:
    if isinstance(value, (np.ndarray, LazyRows)) and value.shape[:1] != (n,):
        raise ContractError(f"{where} has shape {value.shape}: expected one row per object ({n})")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_rows(item, n, f"{where}[{key!r}]")


# -- cards ----------------------------------------------------------------------------------------

def check_cards(task: str, folder=None, models=()) -> list[recipes.Recipe]:
    """Check that every recipe card of ``task`` builds its model and its dataset, in every profile.

    The cards are those astrozoo finds (the core's and every plugin's), or only those in
    ``folder/<task>/`` (a plugin's own, before it is installed); ``models`` are Model classes
    to look names up in before the registry. Checked: the card's ``task`` and ``model`` agree
    with its path; its model (or ``base``) and dataset are registered for the task; the
    model's constructor accepts the card's ``[params]`` and the dataset's its ``[data]``, with
    each profile applied. Nothing is trained or loaded. Returns the cards.
    """
    registry = get_registry()
    the_task = registry.task(task)
    if folder is None:
        cards = get_registry().recipes(task)
    else:
        cards = [recipes.parse(path) for path in sorted(Path(folder, task).glob("*.toml"))]
    given = {cls.name: cls for cls in models}
    for card in cards:
        where = f"card {card.path}"
        if card.path is not None and (card.task, card.model) != (card.path.parent.name, card.path.stem):
            raise ContractError(f"{where}: task/model {card.task}/{card.model} disagree with its path")
        name = card.model if card.model in given or not card.base else card.base
        try:
            cls = given.get(name) or registry.model(task, name)
            dataset = registry.dataset(task, card.dataset or the_task.default_dataset)
        except Exception as exc:
            raise ContractError(f"{where}: {exc}") from None
        for profile in card.profiles or [None]:
            sections = card.profiles.get(profile, {}) if profile else {}
            params = {**card.params, **sections.get("params", {})}
            data = {**card.data, **sections.get("data", {})}
            label = f"{where} (profile {profile})" if profile else where
            _build(cls, params, f"{label}: params", "model")
            _build(dataset, data, f"{label}: data", "dataset")
    return cards


def _build(cls, params: dict, where: str, what: str) -> None:
    accepted = parameters(cls)  # empty: the class takes any **params (Model's own constructor)
    unknown = sorted(set(params) - accepted) if accepted else []
    if unknown:
        raise ContractError(f"{where}: {', '.join(unknown)} not accepted by {what} {cls.__name__} "
                            f"(accepts: {', '.join(sorted(accepted))})")
    try:
        cls(**params)
    except Exception as exc:
        raise ContractError(f"{where}: {cls.__name__}(**params) failed: {type(exc).__name__}: {exc}") from None


# -- pytest fixtures ------------------------------------------------------------------------------

@pytest.fixture
def workdir(tmp_path, monkeypatch, tmp_path_factory):
    """A fresh working directory with its own MLflow store; the data cache is shared per
    session; no downloads of pretrained weights."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    mlflow.set_tracking_uri(uri)  # an earlier test's in-process setting would win over the variable
    return tmp_path


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small networks train several times faster on one intra-op thread, more so on a busy
    machine (autouse wherever it is imported)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_cli(args, capsys) -> tuple[int, str, str]:
    """Run ``astrozoo ARGS`` in this process (pass pytest's ``capsys``); return the exit code,
    stdout and stderr — the one helper for CLI tests, in the core and in plugins."""
    from astrozoo.cli import main

    with pytest.raises(SystemExit) as info:
        main(list(args))
    out = capsys.readouterr()
    return info.value.code, out.out, out.err
