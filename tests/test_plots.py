from astrozoo.plots import loss_curves, loss_scale


def test_loss_curves_use_a_log_axis_only_for_positive_losses(tmp_path):
    positive = {"train_loss": [1.0, 0.5, 0.3], "val_loss": [1.2, 0.6, float("nan")]}
    nll = {"train_loss": [0.8, -0.4, -1.1], "val_loss": [0.9, -0.2, -0.9]}
    assert loss_scale(positive) == "log" and loss_scale(nll) == "symlog"
    for name, history in (("a.png", positive), ("nll.png", nll)):
        assert loss_curves(history, 2, tmp_path / name).stat().st_size > 1000
