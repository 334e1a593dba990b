"""No code from files: a crafted model artifact in a run (or behind a registered model) is refused
with one line by `astrozoo predict`, and the code it carries never runs."""

import io
import os
import pickle
import zipfile
from pathlib import Path

import mlflow
import numpy as np
import pytest

from astrozoo.data import store
from astrozoo.interfaces import Model
from astrozoo.testing import run_cli as cli


class Evil:
    """Unpickled, it runs ``call(*args)``."""

    def __init__(self, call, *args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


def crafted(marker: Path) -> list[tuple[str, bytes]]:
    """Pickles that would create ``marker`` when unpickled, by several routes."""
    return [
        ("os.system", pickle.dumps(Evil(os.system, f"touch {marker}"))),
        ("builtins.exec", pickle.dumps(Evil(exec, f"open({str(marker)!r}, 'w').close()"))),
        ("numpy.memmap (a class, but not a model's)", pickle.dumps(Evil(np.memmap, str(marker), np.uint8, "w+", 0, (1,)))),
    ]


@pytest.fixture
def trained(workdir, capsys):
    code, out, err = cli(["run", "toy", "--model", "line", "--register", "toy-line"], capsys)
    assert code == 0, err
    run_id = out.split("run id: ")[1].split()[0]
    store.write(workdir / "new.h5", {"catalogue": {"id": np.arange(5), "x": np.linspace(0, 1, 5)}})
    artifacts = Path(mlflow.get_run(run_id).info.artifact_uri.removeprefix("file://"))
    return run_id, artifacts / "model"


def predict(uri, capsys):
    return cli(["predict", "toy", "--model-uri", uri, "--input", "new.h5", "--output", "p.csv"], capsys)


def test_crafted_model_artifacts_run_no_code(trained, workdir, capsys):
    run_id, folder = trained
    original = folder / "model.azm"
    good = original.read_bytes()
    code, _, err = predict(f"runs:/{run_id}", capsys)
    assert code == 0, err  # the real one loads

    marker = workdir / "pwned"
    for route, skeleton in crafted(marker):
        original.write_bytes(_replace(good, skeleton))
        code, _, err = predict(f"runs:/{run_id}", capsys)
        assert code == 2 and "does not load" in err, (route, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert not marker.exists(), f"{route}: the crafted model ran code"

    # a run from before model.azm: its plain model.pkl is read under the same rules
    original.unlink()
    for route, payload in crafted(marker):
        (folder / "model.pkl").write_bytes(payload)
        code, _, err = predict(f"runs:/{run_id}", capsys)
        assert code == 2 and "does not load" in err, (route, err)
        assert not marker.exists(), f"{route}: the crafted model.pkl ran code"


def _replace(azm: bytes, skeleton: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(azm)) as src, zipfile.ZipFile(buffer, "w") as dst:
        for item in src.namelist():
            dst.writestr(item, skeleton if item == "skeleton.pkl" else src.read(item))
    return buffer.getvalue()


def test_registered_model_is_rebuilt_without_mlflows_pickle(trained, workdir, capsys):
    """`astrozoo predict models:/...` never unpickles the python_model.pkl MLflow writes."""
    client = mlflow.MlflowClient()
    source = client.get_model_version("toy-line", "1").source
    location = mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=str(workdir / "peek"))
    assert (Path(location) / "python_model.pkl").exists()
    model_id = source.removeprefix("models:/")
    stored = Path(client.get_logged_model(model_id).artifact_location.removeprefix("file://"))
    marker = workdir / "pwned"
    (stored / "python_model.pkl").write_bytes(crafted(marker)[0][1])
    code, out, err = predict("models:/toy-line/1", capsys)
    assert code == 0, err
    assert not marker.exists()
    (stored / "artifacts" / "model.azm").write_bytes(_replace((stored / "artifacts" / "model.azm").read_bytes(),
                                                             crafted(marker)[1][1]))
    code, _, err = predict("models:/toy-line/1", capsys)
    assert code == 2 and "does not load" in err and not marker.exists()


def test_a_model_file_must_hold_the_registered_model(tmp_path):
    """A trusted class posing under another model's name is refused."""
    from astrozoo.modelfile import UnsafeModelFile
    from astrozoo.registry import get_registry

    impostor = get_registry().model("toy", "mean")()
    impostor.name = "line"
    path = impostor.save(tmp_path / "m.azm")
    with pytest.raises(UnsafeModelFile, match="not the model registered as toy/line"):
        Model.load(path, task="toy")


def test_predict_checks_the_catalogue_against_the_schema(trained, workdir, capsys):
    run_id, _ = trained
    columns, attrs = store.read("new.h5", "catalogue")
    store.write(workdir / "wide.h5", {"catalogue": {**columns, "x": np.stack([columns["x"]] * 2, 1)}}, attrs)
    code, _, err = cli(["predict", "toy", "--model-uri", f"runs:/{run_id}", "--input", "wide.h5",
                        "--output", "p.csv"], capsys)
    assert code == 2 and "wide.h5: column catalogue/x has shape (5, 2)" in err and "expected (N,)" in err
    assert not (workdir / "p.csv").exists()
