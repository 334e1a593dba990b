"""Pytest fixtures shared by the core's tests and the plugins' tests (and yours): import them
into a ``conftest.py`` — ``from astrozoo.testing import workdir, one_thread  # noqa: F401``."""

from __future__ import annotations

import pytest


@pytest.fixture
def workdir(tmp_path, monkeypatch, tmp_path_factory):
    """A fresh working directory with its own MLflow store; the data cache is shared per
    session; no downloads of pretrained weights."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    mlflow.set_tracking_uri(uri)  # an earlier test's in-process setting would win over the variable
    return tmp_path


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small networks train several times faster on one intra-op thread, more so on a busy
    machine (autouse wherever it is imported)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_cli(args, capsys) -> tuple[int, str, str]:
    """Run ``astrozoo ARGS`` in this process (pass pytest's ``capsys``); return the exit code,
    stdout and stderr — the one helper for CLI tests, in the core and in plugins."""
    from astrozoo.cli import main

    with pytest.raises(SystemExit) as info:
        main(list(args))
    out = capsys.readouterr()
    return info.value.code, out.out, out.err
