"""The hooks a plugin may implement. Each receives a ``register`` callback (or the CLI group).

A plugin is any module listed under the ``astrozoo`` entry-point group that implements some
of these with ``@astrozoo.hookimpl``. The built-in metrics use the very same hooks.
"""

import pluggy

hookspec = pluggy.HookspecMarker("astrozoo")
hookimpl = pluggy.HookimplMarker("astrozoo")


@hookspec
def register_tasks(register):
    """Register tasks: ``register(Task(...))`` (see :class:`astrozoo.interfaces.Task`)."""


@hookspec
def register_datasets(register):
    """Register datasets: ``register(MyDataset)``, a :class:`astrozoo.interfaces.Dataset` subclass, or lazily ``register("pkg.mod:MyDataset", name=..., task=..., provenance=...)``."""


@hookspec
def register_models(register):
    """Register models: ``register(MyModel)``, a :class:`astrozoo.interfaces.Model` subclass, or lazily ``register("pkg.mod:MyModel", name=..., tasks=(...))``."""


@hookspec
def register_metrics(register):
    """Register metrics: ``register(Metric(name, fn, higher_is_better, kind))``."""


@hookspec
def register_recipes(register):
    """Register folders of recipe cards: ``register(path)`` where path holds ``<task>/<model>.toml`` (``tasks=(...)`` limits which task folders count)."""


@hookspec
def register_commands(cli):
    """Add click commands or groups to the ``astrozoo`` CLI, e.g. ``cli.add_command(...)``."""
