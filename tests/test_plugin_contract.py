"""What a plugin declares is checked when it loads: unique owned names, real hooks, known tasks,
metrics and models, cards that agree with their path and the model's signature — one line each,
exit 2, before any data is read. A toy task defined here, so the core is tested on its own."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from astrozoo import hookimpl
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import Task
from astrozoo.testing import run_cli
from toy_plugin import Mean, ToyData, load_toy


def _load(*extra, monkeypatch=None):
    return load_toy(monkeypatch, *extra)


def _card(folder, task, model, text):
    path = folder / task / f"{model}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_cards_that_disagree_or_name_nobody_are_problems(fresh_registry, monkeypatch, tmp_path):
    _card(tmp_path, "toy", "mean", 'task = "toy"\nmodel = "median"\n')
    _card(tmp_path, "toy", "ghost", 'task = "toy"\nmodel = "ghost"\n')
    _card(tmp_path, "unloaded-task", "x", 'task = "unloaded-task"\nmodel = "x"\n')  # not a problem
    monkeypatch.setenv("ASTROZOO_REGISTRY", str(tmp_path))
    reg = _load(monkeypatch=monkeypatch)
    assert len(reg.problems) == 2, reg.problems
    text = "\n".join(reg.problems)
    assert "mean.toml: says task='toy', model='median' but lies at toy/mean.toml" in text
    assert "ghost.toml: no plugin registers model 'ghost' for task 'toy'" in text


@pytest.mark.parametrize("card, message", [
    ('task = "toy"\nmodel = "mean"\n[params]\nshfit = 1.0\n', "[params]: model 'mean' has no parameter 'shfit'; "
                                                             "did you mean 'shift'?"),
    ('task = "toy"\nmodel = "median"\n', "says task='toy', model='median'"),
])
def test_a_run_needing_a_bad_declaration_stops_before_data(fresh_registry, monkeypatch, tmp_path, workdir,
                                                           capsys, card, message):
    _card(tmp_path / "cards", "toy", "mean", card)
    monkeypatch.setenv("ASTROZOO_REGISTRY", str(tmp_path / "cards"))
    _load(monkeypatch=monkeypatch)
    ToyData.loads = 0
    code, _, err = run_cli(["run", "toy", "--model", "mean"], capsys)
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert ToyData.loads == 0
    assert not (workdir / "mlflow.db").exists() or _runs(workdir) == 0


def _runs(workdir) -> int:
    import sqlite3

    with sqlite3.connect(workdir / "mlflow.db") as db:
        try:
            return db.execute("select count(*) from runs").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def test_predict_sees_no_target_and_no_truth(fresh_registry, monkeypatch, workdir, capsys):
    class Cheat(Mean):
        name = "cheat"

        def predict(self, split):
            return np.asarray(split.data["columns"]["y_true"])

    class CheatPlugin:
        @staticmethod
        @hookimpl
        def register_models(register):
            register(Cheat)

    _load(("cheat", CheatPlugin), monkeypatch=monkeypatch)
    code, out, err = run_cli(["run", "toy", "--model", "cheat"], capsys)
    assert code == 2 and "model 'cheat' read the truth of split 'train' in predict: 'y_true' is truth" in err
    code, out, _ = run_cli(["run", "toy", "--model", "mean"], capsys)
    assert code == 0 and "rmse" in out


# -- two installed distributions (real entry points), through the real CLI ---------------------

DIST = """
import numpy as np
from astrozoo import hookimpl
from astrozoo.interfaces import Dataset, Model, Split, Task


class Mean(Model):
    name, tasks = "mean", ("toy",)

    def __init__(self, shift: float = 0.0):
        super().__init__(shift=shift)
        self.shift = shift

    def fit(self, train, val, context):
        self.mean_ = float(np.mean(train.y)) + self.shift + {offset}
        return self

    def predict(self, split):
        return np.full(len(split), self.mean_)


class ToyData(Dataset):
    name, task, provenance = "toy-data", "toy", "mock"

    def load(self, split):
        rng = np.random.default_rng(len(split))
        x = rng.uniform(0, 1, 30)
        return Split(split, np.arange(30), 2 * x, data={{"columns": {{"x": x}}}})


@hookimpl
def register_models(register):
    register(Mean)
"""

TASK_HOOKS = """

@hookimpl
def register_tasks(register):
    register(Task(name="toy", target="y", default_dataset="toy-data", metrics=("rmse",), primary_metric="rmse"))


@hookimpl
def register_datasets(register):
    register(ToyData)
"""


def _install(site, dist, version, module, source):
    (site / f"{module}.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[astrozoo]\n{dist} = {module}\n")


def test_two_installed_plugins_with_one_model_name(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _install(site, "toy-a", "1.2.0", "toy_a_plugin", DIST.format(offset=0.0) + TASK_HOOKS)
    _install(site, "toy-b", "0.3.1", "toy_b_plugin", DIST.format(offset=100.0))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}", "ASTROZOO_PLUGINS": "toy-a,toy-b"}

    def cli(*args, **extra):
        done = subprocess.run([sys.executable, "-m", "astrozoo", *args], env={**env, **extra}, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        return done.returncode, done.stdout, done.stderr

    code, out, _ = cli("plugins")
    assert code == 2 and "model 'mean' of task 'toy' is registered by 2 plugins" in out
    assert "toy-a (toy-a 1.2.0)" in out and "toy-b (toy-b 0.3.1)" in out
    assert "toy-a  [toy-a 1.2.0]  PROBLEM" in out and "toy-b  [toy-b 0.3.1]  PROBLEM" in out
    code, _, err = cli("run", "toy", "--model", "mean")
    assert code == 2 and "registered by 2 plugins" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    code, out, err = cli("run", "toy", "--model", "mean", ASTROZOO_PLUGINS="toy-a")
    assert code == 0, err
    import mlflow

    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    run = mlflow.search_runs(experiment_names=["toy"], output_format="list")[0]
    assert run.data.tags["astrozoo.plugin.model"] == "toy-a 1.2.0"
    assert run.data.tags["astrozoo.plugin.dataset"] == "toy-a 1.2.0"
    assert {i.dataset.name for i in run.inputs.dataset_inputs} == {"toy-data"}
    code, out, err = cli("run", "toy", "--model", "toy-b:mean")  # or name the plugin
    assert code == 0, err
