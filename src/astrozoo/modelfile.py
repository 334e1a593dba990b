"""The saved-model file (``model.azm``): reading it runs no code from the file.

A file is a zip of
- ``meta.json``: the format, the model's class, name and parameters;
- ``tensors.safetensors``: every torch tensor of the model (weights, buffers), in safetensors;
- ``arrays.npz``: every numpy array (scikit-learn's trees, fitted coefficients), read with
  ``allow_pickle=False``;
- ``skeleton.pkl``: the rest of the object — which classes, which plain values — as a pickle
  whose tensors and arrays are references into the two files above.

The skeleton is read by a restricted unpickler (the rule of ``torch.load(weights_only=True)``,
widened to model objects): it may name only **classes** — any class of astrozoo and of the
installed plugins that register models; of torch, torch_geometric, timm, torchvision,
scikit-learn, XGBoost, numpy and scipy only torch modules and optimizers, scikit-learn
estimators and trees, XGBoost boosters, and their dataclasses, named tuples and enums (a
``torch.jit.ScriptModule`` never) — and a short list of plain types (``OrderedDict``, ``set``,
numpy dtypes, typing forms). It may call only those classes. A pickle that names anything else (``os.system``, ``builtins.eval``,
``subprocess.Popen``, ``torch.load``) is refused with one line before anything runs.
The loaded object must be the model registered under its name, so a file cannot pose as
another model.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import json
import os
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np

from astrozoo.errors import AstrozooError

FORMAT = "astrozoo.model/1"
TRUSTED_PACKAGES = {"astrozoo", "torch", "torch_geometric", "timm", "torchvision", "sklearn", "xgboost",
                    "numpy", "scipy"}
SAFE = {  # plain types and the few functions numpy and typing pickle through
    ("collections", "OrderedDict"), ("collections", "defaultdict"), ("builtins", "set"),
    ("builtins", "frozenset"), ("builtins", "slice"), ("builtins", "complex"), ("builtins", "bytearray"),
    ("builtins", "range"), ("builtins", "int"), ("builtins", "float"), ("builtins", "str"),
    ("builtins", "bool"), ("builtins", "tuple"), ("builtins", "list"), ("builtins", "dict"),
    ("builtins", "object"), ("builtins", "type"), ("_operator", "getitem"),
    ("numpy", "dtype"), ("numpy", "ndarray"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"), ("inspect", "_empty"), ("inspect", "Parameter"),
    ("inspect", "_ParameterKind"), ("inspect", "Signature"),
    ("typing", "Union"), ("typing", "Optional"), ("typing", "Any"), ("typing", "Tuple"),
    ("typing", "List"), ("typing", "Dict"), ("typing", "Callable"), ("typing", "OrderedDict"),
    ("torch", "Tensor"),  # as a type annotation
    ("torch_geometric.inspector", "Inspector"),  # a message-passing layer's record of its signatures
}


class UnsafeModelFile(AstrozooError):
    """A model file that asks for something astrozoo does not run."""


def save(model, path) -> Path:
    """Write ``model`` to ``path`` (atomically: a half-written file never has the name)."""
    path = Path(path)
    torch = sys.modules.get("torch")
    tensors, arrays, keys, keep = {}, {}, {}, []

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if torch is not None and type(obj) in (torch.Tensor, torch.nn.Parameter):
                key = keys.setdefault(id(obj), f"t{len(keys)}")
                keep.append(obj)
                tensors[key] = obj.detach().to("cpu").contiguous().clone()
                return ("tensor", key, isinstance(obj, torch.nn.Parameter), bool(obj.requires_grad))
            if type(obj) is np.ndarray and not obj.dtype.hasobject:
                key = keys.setdefault(id(obj), f"a{len(keys)}")
                keep.append(obj)
                arrays[key] = obj
                return ("array", key)
            return None

    skeleton = io.BytesIO()
    Pickler(skeleton, protocol=4).dump(model)
    meta = {"format": FORMAT, "class": f"{type(model).__module__}:{type(model).__qualname__}",
            "name": getattr(model, "name", ""), "params": getattr(model, "params", {})}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with zipfile.ZipFile(tmp, "w") as z:
            z.writestr("meta.json", json.dumps(meta, default=str, indent=1))
            z.writestr("skeleton.pkl", skeleton.getvalue())
            buffer = io.BytesIO()
            np.savez(buffer, **arrays)
            z.writestr("arrays.npz", buffer.getvalue())
            if tensors:
                from safetensors.torch import save as save_tensors

                z.writestr("tensors.safetensors", save_tensors(tensors))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load(path, task: str | None = None):
    """Read a model written by :func:`save` (or an older plain pickle, under the same rules).
    With ``task``, the object must be the model registered for that task under its name."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                meta = json.loads(z.read("meta.json"))
                if meta.get("format") != FORMAT:
                    raise AstrozooError(f"{path}: unknown model format {meta.get('format')!r}")
                arrays = dict(np.load(io.BytesIO(z.read("arrays.npz")), allow_pickle=False))
                tensors = {}
                if "tensors.safetensors" in z.namelist():
                    from safetensors.torch import load as load_tensors

                    tensors = load_tensors(z.read("tensors.safetensors"))
                model = _Unpickler(io.BytesIO(z.read("skeleton.pkl")), path, arrays, tensors).load()
        else:
            with open(path, "rb") as fh:
                model = _Unpickler(fh, path, {}, {}).load()
    except AstrozooError:
        raise
    except Exception as exc:  # a truncated or corrupt file: one line
        raise AstrozooError(f"{path}: not a readable astrozoo model ({type(exc).__name__}: {exc})") from exc
    _check_registered(model, path, task)
    return model


