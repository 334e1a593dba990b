"""astrozoo.data.parallel: one chunked process map, in order, worker count from the machine."""

import os

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
