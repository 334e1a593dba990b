"""The core's tests run against the toy task of ``toy_plugin.py`` only: for each test module it
is installed as a plugin would be (an ``astrozoo`` entry point, also seen by subprocesses), and
``ASTROZOO_PLUGINS=toy`` keeps any other installed plugin (the built-ins) out. The core's suite
passes with no task plugin installed (``make test-core``). A module that still drives a core
feature through a built-in (slow multi-process training checks) names it in ``PLUGINS`` and
marks its tests with ``toy_plugin.requires(...)``: they skip where it is not installed."""

from pathlib import Path

import pytest

from astrozoo import registry
from astrozoo.testing import workdir  # noqa: F401

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def toy_site(tmp_path_factory) -> Path:
    """A folder holding the toy plugin's distribution metadata (its entry point)."""
    site = tmp_path_factory.mktemp("toy-site")
    info = site / "astrozoo_toy-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: astrozoo-toy\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[astrozoo]\ntoy = toy_plugin:ToyPlugin\n")
    return site


@pytest.fixture(scope="module", autouse=True)
def only_the_toy_task(request, toy_site):
    """The toy plugin installed, no other plugin loaded (but the module's ``PLUGINS``), for every
    test module of the core."""
    extra = getattr(request.module, "PLUGINS", "")
    with pytest.MonkeyPatch.context() as mp:
        for folder in (TESTS, toy_site):
            mp.syspath_prepend(str(folder))
        mp.setenv("PYTHONPATH", f"{toy_site}:{TESTS}:" + __import__("os").environ.get("PYTHONPATH", ""))
        mp.setenv("ASTROZOO_PLUGINS", ",".join(["toy", *filter(None, [extra])]))
        registry.reset()
        yield
    registry.reset()


@pytest.fixture
def fresh_registry():
    """Rebuild plugins and registry before and after a test that changes what is loaded."""
    registry.reset()
    yield
    registry.reset()
