"""The contract checks (astrozoo.testing) catch what they are for, on the toy task: a model that
reads the truth, a model that is not reproducible, a card key its model does not take, a dataset
that leaks its target; `astrozoo run` refuses a model that reads the truth while a declared
ceiling runs. (Every installed built-in is checked in plugins/test_builtin_contracts.py.)"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from astrozoo.interfaces import Dataset, Model, Split
from astrozoo.registry import get_registry
from astrozoo.testing import ContractError, check_cards, check_dataset, check_model, run_cli


def test_the_toy_task_keeps_the_contract():
    assert check_cards("toy")
    splits = check_dataset("toy", "toy-data", noise=0.1)
    assert set(splits) >= {"train", "val", "test"}
    out = check_model("toy", "line", data={"noise": 0.1})
    assert len(out["predictions"]) == len(out["splits"][2])


class ReadsTheTruth(Model):
    """Cheats: predicts the truth column it finds in the catalogue."""

    name, tasks = "reads-the-truth", ("toy",)

    def fit(self, train, val, context):
        return self

    def predict(self, split):
        return split.data["columns"]["y_true"]


class ReadsY(ReadsTheTruth):
    def predict(self, split):
        return split.y


class Unseeded(ReadsTheTruth):
    """Fits a random offset without using the seed it is given."""

    def fit(self, train, val, context):
        self.offset = np.random.default_rng().normal()
        return self

    def predict(self, split):
        return split.data["columns"]["x"] + self.offset


@pytest.mark.parametrize("cheat, read", [(ReadsTheTruth, "'y_true' is truth"), (ReadsY, "split.y")])
def test_a_model_that_reads_the_truth_fails_the_check(cheat, read):
    with pytest.raises(ContractError, match=f"reads-the-truth.*{read}"):
        check_model("toy", cheat)


def test_an_unseeded_model_fails_the_check():
    with pytest.raises(ContractError, match="two fits with seed 0 predict differently"):
        check_model("toy", Unseeded)


def test_a_card_key_the_model_does_not_take_fails_the_check(tmp_path):
    Line = get_registry().model("toy", "line")
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "line.toml").write_text('task = "toy"\nmodel = "line"\n[params]\ndegre = 2\n')
    with pytest.raises(ContractError, match=r"line.toml: params: degre not accepted by model Line"):
        check_cards("toy", folder=tmp_path, models=[Line])
    (folder / "line.toml").write_text('task = "toy"\nmodel = "lien"\n')
    with pytest.raises(ContractError, match="disagree with its path"):
        check_cards("toy", folder=tmp_path, models=[Line])


class Leaky(Dataset):
    """Hands out the target under another name."""

    name, task = "leaky", "toy"

    def load(self, split):
        offset = SPLIT_OFFSET[split]
        y = np.linspace(11, 14, 30) + offset
        return Split(split, ids=np.arange(30) + 100 * offset, y=y, data={"columns": {"mass": y.copy()}})


SPLIT_OFFSET = {"train": 0, "val": 1, "test": 2}


def test_a_dataset_that_leaks_its_target_fails_the_check():
    with pytest.raises(ContractError, match=r"data\['columns'\]\['mass'\] equals the target"):
        check_dataset("toy", Leaky)


# -- the CLI -----------------------------------------------------------------------------------------

CHEAT_PLUGIN = '''
from astrozoo import hookimpl
from astrozoo.interfaces import Model


class Cheat(Model):
    name, tasks = "cheat", ("toy",)

    def fit(self, train, val, context):
        return self

    def predict(self, split):
        return split.data["columns"]["y_true"]


@hookimpl
def register_models(register):
    register(Cheat)
'''


def test_astrozoo_run_refuses_a_model_that_reads_the_truth(workdir, tmp_path):
    """An uninstalled plugin (an entry point on PYTHONPATH) whose model reads y_true in predict."""
    site = tmp_path / "site"
    (site / "astrozoo_cheat-0.1.dist-info").mkdir(parents=True)
    (site / "astrozoo_cheat-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: astrozoo-cheat\n"
                                                                   "Version: 0.1\n")
    (site / "astrozoo_cheat-0.1.dist-info" / "entry_points.txt").write_text("[astrozoo]\ncheat = astrozoo_cheat\n")
    (site / "astrozoo_cheat.py").write_text(CHEAT_PLUGIN)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "PYTHONWARNINGS": "ignore", "MLFLOW_DISABLE_TELEMETRY": "true", "ASTROZOO_PLUGINS": "toy,cheat"}
    ran = subprocess.run([sys.executable, "-m", "astrozoo", "run", "toy", "--model", "cheat"],
                         capture_output=True, text=True, env=env)
    assert ran.returncode != 0, ran.stdout
    assert "y_true" in ran.stderr and "truth" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_the_oracle_a_declared_ceiling_still_runs(workdir, capsys):
    code, out, err = run_cli(["run", "toy", "--model", "oracle", "--set", "data.noise=0.1"], capsys)
    assert code == 0, err
    assert "rmse" in out and "run id:" in out
    assert Path("mlflow.db").exists()
