"""A tiny task for the core's tests, so that they need no task plugin: y = 2x + noise.

``toy-data`` draws its splits in memory, or reads a catalogue file (``path=``; ``generate``
writes one, the ``all`` split is every row: what ``astrozoo predict`` reads); ``toy-wide`` is
a second dataset (x over [0, 2]). Models: ``mean`` (a constant), ``line`` (a polynomial fit,
with a recipe card in ``toy_cards/``), ``net`` (a tiny MLP on the core's training loop) and
``oracle``, a ceiling that reads the truth. The
conftest installs it as a plugin (an entry point) for every test module of the core."""

from pathlib import Path

import numpy as np

from astrozoo import hookimpl
from astrozoo.interfaces import Dataset, Model, Split, Task
from astrozoo.validate import Column

SPLITS = ("train", "val", "test")
SCHEMA = {"catalogue": {"id": Column("iu"), "x": Column("f")}}


class ToyData(Dataset):
    name, task, provenance = "toy-data", "toy", "mock"
    schema = SCHEMA
    loads = 0
    high = 1.0  # x is uniform on [0, high]

    def __init__(self, n: int = 40, noise: float = 0.0, seed: int = 0, path: str = ""):
        super().__init__(n=n, noise=noise, seed=seed, path=path)
        self.n, self.noise, self.seed, self.path = n, noise, seed, path

    def _draw(self, split: str) -> dict:
        rng = np.random.default_rng(SPLITS.index(split) + 3 * self.seed)
        x = rng.uniform(0, self.high, self.n)
        return {"id": np.arange(self.n) + self.n * SPLITS.index(split), "x": x,
                "y_true": 2 * x + rng.normal(0, self.noise, self.n)}

    def generate(self, output: Path) -> Path:
        from astrozoo.data import store

        parts = [self._draw(s) for s in SPLITS]
        table = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        table["split"] = np.repeat(np.arange(3), self.n)
        return store.write(output, {"catalogue": table}, {"provenance": "mock", "seed": self.seed,
                                                          "n": self.n, "noise": self.noise})

    def load(self, split):
        ToyData.loads += 1
        if self.path:
            from astrozoo.data import store

            columns, _ = store.read(self.data_file(), "catalogue", required=("id", "x"))
            if split != "all":
                keep = columns["split"] == SPLITS.index(split)
                columns = {k: v[keep] for k, v in columns.items()}
        elif split == "all":
            parts = [self._draw(s) for s in SPLITS]
            columns = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        else:
            columns = self._draw(split)
        y = columns.get("y_true", np.full(len(columns["x"]), np.nan))
        return Split(split, columns["id"], y, data={"columns": columns})

    def info(self):
        return {"file": str(self.path), "n": self.n}


class ToyWide(ToyData):
    name = "toy-wide"
    high = 2.0


class Mean(Model):
    name, tasks = "mean", ("toy",)

    def __init__(self, shift: float = 0.0):
        pass

    def fit(self, train, val, context):
        self.mean_ = float(np.mean(train.y)) + self.shift
        return self

    def predict(self, split):
        return np.full(len(split), self.mean_)


class Line(Model):
    name, tasks = "line", ("toy",)

    def __init__(self, degree: int = 1):
        pass

    def fit(self, train, val, context):
        self.coef_ = np.polyfit(train.data["columns"]["x"], train.y, self.degree)
        return self

    def predict(self, split):
        return np.polyval(self.coef_, split.data["columns"]["x"])


class Net(Model):
    """A tiny MLP trained by the core's loop (astrozoo.training: checkpoints, resume, devices);
    ``pause`` seconds per epoch let a test kill a run mid-training."""

    name, tasks = "net", ("toy",)

    def __init__(self, epochs: int = 20, lr: float = 0.01, hidden: int = 8, pause: float = 0.0):
        pass

    def fit(self, train, val, context):
        import time

        import torch

        from astrozoo.training import fit

        self.network = torch.nn.Sequential(torch.nn.Linear(1, self.hidden), torch.nn.Tanh(),
                                           torch.nn.Linear(self.hidden, 1))
        x, y = self._x(train), torch.as_tensor(train.y, dtype=torch.float32)
        x_val, y_val = self._x(val), torch.as_tensor(val.y, dtype=torch.float32)
        generator = torch.Generator().manual_seed(context.seed)

        def batches():
            time.sleep(self.pause)
            order = torch.randperm(len(x), generator=generator)
            for i in range(0, len(x), 8):
                yield x[order[i:i + 8]], y[order[i:i + 8]]

        def loss(batch):
            return torch.nn.functional.mse_loss(self.network(batch[0]).squeeze(-1), batch[1])

        def validate():
            return float(torch.nn.functional.mse_loss(self.network(x_val).squeeze(-1), y_val))

        optimizer = torch.optim.Adam(self.network.parameters(), lr=self.lr)
        self.history = fit(self.network, optimizer, batches=batches, loss=loss, validate=validate,
                           epochs=self.epochs, context=context, desc=self.name, generators=[generator])
        self.network.eval()
        return self

    @staticmethod
    def _x(split):
        import torch

        return torch.as_tensor(split.data["columns"]["x"], dtype=torch.float32)[:, None]

    def predict(self, split):
        import torch

        with torch.no_grad():
            return self.network(self._x(split)).squeeze(-1).numpy().astype(float)


class Oracle(Model):
    """A ceiling: predicts the truth it reads."""

    name, tasks, needs_truth = "oracle", ("toy",), True

    def fit(self, train, val, context):
        return self

    def predict(self, split):
        return split.data["columns"]["y_true"]


def report(result, outdir: Path) -> list[Path]:
    from astrozoo.plots import predicted_vs_true

    test = result.predictions["test"]
    return [predicted_vs_true(test["y_true"], test["y_pred"], Path(outdir) / "predicted_vs_true.png")]


TOY = Task(name="toy", target="y", default_dataset="toy-data", metrics=("rmse", "mae"), primary_metric="rmse",
           truth=("y_true",), report=report, inputs=("columns: id, x",))
CARDS = Path(__file__).resolve().parent / "toy_cards"


class ToyPlugin:
    @staticmethod
    @hookimpl
    def register_tasks(register):
        register(TOY)

    @staticmethod
    @hookimpl
    def register_datasets(register):
        register(ToyData)
        register(ToyWide)

    @staticmethod
    @hookimpl
    def register_models(register):
        register(Mean)
        register(Line)
        register(Net)
        register(Oracle)
        register("tests_toy_nowhere:Lazy", name="lazy", tasks=("toy",))

    @staticmethod
    @hookimpl
    def register_recipes(register):
        register(CARDS)


def requires(plugin: str):
    """Skip a test where the plugin ``plugin`` is not installed (a core-only environment)."""
    import pytest
    from importlib.metadata import entry_points

    have = any(ep.name == plugin for ep in entry_points(group="astrozoo"))
    return pytest.mark.skipif(not have, reason=f"needs the {plugin} plugin (not installed)")


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
