import pytest

from astrozoo.cli import main
from astrozoo.testing import run_cli


def test_list_and_plugins(capsys):
    code, out, _ = run_cli(["list", "toy"], capsys)
    assert code == 0 and "toy/line" in out and "toy/toy-data" in out
    code, out, _ = run_cli(["plugins"], capsys)
    assert code == 0 and "toy  [astrozoo-toy 0.1]  ok" in out and "register_models" in out


@pytest.mark.parametrize("args, message", [
    (["run", "tyo", "--model", "mean"], "unknown task 'tyo'; did you mean 'toy'?"),
    (["run", "toy", "--model", "lin"], "did you mean 'line'"),
    (["run", "toy", "--model", "line", "--set", "params.degre=3"], "unknown key 'params.degre'"),
    (["run", "toy", "--model", "line", "--profile", "gpu"], "no profile 'gpu'"),
    (["list", "nothing-like-this"], "nothing matches"),
])
def test_user_errors_are_one_line_exit_2(args, message, capsys, workdir):
    code, out, err = run_cli(args, capsys)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_usage_error_exit_2(capsys):
    code, _, err = run_cli(["run", "toy"], capsys)
    assert code == 2 and "--model" in err


def test_debug_shows_traceback(workdir):
    from astrozoo.errors import AstrozooError

    with pytest.raises(AstrozooError):
        main(["--debug", "run", "tyo", "--model", "mean"])


def test_unreachable_tracking_server_fails_before_training(capsys, workdir, monkeypatch):
    from toy_plugin import ToyData

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # discard port: nothing listens
    ToyData.loads = 0
    code, _, err = run_cli(["run", "toy", "--model", "mean"], capsys)
    assert code == 2 and "unreachable" in err and "nothing was trained" in err
    assert ToyData.loads == 0


def test_data_generate_and_info(capsys, workdir):
    code, out, err = run_cli(["data", "generate", "toy", "--seed", "1", "--set", "n=5", "-o", "m.h5"], capsys)
    assert code == 0 and "wrote m.h5" in out, err
    code, out, _ = run_cli(["data", "info", "m.h5"], capsys)
    assert code == 0 and "provenance: mock" in out and "seed: 1" in out
    assert "[catalogue]" in out and "y_true" in out and "(15,)" in out
    code, _, err = run_cli(["data", "generate", "toy", "--dataset", "toy-dat"], capsys)
    assert code == 2 and "unknown dataset 'toy-dat'" in err and "toy-data" in err
