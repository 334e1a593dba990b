"""The paper's figures: 1a/1b the split (projection and M_halo histograms), 2 predicted vs true."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astrozoo import plots
from astrozoo.plots import plt

COLOURS = {"train": "tab:blue", "val": "tab:orange", "test": "tab:green"}


def split_figure(splits: dict, path: Path) -> Path:
    """Fig. 1: (a) x–y projection of the three sub-volumes, marker size ∝ M_halo; (b) histograms."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name, split in splits.items():
        pos = split.data["pos"]
        size = 2 + 30 * (10 ** (split.y - split.y.max())) ** 0.3
        a.scatter(pos[:, 0], pos[:, 1], s=size, alpha=0.5, color=COLOURS.get(name), label=f"{name} ({len(split)})")
        b.hist(split.y, bins=np.linspace(9.5, 14.5, 41), histtype="step", density=True, lw=1.5,
               color=COLOURS.get(name), label=name)
    a.set(xlabel="x [Mpc]", ylabel="y [Mpc]", title="(a) split in projection")
    a.legend(markerscale=2, fontsize=8)
    b.set(xlabel=r"$\log_{10} M_{\rm halo}/M_\odot$", ylabel="density", title=r"(b) $M_{\rm halo}$ per split")
    b.legend()
    return plots.save(fig, path)


def predicted_vs_true(y_true, y_pred, log_mstar, path: Path, title: str = "") -> Path:
    """Fig. 2: predicted vs true log M_halo on the test set, coloured by log M*."""
    return plots.predicted_vs_true(y_true, y_pred, path, colour=log_mstar, colour_label=r"$\log_{10} M_*/M_\odot$",
                                   label=r"$\log_{10} M_{\rm halo}$", title=title)
