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


def recipe_dirs() -> list[Path]:
    """Where cards are looked for, first match wins: $ASTROZOO_REGISTRY, the core's cards
    (inside the wheel, or ``registry/`` of a source checkout), then folders plugins register."""
    from astrozoo.registry import get_registry

    dirs = [Path(p) for p in os.environ.get("ASTROZOO_REGISTRY", "").split(os.pathsep) if p]
    here = Path(__file__).resolve().parent
    for candidate in (here / "_registry", here.parents[1] / "registry"):
        if candidate.is_dir():
            dirs.append(candidate)
            break
    return dirs + get_registry().recipe_dirs


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


def _apply(recipe: Recipe, sections: dict, where: str) -> None:
    """Override existing keys of recipe.params / recipe.data in place, checking names and types."""
    for section, values in sections.items():
        if section not in SECTIONS or not isinstance(values, dict):
            raise RecipeError(f"{where}: unknown section {section!r} (allowed: params, data)")
        base = getattr(recipe, section)
        for key, value in values.items():
            if key not in base:
                known = ", ".join(sorted(base)) or "none"
                raise RecipeError(f"{where}: unknown key '{section}.{key}' (known: {known})")
            base[key] = _check_type(value, type(base[key]), f"{where}: {section}.{key}")


def find(task: str, model: str) -> Recipe | None:
    for folder in recipe_dirs():
        path = folder / task / f"{model}.toml"
        if path.is_file():
            return parse(path)
    return None


def all_recipes(task: str | None = None, on_error=None) -> list[Recipe]:
    """Every card (first match per task/model wins), optionally of one task. A card that does
    not parse raises, or with ``on_error(exc)`` is reported and skipped (the others still load)."""
    seen: dict[tuple[str, str], Recipe] = {}
    for folder in recipe_dirs():
        for path in sorted(folder.glob(f"{task or '*'}/*.toml")):
            try:
                recipe = parse(path)
            except RecipeError as exc:
                if on_error is None:
                    raise
                on_error(exc)
                continue
            seen.setdefault((recipe.task, recipe.model), recipe)
    return list(seen.values())


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


def resolve(task: str, model: str, profile: str = DEFAULT_PROFILE, overrides=(),
            dataset: str | None = None) -> Recipe:
    """The card for (task, model) with ``profile`` and ``overrides`` applied.

    A model without a card runs with its own defaults; asking for a profile the card lacks is
    an error unless the card has no profiles at all.
    """
    recipe = find(task, model) or Recipe(task=task, model=model)
    recipe = copy.deepcopy(recipe)
    where = str(recipe.path or f"(no card for {task}/{model})")
    if recipe.profiles:
        if profile not in recipe.profiles:
            raise RecipeError(f"{where}: no profile {profile!r} (has: {', '.join(recipe.profiles)})")
        _apply(recipe, recipe.profiles[profile], f"{where}: profiles.{profile}")
    for text in overrides:
        section, key, value = parse_override(text)
        _apply(recipe, {section: {key: value}}, f"--set {text}")
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