def _check_registered(model, path: Path, task: str | None) -> None:
    from astrozoo.interfaces import Model

    if not isinstance(model, Model):
        raise UnsafeModelFile(f"{path}: holds a {type(model).__name__}, not an astrozoo model")
    if task is not None:
        from astrozoo.registry import get_registry

        registered = get_registry().model(task, model.name)
        if type(model) is not registered:
            raise UnsafeModelFile(f"{path}: holds {type(model).__module__}.{type(model).__qualname__}, "
                                  f"not the model registered as {task}/{model.name}")


def _trusted_packages() -> set[str]:
    from astrozoo.registry import get_registry

    plugins = {entry.module.split(".")[0] for entries in get_registry().models.values() for entry in entries}
    return TRUSTED_PACKAGES | plugins


def _trusted_class(obj, own: set[str] = frozenset()) -> bool:
    """A class the file may name: any class of astrozoo and its plugins (``own``), and of the
    libraries only their model classes."""
    if not isinstance(obj, type) or obj.__module__.startswith("torch.jit"):
        return False
    if obj.__module__.split(".")[0] in own:
        return True
    from astrozoo.interfaces import Model

    bases = [Model, enum.Enum, tuple]
    torch = sys.modules.get("torch")
    if torch is not None:
        if issubclass(obj, torch.jit.ScriptModule):
            return False
        bases += [torch.nn.Module, torch.optim.Optimizer]
    for module, name in (("sklearn.base", "BaseEstimator"), ("sklearn.tree._tree", "Tree"),
                         ("xgboost.core", "Booster")):
        if module in sys.modules:
            bases.append(getattr(sys.modules[module], name))
    return issubclass(obj, tuple(bases)) or dataclasses.is_dataclass(obj)


class _Unpickler(pickle._Unpickler):  # the Python implementation: its REDUCE can be checked
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, path, arrays, tensors):
        super().__init__(file)
        self.path, self.arrays, self.tensors, self.trusted = path, arrays, tensors, _trusted_packages()
        self.own = {p for p in self.trusted if p.startswith("astrozoo")} | (self.trusted - TRUSTED_PACKAGES)

    def _refuse(self, what: str):
        raise UnsafeModelFile(f"{self.path}: the model file asks for {what}, which astrozoo does not load "
                              "(only tensors, arrays and model classes; see astrozoo.modelfile)")

    def find_class(self, module, name):
        if (module, name) in SAFE:
            return super().find_class(module, name)
        if module.split(".")[0] not in self.trusted:
            self._refuse(f"{module}.{name}")
        try:
            __import__(module)
            obj = sys.modules[module]
            for part in name.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError):
            self._refuse(f"{module}.{name} (not found)")
        if not _trusted_class(obj, self.own):
            self._refuse(f"{module}.{name}")
        return obj

    def load_reduce(self):
        args = self.stack[-1]
        func = self.stack[-2]
        allowed = isinstance(func, type) and (func is not type or len(args) == 1)
        allowed |= getattr(func, "__name__", "") in ("_reconstruct", "scalar") and \
            getattr(func, "__module__", "").startswith("numpy")
        allowed |= func.__class__.__name__ == "builtin_function_or_method" and func.__name__ == "getitem" and \
            bool(args) and type(args[0]).__module__ == "typing"
        if not allowed:
            self._refuse(f"a call of {getattr(func, '__qualname__', type(func).__name__)}")
        super().load_reduce()

    dispatch[pickle.REDUCE[0]] = load_reduce

    def persistent_load(self, pid):
        kind, key = pid[0], pid[1]
        if kind == "array" and key in self.arrays:
            return self.arrays[key]
        if kind == "tensor" and key in self.tensors:
            import torch

            tensor = self.tensors[key]
            if pid[2]:
                return torch.nn.Parameter(tensor, requires_grad=pid[3])
            return tensor.requires_grad_(pid[3]) if tensor.is_floating_point() else tensor
        self._refuse(f"a missing {kind} {key!r}")
