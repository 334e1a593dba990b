"""The PluginManager: built-in plugins and the ``astrozoo`` entry points, loaded the same way.

``ASTROZOO_PLUGINS=name,name`` restricts which installed plugins load (empty: none). A plugin
that fails to import is reported by name on stderr and recorded in ``BROKEN``; the rest load.
A hook implementation whose name is not a hook (``register_model`` for ``register_models``)
is a load-time problem naming the plugin, not a silent no-op. ``ASTROZOO_STRICT=1`` re-raises
a plugin's exception with its traceback (for plugin developers).
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from importlib.metadata import entry_points

import pluggy

from astrozoo import hookspecs

GROUP = "astrozoo"
DEFAULT_PLUGINS = ("astrozoo.metrics.regression", "astrozoo.metrics.classification", "astrozoo.data.commands")
HOOKS = [name for name in dir(hookspecs) if name.startswith("register_")]

BROKEN: dict[str, str] = {}
PACKAGES: dict[str, str] = {}
_pm: pluggy.PluginManager | None = None


def warn(message: str) -> None:
    print(f"astrozoo: {message}", file=sys.stderr)


def strict() -> bool:
    return os.environ.get("ASTROZOO_STRICT", "") not in ("", "0")


def _wanted() -> set[str] | None:
    value = os.environ.get("ASTROZOO_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def package_of(plugin: str) -> str:
    """'distribution version' of a plugin, or 'astrozoo VERSION (built in)'."""
    if plugin in PACKAGES:
        return PACKAGES[plugin]
    from astrozoo import __version__

    return f"astrozoo {__version__} (built in)"


def get_plugin_manager() -> pluggy.PluginManager:
    """Build (once) the manager with the default plugins and every wanted entry point."""
    global _pm
    if _pm is not None:
        return _pm
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    for module_name in DEFAULT_PLUGINS:
        pm.register(import_module(module_name), name=module_name)
    wanted = _wanted()
    for ep in entry_points(group=GROUP):
        if (wanted is not None and ep.name not in wanted) or pm.has_plugin(ep.name):
            continue
        try:
            pm.register(ep.load(), name=ep.name)
            if ep.dist is not None:
                PACKAGES[ep.name] = f"{ep.dist.name} {ep.dist.version}"
        except Exception as exc:  # a broken plugin must not take the CLI down
            if strict():
                raise
            BROKEN[ep.name] = f"{type(exc).__name__}: {exc}"
            warn(f"plugin {ep.name!r} failed to load ({BROKEN[ep.name]}); continuing without it")
    _pm = pm
    return pm


def load_problems() -> list[tuple[str, str]]:
    """(plugin, one line) for each hook implementation that matches no hook."""
    pm = get_plugin_manager()
    problems = []
    for name, plugin in pm.list_name_plugin():
        for attr in dir(plugin):
            function = getattr(plugin, attr, None)
            if attr.startswith("_") or not callable(function) or not hasattr(function, f"{GROUP}_impl"):
                continue
            if not hasattr(pm.hook, attr) or attr not in HOOKS:
                close = [h for h in HOOKS if h.rstrip("s") == attr.rstrip("s")] or HOOKS
                problems.append((name, f"plugin {name!r}: {attr!r} is not an astrozoo hook (did you mean "
                                f"{' or '.join(repr(h) for h in close[:3])}?)"))
    return problems


def call_each(hook_name: str, kwargs) -> None:
    """Call one hook on every plugin separately, so one plugin's failure is isolated and named.
    ``kwargs`` is a dict, or a function of the plugin's name giving one (per-plugin callbacks)."""
    pm = get_plugin_manager()
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        try:
            impl.function(**(kwargs(impl.plugin_name) if callable(kwargs) else kwargs))
        except Exception as exc:
            if strict():
                raise
            BROKEN.setdefault(impl.plugin_name, f"{hook_name}: {type(exc).__name__}: {exc}")
            warn(f"plugin {impl.plugin_name!r} failed in {hook_name} ({type(exc).__name__}: {exc})")


def plugin_table(problems=()) -> list[dict]:
    """Installed plugins with their hooks, versions and status (for ``astrozoo plugins``): a
    plugin named in a load-time problem is not ``ok``."""
    pm = get_plugin_manager()
    rows = []
    for name, plugin in pm.list_name_plugin():
        mine = [p for p in problems if f"'{name}'" in p or f" {name} (" in f" {p}"]
        status = f"BROKEN: {BROKEN[name]}" if name in BROKEN else ("PROBLEM" if mine else "ok")
        rows.append({"name": name, "hooks": sorted(h.name for h in pm.get_hookcallers(plugin) or []),
                     "package": package_of(name), "status": status, "problems": mine})
    rows += [
        {"name": name, "hooks": [], "package": "?", "status": f"BROKEN: {error}", "problems": []}
        for name, error in BROKEN.items()
        if not pm.has_plugin(name)
    ]
    return rows


def reset() -> None:
    """Forget the loaded plugins (tests use this after changing ASTROZOO_PLUGINS)."""
    global _pm
    _pm = None
    BROKEN.clear()
    PACKAGES.clear()
