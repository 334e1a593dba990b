"""The learning-rate range test (astrozoo.lr_range)."""

import numpy as np
import pytest
import torch

from astrozoo import lr_range
from astrozoo.interfaces import FitContext
from astrozoo.testing import one_thread  # noqa: F401  (autouse)
from astrozoo.training import fit



def synthetic_curve(lrs, rng=None, noise=0.0):
    """Flat at 1, falling fastest at lr = 1e-3 to 0.2, blowing up beyond 0.1."""
    x = np.log10(lrs)
    loss = 1 - 0.8 / (1 + np.exp(-(x + 3) / 0.3)) + np.where(x > -1, 5 * (x + 1) ** 2, 0)
    if rng is not None:
        loss = loss + rng.normal(0, noise, len(lrs))
    return loss


def test_rules_on_a_known_curve():
    lrs = np.logspace(-6, 0, 200)
    loss = synthetic_curve(lrs)
    chosen, steepest, min_lr = lr_range.choose_lr(lrs, loss, "steepest")
    assert chosen == steepest and 10**-3.2 < steepest < 10**-2.8
    assert 10**-1.3 < min_lr < 10**-0.8
    chosen, _, _ = lr_range.choose_lr(lrs, loss, "min10")
    assert chosen == pytest.approx(min_lr / 10)
    with pytest.raises(ValueError, match="unknown lr rule"):
        lr_range.choose_lr(lrs, loss, "valley")


def test_smoothing_survives_noise_and_spikes():
    rng = np.random.default_rng(1)
    lrs = np.logspace(-6, 0, 100)
    loss = synthetic_curve(lrs, rng, noise=0.05)
    loss[[40, 55, 70]] += 1.5  # single bad batches
    chosen, _, _ = lr_range.choose_lr(lrs, lr_range.smooth(loss, 8), "steepest")
    assert 10**-3.6 < chosen < 10**-2.4


def test_a_dip_after_the_first_instability_is_not_the_minimum():
    lrs = np.logspace(-5, -1, 40)
    loss = np.full(40, 1.10)
    loss[10:20] = np.linspace(1.10, 1.00, 10)  # learning starts ...
    loss[20:28] = 1.30                          # ... the training is disturbed ...
    loss[28:36] = 0.90                          # ... and a later dip is noise
    loss[36:] = 1.5
    chosen, _, min_lr = lr_range.choose_lr(lrs, loss, "min10")
    assert min_lr == pytest.approx(lrs[19]) and chosen == pytest.approx(lrs[19] / 10)


def test_a_chance_dip_in_a_flat_noisy_curve_is_inconclusive():
    rng = np.random.default_rng(4)
    lrs = np.logspace(-5, 0, 100)
    window = 9
    flat = 1.15 + rng.normal(0, 0.08, 100)  # a network that learns nothing in the test
    smoothed = lr_range.smooth(flat, window)
    i_min = int(np.argmin(smoothed))
    assert smoothed[i_min] < 0.98 * smoothed[0]  # the 2% rule alone would take the dip
    assert lr_range.drop_significance(flat, smoothed, i_min, window, 100) < 4
    assert lr_range.choose_lr(lrs, smoothed, "min10", losses=flat, window=window)[0] is None
    falling = synthetic_curve(lrs, rng, noise=0.08)  # the same noise on a curve that learns
    chosen, _, _ = lr_range.choose_lr(lrs, lr_range.smooth(falling, window), "min10", losses=falling,
                                      window=window)
    assert chosen is not None


def test_flat_curve_is_inconclusive():
    lrs = np.logspace(-6, 0, 50)
    chosen, steepest, _ = lr_range.choose_lr(lrs, np.ones(50), "steepest")
    assert chosen is None and steepest is None


def _problem(seed=0):
    """A two-class problem with 5% label noise and a small MLP (so large learning rates diverge)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(512, 8, generator=g)
    y = (x @ torch.arange(1.0, 9.0) > 0).float()
    flip = torch.rand(512, generator=g) < 0.05
    y[flip] = 1 - y[flip]
    torch.manual_seed(seed)
    module = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))

    def batches():
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), 32):
            idx = order[i:i + 32]
            yield x[idx], y[idx]

    def loss(batch):
        return torch.nn.functional.binary_cross_entropy_with_logits(module(batch[0]).squeeze(-1), batch[1])

    return module, batches, loss, (x, y)


def test_range_test_restores_state_and_picks_a_learning_rate_that_trains():
    torch.manual_seed(0)
    module, batches, loss, (x, y) = _problem()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    result = lr_range.lr_range_test(module, optimizer, batches=batches, loss=loss, start_lr=1e-6, end_lr=10,
                                    num_steps=120)
    for key, value in module.state_dict().items():
        torch.testing.assert_close(value, before[key])
    assert optimizer.param_groups[0]["lr"] == 1e-3 and not optimizer.state
    assert result.chosen_lr is not None and 1e-4 < result.chosen_lr < 1.0
    assert result.chosen_lr == pytest.approx(result.min_lr / 10) and result.steepest_lr < result.min_lr
    assert len(result.lrs) == len(result.losses) == len(result.smoothed) <= 120

    lr_range.set_lr(optimizer, result.chosen_lr)

    def validate():
        with torch.no_grad():
            return float(loss((x, y)))

    start = validate()
    history = fit(module, optimizer, batches=batches, loss=loss, validate=validate, epochs=3, context=FitContext())
    assert history.val_loss[-1] < 0.6 * start


def test_divergence_stops_the_test_early():
    module, batches, loss, _ = _problem(1)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    result = lr_range.lr_range_test(module, optimizer, batches=batches, loss=loss, start_lr=1e-3, end_lr=1e6,
                                    num_steps=100)
    assert result.diverged and len(result.lrs) < 100


def test_bad_arguments_and_plot(tmp_path):
    module, batches, loss, _ = _problem()
    optimizer = torch.optim.Adam(module.parameters())
    with pytest.raises(ValueError, match="start_lr < end_lr"):
        lr_range.lr_range_test(module, optimizer, batches=batches, loss=loss, start_lr=1.0, end_lr=0.1)
    result = lr_range.lr_range_test(module, optimizer, batches=batches, loss=loss, start_lr=1e-5, end_lr=1.0,
                                    num_steps=30)
    path = lr_range.plot(result, tmp_path / "lr.png")
    from matplotlib.image import imread

    image = imread(path)  # a 6 × 4 inch figure at 120 dpi, with something drawn on it
    assert image.shape[:2] == (480, 720) and len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 10


def test_an_upward_drift_before_learning_starts_is_not_an_instability():
    lrs = np.logspace(-5, -1, 60)
    loss = np.full(60, 1.10)
    loss[5:20] = np.linspace(1.10, 1.30, 15)   # tiny learning rates: the loss drifts up
    loss[20:45] = np.linspace(1.30, 0.60, 25)  # then learning: the curve falls
    loss[45:] = 3.0                            # and blows up
    chosen, _, min_lr = lr_range.choose_lr(lrs, loss, "min10")
    assert min_lr == pytest.approx(lrs[44]) and chosen == pytest.approx(lrs[44] / 10)
