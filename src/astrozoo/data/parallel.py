"""One parallel map: ``fn`` over items, in chunks, in worker processes, in order, with progress.

``parallel_map(fn, items, desc="rendering")`` yields ``fn(item)`` for every item, in the items'
order, computed in chunks of ``chunk`` items by ``workers`` processes (default: the CPUs this
process may use, or ``$ASTROZOO_WORKERS``). ``fn`` must be a module-level function (it is
pickled to the workers). One worker, or a single chunk, runs in this process. Results must not
depend on the number of workers: seed per item, never per chunk.

``items`` may be any iterable, a generator included: it is read as the work goes, a few chunks
per worker ahead, and finished chunks are handed back as soon as they are in order, so neither
the items nor the results of a long map are ever all in memory (TNG300-sized work).

``scheduler`` (default ``$ASTROZOO_SCHEDULER``) sends the chunks to Dask distributed workers
instead of local processes: ``"dask"`` starts a ``LocalCluster`` of ``workers`` single-threaded
processes, ``"tcp://host:8786"`` joins a running scheduler (its workers need astrozoo and the
plugin installed). Dask only runs the chunks (``Client.get_executor``); order, keeping and
progress stay here.

``keep="name"`` inside a cache build (:func:`astrozoo.data.cache.cached`) saves every finished
chunk in the entry's work folder (``.npz``, no pickle) and reuses it: a build interrupted by
Ctrl-C or a kill computes only the chunks it had not finished. A chunk is saved as soon as it
finishes, in whatever order the workers finish them (while the map waits for the next chunk in
order), not only when its turn comes; each file is written whole or not at all (a temporary
file renamed into place). Results must then be arrays, or dicts or tuples of numbers, strings
and arrays.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import ExitStack
from itertools import islice
from pathlib import Path

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


def _executor(stack: ExitStack, workers: int, scheduler: str) -> Executor:
    """Local worker processes, or a Dask client's executor (``scheduler``: 'dask' or an address)."""
    if not scheduler:
        pool = ProcessPoolExecutor(max_workers=workers)
        stack.callback(pool.shutdown, cancel_futures=True)  # Ctrl-C: the queued chunks are dropped
        return pool
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise AstrozooError(f"scheduler {scheduler!r} needs dask.distributed: pip install 'dask[distributed]'") from exc
    if scheduler == "dask":
        cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                   dashboard_address=None))
        client = stack.enter_context(Client(cluster))
    elif scheduler.startswith(("tcp://", "tls://", "ws://", "wss://", "inproc://")):
        try:
            client = stack.enter_context(Client(scheduler, timeout="30s"))
        except OSError as exc:
            raise AstrozooError(f"scheduler {scheduler}: cannot connect ({exc})") from exc
    else:
        raise AstrozooError(f"scheduler {scheduler!r}: expected 'dask' (a LocalCluster) or an address tcp://host:port")
    return client.get_executor(pure=False)


def parallel_map(fn: Callable, items: Iterable, desc: str | None = None, *, workers: int | None = None,
                 chunk: int = 8, progress: Callable | None = None, keep: str | None = None,
                 scheduler: str | None = None, total: int | None = None) -> Iterator:
    """``fn(item)`` for each item, in order (see the module docstring).

    Progress: ``progress(steps=k)`` is called as chunks finish when given (e.g. the ``advance``
    of an enclosing :func:`astrozoo.progress.progress_bar`); else, with ``desc``, a bar of its own.
    ``total``: the number of items when ``items`` has no ``len`` (a generator); it names kept chunks.
    """
    from astrozoo.progress import progress_bar

    if progress is None and desc:
        total = len(items) if total is None else total
        with progress_bar(desc, total=total) as advance:
            yield from parallel_map(fn, items, workers=workers, chunk=chunk, progress=advance, keep=keep,
                                    scheduler=scheduler, total=total)
        return
    from astrozoo.data.cache import work_dir

    workers = default_workers() if workers is None else int(workers)
    scheduler = os.environ.get("ASTROZOO_SCHEDULER", "") if scheduler is None else scheduler
    chunk = max(int(chunk), 1)
    size = len(items) if hasattr(items, "__len__") else total
    folder = work_dir() / f"{keep}-{size or ''}x{chunk}" if keep and work_dir() is not None else None
    kept = _kept(folder)
    # a pool only for two chunks or more to compute (one runs here); an unknown length gets a pool
    to_compute = None if size is None else len(set(range(-(-size // chunk))) - kept)
    source = iter(items)
    chunks = enumerate(iter(lambda: list(islice(source, chunk)), []))
    unsaved: dict[Future, int] = {}  # pool chunks to keep, running or finished, not saved yet

    def save_finished(until: Future | None = None) -> None:
        """Save every finished chunk of ``unsaved``, in the order they finish, until ``until`` is."""
        while True:
            for future in [f for f in unsaved if f.done()]:
                index = unsaved.pop(future)
                if not future.cancelled() and future.exception() is None:
                    _keep(folder, index, future.result())
            if until not in unsaved:
                return
            wait(unsaved, return_when=FIRST_COMPLETED)

    with ExitStack() as stack:
        stack.callback(save_finished)  # on the way out (Ctrl-C), after the pool: what finished meanwhile
        several = to_compute is None or to_compute > 1
        pool = _executor(stack, workers, scheduler) if (workers > 1 or scheduler) and several else None
        ahead = 2 * workers if pool else 0  # chunks in flight, so that no worker waits

        def submit(index: int, part: list):
            if not pool or index in kept:
                return part
            future = pool.submit(_run_chunk, fn, part)
            if folder is not None:
                unsaved[future] = index
            return future

        def finish(index: int, job) -> list:
            result = _load(folder, index) if index in kept else None
            if result is None and isinstance(job, Future):
                save_finished(until=job)  # this chunk and any later one finished before it
                result = job.result()
            elif result is None:
                result = _run_chunk(fn, job)
                if folder is not None:
                    _keep(folder, index, result)
            if progress is not None:
                progress(steps=len(result))
            return result

        queue: deque = deque()
        for index, part in chunks:
            queue.append((index, submit(index, part)))
            while len(queue) > ahead:
                yield from finish(*queue.popleft())
        while queue:
            yield from finish(*queue.popleft())


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


def _kept(folder: Path | None) -> set[int]:
    """The indices of the chunks an earlier, interrupted build finished (read when their turn comes)."""
    if folder is None or not folder.is_dir():
        return set()
    return {int(path.stem.split("-")[1]) for path in folder.glob("chunk-*.npz")}


def _load(folder: Path, index: int) -> list | None:
    """A kept chunk's results, or None (a damaged file is removed: that chunk is computed again)."""
    import numpy as np

    path = folder / f"chunk-{index:06d}.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            return _unflatten({k: data[k] for k in data.files})
    except (OSError, ValueError, KeyError):
        path.unlink(missing_ok=True)
        return None


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
