"""Name → Task / Dataset / Model / Metric, filled by the plugins' ``register_*`` hooks.

Every name is owned: the registry remembers which plugin registered it. A second registration
of the same name is a *conflict*: both plugins are named, and the name cannot be used until the
user picks one (``ASTROZOO_PLUGINS``, or ``PLUGIN:NAME`` such as ``--model my-plugin:xgboost``).

Models and datasets may be registered lazily, by import path, so that listing names imports no
torch: ``register("my_pkg.models:KNN", name="knn", tasks=("halo-mass",))``. A class registered
directly (``register(KNN)``) works too. ``list_names('cnn*')`` filters with shell wildcards (like
timm's ``list_models``); an unknown name raises an :class:`AstrozooError` with the closest names.

What a plugin declares is checked when it loads (:meth:`Registry.problems`): a model for a task
nobody registers, a task metric nobody registers, a recipe card whose ``task``/``model`` keys
disagree with its path or that names an unknown model. A run that needs a name with a problem
stops with one line before any data is read.
"""

from __future__ import annotations

import difflib
import os
import fnmatch
import inspect
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

from astrozoo import plugins
from astrozoo import recipes as cards_io
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import PROVENANCES, Dataset, Metric, Model, Task


def near(name: str, choices) -> str:
    """'did you mean' text with the closest names, or the list of all names when none is close."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return "known: " + (", ".join(choices) if choices else "none (is the plugin installed?)")


@dataclass
class Entry:
    """One registration: what it is, who registered it, and the object or its import path."""

    kind: str  # task, dataset, model, metric
    name: str
    plugin: str
    target: object  # the object itself, or "module:attribute"
    tasks: tuple[str, ...] = ()
    description: str = ""
    provenance: str = ""
    base: str = ""  # a card-only model: the registered model it is built on

    @property
    def module(self) -> str:
        """The module that defines the registered object (known without importing it)."""
        return self.target.partition(":")[0] if isinstance(self.target, str) else self.target.__module__

    @property
    def package(self) -> str:
        return plugins.package_of(self.plugin)

    def load(self):
        """The registered object (a lazy registration is imported now)."""
        if not isinstance(self.target, str):
            return self.target
        module, _, attr = self.target.partition(":")
        try:
            obj = getattr(import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise AstrozooError(f"plugin {self.plugin!r}: {self.kind} {self.name!r} points at {self.target!r}, "
                                f"which cannot be imported ({type(exc).__name__}: {exc})") from exc
        base = {"model": Model, "dataset": Dataset}[self.kind]
        if not (isinstance(obj, type) and issubclass(obj, base)):
            raise AstrozooError(f"plugin {self.plugin!r}: {self.target!r} is not a {base.__name__} subclass")
        if obj.name != (self.base or self.name):
            raise AstrozooError(f"plugin {self.plugin!r}: {self.target!r} is named {obj.name!r}, "
                                f"registered as {self.name!r}")
        self.target = obj
        return obj


@dataclass
class Registry:
    tasks: dict[str, list[Entry]] = field(default_factory=dict)
    datasets: dict[str, list[Entry]] = field(default_factory=dict)
    models: dict[tuple[str, str], list[Entry]] = field(default_factory=dict)  # (task, name)
    metrics: dict[str, list[Entry]] = field(default_factory=dict)
    recipe_dirs: list[tuple[Path, str, tuple[str, ...] | None]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    concerns: list[set] = field(default_factory=list)  # what each problem is about, for runs
    cards: dict[tuple[str, str], cards_io.Recipe] = field(default_factory=dict)

    # -- registration callbacks handed to the hooks (bound to the calling plugin) ---------------
    def add_task(self, task: Task, *, plugin: str = "?") -> None:
        if not isinstance(task, Task):
            raise TypeError(f"register_tasks expects Task instances, got {task!r}")
        self.tasks.setdefault(task.name, []).append(Entry("task", task.name, plugin, task,
                                                          description=task.description))

    def add_dataset(self, cls, *, plugin: str = "?", name: str | None = None, task: str | None = None,
                    provenance: str | None = None, description: str = "") -> None:
        if isinstance(cls, str):
            if not (name and task):
                raise TypeError(f"register_datasets({cls!r}) needs name= and task=")
            provenance = provenance or "mock"
        elif isinstance(cls, type) and issubclass(cls, Dataset):
            name, task = cls.name, cls.task
            provenance, description = cls.provenance, cls.description
        else:
            raise TypeError(f"register_datasets expects a Dataset subclass or 'module:Class', got {cls!r}")
        if provenance not in PROVENANCES:
            raise TypeError(f"dataset {name!r}: provenance must be one of {PROVENANCES}")
        self.datasets.setdefault(name, []).append(
            Entry("dataset", name, plugin, cls, tasks=(task,), description=description, provenance=provenance))

    def add_model(self, cls, *, plugin: str = "?", name: str | None = None, tasks=None,
                  description: str = "") -> None:
        if isinstance(cls, str):
            if not (name and tasks):
                raise TypeError(f"register_models({cls!r}) needs name= and tasks=")
            tasks = (tasks,) if isinstance(tasks, str) else tuple(tasks)
        elif isinstance(cls, type) and issubclass(cls, Model):
            name, tasks, description = cls.name, tuple(cls.tasks), cls.description
        else:
            raise TypeError(f"register_models expects a Model subclass or 'module:Class', got {cls!r}")
        for task in tasks:
            self.models.setdefault((task, name), []).append(
                Entry("model", name, plugin, cls, tasks=tasks, description=description))

    def add_metric(self, metric: Metric, *, plugin: str = "?") -> None:
        if not isinstance(metric, Metric):
            raise TypeError(f"register_metrics expects Metric instances, got {metric!r}")
        self.metrics.setdefault(metric.name, []).append(Entry("metric", metric.name, plugin, metric))

    def add_recipe_dir(self, path, *, plugin: str = "?", tasks=None) -> None:
        """A folder of ``<task>/<model>.toml`` cards; ``tasks`` limits which task folders count."""
        self.recipe_dirs.append((Path(path), plugin, tuple(tasks) if tasks else None))

    # -- checks, once everything is registered --------------------------------------------------
    def problem(self, text: str, *about: tuple) -> None:
        """Record one load-time problem; ``about``: ("task", t), ("model", t, m), ("dataset", d),
        ("card", t, m) or ("plugin", p) — a run touching any of them stops with this line."""
        self.problems.append(text)
        self.concerns.append(set(about))

    def check(self) -> None:
        """Record every declaration that cannot work, one line each, naming plugin or card."""
        for (kind, table) in (("task", self.tasks), ("dataset", self.datasets), ("metric", self.metrics)):
            for name, entries in table.items():
                if len(entries) > 1:
                    self.problem(f"{kind} {name!r} is registered by {len(entries)} plugins: {_owners(entries)}",
                                 *[("plugin", e.plugin) for e in entries])
        for (task, name), entries in self.models.items():
            if len(entries) > 1:
                self.problem(f"model {name!r} of task {task!r} is registered by {len(entries)} plugins: "
                             f"{_owners(entries)}", ("model", task, name))
            if task not in self.tasks:
                self.problem(f"plugin {entries[0].plugin!r}: model {name!r} is registered for task {task!r}, "
                             "which no plugin registers", ("plugin", entries[0].plugin))
        for name, entries in self.datasets.items():
            task = entries[0].tasks[0]
            if task not in self.tasks:
                self.problem(f"plugin {entries[0].plugin!r}: dataset {name!r} is registered for task {task!r}, "
                             "which no plugin registers", ("plugin", entries[0].plugin))
        for name, entries in self.tasks.items():
            task = entries[0].target
            for metric in set(task.metrics) | {task.primary_metric}:
                if metric not in self.metrics and task.evaluate is None:
                    self.problem(f"plugin {entries[0].plugin!r}: task {name!r} is scored with metric {metric!r}, "
                                 f"which no plugin registers; {near(metric, self.metrics)}", ("task", name))
            if task.default_dataset not in self.datasets:
                self.problem(f"plugin {entries[0].plugin!r}: task {name!r} has default dataset "
                             f"{task.default_dataset!r}, which no plugin registers", ("task", name))
        self._load_cards()

    def _load_cards(self) -> None:
        for path in cards_io.env_dirs():
            self._cards_from(path, "ASTROZOO_REGISTRY", None)
        for path, plugin, tasks in self.recipe_dirs:
            self._cards_from(path, f"plugin {plugin!r}", tasks)

    def _cards_from(self, folder: Path, owner: str, tasks) -> None:
        for path in sorted(Path(folder).glob("*/*.toml")):
            task, model = path.parent.name, path.stem
            if (tasks and task not in tasks) or task not in self.tasks:
                continue  # a card for a task that is not loaded (ASTROZOO_PLUGINS) is not a problem
            try:
                card = cards_io.parse(path)
            except cards_io.RecipeError as exc:
                self.problem(str(exc), ("card", task, model))
                continue
            if (card.task, card.model) != (task, model):
                self.problem(f"{path}: says task={card.task!r}, model={card.model!r} but lies at "
                             f"{task}/{model}.toml", ("card", task, model), ("card", card.task, card.model))
                continue
            if (task, model) in self.cards:
                continue  # first folder wins: ASTROZOO_REGISTRY before the plugins' own cards
            if card.base:
                base = self.models.get((task, card.base))
                if not base:
                    self.problem(f"{path}: base model {card.base!r} is not registered for task {task!r}",
                                 ("card", task, model))
                    continue
                if (task, model) not in self.models:
                    entry = base[0]
                    self.models[(task, model)] = [Entry("model", model, entry.plugin, entry.target, (task,),
                                                        card.description or entry.description,
                                                        base=entry.base or entry.name)]
            elif (task, model) not in self.models:
                self.problem(f"{path}: no plugin registers model {model!r} for task {task!r}; "
                             f"{near(model, [m for t, m in self.models if t == task])}", ("card", task, model))
                continue
            card.owner = owner
            self.cards[(task, model)] = card

    def problems_about(self, task: str, model: str | None = None, dataset: str | None = None) -> list[str]:
        """The load-time problems that concern a run of ``model`` on ``dataset`` for ``task``:
        the names themselves, their card, and the plugins that provide them."""
        about = {("task", task)}
        owners = [self.tasks.get(task, [])]
        if model:
            picked, model = _split(model)  # 'plugin:model' settles a conflict over the name
            about |= {("card", task, model)} | (set() if picked else {("model", task, model)})
            owners.append([e for e in self.models.get((task, model), []) if not picked or e.plugin == picked])
        if dataset:
            picked, dataset = _split(dataset)
            about.add(("dataset", dataset))
            owners.append([e for e in self.datasets.get(dataset, []) if not picked or e.plugin == picked])
        about |= {("plugin", e.plugin) for entries in owners for e in entries}
        return [text for text, concern in zip(self.problems, self.concerns) if concern & about]

    # -- lookups --------------------------------------------------------------------------------
    def _pick(self, kind: str, entries: list[Entry], name: str, plugin: str | None) -> Entry:
        if plugin:
            chosen = [e for e in entries if e.plugin == plugin]
            if not chosen:
                raise AstrozooError(f"plugin {plugin!r} registers no {kind} {name!r} (it is registered by "
                                    f"{_owners(entries)})")
            return chosen[0]
        if len(entries) > 1:
            first = entries[0].plugin
            raise AstrozooError(f"{kind} {name!r} is registered by {len(entries)} plugins: {_owners(entries)}; "
                                f"pick one with '{first}:{name}' or ASTROZOO_PLUGINS")
        return entries[0]

    def task(self, name: str) -> Task:
        plugin, name = _split(name)
        if name not in self.tasks:
            raise AstrozooError(f"unknown task {name!r}; {near(name, self.tasks)}")
        return self._pick("task", self.tasks[name], name, plugin).target

    def model_entry(self, task: str, name: str) -> Entry:
        self.task(task)
        plugin, name = _split(name)
        if (task, name) not in self.models:
            names = [m for t, m in self.models if t == task]
            raise AstrozooError(f"unknown model {name!r} for task {task!r}; {near(name, names)}")
        return self._pick("model", self.models[(task, name)], name, plugin)

    def model(self, task: str, name: str) -> type[Model]:
        return self.model_entry(task, name).load()

    def dataset_entry(self, task: str, name: str) -> Entry:
        plugin, name = _split(name)
        names = [n for n, entries in self.datasets.items() if entries[0].tasks[0] == task]
        if name not in names:
            raise AstrozooError(f"unknown dataset {name!r} for task {task!r}; {near(name, names)}")
        return self._pick("dataset", self.datasets[name], name, plugin)

    def dataset(self, task: str, name: str) -> type[Dataset]:
        return self.dataset_entry(task, name).load()

    def metric(self, name: str) -> Metric:
        if name not in self.metrics:
            raise AstrozooError(f"unknown metric {name!r}; {near(name, self.metrics)}")
        return self._pick("metric", self.metrics[name], name, None).target

    def recipes(self, task: str | None = None) -> list[cards_io.Recipe]:
        """Every loaded card (of one task)."""
        return [card for (t, _), card in self.cards.items() if task in (None, t)]

    def card(self, task: str, model: str) -> cards_io.Recipe | None:
        return self.cards.get((task, _split(model)[1]))

    def resolve(self, task: str, model: str, profile: str = cards_io.DEFAULT_PROFILE, overrides=(),
                dataset: str | None = None) -> cards_io.Recipe:
        """The card of (task, model) with the profile and ``--set`` overrides applied; an override
        may set any parameter of the model's or the dataset's constructor (imports the model)."""
        card = self.card(task, model)
        accepted = None
        if overrides:
            data_name = dataset or (card and card.dataset) or self.task(task).default_dataset
            accepted = {"params": parameters(self.model(task, model)),
                        "data": parameters(self.dataset(task, data_name))}
        return cards_io.resolve_card(card, task, _split(model)[1], profile, overrides, dataset, accepted)

    def list_names(self, pattern: str = "*") -> dict[str, list[str]]:
        """Everything whose name (or task) matches the wildcard ``pattern``, by kind.

        Models and datasets are listed as ``task/name``; the pattern may match the task, the
        name or the whole ``task/name``.
        """

        def hit(*names):
            return any(fnmatch.fnmatchcase(n, pattern) for n in names)

        return {
            "tasks": sorted(t for t in self.tasks if hit(t)),
            "models": sorted(f"{t}/{m}" for t, m in self.models if t in self.tasks and hit(t, m, f"{t}/{m}")),
            "datasets": sorted(f"{e[0].tasks[0]}/{n}" for n, e in self.datasets.items()
                               if hit(e[0].tasks[0], n, f"{e[0].tasks[0]}/{n}")),
            "metrics": sorted(m for m in self.metrics if hit(m)),
        }

    def providers(self, pattern: str = "*") -> dict[str, str]:
        """``kind task/name`` → the plugin(s) providing it, for ``astrozoo list --plugins``."""
        out = {}
        for kind, table in (("task", self.tasks), ("dataset", self.datasets), ("metric", self.metrics)):
            for name, entries in table.items():
                out[f"{kind} {name}"] = _owners(entries)
        for (task, name), entries in self.models.items():
            out[f"model {task}/{name}"] = _owners(entries)
        return {k: v for k, v in out.items() if fnmatch.fnmatchcase(k.split(" ", 1)[1], pattern)
                or any(fnmatch.fnmatchcase(p, pattern) for p in k.split(" ", 1)[1].split("/"))}


def parameters(cls) -> dict:
    """{name: default} of a class's constructor, following ``**kwargs`` up the classes (None
    where there is no default)."""
    found: dict = {}
    for klass in cls.__mro__:
        if "__init__" not in klass.__dict__:
            continue
        signature = inspect.signature(klass.__dict__["__init__"])
        for n, p in list(signature.parameters.items())[1:]:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                found.setdefault(n, None if p.default is p.empty else p.default)
        if not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            break
    return found


def check_signature(cls, params: dict, where: str, what: str) -> None:
    """Raise a one-line error for a key the constructor of ``cls`` does not accept."""
    signature = inspect.signature(cls)
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        return
    accepted = [n for n, p in signature.parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for key in params:
        if key not in accepted:
            raise AstrozooError(f"{where}: {what} has no parameter {key!r}; {near(key, accepted)}")


def _split(name: str) -> tuple[str | None, str]:
    """'plugin:name' → ('plugin', 'name'); 'name' → (None, 'name')."""
    if ":" in name:
        plugin, _, bare = name.partition(":")
        return plugin, bare
    return None, name


def _owners(entries: list[Entry]) -> str:
    return " and ".join(f"{e.plugin} ({e.package})" for e in entries)


_registry: Registry | None = None
_built_for: tuple = ()


def get_registry() -> Registry:
    """The registry filled by every loaded plugin (built once per process), then checked."""
    global _registry, _built_for
    wanted = (os.environ.get("ASTROZOO_REGISTRY", ""), os.environ.get("ASTROZOO_PLUGINS"))
    if _registry is not None and _built_for != wanted:  # the environment changed: load again
        reset()
    if _registry is None:
        _built_for = wanted
        reg = Registry()
        for hook, callback in (("register_metrics", reg.add_metric), ("register_tasks", reg.add_task),
                               ("register_datasets", reg.add_dataset), ("register_models", reg.add_model),
                               ("register_recipes", reg.add_recipe_dir)):
            plugins.call_each(hook, lambda plugin, cb=callback: {"register": _bound(cb, plugin)})
        for plugin, text in plugins.load_problems():
            reg.problem(text, ("plugin", plugin))
        reg.check()
        _registry = reg
    return _registry


def _bound(callback, plugin: str):
    def register(obj, **kwargs):
        return callback(obj, plugin=plugin, **kwargs)

    return register


def reset() -> None:
    """Forget plugins and registrations (tests use this after changing ASTROZOO_PLUGINS)."""
    global _registry
    _registry = None
    plugins.reset()
