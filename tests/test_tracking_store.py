"""Runs started at once on a fresh folder share one new SQLite store (MLflow alone fails here:
each process tries to create and migrate the schema)."""

import subprocess
import sys

SCRIPT = "from astrozoo import tracking; m = tracking._mlflow(); print(tracking._experiment(m, 'toy'))"


def test_concurrent_first_runs_create_one_store(workdir):
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    results = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-500:] for _, err in results]
    assert len({out.strip() for out, _ in results}) == 1  # one experiment, the same id for all
