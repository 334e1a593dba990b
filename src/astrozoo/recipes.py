"""Recipe cards: ``registry/<task>/<model>.toml`` — model, dataset, hyperparameters per profile,
and the paper's reported numbers. This is the one configuration mechanism of astrozoo.

A card::

    task = "halo-mass"
    model = "gnn"
    base = "..."             # optional: a card-only model built on this registered model
    dataset = "mock-tng50"
    description = "..."
    [params]                 # handed to the Model
    epochs = 500
    [data]                   # handed to the Dataset
    seed = 0
    [profiles.quick.params]  # a profile overrides keys that exist above
    epochs = 60
    [paper]                  # what the paper reported on its (real) data
    citation = "..."
    [paper.metrics]
    rmse = 0.248

Resolution: card → profile → ``--set section.key=value`` overrides. Unknown keys and wrong
types are errors that name the file and the key.
"""

from __future__ import annotations

import copy
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from astrozoo.errors import AstrozooError

TOP_KEYS = {"task": str, "model": str, "base": str, "dataset": str, "description": str,
            "params": dict, "data": dict, "profiles": dict, "paper": dict, "sweep": dict}
PAPER_KEYS = {"citation": str, "url": str, "table": str, "note": str, "metrics": dict}
SECTIONS = ("params", "data")
DEFAULT_PROFILE = "quick"


class RecipeError(AstrozooError):
    pass


@dataclass
class Recipe:
    task: str
    model: str
    base: str | None = None
    dataset: str | None = None
    description: str = ""
    params: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    profiles: dict = field(default_factory=dict)
    paper: dict = field(default_factory=dict)
    sweep: dict = field(default_factory=dict)  # the search space of `astrozoo sweep` (astrozoo.sweep)
    path: Path | None = None
    owner: str = ""  # who provided the card: a plugin, or ASTROZOO_REGISTRY


def env_dirs() -> list[Path]:
    """Folders of cards from ``$ASTROZOO_REGISTRY`` (path-separated); they come before the
    plugins' own cards. The plugins' folders are handed over by the registry, which owns them."""
    return [Path(p) for p in os.environ.get("ASTROZOO_REGISTRY", "").split(os.pathsep) if p]


def _check_type(value, expected, where: str):
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
        raise RecipeError(f"{where}: expected {expected.__name__}, got {type(value).__name__} {value!r}")
    return value


def parse(path: Path) -> Recipe:
    """Read and validate one card."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RecipeError(f"{path}: cannot read recipe: {exc}") from exc
    for key, value in raw.items():
        if key not in TOP_KEYS:
            raise RecipeError(f"{path}: unknown key {key!r} (allowed: {', '.join(TOP_KEYS)})")
        _check_type(value, TOP_KEYS[key], f"{path}: {key}")
    for key in ("task", "model"):
        if key not in raw:
            raise RecipeError(f"{path}: missing required key {key!r}")
    for key, value in raw.get("paper", {}).items():
        if key not in PAPER_KEYS:
            raise RecipeError(f"{path}: unknown key 'paper.{key}' (allowed: {', '.join(PAPER_KEYS)})")
        _check_type(value, PAPER_KEYS[key], f"{path}: paper.{key}")
    for key, value in raw.get("paper", {}).get("metrics", {}).items():
        _check_type(value, float, f"{path}: paper.metrics.{key}")
    recipe = Recipe(**raw, path=path)
    for profile, sections in recipe.profiles.items():
        if not isinstance(sections, dict):
            raise RecipeError(f"{path}: profiles.{profile} must be a table")
        _apply(copy.deepcopy(recipe), sections, f"{path}: profiles.{profile}")
    return recipe


def _apply(recipe: Recipe, sections: dict, where: str, accepted: dict | None = None) -> None:
    """Override keys of recipe.params / recipe.data in place, checking names and types. A key
    the card does not set is accepted when ``accepted[section]`` (the constructor's parameters:
    name → default) has it; its type is checked against a non-None default."""
    accepted = accepted or {}
    for section, values in sections.items():
        if section not in SECTIONS or not isinstance(values, dict):
            raise RecipeError(f"{where}: unknown section {section!r} (allowed: params, data)")
        base = getattr(recipe, section)
        for key, value in values.items():
            if key in base:
                base[key] = _check_type(value, type(base[key]), f"{where}: {section}.{key}")
            elif key in accepted.get(section, {}):
                default = accepted[section][key]
                known_type = default is not None and isinstance(default, (bool, int, float, str, list, dict))
                base[key] = _check_type(value, type(default), f"{where}: {section}.{key}") if known_type else value
            else:
                known = ", ".join(sorted(set(base) | set(accepted.get(section, {})))) or "none"
                raise RecipeError(f"{where}: unknown key '{section}.{key}' (known: {known})")


def parse_override(text: str) -> tuple[str, str, object]:
    """``params.lr=1e-3`` → ('params', 'lr', 0.001). Values are read as TOML, else as strings."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise RecipeError(f"--set {text!r}: expected section.key=value, e.g. params.epochs=5")
    dotted, value = text.split("=", 1)
    section, key = dotted.split(".", 1)
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value
    return section.strip(), key.strip(), parsed


def resolve_card(card: Recipe | None, task: str, model: str, profile: str = DEFAULT_PROFILE, overrides=(),
                 dataset: str | None = None, accepted: dict | None = None) -> Recipe:
    """``card`` (None: a model without a card runs with its own defaults) with ``profile`` and
    ``overrides`` applied. Asking for a profile the card lacks is an error unless the card has
    no profiles at all. ``accepted``: {"params": {name: default}, "data": {...}} — keys an
    override may set although the card does not (the model's and dataset's signatures).
    (``astrozoo.registry.get_registry().resolve(task, model, ...)`` does all this for you.)"""
    recipe = copy.deepcopy(card) if card is not None else Recipe(task=task, model=model)
    where = str(recipe.path or f"(no card for {task}/{model})")
    if recipe.profiles:
        if profile not in recipe.profiles:
            raise RecipeError(f"{where}: no profile {profile!r} (has: {', '.join(recipe.profiles)})")
        _apply(recipe, recipe.profiles[profile], f"{where}: profiles.{profile}")
    for text in overrides:
        section, key, value = parse_override(text)
        _apply(recipe, {section: {key: value}}, f"--set {text}", accepted)
    if dataset:
        recipe.dataset = dataset
    return recipe


def flatten(tree: dict, prefix: str = "") -> dict[str, object]:
    """{'params': {'lr': 1}} → {'params.lr': 1} (MLflow parameters are flat)."""
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def recipe_folder(plugin_file) -> Path:
    """Where a built-in plugin's cards are: the copy its wheel carries (``<package>/registry``),
    else ``registry/`` at the top of the source checkout it is installed from (editable)."""
    here = Path(plugin_file).resolve().parent
    if (here / "registry").is_dir():
        return here / "registry"
    for parent in here.parents:
        if (parent / "registry").is_dir() and (parent / "src" / "astrozoo").is_dir():
            return parent / "registry"
    return here / "registry"
