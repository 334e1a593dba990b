"""The PluginManager: built-in plugins and the ``astrozoo`` entry points, loaded the same way.

``ASTROZOO_PLUGINS=name,name`` restricts which installed plugins load (empty: none). A plugin
that fails to import is reported by name on stderr and recorded in ``BROKEN``; the rest load.
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

BROKEN: dict[str, str] = {}
PACKAGES: dict[str, str] = {}
_pm: pluggy.PluginManager | None = None


def warn(message: str) -> None:
    print(f"astrozoo: {message}", file=sys.stderr)


def _wanted() -> set[str] | None:
    value = os.environ.get("ASTROZOO_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


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
            BROKEN[ep.name] = f"{type(exc).__name__}: {exc}"
            warn(f"plugin {ep.name!r} failed to load ({BROKEN[ep.name]}); continuing without it")
    _pm = pm
    return pm


def call_each(hook_name: str, **kwargs) -> None:
    """Call one hook on every plugin separately, so one plugin's failure is isolated and named."""
    pm = get_plugin_manager()
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        try:
            impl.function(**kwargs)
        except Exception as exc:
            BROKEN.setdefault(impl.plugin_name, f"{hook_name}: {type(exc).__name__}: {exc}")
            warn(f"plugin {impl.plugin_name!r} failed in {hook_name} ({type(exc).__name__}: {exc})")


def plugin_table() -> list[dict]:
    """Installed plugins with their hooks and distribution versions (for ``astrozoo plugins``)."""
    pm = get_plugin_manager()
    rows = [
        {
            "name": name,
            "hooks": sorted(h.name for h in pm.get_hookcallers(plugin) or []),
            "package": PACKAGES.get(name, "astrozoo (built in)"),
            "status": f"BROKEN: {BROKEN[name]}" if name in BROKEN else "ok",
        }
        for name, plugin in pm.list_name_plugin()
    ]
    rows += [
        {"name": name, "hooks": [], "package": "?", "status": f"BROKEN: {error}"}
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
