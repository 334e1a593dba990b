"""The notebook API (astrozoo.api, in timm's style): names, cards applied, datasets, tracked runs."""

import subprocess
import sys

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
    assert out[1] == "['toy/oracle']"
    assert astrozoo.create_model is api.create_model and "run" in dir(astrozoo)
    with pytest.raises(AttributeError, match="no attribute 'create_modle'"):
        astrozoo.create_modle


def test_list_models_filters_with_wildcards():
    assert astrozoo.list_models("toy") == ["toy/lazy", "toy/line", "toy/mean", "toy/net", "toy/oracle"]
    assert astrozoo.list_models("*/l*") == ["toy/lazy", "toy/line"]
    assert astrozoo.list_models("no-such-*") == []


def test_create_model_applies_the_card_the_profile_and_overrides():
    assert astrozoo.create_model("toy", "line").params == {"degree": 1}  # tests/toy_cards/toy/line.toml, quick
    assert astrozoo.create_model("toy", "line", profile="paper").params == {"degree": 2}
    assert astrozoo.create_model("toy", "line", degree=3).degree == 3
    assert astrozoo.create_model("toy", "mean", shift=0.5).params == {"shift": 0.5}  # a model without a card
    with pytest.raises(AstrozooError, match="create_model\\('toy', 'line'\\): unknown parameter 'degre'"):
        astrozoo.create_model("toy", "line", degre=3)
    with pytest.raises(AstrozooError, match="did you mean 'line'"):
        astrozoo.create_model("toy", "lin")


def test_load_dataset_gives_the_default_or_a_named_dataset(workdir):
    data = astrozoo.load_dataset("toy")
    assert data.name == "toy-data" and data.params["seed"] == 0
    train = data.load("train")
    assert len(train) == 40 and np.allclose(train.y, 2 * train.data["columns"]["x"])
    wide = astrozoo.load_dataset("toy", "toy-wide", seed=1)
    assert wide.params["seed"] == 1 and wide.load("train").data["columns"]["x"].max() > 1
    with pytest.raises(AstrozooError, match="unknown dataset 'toy-dat'"):
        astrozoo.load_dataset("toy", "toy-dat")


def test_run_trains_and_tracks_like_the_cli(workdir):
    result, run_id = astrozoo.run("toy", "line", params={"degree": 2}, echo=lambda *a: None)
    assert 0.05 < result.metrics["rmse"] < 0.15 and set(result.predictions) == {"train", "val", "test"}  # noise 0.1
    run = mlflow.MlflowClient().get_run(run_id)
    assert run.data.params["params.degree"] == "2" and run.data.tags["astrozoo.model"] == "line"
    assert run.data.metrics["test_rmse"] == pytest.approx(result.metrics["rmse"])


@pytest.mark.parametrize("value", [3, 0.5, True, "max,sum", [1, 2], ["a", "b"], {"patch_size": 4, "depth": 6}])
def test_python_values_reach_the_card_unchanged(value):
    assert parse_override(f"params.x={api._toml(value)}")[2] == value
