import pytest

from astrozoo import registry
from astrozoo.testing import workdir  # noqa: F401


@pytest.fixture
def fresh_registry():
    """Rebuild plugins and registry before and after a test that changes what is loaded."""
    registry.reset()
    yield
    registry.reset()
