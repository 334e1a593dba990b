"""Validation at the edge, before an MLflow run opens: recipe values, run options and data files.

Everything here raises :class:`ValidationError` (an ``AstrozooError``: one line, exit 2) naming
the file, key or value. The rest of astrozoo trusts what passed.

- **Parameters** (a card's ``[params]`` / ``[data]`` after the profile and ``--set``): the keys
  must be ones the model's or dataset's ``__init__`` declares (scikit-learn's rule: parameters
  are declared once, in the signature), and numbers must lie in their range. The ranges are
  :data:`RANGES` (by key name, shell wildcards allowed), extended or overridden by a class's own
  ``ranges = {"key": (low, high)}``.
- **Run options**: ``--seed`` in [0, 2**32), ``--seeds`` ≥ 1, ``--folds`` 0 or ≥ 2.
- **Data files**: a dataset may declare ``schema = {table: {column: Column(...)}}``; a user's
  file (``data.path``, ``astrozoo predict --input``) is checked against it: required columns,
  dtype, per-row shape (halo-mass ``pos`` is (N, 3)), one length for all columns, the ``unit``
  attribute where the file has one, and finite values.
"""

from __future__ import annotations

import fnmatch
import inspect
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astrozoo.errors import AstrozooError

SEED_MAX = 2**32  # numpy's seeds are 32-bit


class ValidationError(AstrozooError):
    """A value or file that would give a wrong or failed run: the message names it."""


# key pattern -> (low, high, low inclusive, high inclusive); None: unbounded
RANGES: dict[str, tuple] = {
    "seed": (0, SEED_MAX, True, False),
    "*epochs": (1, None, True, True),
    "n_estimators": (1, None, True, True),
    "max_iter": (1, None, True, True),
    "max_depth": (1, None, True, True),
    "min_samples_leaf": (1, None, True, True),
    "batch_size": (1, None, True, True),
    "image_size": (1, None, True, True),
    "hidden": (1, None, True, True),
    "latent": (1, None, True, True),
    "layers": (1, None, True, True),
    "unshared": (1, None, True, True),
    "clusters": (1, None, True, True),
    "clusters_per_batch": (1, None, True, True),
    "width": (1, None, True, True),
    "filters": (1, None, True, True),
    "n_per_class": (1, None, True, True),
    "n_objects": (1, None, True, True),
    "n_major": (1, None, True, True),
    "n_nonmerger": (1, None, True, True),
    "*lr": (0, None, False, True),
    "lr_start": (0, None, False, True),
    "lr_end": (0, None, False, True),
    "learning_rate": (0, None, False, True),
    "*weight_decay": (0, None, True, True),
    "*patience": (0, None, True, True),
    "threads": (0, None, True, True),
    "workers": (0, None, True, True),
    "radius": (0, None, False, True),
    "gap": (0, None, True, True),
    "box_mpc": (0, None, False, True),
    "dropout": (0, 1, True, False),
    "keep": (0, 1, False, True),
    "val_fraction": (0, 1, False, False),
    "test_fraction": (0, 1, False, False),
    "n_folds": (2, None, True, True),
    "fold": (-1, None, True, True),
}


def _range_text(low, high, low_in, high_in) -> str:
    left = "[" if low_in else "("
    right = "]" if high_in else ")"
    return f"{left}{low if low is not None else '-inf'}, {high if high is not None else 'inf'}{right}"


def _rule(key: str, extra: dict) -> tuple | None:
    if key in extra:
        rule = tuple(extra[key])
        return rule + (True, True)[len(rule) - 2:] if len(rule) < 4 else rule
    for pattern, rule in RANGES.items():
        if fnmatch.fnmatchcase(key, pattern):
            return rule
    return None


def check_value(key: str, value, where: str, extra: dict | None = None) -> None:
    """``value`` of ``key`` within its range (numbers only; other types pass)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"{where}: {key} = {value!r} is not a finite number")
    rule = _rule(key, extra or {})
    if rule is None:
        return
    low, high, low_in, high_in = rule
    ok = (low is None or (value >= low if low_in else value > low)) and \
         (high is None or (value <= high if high_in else value < high))
    if not ok:
        raise ValidationError(f"{where}: {key} = {value!r} is out of range {_range_text(*rule)}")


def declared_params(cls) -> set[str] | None:
    """The keyword parameters ``cls(**params)`` accepts, following ``**kwargs`` up the classes;
    None when any is accepted."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - {"self"}
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return names
        if klass.__module__ == "astrozoo.interfaces":  # Model/Dataset(**params): anything goes
            return None
    return None


