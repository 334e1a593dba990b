import pytest

from astrozoo.testing import one_thread, workdir  # noqa: F401  (one_thread: autouse)


@pytest.fixture
def cache(tmp_path_factory, monkeypatch):
    """Generated mocks go to a per-session temporary cache."""
    path = tmp_path_factory.getbasetemp() / "cluster-search-cache"
    monkeypatch.setenv("ASTROZOO_CACHE", str(path))
    return path

