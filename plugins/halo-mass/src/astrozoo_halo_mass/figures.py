"""The paper's figures: 1a/1b the split (projection and M_halo histograms), 2 predicted vs true."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

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
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def predicted_vs_true(y_true, y_pred, log_mstar, path: Path, title: str = "") -> Path:
    """Fig. 2: predicted vs true log M_halo on the test set, coloured by log M*."""
    fig, ax = plt.subplots(figsize=(5.2, 4.5))
    sc = ax.scatter(y_true, y_pred, c=log_mstar, s=10, cmap="viridis")
    lo, hi = min(y_true.min(), y_pred.min()) - 0.1, max(y_true.max(), y_pred.max()) + 0.1
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set(xlim=(lo, hi), ylim=(lo, hi), xlabel=r"true $\log_{10} M_{\rm halo}$",
           ylabel=r"predicted $\log_{10} M_{\rm halo}$", title=title)
    fig.colorbar(sc, ax=ax, label=r"$\log_{10} M_*/M_\odot$")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
