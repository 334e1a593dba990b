"""astrozoo.data.parallel: one chunked process map, in order, worker count from the machine."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from astrozoo.data.parallel import default_workers, parallel_map
from astrozoo.errors import AstrozooError


def square_and_pid(x):
    return x * x, os.getpid()


def test_results_come_back_in_order_whatever_the_workers():
    serial = [r for r, _ in parallel_map(square_and_pid, range(37), workers=1, chunk=4)]
    pooled = list(parallel_map(square_and_pid, range(37), workers=2, chunk=4))
    assert serial == [x * x for x in range(37)] == [r for r, _ in pooled]
    assert {pid for _, pid in pooled} != {os.getpid()}  # the work ran in other processes


def test_progress_counts_every_item():
    done = []
    list(parallel_map(square_and_pid, range(10), workers=1, chunk=3, progress=lambda steps: done.append(steps)))
    assert done == [3, 3, 3, 1]


def test_worker_count_comes_from_the_machine_or_the_environment(monkeypatch):
    monkeypatch.delenv("ASTROZOO_WORKERS", raising=False)
    assert default_workers() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("ASTROZOO_WORKERS", "3")
    assert default_workers() == 3
    monkeypatch.setenv("ASTROZOO_WORKERS", "many")
    with pytest.raises(AstrozooError, match="ASTROZOO_WORKERS='many'"):
        default_workers()


def measured(x):
    """A stand-in for statmorph: a dict per item; fails on item 13 while FAIL is set."""
    if x == 13 and os.environ.get("FAIL_AT_13"):
        raise KeyboardInterrupt  # Ctrl-C in the middle of the work
    with open(os.environ["CALLS_FILE"], "a") as fh:
        fh.write(f"{x}\n")
    return {"value": x * 0.5, "flag": x % 3, "name": f"g{x}"}


def test_an_interrupted_build_keeps_its_finished_chunks(monkeypatch, tmp_path):
    import numpy as np

    from astrozoo.data import cache

    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CALLS_FILE", str(tmp_path / "calls.txt"))

    def build(path):
        rows = list(parallel_map(measured, range(20), workers=1, chunk=4, keep="statmorph"))
        with open(path, "wb") as fh:
            np.save(fh, np.array([r["value"] for r in rows]))
        (tmp_path / "rows.txt").write_text(repr(rows))

    monkeypatch.setenv("FAIL_AT_13", "1")
    with pytest.raises(KeyboardInterrupt):
        cache.cached("toy", "morph", {}, "1", build, suffix=".npy")
    first = (tmp_path / "calls.txt").read_text().split()
    assert first == [str(x) for x in range(13)]  # chunks 0-2 finished, chunk 3 died at 13

    monkeypatch.delenv("FAIL_AT_13")
    path = cache.cached("toy", "morph", {}, "1", build, suffix=".npy")
    again = (tmp_path / "calls.txt").read_text().split()[len(first):]
    assert again == [str(x) for x in range(12, 20)]  # only chunks 3 and 4 again
    assert np.load(path).tolist() == [x * 0.5 for x in range(20)]
    rows = eval((tmp_path / "rows.txt").read_text())
    assert rows[5] == {"value": 2.5, "flag": 2, "name": "g5"} and len(rows) == 20
    assert not list((tmp_path / "cache" / "toy").glob(".*.work"))  # complete: the chunks are gone


def slow_first(x):
    """Item 0 waits for the file $GO (60 s at most); every item is logged in $CALLS_FILE."""
    deadline = time.time() + 60
    while x == 0 and not os.path.exists(os.environ["GO"]) and time.time() < deadline:
        time.sleep(0.05)
    with open(os.environ["CALLS_FILE"], "a") as fh:
        fh.write(f"{x}\n")
    return x * 2.0


def build_slowly(path):
    import numpy as np

    rows = list(parallel_map(slow_first, range(12), workers=2, chunk=2, keep="slow"))
    with open(path, "wb") as fh:
        np.save(fh, np.array(rows))


def test_chunks_are_kept_as_they_finish_whatever_the_order_and_a_kill_loses_none(tmp_path):
    """Chunk 0 is slow: the chunks the other worker finishes meanwhile are kept at once, not when
    chunk 0 is done; after a SIGKILL only the chunks without a file are computed again."""
    import numpy as np

    env = dict(os.environ, ASTROZOO_CACHE=str(tmp_path / "cache"), CALLS_FILE=str(tmp_path / "calls.txt"),
               GO=str(tmp_path / "go"))
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import test_parallel as t; "
            "from astrozoo.data import cache; print(cache.cached('toy', 'slow', {}, '1', t.build_slowly, suffix='.npy'))")
    first = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)
    try:
        deadline = time.time() + 30  # well before chunk 0 gives up waiting (60 s)
        while not list((tmp_path / "cache").rglob("chunk-000001.npz")):
            assert first.poll() is None and time.time() < deadline, "chunk 1 was not kept while chunk 0 ran"
            time.sleep(0.05)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the map and its workers, at once
        first.wait()
    kept = {int(p.stem.split("-")[1]) for p in (tmp_path / "cache").rglob("chunk-*.npz")}
    assert 0 not in kept and 1 in kept
    assert "0" not in (tmp_path / "calls.txt").read_text().split()  # chunk 0 never finished

    (tmp_path / "go").touch()
    before = len((tmp_path / "calls.txt").read_text().split())
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    again = (tmp_path / "calls.txt").read_text().split()[before:]
    assert sorted(map(int, again)) == [x for x in range(12) if x // 2 not in kept]  # only the missing chunks
    assert np.load(done.stdout.strip()).tolist() == [x * 2.0 for x in range(12)]


def test_a_generator_is_read_as_the_work_goes(monkeypatch):
    read = []

    def items():
        for x in range(40):
            read.append(x)
            yield x

    results = parallel_map(square_and_pid, items(), workers=2, chunk=4)
    first = [next(results) for _ in range(4)]  # the first chunk is back ...
    assert [r for r, _ in first] == [0, 1, 4, 9]
    assert len(read) <= 4 * (2 * 2 + 2)  # ... with a few chunks per worker read ahead, not all 40
    assert [r for r, _ in results] == [x * x for x in range(4, 40)]


def test_dask_local_cluster_and_a_scheduler_address_give_the_same_results():
    pytest.importorskip("dask.distributed")
    from dask.distributed import LocalCluster

    local = list(parallel_map(square_and_pid, range(12), workers=2, chunk=3, scheduler="dask"))
    assert [r for r, _ in local] == [x * x for x in range(12)]
    assert os.getpid() not in {pid for _, pid in local}
    with LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        remote = list(parallel_map(square_and_pid, range(12), chunk=3, scheduler=cluster.scheduler_address))
    assert [r for r, _ in remote] == [x * x for x in range(12)]
    with pytest.raises(AstrozooError, match="scheduler 'spark'"):
        list(parallel_map(square_and_pid, range(12), workers=2, chunk=3, scheduler="spark"))


def test_the_cli_scheduler_option_reaches_the_parallel_map(monkeypatch):
    from astrozoo.cli import main

    monkeypatch.delenv("ASTROZOO_SCHEDULER", raising=False)
    monkeypatch.setitem(os.environ, "ASTROZOO_SCHEDULER", "")  # restored after the test
    with pytest.raises(SystemExit) as info:
        main(["--scheduler", "tcp://127.0.0.1:8786", "list"])
    assert info.value.code == 0 and os.environ["ASTROZOO_SCHEDULER"] == "tcp://127.0.0.1:8786"
