"""CUDA runs open their MLflow run with system metrics (runner: ``system_metrics=device is cuda``).
Without a GPU here, this checks the same wiring on the CPU monitor: psutil (and nvidia-ml-py for
the GPU monitor) are installed with the torch extra, and samples reach the run."""

import time

import mlflow
import pytest


def test_system_metrics_reach_the_run(workdir, monkeypatch):
    pytest.importorskip("psutil")
    pytest.importorskip("pynvml")  # MLflow's GPU monitor; it stays silent without a GPU
    from astrozoo import tracking

    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "0.5")
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING", "1")
    with tracking.start_run("toy", "system-metrics-check", {"task": "toy"}, system_metrics=True) as run:
        time.sleep(3)
    metrics = mlflow.get_run(run.run_id).data.metrics
    assert "system/cpu_utilization_percentage" in metrics and "system/system_memory_usage_megabytes" in metrics
