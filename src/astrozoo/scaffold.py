"""``astrozoo new-plugin``: a working plugin package, rendered from ``astrozoo/templates/plugin``.

The package has a model for one task, its recipe card (shipped through ``register_recipes``),
commented examples of a metric, a dataset and a whole task, and a test; it installs with
``pip install -e`` and runs with ``astrozoo run``. This module also renders the hook reference
of ``docs/plugins.md`` from the hookspecs' docstrings:
``python -m astrozoo.scaffold --hooks-reference docs/plugins.md`` rewrites it in place.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from importlib import resources
from pathlib import Path
from string import Template

from astrozoo.errors import AstrozooError

NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
# catalogue columns the template model can start from, for tasks whose splits carry a table
EXAMPLE_FEATURES = {"halo-mass": ["log_mstar", "delta_g"]}
HOOKS_BEGIN, HOOKS_END = "<!-- hooks:begin -->", "<!-- hooks:end -->"


def _template(name: str) -> str:
    return resources.files("astrozoo").joinpath("templates", "plugin", name).read_text()


def create(name: str, task: str = "halo-mass", model: str | None = None, output=None) -> Path:
    """Write the plugin package ``astrozoo-<name>`` into ``output`` (default ``./astrozoo-<name>``)."""
    from astrozoo.registry import get_registry

    model = model or name
    for label, value in (("plugin name", name), ("model name", model)):
        if not NAME.fullmatch(value):
            raise AstrozooError(f"{label} {value!r}: use lower-case letters, digits and single hyphens, "
                                "starting with a letter (e.g. my-ridge)")
    kind = get_registry().task(task).kind  # an unknown task → a one-line error with near matches
    if kind not in ("regression", "classification"):
        raise AstrozooError(f"task {task!r} is of kind {kind!r}; the template knows regression and classification")
    folder = Path(output or f"astrozoo-{name}")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise AstrozooError(f"{folder} already exists and is not empty; choose another --output")
    module = "astrozoo_" + name.replace("-", "_")
    features = EXAMPLE_FEATURES.get(task, [])
    values = {
        "name": name, "module": module, "task": task, "model": model, "kind": kind,
        "cls": "".join(part.capitalize() for part in model.split("-")),
        "features": json.dumps(features),
        "description": (f"{'ridge' if kind == 'regression' else 'logistic'} regression on "
                        + (", ".join(features) if features else "nothing yet: add catalogue columns to features")),
    }
    files = {
        "pyproject.toml": "pyproject.toml.tmpl",
        "README.md": "README.md.tmpl",
        f"src/{module}/__init__.py": "__init__.py.tmpl",
        f"src/{module}/plugin.py": "plugin.py.tmpl",
        f"src/{module}/model.py": f"model_{kind}.py.tmpl",
        f"src/{module}/recipes/{task}/{model}.toml": "recipe.toml.tmpl",
        f"tests/test_{module}.py": "test_plugin.py.tmpl",
    }
    for path, template in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(Template(_template(template)).substitute(values))
    return folder


# -- the hook reference of docs/plugins.md ---------------------------------------------------

def _markdown(docstring: str) -> str:
    """RST-ish docstring → one line of Markdown (``x`` → `x`, :class:`a.B` → `a.B`)."""
    text = " ".join(inspect.cleandoc(docstring or "").split())
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def hooks_reference() -> str:
    """A Markdown table of every hook in :mod:`astrozoo.hookspecs`, in source order."""
    from astrozoo import hookspecs

    specs = [f for _, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "astrozoo_spec")]
    lines = ["| hook | what it does |", "|---|---|"]
    for fn in sorted(specs, key=lambda f: f.__code__.co_firstlineno):
        lines.append(f"| `{fn.__name__}{inspect.signature(fn)}` | {_markdown(fn.__doc__)} |")
    return "\n".join(lines)


def sync_hooks_reference(page: Path) -> bool:
    """Rewrite the block between the hooks markers of ``page``; True if it changed."""
    text = page.read_text()
    if HOOKS_BEGIN not in text or HOOKS_END not in text:
        raise AstrozooError(f"{page}: no {HOOKS_BEGIN} ... {HOOKS_END} block to fill")
    head, rest = text.split(HOOKS_BEGIN, 1)
    _, tail = rest.split(HOOKS_END, 1)
    new = f"{head}{HOOKS_BEGIN}\n{hooks_reference()}\n{HOOKS_END}{tail}"
    if new != text:
        page.write_text(new)
    return new != text


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--hooks-reference":
        sys.exit("usage: python -m astrozoo.scaffold --hooks-reference docs/plugins.md")
    changed = sync_hooks_reference(Path(sys.argv[2]))
    print(f"{sys.argv[2]}: hook reference {'updated' if changed else 'already up to date'}")
