"""astrozoo: an open, plugin-based model zoo for machine learning in astrophysics.

The core knows nothing of any task: tasks, datasets, models and metrics arrive through
the pluggy hooks in :mod:`astrozoo.hookspecs`, loaded from the ``astrozoo`` entry-point group.
The notebook API (:mod:`astrozoo.api`: ``list_models``, ``create_model``, ``load_dataset``,
``run``) is imported on first use, so that ``import astrozoo`` stays light.
"""

__version__ = "0.1.0"

from astrozoo.hookspecs import hookimpl  # noqa: E402,F401  (plugins write @astrozoo.hookimpl)

API = ("list_models", "create_model", "load_dataset", "run")


def __getattr__(name):
    if name in API:
        from astrozoo import api

        return getattr(api, name)
    raise AttributeError(f"module 'astrozoo' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(API))
