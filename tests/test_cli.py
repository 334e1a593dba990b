import pytest

from astrozoo.cli import main


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_list_and_plugins(capsys):
    code, out, _ = run_cli(["list", "halo-mass"], capsys)
    assert code == 0 and "halo-mass/combined" in out
    code, out, _ = run_cli(["plugins"], capsys)
    assert code == 0 and "halo-mass" in out and "register_models" in out


@pytest.mark.parametrize("args, message", [
    (["run", "halo-mas", "--model", "simple"], "unknown task 'halo-mas'; did you mean 'halo-mass'?"),
    (["run", "halo-mass", "--model", "combine"], "did you mean 'combined'"),
    (["run", "halo-mass", "--model", "simple", "--set", "params.treez=3"], "unknown key 'params.treez'"),
    (["run", "halo-mass", "--model", "simple", "--profile", "gpu"], "no profile 'gpu'"),
    (["list", "nothing-like-this"], "nothing matches"),
])
def test_user_errors_are_one_line_exit_2(args, message, capsys, workdir):
    code, out, err = run_cli(args, capsys)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_usage_error_exit_2(capsys):
    code, _, err = run_cli(["run", "halo-mass"], capsys)
    assert code == 2 and "--model" in err


def test_debug_shows_traceback(workdir):
    from astrozoo.errors import AstrozooError

    with pytest.raises(AstrozooError):
        main(["--debug", "run", "halo-mas", "--model", "simple"])


def test_unreachable_tracking_server_fails_before_training(capsys, workdir, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # discard port: nothing listens
    code, _, err = run_cli(["run", "halo-mass", "--model", "simple"], capsys)
    assert code == 2 and "unreachable" in err and "nothing was trained" in err


def test_data_generate_and_info(capsys, workdir):
    code, out, err = run_cli(["data", "generate", "halo-mass", "--box", "tng50", "--seed", "1", "-o", "m.h5"], capsys)
    assert code == 0 and "wrote m.h5" in out, err
    code, out, _ = run_cli(["data", "info", "m.h5"], capsys)
    assert code == 0 and "provenance: mock" in out and "seed: 1" in out
    assert "[catalogue]" in out and "log_mhalo" in out and "log10(Msun)" in out
    code, _, err = run_cli(["data", "generate", "halo-mass", "--box", "tng75"], capsys)
    assert code == 2 and "unknown dataset 'mock-tng75'" in err and "mock-tng50" in err
