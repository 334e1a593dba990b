"""The Dataset and Model contracts on a toy task defined here (no task plugin needed):
parameters declared once, the generate-once cache life-cycle, and cross-validation folds."""

import inspect
import pickle

import numpy as np
import pytest

from astrozoo import registry as registry_module
from astrozoo.data import store
from astrozoo.data.splits import fold_split, random_split
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import Dataset, Model, Split, Task
from astrozoo.testing import run_cli

CALLS = []


class ToyMock(Dataset):
    """y = 2 x + noise; ``n`` objects; K-fold cross-validation."""

    name, task, version, folds = "toy-mock", "toy", "1", True

    def __init__(self, seed: int = 0, n: int = 60, fold: int = -1, n_folds: int = 5, path: str = ""):
        super().__init__(seed=seed, n=n, fold=fold, n_folds=n_folds, path=path)
        self.seed, self.n, self.fold, self.n_folds = seed, n, fold, n_folds

    def cache_params(self):
        return {"seed": self.seed, "n": self.n}

    def generate(self, output):
        CALLS.append(output)
        rng = np.random.default_rng(self.seed)
        x = rng.normal(size=self.n)
        return store.write(output, {"catalogue": {"id": np.arange(self.n), "x": x, "y": 2 * x + rng.normal(0, 0.1, self.n)}})

    def load(self, split):
        columns, _ = store.read(self.data_file(), "catalogue")
        label = (fold_split(np.zeros(self.n), self.fold, self.n_folds, self.seed) if self.fold >= 0
                 else random_split(self.n, (0.6, 0.2, 0.2), self.seed))
        rows = label == split
        return Split(split, columns["id"][rows], columns["y"][rows], {"x": columns["x"][rows]})


class ToyReal(ToyMock):
    name, version, folds = "toy-real", "1", False

    def generate(self, output):  # noqa: D102  (pretend: real data has no generator)
        raise AssertionError("never called")


ToyReal.generate = Dataset.generate


class Slope(Model):
    """ŷ = a x, a fitted by least squares; ``shrink`` multiplies a."""

    name, tasks = "slope", ("toy",)

    def __init__(self, shrink: float = 1.0, note: str | None = None):
        self.note = note or "none"

    def fit(self, train, val, context):
        self.a = float(train.data["x"] @ train.y / (train.data["x"] @ train.data["x"])) * self.shrink
        return self

    def predict(self, split):
        return self.a * split.data["x"]


class DoubleSlope(Slope):
    name = "double-slope"

    def __init__(self, factor: int = 2, shrink: float = 0.5, **kwargs):
        super().__init__(shrink=shrink, **kwargs)


@pytest.fixture
def toy(workdir, tmp_path, monkeypatch):
    """The toy task, its two datasets, its model and a card, added to a fresh registry."""
    cards = tmp_path / "cards" / "toy"
    cards.mkdir(parents=True)
    (cards / "slope.toml").write_text('task = "toy"\nmodel = "slope"\ndataset = "toy-mock"\n'
                                    '[params]\nshrink = 1.0\n[data]\nfold = -1\nn_folds = 5\n')
    monkeypatch.setenv("ASTROZOO_REGISTRY", str(tmp_path / "cards"))
    monkeypatch.setenv("ASTROZOO_PLUGINS", "")  # no task plugin: the core alone
    registry_module.reset()
    reg = registry_module.get_registry()
    reg.add_task(Task("toy", "y", "toy-mock", ("rmse",), "rmse"))
    for cls in (ToyMock, ToyReal):
        reg.add_dataset(cls)
    reg.add_model(Slope)
    CALLS.clear()
    yield reg
    registry_module.reset()


