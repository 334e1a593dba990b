"""The Python API for notebooks, in timm's style; ``astrozoo.<name>`` gives each of these
(imported on first use, so ``import astrozoo`` stays light)::

    import astrozoo

    astrozoo.list_models("halo-mass/*")                       # ['halo-mass/cnn', ...]
    model = astrozoo.create_model("halo-mass", "gnn", epochs=5)   # the card's quick profile, one override
    data = astrozoo.load_dataset("halo-mass")                  # the task's default dataset
    train, val, test = (data.load(s) for s in ("train", "val", "test"))
    result, run_id = astrozoo.run("halo-mass", "simple")       # a tracked run, as `astrozoo run`

See docs/api.md.
"""

from __future__ import annotations

import inspect
import json

from astrozoo import recipes
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import Dataset, Model
from astrozoo.registry import get_registry


def list_models(pattern: str = "*") -> list[str]:
    """Registered models as ``task/name``, filtered by a shell wildcard that may match the
    task, the name or ``task/name`` (``'halo-mass'``, ``'cnn*'``, ``'*/oracle'``)."""
    return get_registry().list_names(pattern)["models"]


def create_model(task: str, name: str, profile: str = recipes.DEFAULT_PROFILE, **overrides) -> Model:
    """An unfitted model built as ``astrozoo run`` builds it: the recipe card's ``[params]``
    with ``profile`` applied, then ``overrides`` (keyword arguments; any parameter the model's
    constructor accepts). A model without a card is built with its own defaults."""
    cls = get_registry().model(task, name)
    recipe = get_registry().resolve(task, name, profile)
    known = set(recipe.params) | parameters(cls)
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise AstrozooError(f"create_model({task!r}, {name!r}): unknown parameter {', '.join(map(repr, unknown))} "
                            f"(known: {', '.join(sorted(known)) or 'none'})")
    return cls(**{**recipe.params, **overrides})


def load_dataset(task: str, name: str | None = None, **params) -> Dataset:
    """A dataset of ``task`` (its default dataset when ``name`` is None) built with ``params``;
    call ``.load("train")`` (``"val"``, ``"test"``) for its splits and ``.info()`` for facts."""
    registry = get_registry()
    cls = registry.dataset(task, name or registry.task(task).default_dataset)
    return cls(**params)


def run(task: str, model: str, *, params: dict | None = None, data: dict | None = None, overrides=(), **kwargs):
    """Train, evaluate and track one model as ``astrozoo run`` does; return ``(RunResult,
    run_id)``. ``params`` and ``data`` override the card's sections (like ``--set params.k=v``);
    the other keywords are :func:`astrozoo.runner.run`'s: ``dataset``, ``profile``, ``seed``,
    ``device``, ``resume``, ``register``, ``echo``."""
    from astrozoo import runner

    sets = list(overrides)
    for section, values in (("params", params), ("data", data)):
        sets += [f"{section}.{key}={_toml(value)}" for key, value in (values or {}).items()]
    return runner.run(task, model, overrides=sets, **kwargs)


def parameters(cls: type) -> set[str]:
    """Keyword parameters a class's constructor accepts, through ``**kwargs`` handed to its bases."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass) and klass is not object:
            names |= {p.name for p in inspect.signature(klass.__init__).parameters.values()
                      if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"}
    return names


def _toml(value) -> str:
    """A Python value as a TOML value (what ``--set`` reads)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {_toml(v)}" for key, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)  # true/false, numbers and quoted strings read the same in TOML