def check_params(section: str, values: dict, cls, where: str) -> None:
    """A recipe section (``params`` for the model, ``data`` for the dataset) against ``cls``."""
    from astrozoo.registry import near

    known = declared_params(cls)
    for key, value in values.items():
        if known is not None and key not in known:
            raise ValidationError(f"{where}: {cls.__name__} has no parameter '{section}.{key}'; "
                                  f"{near(key, known)}")
        check_value(key, value, f"{where}: {section}", getattr(cls, "ranges", None))
    if "fold" in values and "n_folds" in values and values["fold"] >= values["n_folds"]:
        raise ValidationError(f"{where}: {section}.fold = {values['fold']} must be below "
                              f"{section}.n_folds = {values['n_folds']}")


def check_run_options(seed: int, seeds: int = 1, folds: int = 0) -> None:
    """``--seed``, ``--seeds``, ``--folds``."""
    if not 0 <= seed < SEED_MAX:
        raise ValidationError(f"--seed {seed} is out of range [0, 2**32)")
    if seeds < 1:
        raise ValidationError(f"--seeds {seeds}: at least 1")
    if seed + seeds > SEED_MAX:
        raise ValidationError(f"--seed {seed} --seeds {seeds}: the last seed {seed + seeds - 1} is beyond 2**32 - 1")
    if folds < 0 or folds == 1:
        raise ValidationError(f"--folds {folds}: 0 (no cross-validation) or at least 2")


def check_cache() -> None:
    """``$ASTROZOO_CACHE`` (when set) must be a folder that can be written, or creatable."""
    import os

    value = os.environ.get("ASTROZOO_CACHE")
    if not value:
        return
    path = Path(value).expanduser()
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ValidationError(f"ASTROZOO_CACHE={value}: {existing} is a file, not a folder")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise ValidationError(f"ASTROZOO_CACHE={value}: {existing} is not writable")


# -- data files -------------------------------------------------------------------------------

KINDS = {"f": "float", "i": "integer", "u": "unsigned integer", "b": "bool", "S": "bytes", "U": "text"}


@dataclass(frozen=True)
class Column:
    """One column of a data file's table: allowed numpy dtype kinds (``"fiu"``: any number),
    the shape of one row (``(3,)`` for positions), its unit (or several accepted spellings),
    whether the file must have it and whether its values must be finite."""

    kinds: str = "fiu"
    shape: tuple = ()
    unit: str | tuple[str, ...] | None = None
    required: bool = True
    finite: bool = True


def check_data_file(path, schema: dict[str, dict[str, Column]]) -> None:
    """Check a user's HDF5 file against a dataset's ``schema`` (see the module docstring)."""
    from astrozoo.data import store

    path = Path(path)
    with store.open_hdf5(path) as f:
        for table, columns in schema.items():
            if table not in f:
                raise ValidationError(f"{path}: no table {table!r} (has: {', '.join(f.keys()) or 'nothing'})")
            group = f[table]
            missing = [name for name, col in columns.items() if col.required and name not in group]
            if missing:
                raise ValidationError(f"{path}: table {table!r} is missing column(s) {', '.join(missing)}")
            length = None
            for name, col in columns.items():
                if name not in group:
                    continue
                ds = group[name]
                where = f"{path}: column {table}/{name}"
                if not hasattr(ds, "dtype"):
                    raise ValidationError(f"{where} is a group, not a column")
                if ds.dtype.kind not in col.kinds:
                    want = " or ".join(KINDS.get(k, k) for k in col.kinds)
                    raise ValidationError(f"{where} has dtype {ds.dtype}, expected {want}")
                if ds.ndim != 1 + len(col.shape) or tuple(ds.shape[1:]) != tuple(col.shape):
                    expected = "(N" + "".join(f", {n}" for n in col.shape) + (",)" if not col.shape else ")")
                    raise ValidationError(f"{where} has shape {ds.shape}, expected {expected}")
                if length is not None and ds.shape[0] != length[1]:
                    raise ValidationError(f"{where} has {ds.shape[0]} rows but column {length[0]} has {length[1]}")
                length = length or (name, ds.shape[0])
                unit = ds.attrs.get("unit")
                if unit is not None and col.unit is not None:
                    unit = unit.decode() if isinstance(unit, bytes) else str(unit)
                    allowed = (col.unit,) if isinstance(col.unit, str) else tuple(col.unit)
                    if unit not in allowed:
                        raise ValidationError(f"{where} is in {unit!r}, expected {' or '.join(map(repr, allowed))}")
                if col.finite and ds.dtype.kind == "f":
                    bad = int((~np.isfinite(ds[()])).sum())
                    if bad:
                        raise ValidationError(f"{where} has {bad} NaN or infinite value(s)")
            if length is not None and length[1] == 0:
                raise ValidationError(f"{path}: table {table!r} has no rows")
