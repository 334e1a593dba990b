import pytest

from astrozoo.testing import one_thread  # noqa: F401  (autouse)


@pytest.fixture
def cache(tmp_path_factory, monkeypatch):
    """Generated mocks go to a per-session temporary cache."""
    path = tmp_path_factory.getbasetemp() / "cluster-search-cache"
    monkeypatch.setenv("ASTROZOO_CACHE", str(path))
    return path

