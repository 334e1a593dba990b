"""The one data life-cycle: a path override, else a cache file keyed by everything that made it.

``cached(folder, name, params, version, build)`` returns a path under ``$ASTROZOO_CACHE/folder``
whose name holds a digest of the dataset's name, its parameters, the generator's version and,
for data converted from a user's files, the sources' sizes and modification times. The file is
built once (``build(path)`` writes it), under a lock so that two concurrent first runs build it
once, into a ``.part`` file renamed into place only when complete. A changed parameter, version
or source file gives another key, so a stale entry is never read. ``.part`` files left by a
killed process are removed the next time the folder is used.

While ``build`` runs, :func:`work_dir` names a folder that belongs to this cache entry: long work
inside the build (``parallel_map(..., keep="name")``) keeps its finished chunks there, so that an
interrupted build (Ctrl-C, kill, a crash) continues where it stopped the next time. The folder is
removed once the entry is complete.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterable

from astrozoo.data import cache_dir
from astrozoo.errors import AstrozooError


_work: ContextVar[Path | None] = ContextVar("astrozoo_cache_work", default=None)


def work_dir() -> Path | None:
    """The folder of the cache entry being built (None outside a build): kept chunks live here."""
    return _work.get()


def source_signature(sources: Iterable) -> list[list]:
    """``[[path, size, mtime_ns], ...]`` of the source files (folders: every file inside)."""
    files = []
    for src in sources:
        src = Path(src)
        if src.is_dir():
            files += sorted(p for p in src.rglob("*") if p.is_file())
        elif src.exists():
            files.append(src)
        else:
            raise AstrozooError(f"{src}: no such file or folder")
    return [[str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns] for p in files]


def cache_key(name: str, params: dict, version: str, sources: Iterable = ()) -> str:
    """A 16-hex digest of the name, parameters, generator version and source signature."""
    payload = {"name": name, "params": params, "version": str(version),
               "sources": source_signature(sources)}
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_parts(folder: Path) -> list[Path]:
    """Remove ``.part`` files whose writing process is gone; return what was removed."""
    removed = []
    for part in Path(folder).glob(".*.part"):
        pid = part.name.rsplit(".", 2)[-2]
        if pid.isdigit() and _alive(int(pid)):
            continue
        part.unlink(missing_ok=True)
        removed.append(part)
    return removed


@contextmanager
def _locked(path: Path):
    with open(path.with_name(f".{path.name}.lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def cached(folder: str, name: str, params: dict, version: str, build: Callable[[Path], object], *,
           sources: Iterable = (), suffix: str = ".h5", override=None) -> Path:
    """The cache file for (name, params, version, sources), built with ``build(path)`` if absent.

    ``override`` (a user's ``data.path``) is returned as it is, after checking that it exists.
    """
    if override:
        path = Path(override).expanduser()
        if not path.exists():
            raise AstrozooError(f"{path}: no such file (given as data.path)")
        return path
    sources = list(sources)
    where = cache_dir(folder)
    path = where / f"{name}-{cache_key(name, params, version, sources)}{suffix}"
    if path.exists():
        return path
    with _locked(path):
        clean_parts(where)
        if path.exists():  # another process built it while we waited
            return path
        tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        work = path.with_name(f".{path.name}.work")
        token = _work.set(work)
        try:
            build(tmp)
            if not tmp.exists():
                raise AstrozooError(f"{name}: the cache builder wrote nothing to {tmp}")
            os.replace(tmp, path)
        finally:
            _work.reset(token)
            tmp.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)  # complete: the kept chunks are no longer needed
    return path
