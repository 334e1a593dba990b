"""Name → Task / Dataset / Model / Metric, filled by the plugins' ``register_*`` hooks.

``list_names('cnn*')`` filters with shell wildcards (like timm's ``list_models``); an unknown
name raises an :class:`AstrozooError` that lists the closest existing names.
"""

from __future__ import annotations

import difflib
import fnmatch
from pathlib import Path

from astrozoo import plugins
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import PROVENANCES, Dataset, Metric, Model, Task


def near(name: str, choices) -> str:
    """'did you mean' text with the closest names, or the list of all names when none is close."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return "known: " + (", ".join(choices) if choices else "none (is the plugin installed?)")


class Registry:
    def __init__(self):
        self.tasks: dict[str, Task] = {}
        self.datasets: dict[str, type[Dataset]] = {}
        self.models: dict[tuple[str, str], type[Model]] = {}  # (task, model name) -> class
        self.metrics: dict[str, Metric] = {}
        self.recipe_dirs: list[Path] = []

    # -- registration callbacks handed to the hooks ------------------------------------------
    def add_task(self, task: Task) -> None:
        if not isinstance(task, Task):
            raise TypeError(f"register_tasks expects Task instances, got {task!r}")
        self.tasks.setdefault(task.name, task)

    def add_dataset(self, cls: type[Dataset]) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Dataset)):
            raise TypeError(f"register_datasets expects a Dataset subclass, got {cls!r}")
        if cls.provenance not in PROVENANCES:
            raise TypeError(f"dataset {cls.name!r}: provenance must be one of {PROVENANCES}")
        self.datasets.setdefault(cls.name, cls)

    def add_model(self, cls: type[Model]) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Model)):
            raise TypeError(f"register_models expects a Model subclass, got {cls!r}")
        for task in cls.tasks:
            self.models.setdefault((task, cls.name), cls)

    def add_metric(self, metric: Metric) -> None:
        if not isinstance(metric, Metric):
            raise TypeError(f"register_metrics expects Metric instances, got {metric!r}")
        self.metrics.setdefault(metric.name, metric)

    def add_recipe_dir(self, path) -> None:
        self.recipe_dirs.append(Path(path))

    def add_card_models(self) -> None:
        """Cards with ``base = "<model>"`` add a model by name with no code (e.g. one more timm
        backbone): the registered base model is built with the card's params."""
        from astrozoo import recipes

        cards = recipes.all_recipes(on_error=lambda exc: plugins.warn(f"recipe card skipped: {exc}"))
        for card in cards:
            if not card.base or (card.task, card.model) in self.models:
                continue
            if (card.task, card.base) in self.models:
                self.models[(card.task, card.model)] = self.models[(card.task, card.base)]
            else:
                plugins.warn(f"{card.path}: base model {card.base!r} is not registered for task {card.task!r}")

    # -- lookups ------------------------------------------------------------------------------
    def task(self, name: str) -> Task:
        if name not in self.tasks:
            raise AstrozooError(f"unknown task {name!r}; {near(name, self.tasks)}")
        return self.tasks[name]

    def model(self, task: str, name: str) -> type[Model]:
        self.task(task)
        if (task, name) not in self.models:
            names = [m for t, m in self.models if t == task]
            raise AstrozooError(f"unknown model {name!r} for task {task!r}; {near(name, names)}")
        return self.models[(task, name)]

    def dataset(self, task: str, name: str) -> type[Dataset]:
        names = [n for n, cls in self.datasets.items() if cls.task == task]
        if name not in names:
            raise AstrozooError(f"unknown dataset {name!r} for task {task!r}; {near(name, names)}")
        return self.datasets[name]

    def metric(self, name: str) -> Metric:
        if name not in self.metrics:
            raise AstrozooError(f"unknown metric {name!r}; {near(name, self.metrics)}")
        return self.metrics[name]

    def list_names(self, pattern: str = "*") -> dict[str, list[str]]:
        """Everything whose name (or task) matches the wildcard ``pattern``, by kind.

        Models and datasets are listed as ``task/name``; the pattern may match the task, the
        name or the whole ``task/name``.
        """

        def hit(*names):
            return any(fnmatch.fnmatchcase(n, pattern) for n in names)

        return {
            "tasks": sorted(t for t in self.tasks if hit(t)),
            "models": sorted(f"{t}/{m}" for t, m in self.models if hit(t, m, f"{t}/{m}")),
            "datasets": sorted(
                f"{c.task}/{n}" for n, c in self.datasets.items() if hit(c.task, n, f"{c.task}/{n}")
            ),
            "metrics": sorted(m for m in self.metrics if hit(m)),
        }


_registry: Registry | None = None


def get_registry() -> Registry:
    """The registry filled by every loaded plugin (built once per process)."""
    global _registry
    if _registry is None:
        reg = Registry()
        plugins.call_each("register_metrics", register=reg.add_metric)
        plugins.call_each("register_tasks", register=reg.add_task)
        plugins.call_each("register_datasets", register=reg.add_dataset)
        plugins.call_each("register_models", register=reg.add_model)
        plugins.call_each("register_recipes", register=reg.add_recipe_dir)
        _registry = reg
        reg.add_card_models()
    return _registry


def reset() -> None:
    """Forget plugins and registrations (tests use this after changing ASTROZOO_PLUGINS)."""
    global _registry
    _registry = None
    plugins.reset()
