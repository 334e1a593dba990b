import pytest
import torch


@pytest.fixture
def workdir(tmp_path, monkeypatch, tmp_path_factory):
    """A fresh working directory with its own MLflow store; the data cache is shared per session."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks train faster on one thread, more so on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
