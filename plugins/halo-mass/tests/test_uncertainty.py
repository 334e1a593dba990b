"""The halo-mass models' own σ: the neural losses (Gaussian NLL, moment network) and the forests' tree spread."""

import numpy as np
import pytest
import torch

from astrozoo.interfaces import FitContext, Split
from astrozoo.testing import one_thread  # noqa: F401  (autouse)
from astrozoo_halo_mass.models.common import check_loss, regression_loss
from astrozoo_halo_mass.models.forests import Simple, XGBoost


def test_losses_by_hand():
    out = torch.tensor([[1.0, np.log(0.25)], [2.0, np.log(4.0)]])  # μ, ln σ²
    y = torch.tensor([0.0, 4.0])  # squared residuals 1 and 4
    assert regression_loss(out[:, :1], y).item() == pytest.approx(2.5)
    assert regression_loss(out[:, :1], y, "mse").item() == pytest.approx(2.5)
    nll = np.mean([0.5 * (np.log(0.25) + 1 / 0.25), 0.5 * (np.log(4.0) + 4 / 4.0)])
    assert regression_loss(out, y).item() == pytest.approx(nll, rel=1e-5)  # two columns: Gaussian NLL
    # moment network: log mean r² + log mean (r² − σ²)² = log 2.5 + log((0.75² + 0²)/2)
    assert regression_loss(out, y, "moment").item() == pytest.approx(np.log(2.5) + np.log(0.75 ** 2 / 2), rel=1e-5)
    assert check_loss("moment") == 2
    with pytest.raises(ValueError, match="moment"):
        check_loss("nll")


def test_moment_loss_learns_the_scatter():
    """A network trained with the moment loss predicts a σ that follows the true scatter."""
    torch.manual_seed(0)
    x = torch.rand(2000, 1)
    y = 2 * x[:, 0] + (0.05 + 0.4 * x[:, 0]) * torch.randn(2000)
    net = torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.SiLU(), torch.nn.Linear(32, 2))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(600):
        optimizer.zero_grad()
        regression_loss(net(x), y, "moment").backward()
        optimizer.step()
    with torch.no_grad():
        sigma = (0.5 * net(torch.tensor([[0.1], [0.9]]))[:, 1]).exp().numpy()
    assert sigma == pytest.approx([0.09, 0.41], abs=0.06)


def test_forest_sigma_follows_the_scatter():
    rng = np.random.default_rng(0)

    def split(name, n):
        log_mstar = rng.uniform(9.5, 11.5, n)
        y = 11 + (log_mstar - 9.5) + rng.normal(0, 1, n) * np.where(log_mstar > 10.5, 0.5, 0.05)
        return Split(name, np.arange(n), y, {"columns": {"log_mstar": log_mstar}})

    train, val = split("train", 1500), split("val", 400)
    forest = Simple(n_jobs=1).fit(train, val, FitContext())
    sigma = forest.predict_std(val)
    low = val.data["columns"]["log_mstar"] < 10.5
    assert sigma.shape == (len(val),) and np.all(sigma >= 0)
    assert np.median(sigma[~low]) > 4 * np.median(sigma[low])  # wide where the scatter is wide
    assert XGBoost(n_estimators=5).predict_std(val) is None  # a constant σ, calibrated by the run
