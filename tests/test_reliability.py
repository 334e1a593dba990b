"""A disk that fills up or a tracking store lost in the middle of a command: one line, exit 2.
(Bad inputs through the CLI, and the table of docs/reliability.md, are checked as a user meets
them on halo-mass: plugins/halo-mass/tests/test_bad_inputs.py.)"""

from astrozoo.testing import run_cli


def test_disk_full_and_a_store_lost_mid_command_are_one_line(workdir, monkeypatch, capsys):
    import errno

    from astrozoo import compare

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "mlruns/1/model.azm")

    monkeypatch.setattr(compare, "render", full)
    code, _, err = run_cli(["compare", "toy"], capsys)
    assert code == 2 and err.strip() == "error: No space left on device: mlruns/1/model.azm"

    from mlflow.exceptions import MlflowException

    def lost(*args, **kwargs):
        raise MlflowException("API request to http://127.0.0.1:5000 failed with exception\nMax retries exceeded")

    monkeypatch.setattr(compare, "render", lost)
    code, _, err = run_cli(["compare", "toy"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Max retries exceeded" in err
