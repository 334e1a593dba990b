"""Registered models: `astrozoo run --register NAME` puts the model in MLflow's model registry with
a signature; `astrozoo predict` loads it (or any run's model) and predicts a new catalogue."""

import csv

import mlflow
import numpy as np
import pytest

from astrozoo.cli import main
from astrozoo.data import store
from astrozoo.serving import prediction_frame


def cli(args, capsys):
    with pytest.raises(SystemExit) as done:
        main(args)
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


def test_register_then_predict_a_new_catalogue(workdir, capsys):
    code, out, err = cli(["run", "halo-mass", "--model", "overdensity", "--register", "halo-rf"], capsys)
    assert code == 0, err
    assert "registered model 'halo-rf' version 1" in out
    run_id = out.split("run id: ")[1].split()[0]

    version = mlflow.MlflowClient().get_model_version("halo-rf", "1")
    assert version.run_id == run_id
    signature = mlflow.models.get_model_info("models:/halo-rf/1").signature
    assert signature.inputs.input_names() == ["catalogue"]
    assert signature.outputs.input_names() == ["id", "y_pred", "y_std"]  # a forest's σ: the spread of its trees
    assert mlflow.get_run(run_id).data.tags["astrozoo.registered_model"] == "halo-rf/1"

    # a new catalogue in the task's format: half of the volume the model was trained on, with
    # only what an observer has (no halo masses)
    columns, attrs = store.read(mlflow.get_run(run_id).data.params["data.info.file"], "catalogue")
    keep = columns["pos"][:, 0] < float(attrs["box_size_mpc"]) / 2
    observed = {k: columns[k][keep] for k in ("galaxy_id", "pos", "log_mstar")}
    store.write(workdir / "new.h5", {"catalogue": observed}, attrs)

    code, out, err = cli(["predict", "halo-mass", "--model-uri", "models:/halo-rf/1",
                          "--input", "new.h5", "--output", "predictions.csv"], capsys)
    assert code == 0, err
    assert f"wrote {keep.sum()} predictions (id, y_pred, y_std) to predictions.csv" in out
    rows = list(csv.DictReader(open(workdir / "predictions.csv")))
    assert [int(r["id"]) for r in rows] == list(columns["galaxy_id"][keep])
    predicted = np.array([float(r["y_pred"]) for r in rows])
    assert np.isfinite(predicted).all()
    assert np.corrcoef(predicted, columns["log_mhalo"][keep])[0, 1] > 0.6

    # any run's model works too (its pickle and recipe), with the same numbers
    code, out, err = cli(["predict", "halo-mass", "--model-uri", f"runs:/{run_id}",
                          "--input", "new.h5", "--output", "again.csv"], capsys)
    assert code == 0, err
    again = np.array([float(r["y_pred"]) for r in csv.DictReader(open(workdir / "again.csv"))])
    assert np.allclose(again, predicted, rtol=0, atol=1e-9)


@pytest.mark.parametrize("uri, message", [
    ("models:/no-such-model/1", "cannot load model 'models:/no-such-model/1'"),
    ("runs:/0123456789abcdef0123456789abcdef", "cannot load model"),
])
def test_predict_errors_are_one_line(uri, message, workdir, capsys):
    (workdir / "c.h5").write_bytes(b"")
    code, _, err = cli(["predict", "halo-mass", "--model-uri", uri, "--input", "c.h5", "--output", "p.csv"], capsys)
    assert code == 2 and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_prediction_frame_columns():
    assert list(prediction_frame([1, 2], [0.1, 0.2], [0.3, 0.4]).columns) == ["id", "y_pred", "y_std"]
    assert list(prediction_frame([1, 2], np.eye(2)).columns) == ["id", "p0", "p1"]
