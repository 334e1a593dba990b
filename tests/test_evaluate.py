"""`astrozoo evaluate`: a trained model scored on another dataset, recorded as a linked MLflow run."""

import re

import numpy as np
import pytest


def cli(capsys, *args):
    from astrozoo.cli import main

    with pytest.raises(SystemExit) as done:
        main(list(args))
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


def test_evaluate_records_a_linked_run_and_the_matrix(workdir, capsys):
    import mlflow

    code, out, err = cli(capsys, "run", "halo-mass", "--model", "simple")
    assert code == 0, err
    trained = re.search(r"run id: ([0-9a-f]{32})", out).group(1)
    own = mlflow.get_run(trained).data.metrics["test_rmse"]

    code, out, err = cli(capsys, "evaluate", "halo-mass", "--run", trained, "--set", "data.log_fstrip_vir=-0.9")
    assert code == 0, err
    evaluation = mlflow.get_run(re.search(r"evaluation run id: ([0-9a-f]{32})", out).group(1))
    tags = evaluation.data.tags
    assert tags["astrozoo.role"] == "evaluation" and tags["astrozoo.trained_run"] == trained
    assert tags["astrozoo.tested_on"] == "mock-tng50 log_fstrip_vir=-0.9"
    assert evaluation.data.params["data.log_fstrip_vir"] == "-0.9"
    shifted = evaluation.data.metrics["test_rmse"]
    assert np.isfinite(shifted) and shifted != own

    code, out, _ = cli(capsys, "evaluate", "halo-mass", "--model-uri", f"runs:/{trained}")  # its own test set
    assert code == 0
    assert f"{own:.4f}" in out  # the same model on the same data: the training run's score, no retraining

    code, out, _ = cli(capsys, "evaluate", "halo-mass", "--matrix")
    assert code == 0
    header = next(line for line in out.splitlines() if line.startswith("| model"))
    assert header == "| model (trained on) | mock-tng50 | mock-tng50 log_fstrip_vir=-0.9 |"
    assert f"| simple (mock-tng50) | {own:.4f} | {shifted:.4f} |" in out

    from astrozoo import compare

    assert compare.collect("halo-mass")["simple"]["runs"] == [trained]  # evaluations are not trainings


def test_evaluate_refuses_bad_requests(workdir, capsys):
    code, _, err = cli(capsys, "evaluate", "halo-mass")
    assert code == 2 and "give exactly one of --run RUN_ID or --model-uri URI" in err
    code, _, err = cli(capsys, "evaluate", "halo-mass", "--run", "nonsense")
    assert code == 2 and "'nonsense': expected a run id" in err
    code, out, _ = cli(capsys, "run", "halo-mass", "--model", "simple")
    trained = re.search(r"run id: ([0-9a-f]{32})", out).group(1)
    code, _, err = cli(capsys, "evaluate", "halo-mass", "--run", trained, "--set", "data.nope=1")
    assert code == 2 and "unknown key 'data.nope'" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(capsys, "evaluate", "halo-mass", "--run", trained, "--set", "params.n_estimators=3")
    assert code == 2 and "only data.KEY=VALUE" in err


def test_evaluate_a_registered_model(workdir, capsys):
    import mlflow

    code, out, err = cli(capsys, "run", "halo-mass", "--model", "overdensity", "--register", "halo-od")
    assert code == 0, err
    trained = re.search(r"run id: ([0-9a-f]{32})", out).group(1)
    code, out, err = cli(capsys, "evaluate", "halo-mass", "--model-uri", "models:/halo-od/1", "--dataset", "mock-tng100")
    assert code == 0, err
    evaluation = mlflow.get_run(re.search(r"evaluation run id: ([0-9a-f]{32})", out).group(1))
    assert evaluation.data.tags["astrozoo.trained_run"] == trained
    assert evaluation.data.tags["astrozoo.tested_on"] == "mock-tng100"
    assert int(evaluation.data.params["data.n_test"]) > 1000  # the 110.7 Mpc box's test sub-volume
