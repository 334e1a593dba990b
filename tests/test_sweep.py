"""`astrozoo sweep`: an Optuna study over the card's [sweep] table, every trial a nested MLflow
run under one parent, pruning on the validation loss, the best parameters as a new card; two
worker processes share the study through SQLite (and, slow, through PostgreSQL)."""

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from astrozoo import recipes
from astrozoo.errors import AstrozooError
from astrozoo.sweep import space
from test_team_tracking import postgres  # noqa: F401  (a PostgreSQL on 127.0.0.1, as a fixture)

from toy_plugin import requires

PLUGINS = "halo-mass"  # slow checks of the training loop through the halo-mass GNN and CNN

ASTROZOO = str(Path(sys.executable).parent / "astrozoo")
CARD = (Path(__file__).parents[1] / "registry" / "halo-mass" / "gnn.toml").read_text()


def small_card(folder: Path) -> Path:
    """The GNN card with 4 epochs and a two-key [sweep] table, first on the registry path."""
    card = folder / "halo-mass" / "gnn.toml"
    card.parent.mkdir(parents=True)
    text = CARD.replace("epochs = 100", "epochs = 4").split("[sweep]")[0]
    card.write_text(text + '[sweep]\nlr = { low = 1e-4, high = 3e-2, log = true }\nhidden = [8, 16]\n')
    return folder


def sweep(workdir, storage, trials=6, workers=2):
    env = {**os.environ, "ASTROZOO_REGISTRY": str(small_card(workdir / "cards")), "PYTHONUNBUFFERED": "1"}
    done = subprocess.run([ASTROZOO, "sweep", "halo-mass", "--model", "gnn", "--trials", str(trials),
                           "--workers", str(workers), *(["--storage", storage] if storage else [])],
                          env=env, capture_output=True, text=True, timeout=1200, cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def check(workdir, out, storage, trials=6):
    import optuna

    (study,) = optuna.get_all_study_summaries(storage)
    assert study.study_name == "halo-mass/gnn/quick" and study.n_trials == trials
    client = mlflow.MlflowClient()
    runs = client.search_runs([client.get_experiment_by_name("halo-mass").experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("astrozoo.role") == "sweep"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == trials == len(runs) - 1  # every trial one nested run
    assert parent.data.metrics["trials"] == trials and parent.info.status == "FINISHED"
    best = recipes.parse(workdir / "sweeps" / "halo-mass" / "gnn-best.toml")
    assert best.base == "gnn" and best.params["epochs"] == 4 and best.params["hidden"] in (8, 16)
    assert best.params["lr"] == pytest.approx(float(parent.data.params["best.lr"]))
    assert "best card:" in out


@requires("halo-mass")
@pytest.mark.slow  # six trainings in two worker processes: about 80 CPU-s, 4 min on this shared machine
def test_sweep_six_trials_two_workers_sqlite(workdir):
    out = sweep(workdir, None)
    check(workdir, out, f"sqlite:///{workdir / 'optuna.db'}")


def test_sweep_table_is_checked_against_the_params(tmp_path):
    card = recipes.Recipe(task="t", model="m", params={"lr": 0.1}, sweep={"lr": [0.1, 0.01]}, path=tmp_path / "m.toml")
    assert space(card) == {"lr": [0.1, 0.01]}
    for bad, message in (({"epochz": [1, 2]}, "sweep.epochz is not a key of \\[params\\]"),
                         ({"lr": {"low": 1.0, "high": 0.1}}, "low must be below high"),
                         ({"lr": {"low": 0.1}}, "must be a list or"), ({}, "no \\[sweep\\] table")):
        card.sweep = bad
        with pytest.raises(AstrozooError, match=message):
            space(card)


@requires("halo-mass")
@pytest.mark.slow  # PostgreSQL started here on 127.0.0.1 (the fixture of test_team_tracking.py)
def test_sweep_six_trials_two_workers_postgresql(postgres, workdir):
    out = sweep(workdir, postgres)
    check(workdir, out, postgres)
