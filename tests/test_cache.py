"""The one data life-cycle (astrozoo.data.cache): keyed, built once, atomic, never stale."""

import multiprocessing as mp
import os
import time

import pytest

from astrozoo.data import cache
from astrozoo.errors import AstrozooError


def _writer(calls):
    def build(path):
        calls.append(path)
        path.write_text(f"built by {os.getpid()}")
    return build


def test_built_once_then_read(monkeypatch, tmp_path):
    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path))
    calls = []
    a = cache.cached("toy", "mock", {"seed": 0}, "1", _writer(calls))
    b = cache.cached("toy", "mock", {"seed": 0}, "1", _writer(calls))
    assert a == b and len(calls) == 1 and a.read_text().startswith("built by")


def test_changed_version_params_or_source_rebuilds(monkeypatch, tmp_path):
    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "catalogue.txt"
    src.write_text("one")
    calls = []
    first = cache.cached("toy", "real", {}, "1", _writer(calls), sources=[src])
    assert cache.cached("toy", "real", {}, "2", _writer(calls), sources=[src]) != first
    assert cache.cached("toy", "real", {"seed": 1}, "1", _writer(calls), sources=[src]) != first
    src.write_text("a longer file")
    assert cache.cached("toy", "real", {}, "1", _writer(calls), sources=[src]) != first
    assert len(calls) == 4


def test_override_is_used_as_is_and_must_exist(tmp_path):
    own = tmp_path / "mine.h5"
    with pytest.raises(AstrozooError, match="mine.h5"):
        cache.cached("toy", "mock", {}, "1", _writer([]), override=own)
    own.write_text("x")
    assert cache.cached("toy", "mock", {}, "1", _writer([]), override=own) == own


def test_orphan_part_files_are_removed(monkeypatch, tmp_path):
    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path))
    (tmp_path / "toy").mkdir()
    orphan = tmp_path / "toy" / ".mock-x.h5.999999999.part"  # no such process
    orphan.write_text("half")
    cache.cached("toy", "mock", {}, "1", _writer([]))
    assert not orphan.exists()


def test_failed_build_leaves_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path))

    def broken(path):
        path.write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        cache.cached("toy", "mock", {}, "1", broken)
    assert [p.name for p in (tmp_path / "toy").iterdir() if not p.name.endswith(".lock")] == []


def _slow_first_run(root, queue):
    os.environ["ASTROZOO_CACHE"] = root

    def build(path):
        time.sleep(0.5)
        path.write_text(f"built by {os.getpid()}")

    queue.put(str(cache.cached("toy", "mock", {}, "1", build)))


def test_two_concurrent_first_runs_write_one_good_file(tmp_path):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_slow_first_run, args=(str(tmp_path), queue)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    paths = {queue.get(timeout=5) for _ in procs}
    assert len(paths) == 1
    files = [p for p in (tmp_path / "toy").iterdir() if not p.name.startswith(".")]
    assert len(files) == 1 and files[0].read_text().startswith("built by")
