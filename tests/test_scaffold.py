"""`astrozoo new-plugin`: the generated package installs with pip, is listed, runs end to end
and its own tests pass; its commented examples run; a classification task gets a classifier."""

import importlib.util
import os
import py_compile
import re
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pytest

from astrozoo import scaffold
from astrozoo.interfaces import FitContext, Task
from astrozoo.registry import Registry, get_registry
from astrozoo.testing import run_cli

BIN = Path(sys.executable).parent
NAME = f"scaffold-test-{os.getpid()}"  # unique: other test sessions may share the venv


def cli(args, capsys):
    return run_cli(args, capsys)


def sh(*args, **kwargs):
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "MLFLOW_DISABLE_TELEMETRY": "true",
           "ASTROZOO_PLUGINS": f"toy,{NAME}"}
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, **kwargs)


def test_new_plugin_installs_lists_and_runs(workdir, capsys):
    name = NAME
    folder = workdir / f"astrozoo-{name}"
    code, out, err = cli(["new-plugin", name, "--task", "toy", "--output", str(folder)], capsys)
    assert code == 0, err
    assert f"astrozoo run toy --model {name}" in out
    assert (folder / "src" / f"astrozoo_{name.replace('-', '_')}" / "recipes" / "toy" / f"{name}.toml").is_file()

    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps", "-e", folder]
    installed = sh(*pip)
    assert installed.returncode == 0, installed.stderr
    try:
        listed = sh(BIN / "astrozoo", "list", "scaffold*")
        assert f"toy/{name}" in listed.stdout, listed.stderr
        plugins = sh(BIN / "astrozoo", "plugins")
        assert f"{name}  [astrozoo-{name} 0.1.0]  ok" in plugins.stdout
        assert "register_models, register_recipes" in plugins.stdout

        ran = sh(BIN / "astrozoo", "run", "toy", "--model", name, "--set", "params.features=['x']")
        assert ran.returncode == 0, ran.stderr
        assert "rmse" in ran.stdout and "coverage_68" in ran.stdout  # the template model has an uncertainty
        run_id = ran.stdout.split("run id: ")[1].split()[0]
        params = mlflow.MlflowClient(os.environ["MLFLOW_TRACKING_URI"]).get_run(run_id).data.params
        assert params["params.alpha"] == "1.0"  # from the plugin's own card

        tested = sh(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", folder / "tests", cwd=folder)
        assert tested.returncode == 0, tested.stdout + tested.stderr
        assert "2 passed" in tested.stdout
    finally:
        sh(sys.executable, "-m", "pip", "uninstall", "-q", "-y", f"astrozoo-{name}")


def uncommented(source: str) -> str:
    """plugin.py with its commented examples switched on (the lines after the first '# ---')."""
    head, examples = source.split("\n# ---", 1)
    lines = []
    for line in ("# ---" + examples).splitlines():
        if line.startswith("# ---"):
            lines.append("")
        elif line.startswith("# ") or line == "#":
            lines.append(line[2:])
        else:
            lines.append(line)
    return head + "\n" + "\n".join(lines) + "\n"


def test_the_commented_examples_run_when_uncommented(tmp_path, monkeypatch):
    folder = scaffold.create("toy", task="toy", output=tmp_path / "astrozoo-toy")
    source = folder / "src" / "astrozoo_toy"
    plugin_file = source / "plugin.py"
    plugin_file.write_text(uncommented(plugin_file.read_text()))
    monkeypatch.syspath_prepend(str(source.parent))
    spec = importlib.util.spec_from_file_location("astrozoo_toy_examples", plugin_file)
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)

    registry = Registry()
    plugin.register_metrics(registry.add_metric)
    plugin.register_datasets(registry.add_dataset)
    plugin.register_tasks(registry.add_task)
    plugin.register_models(registry.add_model)
    task = registry.task("toy")
    data = registry.dataset("toy", task.default_dataset)()
    train, val, test = (data.load(s) for s in ("train", "val", "test"))
    model = registry.models[("toy", "toy")][0].load()(features=["x"]).fit(train, val, FitContext())
    prediction = model.predict(test)
    assert registry.metric("max_abs_error")(test.y, prediction) < 0.5
    assert np.sqrt(np.mean((prediction - test.y) ** 2)) < 0.15  # the noise is 0.1
    sys.modules.pop("astrozoo_toy.model", None)
    sys.modules.pop("astrozoo_toy", None)


def test_a_classification_task_gets_a_classifier(tmp_path, fresh_registry, monkeypatch):
    get_registry().add_task(Task(name="galaxy-kind", target="0 or 1", default_dataset="none",
                                 metrics=("accuracy",), primary_metric="accuracy", kind="classification"))
    folder = scaffold.create("kinds", task="galaxy-kind", output=tmp_path / "k")
    for path in folder.rglob("*.py"):
        py_compile.compile(str(path), doraise=True)
    assert 'features = []' in next(folder.rglob("kinds.toml")).read_text()
    monkeypatch.syspath_prepend(str(folder / "src"))
    from astrozoo_kinds.model import Kinds
    from astrozoo.interfaces import Split

    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    split = Split("train", ids=np.arange(400), y=(x > 0).astype(int), data={"columns": {"x": x}})
    proba = Kinds(features=["x"]).fit(split, split, FitContext()).predict(split)
    assert proba.shape == (400,) and ((proba > 0.5) == split.y).mean() > 0.9
    prior = Kinds().fit(split, split, FitContext()).predict(split)  # no features: the class frequencies
    assert np.allclose(prior, split.y.mean(), atol=0.05)
    for module in [m for m in sys.modules if m.startswith("astrozoo_kinds")]:
        sys.modules.pop(module)


@pytest.mark.parametrize("args, message", [
    (["new-plugin", "My_Plugin"], "plugin name 'My_Plugin': use lower-case letters"),
    (["new-plugin", "ok", "--task", "tyo"], "did you mean 'toy'?"),
    (["new-plugin", "ok", "--model", "9lives"], "model name '9lives'"),
])
def test_new_plugin_errors_are_one_line(args, message, workdir, capsys):
    code, _, err = cli(args, capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_new_plugin_refuses_a_folder_in_use(workdir, capsys):
    (workdir / "busy").mkdir()
    (workdir / "busy" / "x").write_text("mine")
    code, _, err = cli(["new-plugin", "ok", "--task", "toy", "--output", "busy"], capsys)
    assert code == 2 and "already exists and is not empty" in err


def test_templates_ship_inside_the_package():
    from importlib import resources

    names = {p.name for p in resources.files("astrozoo").joinpath("templates", "plugin").iterdir()}
    assert {"pyproject.toml.tmpl", "plugin.py.tmpl", "model_regression.py.tmpl", "recipe.toml.tmpl",
            "test_plugin.py.tmpl"} <= names
    for name in names:  # every placeholder is one scaffold.create fills
        text = resources.files("astrozoo").joinpath("templates", "plugin", name).read_text()
        assert set(re.findall(r"\$(\w+)", text)) <= {"name", "module", "task", "model", "kind", "cls",
                                                     "features", "description"}, name
