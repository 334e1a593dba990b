"""The one on-disk format, shared by mock generators and real-data loaders (HDF5 via h5py).

Layout: root attributes (``format``, ``provenance``, ``seed``, parameters as JSON, anything
else the writer passes) and one group per table (``catalogue``, ``images``, ``morphology``),
each column a dataset with its unit in ``attrs['unit']``. Writes go to a temporary file that is
renamed into place only when complete, so a half-written file never looks complete.

Chunks. Columns over 1 MiB are chunked in blocks of rows of about 1 MiB (``pos`` of the TNG300
mock: 9 chunks, not 356k one-row chunks), uncompressed: the large columns are noisy float images
and positions, on which lzf gains nothing. Images (4-D columns) get one chunk per galaxy, so a
model reads any galaxy without touching the others. A column too large for memory is written
from a :class:`Rows` (blocks of rows, e.g. a renderer's output) and read with :func:`rows`
(a :class:`LazyRows`: ``len``, ``shape`` and ``[indices]``, read when indexed; ``take(rows)``
gives a split's rows as a lazy column of their own).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from astrozoo.errors import AstrozooError

FORMAT = "astrozoo/1"


class DataError(AstrozooError):
    """Bad input data: the message names the file and the problem."""


@dataclass
class Rows:
    """A column written block by block: ``blocks`` yields arrays of consecutive rows, ``shape[0]`` in all."""

    shape: tuple[int, ...]
    dtype: str
    blocks: Iterable[np.ndarray]


def _chunks(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...] | None:
    """One row per chunk for images (ndim 4), blocks of ~1 MiB of rows for other columns over 1 MiB."""
    row = int(np.prod(shape[1:], dtype=np.int64)) * itemsize
    if len(shape) < 2 or shape[0] * row <= 1 << 20:
        return None
    rows = 1 if len(shape) >= 4 else max(1, min(shape[0], (1 << 20) // max(row, 1)))
    return (rows,) + tuple(shape[1:])


def _write_rows(group, name: str, column: Rows):
    ds = group.create_dataset(name, shape=column.shape, dtype=column.dtype,
                              chunks=_chunks(column.shape, np.dtype(column.dtype).itemsize))
    start = 0
    for block in column.blocks:
        ds[start:start + len(block)] = block
        start += len(block)
    if start != column.shape[0]:
        raise ValueError(f"column {name!r}: {start} rows written, {column.shape[0]} announced")
    return ds


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
                    if isinstance(values, Rows):
                        ds = _write_rows(g, name, values)
                    else:
                        values = np.asarray(values)
                        if values.dtype.kind == "U":
                            values = values.astype("S")
                        ds = g.create_dataset(name, data=values, chunks=_chunks(values.shape, values.dtype.itemsize))
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


class LazyRows:
    """One column of an HDF5 file, read only when indexed: ``column[indices]`` → array, in that order."""

    def __init__(self, path, group: str, name: str):
        self.path, self.group, self.name = Path(path), group, name
        with open_hdf5(self.path) as f:
            if name not in f.get(group, {}):
                raise DataError(f"{self.path}: table {group!r} has no column {name!r}")
            self.shape, self.dtype = f[group][name].shape, f[group][name].dtype
        self.rows = None  # the file's rows of a view (see take); None: all of them

    def __len__(self) -> int:
        return self.shape[0]

    def take(self, rows) -> "LazyRows":
        """Rows ``rows`` (indices or a boolean mask) as a column of their own, still read only when
        indexed: a split's images, read a batch at a time."""
        view = copy.copy(self)
        view.rows = self._positions(rows)
        view.shape = (len(view.rows),) + self.shape[1:]
        return view

    def _positions(self, index) -> np.ndarray:
        """The file's rows of ``index`` (a slice, integer array or boolean mask of this column)."""
        if isinstance(index, slice):
            index = np.arange(len(self))[index]
        index = np.asarray(index)
        index = np.flatnonzero(index) if index.dtype == bool else index.astype(np.int64)
        index = np.where(index < 0, index + len(self), index)
        return index if self.rows is None else self.rows[index]

    def __getitem__(self, index) -> np.ndarray:
        """Rows by slice, integer, integer array or boolean mask (reads runs of consecutive rows);
        a tuple indexes the rows' own axes too."""
        if isinstance(index, tuple):
            head = self[index[0]]
            return head[index[1:]] if isinstance(index[0], (int, np.integer)) else head[(slice(None),) + index[1:]]
        if self.rows is None and isinstance(index, (slice, int, np.integer)):
            with open_hdf5(self.path) as f:
                return f[self.group][self.name][index]
        if isinstance(index, (int, np.integer)):
            return self[np.array([index])][0]
        index = self._positions(index)
        order = np.argsort(index, kind="stable")
        wanted = index[order]
        out = np.empty((len(index),) + self.shape[1:], dtype=self.dtype)
        breaks = np.flatnonzero(np.diff(wanted) != 1) + 1  # runs of consecutive rows
        with open_hdf5(self.path) as f:
            ds = f[self.group][self.name]
            for run in np.split(np.arange(len(wanted)), breaks):
                if run.size:
                    lo, hi = wanted[run[0]], wanted[run[-1]] + 1
                    block = ds[lo:hi]
                    out[order[run]] = block[wanted[run] - lo]
        return out

    def __iter__(self):
        for start in range(0, len(self), 64):  # 64 rows read at a time
            yield from self[start:start + 64]

    def __array__(self, dtype=None, copy=None):
        values = self[:]
        return values if dtype is None else values.astype(dtype)


def rows(path, group: str, name: str) -> LazyRows:
    """The column ``group/name`` of ``path``, read lazily (see :class:`LazyRows`)."""
    return LazyRows(path, group, name)


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
