import pytest
import torch


@pytest.fixture
def cache(tmp_path_factory, monkeypatch):
    """Generated mocks go to a per-session temporary cache."""
    path = tmp_path_factory.getbasetemp() / "cluster-search-cache"
    monkeypatch.setenv("ASTROZOO_CACHE", str(path))
    return path


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks: one intra-op thread (on a busy machine several threads only wait on each other)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
