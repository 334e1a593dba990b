"""`astrozoo evaluate`: a trained model scored on another dataset, recorded as a linked MLflow run."""

import re

from astrozoo.testing import run_cli


def cli(capsys, *args):
    return run_cli(args, capsys)


def test_evaluate_records_a_linked_run_and_the_matrix(workdir, capsys):
    import mlflow

    code, out, err = cli(capsys, "run", "toy", "--model", "line")
    assert code == 0, err
    trained = re.search(r"run id: ([0-9a-f]{32})", out).group(1)
    own = mlflow.get_run(trained).data.metrics["test_rmse"]

    code, out, err = cli(capsys, "evaluate", "toy", "--run", trained, "--set", "data.noise=0.5")
    assert code == 0, err
    evaluation = mlflow.get_run(re.search(r"evaluation run id: ([0-9a-f]{32})", out).group(1))
    tags = evaluation.data.tags
    assert tags["astrozoo.role"] == "evaluation" and tags["astrozoo.trained_run"] == trained
    assert tags["astrozoo.tested_on"] == "toy-data noise=0.5"
    assert evaluation.data.params["data.noise"] == "0.5"
    shifted = evaluation.data.metrics["test_rmse"]
    assert shifted > own  # noisier targets, the same line

    code, out, _ = cli(capsys, "evaluate", "toy", "--model-uri", f"runs:/{trained}")  # its own test set
    assert code == 0
    assert f"{own:.4f}" in out  # the same model on the same data: the training run's score, no retraining

    code, out, _ = cli(capsys, "evaluate", "toy", "--matrix")
    assert code == 0
    header = next(line for line in out.splitlines() if line.startswith("| model"))
    assert header == "| model (trained on) | toy-data | toy-data noise=0.5 |"
    assert f"| line (toy-data) | {own:.4f} | {shifted:.4f} |" in out

    from astrozoo import compare

    assert compare.collect("toy")["line"]["runs"] == [trained]  # evaluations are not trainings


def test_evaluate_refuses_bad_requests(workdir, capsys):
    code, _, err = cli(capsys, "evaluate", "toy")
    assert code == 2 and "give exactly one of --run RUN_ID or --model-uri URI" in err
    code, _, err = cli(capsys, "evaluate", "toy", "--run", "nonsense")
    assert code == 2 and "'nonsense': expected a run id" in err
    code, out, _ = cli(capsys, "run", "toy", "--model", "line")
    trained = re.search(r"run id: ([0-9a-f]{32})", out).group(1)
    code, _, err = cli(capsys, "evaluate", "toy", "--run", trained, "--set", "data.nope=1")
    assert code == 2 and "unknown key 'data.nope'" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(capsys, "evaluate", "toy", "--run", trained, "--set", "params.degree=3")
    assert code == 2 and "only data.KEY=VALUE" in err


def test_evaluate_a_registered_model(workdir, capsys):
    import mlflow

    code, out, err = cli(capsys, "run", "toy", "--model", "line", "--register", "toy-line")
    assert code == 0, err
    trained = re.search(r"run id: ([0-9a-f]{32})", out).group(1)
    code, out, err = cli(capsys, "evaluate", "toy", "--model-uri", "models:/toy-line/1", "--dataset", "toy-wide")
    assert code == 0, err
    evaluation = mlflow.get_run(re.search(r"evaluation run id: ([0-9a-f]{32})", out).group(1))
    assert evaluation.data.tags["astrozoo.trained_run"] == trained
    assert evaluation.data.tags["astrozoo.tested_on"] == "toy-wide"
    assert evaluation.data.metrics["test_rmse"] < 0.2  # the line extrapolates to x in [1, 2]
