"""The four small contracts every plugin speaks: Task, Dataset, Model, Metric.

A dataset hands out :class:`Split` objects; a model fits on two splits and predicts on one;
metrics score ``(y_true, y_pred)``; a task ties a target to its datasets and metrics. The same
contract holds for a random forest and for a CNN+GNN (scikit-learn's fit/predict).
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from astrozoo.errors import AstrozooError

PROVENANCES = ("mock", "real")


@dataclass(frozen=True)
class Metric:
    """A named score of ``fn(y_true, y_pred) -> float``.

    ``kind`` is ``"regression"`` (y_pred are values) or ``"classification"`` (y_pred are class
    probabilities: shape (N,) for binary, (N, K) for K classes).
    """

    name: str
    fn: Callable[[np.ndarray, np.ndarray], float]
    higher_is_better: bool = False
    kind: str = "regression"
    description: str = ""

    def __call__(self, y_true, y_pred) -> float:
        return float(self.fn(np.asarray(y_true), np.asarray(y_pred)))


@dataclass(frozen=True)
class Task:
    """What is predicted, from which default data, and how results are compared.

    ``metrics`` are scored on the test split of every run; ``primary_metric`` orders the
    comparison table. ``report(result, outdir)`` may draw task-specific figures and return
    their paths (they are logged as MLflow artifacts under ``plots/``).

    ``evaluate(predictions, splits)`` (optional) returns test scores that need more than the
    test split's ``(y_true, y_pred)``: a decision threshold chosen on the validation split, or
    accuracies per subgroup read from ``split.data``. ``predictions`` is ``{split: {ids, y_true,
    y_pred}}``. Its names take the place of registered metrics of the same name in ``metrics``,
    and every name it returns is logged as ``test_<name>``.

    ``tables(profile, dataset)`` (optional) returns more markdown that ``astrozoo compare``
    prints after the model × metric table: a paper's table with another shape (per band, per
    merger stage), built from the MLflow runs.

    ``inputs`` names what the task's splits offer a model (documentation and contract checks);
    ``truth`` names what a model may NOT read when it predicts: the target column and a mock's
    latent variables. Splits handed to ``predict`` hide them (reading one raises
    :class:`TruthAccessError`); only models with ``needs_truth = True`` (ceilings) see them.
    """

    name: str
    target: str
    default_dataset: str
    metrics: tuple[str, ...]
    primary_metric: str
    kind: str = "regression"
    description: str = ""
    report: Callable[["RunResult", Path], list[Path]] | None = None
    evaluate: Callable[[dict, dict], dict[str, float]] | None = None
    tables: Callable[[str | None, str | None], str] | None = None
    inputs: tuple[str, ...] = ()
    truth: tuple[str, ...] = ()


@dataclass
class Split:
    """One split handed from a dataset to a model. ``ids`` and ``y`` are required; the rest
    (feature tables, images, graphs) lives in ``data`` and is the task's own business."""

    name: str
    ids: np.ndarray
    y: np.ndarray
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        self.ids = np.asarray(self.ids)
        self.y = np.asarray(self.y)
        if len(self.ids) != len(self.y):
            raise ValueError(f"split {self.name!r}: {len(self.ids)} ids but {len(self.y)} targets")

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def has_target(self) -> bool:
        """False for a split handed to ``predict`` (its ``y`` is hidden)."""
        return True

    def with_data(self, **data) -> "Split":
        """The same split (a prediction split stays one) with some ``data`` entries replaced."""
        new = copy.copy(self)
        merged = {**self.data, **data}
        new.data = _Guarded(merged, self.data._hidden, self.data._where) if isinstance(self.data, _Guarded) else merged
        return new

    def for_prediction(self, truth=(), model: str = "the model") -> "Split":
        """This split as ``predict`` sees it: no target, and the names in ``truth`` hidden in
        ``data`` (top-level keys and the keys of the tables inside it). Reading any of them
        raises :class:`TruthAccessError`; ``"x" in table`` is False for a hidden column."""
        hidden = frozenset(truth)
        where = f"{model} read the truth of split {self.name!r} in predict"
        data = {key: (_Guarded(value, hidden, where) if isinstance(value, dict) else value)
                for key, value in self.data.items() if key not in hidden}
        return _PredictSplit(name=self.name, ids=self.ids, y=None, data=_Guarded(data, hidden, where))


class TruthAccessError(AstrozooError):
    """A model read the target or a mock's latent truth while predicting."""


