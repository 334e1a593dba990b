"""The four small contracts every plugin speaks: Task, Dataset, Model, Metric.

A dataset hands out :class:`Split` objects; a model fits on two splits and predicts on one;
metrics score ``(y_true, y_pred)``; a task ties a target to its datasets and metrics. The same
contract holds for a random forest and for a CNN+GNN (scikit-learn's fit/predict).
"""

from __future__ import annotations

import copy
import functools
import inspect
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

    ``tables(rows, profile, dataset)`` (optional) returns more markdown that ``astrozoo compare``
    prints after the model × metric table: a paper's table with another shape (per band, per
    merger stage), built from ``rows``, the comparable groups of runs ``compare`` read once
    (:class:`astrozoo.compare.Row`; :func:`astrozoo.compare.by_model` picks one per model).

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
    tables: Callable[[list, str | None, str | None], str] | None = None
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

    Optional, declared here so that the core can ask instead of guessing:

    - **a generator** (mocks): :meth:`generate` writes the data to a file; :meth:`data_file`
      returns the file the runs read — ``data.path`` when given, else the cache entry keyed by
      the dataset's name, :meth:`cache_params` and ``version`` (:func:`astrozoo.data.cache.cached`),
      generated once on first use. ``astrozoo data generate TASK`` calls them.
    - **K-fold cross-validation**: ``folds = True`` says the dataset takes ``fold`` (−1 = its
      default split, else 0..n_folds−1) and ``n_folds`` data parameters, so ``astrozoo run
      --folds K`` can run every fold (see :func:`astrozoo.data.splits.fold_split`).
    """

    name: ClassVar[str]
    task: ClassVar[str]
    provenance: ClassVar[str] = "mock"
    description: ClassVar[str] = ""
    #: the generator's version, part of the cache key: bump it when :meth:`generate` writes other data
    version: ClassVar[str] = "1"
    #: whether ``fold`` / ``n_folds`` select cross-validation folds
    folds: ClassVar[bool] = False

    def __init__(self, **params):
        self.params = params

    @abstractmethod
    def load(self, split: str) -> Split:
        """Return the split ``"train"``, ``"val"`` or ``"test"`` — or ``"all"``, every object,
        for ``astrozoo predict`` on a new catalogue (datasets that can)."""

    def info(self) -> dict[str, Any]:
        """Flat facts about the data to log with the run (sizes, seed, file, ...)."""
        return {}

    # -- optional: a generator ------------------------------------------------------------------
    def generate(self, output: Path) -> Path:
        """Write this dataset (seeded, deterministic) to ``output`` and return the path. Mocks
        override it; a dataset without one (real data) raises."""
        from astrozoo.errors import AstrozooError

        raise AstrozooError(f"dataset {self.name!r} has no generator (it reads existing data)")

    @classmethod
    def can_generate(cls) -> bool:
        return cls.generate is not Dataset.generate

    def cache_params(self) -> dict[str, Any]:
        """The parameters that change what :meth:`generate` writes (the cache key). Default:
        every parameter but ``path``; override to leave out those applied when loading."""
        return {k: v for k, v in self.params.items() if k != "path"}

    def data_file(self) -> Path:
        """``data.path`` when given (it must exist), else this mock's cache file, generated on
        first use (see :func:`astrozoo.data.cache.cached`)."""
        from astrozoo.data.cache import cached

        return cached(self.task, self.name, self.cache_params(), self.version, self.generate,
                      override=self.params.get("path"))


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
    """The one model contract (scikit-learn's estimator, for any model).

    Parameters are declared once, in the subclass's ``__init__`` signature with their
    defaults; the recipe's ``[params]`` table fills them. The base class binds each to an
    attribute of the same name before the subclass's ``__init__`` body runs (which may check or
    normalise them), and :meth:`get_params` / ``params`` read them back. A subclass that extends
    another model declares its own parameters and passes the rest on with ``**kwargs``::

        class MyCNN(ImageClassifier):
            def __init__(self, width: int = 32, optimizer: str = "adamw", **kwargs):
                super().__init__(optimizer=optimizer, **kwargs)

    ``fit`` returns self; ``predict`` returns an array of predictions (values for regression,
    probabilities for classification); ``predict_std`` returns a per-sample standard deviation
    for models that predict their own uncertainty, else None.
    """

    name: ClassVar[str]
    tasks: ClassVar[tuple[str, ...]]
    description: ClassVar[str] = ""
    needs_truth: ClassVar[bool] = False  # a ceiling (oracle): sees the task's truth in predict

    def __init__(self, **params):
        for key, value in params.items():
            setattr(self, key, value)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _binding(cls.__dict__["__init__"])

    @classmethod
    def param_names(cls) -> list[str]:
        """The declared parameters: this class's ``__init__`` signature, and its parents' while
        the signature passes ``**kwargs`` on."""
        names = []
        for klass in cls.__mro__:
            if klass is Model or "__init__" not in klass.__dict__:
                continue
            signature = inspect.signature(klass.__dict__["__init__"])
            names += [p.name for p in list(signature.parameters.values())[1:]
                      if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in names]
            if not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
                break
        return names

    def get_params(self) -> dict[str, Any]:
        """``{name: value}`` of every declared parameter (see :meth:`param_names`)."""
        return {name: getattr(self, name) for name in self.param_names()}

    @property
    def params(self) -> dict[str, Any]:
        """The same as :meth:`get_params` (a fresh dict: change a parameter by its attribute)."""
        return self.get_params()

    def __setstate__(self, state: dict) -> None:
        old = state.pop("params", None) or {}  # pickled before parameters became attributes
        self.__dict__.update({**old, **state})

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


def _binding(init: Callable) -> Callable:
    """Wrap a Model subclass's ``__init__`` so that its declared parameters become attributes
    (defaults filled in) before its body runs; ``inspect.signature`` still shows ``init``'s."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for p in list(signature.parameters.values())[1:]:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                setattr(self, p.name, bound.arguments[p.name])
        init(self, *args, **kwargs)

    return __init__


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