# -- Model: parameters declared once ---------------------------------------------------------------
def test_parameters_are_declared_once_and_read_back():
    model = Slope(shrink=0.5)
    assert model.shrink == 0.5 and model.note == "none"  # bound, then normalised by the body
    assert model.get_params() == model.params == {"shrink": 0.5, "note": "none"}
    assert list(inspect.signature(Slope).parameters) == ["shrink", "note"]
    child = DoubleSlope(note="n")
    assert list(inspect.signature(DoubleSlope).parameters) == ["factor", "shrink", "kwargs"]
    assert DoubleSlope.param_names() == ["factor", "shrink", "note"]  # the parent's, through **kwargs
    assert child.get_params() == {"factor": 2, "shrink": 0.5, "note": "n"}
    with pytest.raises(TypeError, match="unexpected keyword argument 'slope'"):
        Slope(slope=1)


def test_a_pickled_model_keeps_its_parameters_old_pickles_included():
    model = pickle.loads(pickle.dumps(DoubleSlope(factor=3)))
    assert model.get_params() == {"factor": 3, "shrink": 0.5, "note": "none"}
    old = Slope.__new__(Slope)  # as pickled before parameters were attributes: a params dict
    old.__setstate__({"params": {"shrink": 0.25, "note": "x"}, "a": 1.0})
    assert old.get_params() == {"shrink": 0.25, "note": "x"} and old.a == 1.0


# -- Dataset: generated once, keyed by version and parameters ----------------------------------------
def test_a_mock_is_generated_once_and_again_when_its_version_changes(toy, monkeypatch):
    first = ToyMock(n=40).data_file()
    assert ToyMock(n=40, fold=2).data_file() == first and len(CALLS) == 1  # fold is not in the key
    assert ToyMock(n=41).data_file() != first and len(CALLS) == 2
    monkeypatch.setattr(ToyMock, "version", "2")
    assert ToyMock(n=40).data_file() != first and len(CALLS) == 3
    assert ToyMock(path=str(first)).data_file() == first and len(CALLS) == 3  # data.path is read as it is
    assert ToyMock.can_generate() and not ToyReal.can_generate()
    with pytest.raises(AstrozooError, match="'toy-real' has no generator"):
        ToyReal().generate(first)


def test_data_generate_writes_the_cache_or_a_file(toy, capsys):
    def cli(*args):
        code, out, err = run_cli(args, capsys)
        return code, out + err

    code, out = cli("data", "generate", "toy", "--set", "n=25", "-o", "toy.h5")
    assert code == 0 and "wrote toy.h5" in out and len(store.read("toy.h5", "catalogue")[0]["x"]) == 25
    code, out = cli("data", "generate", "toy", "--seed", "3")
    assert code == 0 and str(ToyMock(seed=3).data_file()) in out and len(CALLS) == 2
    code, out = cli("data", "generate", "toy", "--dataset", "toy-real")
    assert code == 2 and "dataset 'toy-real' cannot generate; datasets of 'toy' that can: toy-mock" in out
    code, out = cli("data", "generate", "toy", "--set", "size=3")
    assert code == 2 and "unexpected keyword argument 'size'" in out


# -- K folds --------------------------------------------------------------------------------------------
def test_folds_run_for_a_dataset_with_folds_and_fail_in_one_line_otherwise(toy, capsys):
    from astrozoo import runner

    runner.run_many("toy", "slope", folds=3, echo=lambda *_: None)
    import mlflow

    runs = mlflow.search_runs(experiment_names=["toy"])
    children = runs[runs["tags.mlflow.parentRunId"].notna()]
    assert sorted(children["params.data.fold"].astype(int)) == [0, 1, 2]
    assert sorted(children["params.data.n_test"].astype(int)) == [20, 20, 20]  # each fold tests a third
    code, _, err = run_cli(["run", "toy", "--model", "slope", "--dataset", "toy-real", "--folds", "3"], capsys)
    assert code == 2 and "dataset 'toy-real' offers no cross-validation folds" in err
    assert "that do: toy-mock" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(AstrozooError, match="at least 3 folds"):
        runner.run_many("toy", "slope", folds=2)
