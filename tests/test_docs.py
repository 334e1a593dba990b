"""The documentation builds with `mkdocs build --strict`, and the plugin guide's hook reference
is the one the hookspecs' docstrings give."""

import subprocess
import sys
from pathlib import Path

import pytest

from astrozoo import scaffold

ROOT = Path(__file__).resolve().parents[1]


def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                           cwd=ROOT, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "site" / "plugins.html").is_file()
    assert (tmp_path / "site" / "img" / "mlflow-ui-runs.png").is_file()


def test_plugin_guide_hook_reference_matches_hookspecs():
    page = (ROOT / "docs" / "plugins.md").read_text()
    block = page.split(scaffold.HOOKS_BEGIN, 1)[1].split(scaffold.HOOKS_END, 1)[0].strip()
    assert block == scaffold.hooks_reference(), (
        "docs/plugins.md's hook reference is stale: python -m astrozoo.scaffold --hooks-reference docs/plugins.md")


def test_every_image_in_the_docs_exists():
    import re

    for page in (ROOT / "docs").rglob("*.md"):
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)", page.read_text()):
            if not target.startswith("http"):
                assert (page.parent / target).is_file(), f"{page.relative_to(ROOT)}: missing image {target}"
