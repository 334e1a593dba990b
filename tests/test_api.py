"""The notebook API (astrozoo.api, in timm's style): names, cards applied, datasets, tracked runs."""

import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pytest

import astrozoo
from astrozoo import api
from astrozoo.errors import AstrozooError
from astrozoo.recipes import parse_override


def test_the_api_is_exported_lazily_from_astrozoo():
    probe = ("import sys, astrozoo; print(sorted(m for m in ('torch', 'sklearn', 'mlflow', 'timm', "
             "'astrozoo.api', 'astrozoo.registry') if m in sys.modules)); print(astrozoo.list_models('*/oracle'))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "[]"  # `import astrozoo` loads neither the API nor any heavy library
    assert out[1] == "['halo-mass/oracle', 'mergers/oracle']"
    assert astrozoo.create_model is api.create_model and "run" in dir(astrozoo)
    with pytest.raises(AttributeError, match="no attribute 'create_modle'"):
        astrozoo.create_modle


def test_list_models_filters_with_wildcards():
    assert "halo-mass/gnn" in astrozoo.list_models("halo-mass")
    assert astrozoo.list_models("cnn-*") == sorted(m for m in astrozoo.list_models() if m.split("/")[1].startswith("cnn-"))
    assert astrozoo.list_models("no-such-*") == []


def test_create_model_applies_the_card_the_profile_and_overrides():
    quick = astrozoo.create_model("halo-mass", "gnn")
    assert quick.params["epochs"] == 100 and quick.params["hidden"] == 16  # registry/halo-mass/gnn.toml, profile quick
    assert astrozoo.create_model("halo-mass", "gnn", profile="paper").params["epochs"] == 500
    tuned = astrozoo.create_model("halo-mass", "gnn", epochs=3, aggr="sum")
    assert (tuned.params["epochs"], tuned.params["aggr"]) == (3, "sum")
    forest = astrozoo.create_model("halo-mass", "simple", min_samples_leaf=5)  # not on the card, taken by the model
    assert forest.options["min_samples_leaf"] == 5
    with pytest.raises(AstrozooError, match="create_model\\('halo-mass', 'gnn'\\): unknown parameter 'epoch'"):
        astrozoo.create_model("halo-mass", "gnn", epoch=3)
    with pytest.raises(AstrozooError, match="did you mean 'gnn'"):
        astrozoo.create_model("halo-mass", "gn")


def test_load_dataset_gives_the_default_or_a_named_dataset(workdir):
    data = astrozoo.load_dataset("halo-mass")
    assert data.name == "mock-tng50" and data.params["seed"] == 0
    train = data.load("train")
    assert len(train) > 100 and np.isfinite(train.y).all()
    assert astrozoo.load_dataset("halo-mass", "mock-tng300", seed=1).params["seed"] == 1
    with pytest.raises(AstrozooError, match="unknown dataset 'mock-tng51'"):
        astrozoo.load_dataset("halo-mass", "mock-tng51")


def test_run_trains_and_tracks_like_the_cli(workdir):
    result, run_id = astrozoo.run("halo-mass", "simple", params={"n_estimators": 10}, echo=lambda *a: None)
    assert result.metrics["rmse"] > 0 and set(result.predictions) == {"train", "val", "test"}
    run = mlflow.MlflowClient().get_run(run_id)
    assert run.data.params["params.n_estimators"] == "10" and run.data.tags["astrozoo.model"] == "simple"
    assert run.data.metrics["test_rmse"] == pytest.approx(result.metrics["rmse"])


@pytest.mark.parametrize("value", [3, 0.5, True, "max,sum", [1, 2], ["a", "b"], {"patch_size": 4, "depth": 6}])
def test_python_values_reach_the_card_unchanged(value):
    assert parse_override(f"params.x={api._toml(value)}")[2] == value


def _rounded(value):
    if isinstance(value, (float, np.floating)):
        return round(float(value), 4)
    if isinstance(value, (tuple, list)):
        return type(value)(_rounded(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value


def test_the_example_of_docs_api_gives_the_values_the_page_shows(workdir):
    page = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text()
    code = page.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "docs/api.md", "exec"), namespace)
    lines, shown = code.splitlines(), 0
    for i, line in enumerate(lines):
        if line and not line.startswith("#") and i + 1 < len(lines) and lines[i + 1].startswith("# "):
            comment = []
            for following in lines[i + 1:]:
                if not following.startswith("#"):
                    break
                comment.append(following[1:])
            expected = "".join(comment).replace(" ", "")
            assert repr(_rounded(eval(line, namespace))).replace(" ", "") == expected, line
            shown += 1
    assert shown == 8
