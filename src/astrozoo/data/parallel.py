"""One parallel map: ``fn`` over items, in chunks, in worker processes, in order, with progress.

``parallel_map(fn, items, desc="rendering")`` yields ``fn(item)`` for every item, in the items'
order, computed in chunks of ``chunk`` items by ``workers`` processes (default: the CPUs this
process may use, or ``$ASTROZOO_WORKERS``). ``fn`` must be a module-level function (it is
pickled to the workers). One worker, or a single chunk, runs in this process. Results must not
depend on the number of workers: seed per item, never per chunk.

``keep="name"`` inside a cache build (:func:`astrozoo.data.cache.cached`) saves every finished
chunk in the entry's work folder (``.npz``, no pickle) and reuses it: a build interrupted by
Ctrl-C or a kill computes only the chunks it had not finished. Results must then be arrays, or
dicts or tuples of numbers, strings and arrays.
"""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from astrozoo.errors import AstrozooError


def default_workers() -> int:
    """``$ASTROZOO_WORKERS`` if set, else the CPU cores this process may run on."""
    value = os.environ.get("ASTROZOO_WORKERS", "")
    if value:
        if not value.isdigit() or int(value) < 1:
            raise AstrozooError(f"ASTROZOO_WORKERS={value!r}: must be a positive whole number")
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _run_chunk(fn: Callable, chunk: list) -> list:
    return [fn(item) for item in chunk]


def parallel_map(fn: Callable, items: Iterable, desc: str | None = None, *, workers: int | None = None,
                 chunk: int = 8, progress: Callable | None = None, keep: str | None = None) -> Iterator:
    """``fn(item)`` for each item, in order (see the module docstring).

    Progress: ``progress(steps=k)`` is called as chunks finish when given (e.g. the ``advance``
    of an enclosing :func:`astrozoo.progress.progress_bar`); else, with ``desc``, a bar of its own.
    """
    from astrozoo.progress import progress_bar

    from astrozoo.data.cache import work_dir

    items = list(items)
    workers = default_workers() if workers is None else int(workers)
    chunks = [items[i:i + chunk] for i in range(0, len(items), max(int(chunk), 1))]
    folder = work_dir() / f"{keep}-{len(items)}x{int(chunk)}" if keep and work_dir() is not None else None
    done = _kept(folder, len(chunks))
    todo = [i for i in range(len(chunks)) if i not in done]
    pool = ProcessPoolExecutor(max_workers=min(workers, len(todo))) if workers > 1 and len(todo) > 1 else None
    try:
        computed = (pool.map if pool else map)(partial(_run_chunk, fn), [chunks[i] for i in todo])

        def results():
            for i in range(len(chunks)):
                if i in done:
                    yield done.pop(i)
                    continue
                result = next(computed)
                if folder is not None:
                    _keep(folder, i, result)
                yield result

        if progress is None and desc:
            with progress_bar(desc, total=len(items)) as advance:
                for result in results():
                    advance(steps=len(result))
                    yield from result
            return
        for result in results():
            if progress is not None:
                progress(steps=len(result))
            yield from result
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)


def _keep(folder: Path, index: int, result: list) -> None:
    """Save one finished chunk atomically (arrays only: ``np.savez``, read without pickle)."""
    import numpy as np

    try:
        arrays = _flatten(result)
    except TypeError:
        return  # results of another shape are not kept: the chunk is computed again if need be
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".chunk-{index:06d}.{os.getpid()}.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, folder / f"chunk-{index:06d}.npz")


def _kept(folder: Path | None, n_chunks: int) -> dict[int, list]:
    """The chunks an earlier, interrupted build finished: {index: results}."""
    import numpy as np

    if folder is None or not folder.is_dir():
        return {}
    done = {}
    for path in folder.glob("chunk-*.npz"):
        index = int(path.stem.split("-")[1])
        try:
            with np.load(path, allow_pickle=False) as data:
                done[index] = _unflatten({k: data[k] for k in data.files})
        except (OSError, ValueError, KeyError):  # a damaged file: compute that chunk again
            path.unlink(missing_ok=True)
    return {i: r for i, r in done.items() if i < n_chunks}


def _flatten(result: list, prefix: str = "r") -> dict:
    """A chunk's results (arrays, or dicts/tuples of numbers, strings, arrays) as named arrays."""
    import numpy as np

    first = result[0] if result else None
    if isinstance(first, dict):
        keys = list(first)
        out = {f"{prefix}.keys": np.array(keys, dtype=str)}
        for i, key in enumerate(keys):
            out.update(_flatten([r[key] for r in result], f"{prefix}.d{i}"))
        return out
    if isinstance(first, tuple):
        out = {f"{prefix}.tuple": np.array(len(first))}
        for i in range(len(first)):
            out.update(_flatten([r[i] for r in result], f"{prefix}.t{i}"))
        return out
    values = np.asarray(result)
    if values.dtype == object:
        raise TypeError("results that are not arrays")
    return {prefix: values}


def _unflatten(arrays: dict, prefix: str = "r") -> list:
    if f"{prefix}.keys" in arrays:
        keys = [str(k) for k in arrays[f"{prefix}.keys"]]
        columns = [_unflatten(arrays, f"{prefix}.d{i}") for i in range(len(keys))]
        return [dict(zip(keys, row)) for row in zip(*columns)]
    if f"{prefix}.tuple" in arrays:
        parts = [_unflatten(arrays, f"{prefix}.t{i}") for i in range(int(arrays[f"{prefix}.tuple"]))]
        return [tuple(row) for row in zip(*parts)]
    return [_plain(v) for v in arrays[prefix]]


def _plain(value):
    """numpy scalars back to Python numbers and strings (arrays stay arrays)."""
    return value.item() if getattr(value, "ndim", 1) == 0 else value
