import pytest

from astrozoo.testing import one_thread, workdir  # noqa: F401

#: a tiny mock: 128-pixel fields (0.76 < z < 1) fitted at 64 pixels, ~16 images, one process
TINY = dict(seed=3, n_major=3, n_nonmerger=5, keep=0.3, image_size=32, fit_size=64, max_sources=2, z_min=0.76,
            z_max=1.0, workers=1, fractions=[0.5, 0.25, 0.25])


@pytest.fixture
def tiny():
    """Parameters of the tiny mock (a copy)."""
    return dict(TINY)


@pytest.fixture
def cache(tmp_path_factory, monkeypatch):
    """A data cache shared by the tests of one session (the tiny mock is made once)."""
    path = tmp_path_factory.getbasetemp() / "mergers-cache"
    monkeypatch.setenv("ASTROZOO_CACHE", str(path))
    return path
