"""The one on-disk format, shared by mock generators and real-data loaders (HDF5 via h5py).

Layout: root attributes (``format``, ``provenance``, ``seed``, parameters as JSON, anything
else the writer passes) and one group per table (``catalogue``, ``images``, ``morphology``),
each column a dataset with its unit in ``attrs['unit']``. Writes go to a temporary file that is
renamed into place only when complete, so a half-written file never looks complete.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import numpy as np

from astrozoo.errors import AstrozooError

FORMAT = "astrozoo/1"


class DataError(AstrozooError):
    """Bad input data: the message names the file and the problem."""


def write(path, tables: dict[str, dict[str, np.ndarray]], attrs: dict | None = None,
          units: dict[str, str] | None = None) -> Path:
    """Atomically write ``{group: {column: array}}`` with root ``attrs`` and column ``units``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    units = units or {}
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            for key, value in (attrs or {}).items():
                f.attrs[key] = json.dumps(value) if isinstance(value, (dict, list, tuple)) else value
            for group, columns in tables.items():
                g = f.create_group(group)
                for name, values in columns.items():
                    values = np.asarray(values)
                    if values.dtype.kind == "U":
                        values = values.astype("S")
                    big = values.ndim > 1 and values.nbytes > 1 << 20
                    ds = g.create_dataset(name, data=values, compression="lzf" if big else None,
                                          chunks=(1,) + values.shape[1:] if big else None)
                    if name in units:
                        ds.attrs["unit"] = units[name]
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_attrs(path) -> dict:
    path = Path(path)
    with open_hdf5(path) as f:
        return {k: _attr(v) for k, v in f.attrs.items()}


def read(path, group: str = "catalogue", required=(), columns=None, finite=()) -> tuple[dict, dict]:
    """Read one table → (columns, root attrs), checking required columns and finite values."""
    path = Path(path)
    with open_hdf5(path) as f:
        if group not in f:
            raise DataError(f"{path}: no table {group!r} (has: {', '.join(f.keys()) or 'nothing'})")
        g = f[group]
        missing = [c for c in required if c not in g]
        if missing:
            raise DataError(f"{path}: table {group!r} is missing column(s) {', '.join(missing)}")
        names = columns or list(g.keys())
        data = {}
        for name in names:
            if name not in g:
                raise DataError(f"{path}: table {group!r} has no column {name!r}")
            values = g[name][()]
            data[name] = values.astype("U") if values.dtype.kind == "S" else values
        for name in finite:
            if name in data and not np.isfinite(data[name]).all():
                bad = int((~np.isfinite(data[name])).sum())
                raise DataError(f"{path}: column {name!r} has {bad} NaN or infinite value(s)")
        attrs = {k: _attr(v) for k, v in f.attrs.items()}
    return data, attrs


def _attr(value):
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value.item() if isinstance(value, np.generic) else value


def open_hdf5(path) -> h5py.File:
    """Open any HDF5 file for reading; a missing or unreadable one is a DataError naming it."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{path}: not a readable HDF5 file (truncated or corrupt?): {exc}") from exc
