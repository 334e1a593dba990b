from astrozoo.plots import loss_curves, loss_scale


def test_loss_curves_use_a_log_axis_only_for_positive_losses(tmp_path):
    positive = {"train_loss": [1.0, 0.5, 0.3], "val_loss": [1.2, 0.6, float("nan")]}
    nll = {"train_loss": [0.8, -0.4, -1.1], "val_loss": [0.9, -0.2, -0.9]}
    assert loss_scale(positive) == "log" and loss_scale(nll) == "symlog"
    import matplotlib.image as mpimg

    for name, history in (("a.png", positive), ("nll.png", nll)):
        assert mpimg.imread(loss_curves(history, 2, tmp_path / name)).shape[:2] == (480, 720)  # 6×4 in at 120 dpi


def test_shared_figures_write_the_png_they_describe(tmp_path):
    import matplotlib.image as mpimg
    import numpy as np

    from astrozoo.plots import confusion_matrix, predicted_vs_true, roc

    counts = np.array([[40, 10], [5, 45]])
    path = confusion_matrix(counts, ["non-merger", "merger"], path=tmp_path / "cm.png", normalise=True,
                            figsize=(4, 3), dpi=100)
    assert mpimg.imread(path).shape[:2] == (300, 400)  # figsize × dpi, as asked
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    path = roc({"model": (y, y + rng.normal(0, 0.5, 200)), "perfect": (y, y)}, tmp_path / "roc.png", dpi=50)
    assert mpimg.imread(path).shape[:2] == (250, 250)
    x = rng.normal(12, 0.5, 100)
    path = predicted_vs_true(x, x + rng.normal(0, 0.2, 100), tmp_path / "pvt.png", colour=x, dpi=50)
    assert mpimg.imread(path).shape[:2] == (225, 260)
