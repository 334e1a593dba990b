"""The notebook API on halo-mass: its cards and profiles, and the example of docs/api.md gives the
values the page shows (the API itself is tested on the toy task in tests/test_api.py)."""

import ast
from pathlib import Path

import numpy as np
import pytest

import astrozoo
from astrozoo.errors import AstrozooError
from astrozoo.testing import workdir  # noqa: F401


def test_create_model_applies_the_halo_mass_cards():
    quick = astrozoo.create_model("halo-mass", "gnn")
    assert quick.params["epochs"] == 100 and quick.params["hidden"] == 16  # registry/halo-mass/gnn.toml, profile quick
    assert astrozoo.create_model("halo-mass", "gnn", profile="paper").params["epochs"] == 500
    forest = astrozoo.create_model("halo-mass", "simple", min_samples_leaf=5)  # not on the card, taken by the model
    assert forest.options["min_samples_leaf"] == 5
    with pytest.raises(AstrozooError, match="did you mean 'gnn'"):
        astrozoo.create_model("halo-mass", "gn")


def _same(value, shown) -> bool:
    """``value`` is what the page shows: equal, except that a score (a float) may differ from the
    page's four decimals by 0.002 — a forest's or a network's last digits differ between
    machines and library builds (docs/api.md says so)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and isinstance(shown, float):
        return abs(value - shown) <= 0.002
    if isinstance(value, (tuple, list)) and isinstance(shown, type(value)) and len(value) == len(shown):
        return all(_same(v, s) for v, s in zip(value, shown))
    return value == shown


def test_the_example_of_docs_api_gives_the_values_the_page_shows(workdir):
    page = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text()
    code = page.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "docs/api.md", "exec"), namespace)
    lines, shown = code.splitlines(), 0
    for i, line in enumerate(lines):
        if line and not line.startswith("#") and i + 1 < len(lines) and lines[i + 1].startswith("# "):
            comment = []
            for following in lines[i + 1:]:
                if not following.startswith("#"):
                    break
                comment.append(following[1:])
            expected = ast.literal_eval("".join(comment).strip())
            value = eval(line, namespace)
            assert _same(value, expected), f"{line}: {value!r}, the page shows {expected!r}"
            shown += 1
    assert shown == 8
