"""``lazy_import(name)``: a module that is imported when first used (importlib's LazyLoader).

Task modules use it for their figure code, so that registering a task at start-up imports no
matplotlib, scikit-learn or torch: ``figures = lazy_import("my_plugin.figures")``.
"""

from __future__ import annotations

import importlib.util
import sys


def lazy_import(name: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise ImportError(f"no module named {name!r}")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
