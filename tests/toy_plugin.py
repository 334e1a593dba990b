"""A tiny task for the core's tests, so that they need no task plugin: y = 2x, a mean model."""

import numpy as np

from astrozoo import hookimpl
from astrozoo.interfaces import Dataset, Model, Split, Task


class ToyData(Dataset):
    name, task, provenance = "toy-data", "toy", "mock"
    loads = 0

    def __init__(self, n: int = 40, noise: float = 0.0):
        super().__init__(n=n, noise=noise)
        self.n, self.noise = n, noise

    def load(self, split):
        ToyData.loads += 1
        rng = np.random.default_rng({"train": 0, "val": 1, "test": 2}[split])
        x = rng.uniform(0, 1, self.n)
        y = 2 * x + rng.normal(0, self.noise, self.n)
        return Split(split, np.arange(self.n), y, data={"columns": {"x": x, "y_true": y}})


class Mean(Model):
    name, tasks = "mean", ("toy",)

    def __init__(self, shift: float = 0.0):
        super().__init__(shift=shift)
        self.shift = shift

    def fit(self, train, val, context):
        self.mean_ = float(np.mean(train.y)) + self.shift
        return self

    def predict(self, split):
        return np.full(len(split), self.mean_)


TOY = Task(name="toy", target="y", default_dataset="toy-data", metrics=("rmse",), primary_metric="rmse",
           truth=("y_true",))


class ToyPlugin:
    @staticmethod
    @hookimpl
    def register_tasks(register):
        register(TOY)

    @staticmethod
    @hookimpl
    def register_datasets(register):
        register(ToyData)

    @staticmethod
    @hookimpl
    def register_models(register):
        register(Mean)
        register("tests_toy_nowhere:Lazy", name="lazy", tasks=("toy",))


def load_toy(monkeypatch, *extra):
    """A fresh registry with only the toy plugin (and the built-in metrics) plus ``extra``
    (name, plugin) pairs. Use with the ``fresh_registry`` fixture."""
    from astrozoo import plugins
    from astrozoo.registry import get_registry

    monkeypatch.setenv("ASTROZOO_PLUGINS", "")
    pm = plugins.get_plugin_manager()
    pm.register(ToyPlugin, name="toy")
    for name, plugin in extra:
        pm.register(plugin, name=name)
    return get_registry()
