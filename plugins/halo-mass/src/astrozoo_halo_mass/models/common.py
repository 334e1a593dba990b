"""Pieces shared by the halo-mass neural models (``gnn``, ``cnn``, ``cnn-gnn``).

All three end in the same kind of readout: features concatenated with M* → a 3-layer MLP →
log M_halo (Jespersen et al., Sections 3.4–3.6), trained with MSE as in the paper. With
``loss = "gaussian_nll"`` or ``"moment"`` the readout also predicts a log-variance, trained with a
Gaussian negative log-likelihood or with the moment-network loss of Wu & Jespersen (2023)'s public
code (:func:`regression_loss`); the run calibrates that σ on the validation split
(:func:`astrozoo.runner.calibrate`).
Inputs (M*) and the target are standardised with training statistics held as buffers in the
network, so a network maps physical units to physical units and its state_dict is complete.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from astrozoo.interfaces import Model, Split

LOSSES = ("mse", "gaussian_nll", "moment")


def mlp(sizes: list[int], norm: bool = True) -> nn.Sequential:
    """Linear → SiLU → LayerNorm blocks, the last Linear bare (Wu & Jespersen 2023's readout)."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers += [nn.SiLU()] + ([nn.LayerNorm(sizes[i + 1])] if norm else [])
    return nn.Sequential(*layers)


class Readout(nn.Module):
    """The 3-layer MLP head: [features, standardised M*] → (mean, log-variance) of log M_halo.

    Holds the training means and standard deviations of log M* and of the target; ``forward``
    returns an (N, n_out) tensor in dex: column 0 the mean, column 1 (Gaussian-NLL mode) the
    log-variance.
    """

    def __init__(self, n_features: int, hidden: int, n_out: int = 1):
        super().__init__()
        self.n_out = n_out
        self.mlp = mlp([n_features + 1, hidden, hidden, n_out])
        for name in ("mstar_mean", "mstar_std", "y_mean", "y_std"):
            self.register_buffer(name, torch.tensor(0.0 if "mean" in name else 1.0))

    def set_stats(self, log_mstar: np.ndarray, y: np.ndarray) -> "Readout":
        for name, values in (("mstar", log_mstar), ("y", y)):
            getattr(self, f"{name}_mean").fill_(float(np.mean(values)))
            getattr(self, f"{name}_std").fill_(float(np.std(values)) + 1e-8)
        return self

    def mstar(self, log_mstar: torch.Tensor) -> torch.Tensor:
        """Standardised log M* as an (N, 1) column."""
        return ((log_mstar - self.mstar_mean) / self.mstar_std).unsqueeze(-1)

    def forward(self, features: torch.Tensor, log_mstar: torch.Tensor) -> torch.Tensor:
        out = self.mlp(torch.cat([features, self.mstar(log_mstar).to(features.dtype)], dim=-1)).float()
        mean = self.y_mean + self.y_std * out[:, :1]
        if self.n_out == 1:
            return mean
        return torch.cat([mean, out[:, 1:2] + 2 * torch.log(self.y_std)], dim=-1)


def regression_loss(out: torch.Tensor, y: torch.Tensor, loss: str | None = None) -> torch.Tensor:
    """The training loss of ``out`` (column 0 the mean μ; column 1, with two, the log-variance):

    - ``mse``: mean of (μ − y)² (the paper);
    - ``gaussian_nll``: torch.nn.GaussianNLLLoss with σ² = exp(column 1);
    - ``moment``: the moment-network loss of Wu & Jespersen (2023)'s public code (after Jeffrey &
      Wandelt 2020), log mean (μ − y)² + log mean ((μ − y)² − σ²)²: σ² is fitted to the squared
      residual, not through a likelihood.

    ``loss`` None: MSE for one column, Gaussian NLL for two."""
    y = y.float()
    loss = loss or ("mse" if out.shape[-1] == 1 else "gaussian_nll")
    if loss == "mse":
        return nn.functional.mse_loss(out[:, 0], y)
    variance = out[:, 1].clamp(-20, 20).exp()
    if loss == "gaussian_nll":
        return nn.functional.gaussian_nll_loss(out[:, 0], y, variance)
    squared = (out[:, 0] - y) ** 2
    return torch.log(squared.mean()) + torch.log(((squared - variance) ** 2).mean())


def check_loss(loss: str) -> int:
    """Number of outputs for a loss name."""
    if loss not in LOSSES:
        raise ValueError(f"params.loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    return 1 if loss == "mse" else 2


class NeuralRegressor(Model):
    """fit/predict plumbing shared by the three models: subclasses set ``n_out`` (1, or 2 for
    Gaussian NLL), implement ``fit`` (which sets ``self.net`` and ``self.history``) and
    ``_outputs(split)`` (an (N, n_out) tensor).

    The fitted model pickles as a whole (the base ``Model.save``); networks are kept on the CPU
    after training so a saved model loads anywhere.
    """

    tasks = ("halo-mass",)

    def _outputs(self, split: Split) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def _predict(self, split: Split) -> torch.Tensor:
        self.net.eval()
        return self._outputs(split).float()

    def predict(self, split: Split) -> np.ndarray:
        return self._predict(split)[:, 0].numpy().astype(np.float64)

    def predict_std(self, split: Split) -> np.ndarray | None:
        if self.n_out < 2:
            return None
        return (0.5 * self._predict(split)[:, 1]).exp().numpy().astype(np.float64)


@contextmanager
def torch_threads(n: int):
    """Run with ``n`` intra-op CPU threads (0: leave torch's setting). Tiny graphs train several
    times faster on one thread than on two, more so on a busy machine."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


class PrefixedTracker:
    """Log a sub-training's curves under a prefix (e.g. the GNN pre-training inside cnn-gnn)."""

    def __init__(self, tracker, prefix: str):
        self.tracker, self.prefix = tracker, prefix

    def log_metrics(self, metrics: dict, step: int | None = None, **kwargs) -> None:
        self.tracker.log_metrics({self.prefix + k: v for k, v in metrics.items()}, step=step, **kwargs)

    def __getattr__(self, name):
        return getattr(self.tracker, name)
