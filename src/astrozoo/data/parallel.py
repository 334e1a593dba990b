"""One parallel map: ``fn`` over items, in chunks, in worker processes, in order, with progress.

``parallel_map(fn, items, desc="rendering")`` yields ``fn(item)`` for every item, in the items'
order, computed in chunks of ``chunk`` items by ``workers`` processes (default: the CPUs this
process may use, or ``$ASTROZOO_WORKERS``). ``fn`` must be a module-level function (it is
pickled to the workers). One worker, or a single chunk, runs in this process. Results must not
depend on the number of workers: seed per item, never per chunk.
"""

from __future__ import annotations

import os
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
                 chunk: int = 8, progress: Callable | None = None) -> Iterator:
    """``fn(item)`` for each item, in order (see the module docstring).

    Progress: ``progress(steps=k)`` is called as chunks finish when given (e.g. the ``advance``
    of an enclosing :func:`astrozoo.progress.progress_bar`); else, with ``desc``, a bar of its own.
    """
    from astrozoo.progress import progress_bar

    items = list(items)
    workers = default_workers() if workers is None else int(workers)
    chunks = [items[i:i + chunk] for i in range(0, len(items), max(int(chunk), 1))]
    pool = ProcessPoolExecutor(max_workers=min(workers, len(chunks))) if workers > 1 and len(chunks) > 1 else None
    try:
        results = (pool.map if pool else map)(partial(_run_chunk, fn), chunks)
        if progress is None and desc:
            with progress_bar(desc, total=len(items)) as advance:
                for result in results:
                    advance(steps=len(result))
                    yield from result
            return
        for result in results:
            if progress is not None:
                progress(steps=len(result))
            yield from result
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
