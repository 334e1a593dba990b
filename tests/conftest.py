import pytest

from astrozoo import registry


@pytest.fixture
def workdir(tmp_path, monkeypatch, tmp_path_factory):
    """A fresh working directory with its own MLflow store; the data cache is shared per session."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    mlflow.set_tracking_uri(uri)  # an earlier test's in-process setting would win over the variable
    return tmp_path


@pytest.fixture
def fresh_registry():
    """Rebuild plugins and registry before and after a test that changes what is loaded."""
    registry.reset()
    yield
    registry.reset()
