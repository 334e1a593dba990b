"""astrozoo: an open, plugin-based model zoo for machine learning in astrophysics.

The core knows nothing of any task: tasks, datasets, models and metrics arrive through
the pluggy hooks in :mod:`astrozoo.hookspecs`, loaded from the ``astrozoo`` entry-point group.
"""

__version__ = "0.1.0"

from astrozoo.hookspecs import hookimpl  # noqa: E402,F401  (plugins write @astrozoo.hookimpl)
