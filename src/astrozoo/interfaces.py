"""The four small contracts every plugin speaks: Task, Dataset, Model, Metric.

A dataset hands out :class:`Split` objects; a model fits on two splits and predicts on one;
metrics score ``(y_true, y_pred)``; a task ties a target to its datasets and metrics. The same
contract holds for a random forest and for a CNN+GNN (scikit-learn's fit/predict).
"""

from __future__ import annotations

import pickle
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

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

    def __init__(self, **params):
        self.params = params

    @abstractmethod
    def fit(self, train: Split, val: Split, context: FitContext) -> "Model": ...

    @abstractmethod
    def predict(self, split: Split) -> np.ndarray: ...

    def predict_std(self, split: Split) -> np.ndarray | None:
        return None

    def save(self, path: Path) -> Path:
        """Write the fitted model to ``path`` (a pickle by default) and return the path."""
        path = Path(path)
        with open(path, "wb") as fh:
            pickle.dump(self, fh)
        return path

    @classmethod
    def load(cls, path: Path) -> "Model":
        with open(path, "rb") as fh:
            return pickle.load(fh)


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
