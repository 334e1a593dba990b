"""Figures shared by every task (matplotlib, Agg backend, PNG files)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def loss_scale(history: dict) -> str:
    """``"log"`` when every loss is positive, else ``"symlog"`` (a Gaussian NLL goes
    below zero, and a log axis would drop those epochs)."""
    values = [v for v in (*history["train_loss"], *history["val_loss"]) if v == v]  # skip NaN
    return "log" if values and min(values) > 0 else "symlog"


def loss_curves(history: dict, best_epoch: int | None, path: Path, title: str = "") -> Path:
    """Training and validation loss per epoch, the best (checkpointed) epoch marked. A log
    axis when every loss is positive; symlog when one is not (a Gaussian NLL goes negative)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(history["train_loss"], label="training")
    ax.plot(history["val_loss"], label="validation")
    if best_epoch is not None and best_epoch >= 0:
        ax.axvline(best_epoch, color="k", ls="--", lw=1, label=f"best epoch {best_epoch}")
    ax.set(xlabel="epoch", ylabel="loss", title=title)
    ax.set_yscale(loss_scale(history))
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