class _Guarded(dict):
    """A dict without the hidden keys, whose hidden keys raise instead of KeyError."""

    def __init__(self, values: dict, hidden: frozenset, where: str):
        super().__init__((k, v) for k, v in values.items() if k not in hidden)
        self._hidden, self._where = hidden, where

    def __missing__(self, key):
        if key in self._hidden:
            raise TruthAccessError(f"{self._where}: {key!r} is truth (declare needs_truth = True for a ceiling)")
        raise KeyError(key)

    def get(self, key, default=None):
        return self[key] if key in self._hidden else super().get(key, default)


class _PredictSplit(Split):
    """A split whose target is not there: ``split.y`` raises."""

    def __post_init__(self):
        self.ids = np.asarray(self.ids)

    @property
    def has_target(self) -> bool:
        return False

    @property
    def y(self):
        raise TruthAccessError(f"a model read the target (split.y) of split {self.name!r} in predict")

    @y.setter
    def y(self, value):
        pass


class Dataset(ABC):
    """A source of train/val/test splits for one task. Subclasses set the class attributes.

    ``params`` come from the recipe's ``[data]`` table. Loaders validate what they read and
    raise errors that name the file and the problem.
    """

    name: ClassVar[str]
    task: ClassVar[str]
    provenance: ClassVar[str] = "mock"
    description: ClassVar[str] = ""

    def __init__(self, **params):
        self.params = params

    @abstractmethod
    def load(self, split: str) -> Split:
        """Return the split ``"train"``, ``"val"`` or ``"test"`` — or ``"all"``, every object,
        for ``astrozoo predict`` on a new catalogue (datasets that can)."""

    def info(self) -> dict[str, Any]:
        """Flat facts about the data to log with the run (sizes, seed, file, ...)."""
        return {}


@dataclass
class FitContext:
    """What the core hands a model's ``fit``: where to log, which device, where to checkpoint,
    and how the training loop (Lightning Fabric) spreads and runs it: ``devices`` per node ×
    ``nodes`` processes, ``strategy`` auto/ddp/fsdp, ``precision`` auto/32/bf16-mixed/16-mixed."""

    tracker: Any = None
    device: str = "cpu"
    seed: int = 0
    checkpoint_dir: Path | None = None
    resume: bool = False
    devices: int = 1
    nodes: int = 1
    strategy: str = "auto"
    precision: str = "auto"


class Model(ABC):
    """The one model contract. ``params`` come from the recipe's ``[params]`` table.

    ``fit`` returns self; ``predict`` returns an array of predictions (values for regression,
    probabilities for classification); ``predict_std`` returns a per-sample standard deviation
    for models that predict their own uncertainty, else None.
    """

    name: ClassVar[str]
    tasks: ClassVar[tuple[str, ...]]
    description: ClassVar[str] = ""
    needs_truth: ClassVar[bool] = False  # a ceiling (oracle): sees the task's truth in predict

    def __init__(self, **params):
        self.params = params

    @abstractmethod
    def fit(self, train: Split, val: Split, context: FitContext) -> "Model": ...

    @abstractmethod
    def predict(self, split: Split) -> np.ndarray: ...

    def predict_std(self, split: Split) -> np.ndarray | None:
        return None

    def save(self, path: Path) -> Path:
        """Write the fitted model to ``path`` and return the path: its tensors in safetensors,
        its arrays in ``.npz`` and the rest as a pickle that :meth:`load` reads without running
        code from the file (:mod:`astrozoo.modelfile`)."""
        from astrozoo import modelfile

        return modelfile.save(self, path)

    @classmethod
    def load(cls, path: Path, task: str | None = None) -> "Model":
        """Read a model written by :meth:`save`. The file may name only model classes (torch,
        scikit-learn, XGBoost, astrozoo and plugin classes) and plain types; anything else is a
        one-line error before it runs. With ``task``, it must be the model registered under its
        name for that task."""
        from astrozoo import modelfile

        return modelfile.load(path, task=task)


@dataclass
class RunResult:
    """Everything a finished run produced, for reports and figures."""

    task: Task
    model_name: str
    config: dict
    metrics: dict[str, float]
    predictions: dict[str, dict[str, np.ndarray]]  # split -> {ids, y_true, y_pred[, y_std]}
    history: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int | None = None
    splits: dict[str, Split] = field(default_factory=dict)
    model: Any = None  # the fitted Model, for reports that predict on more (e.g. a sky field)
