"""Figures shared by every task (matplotlib, Agg backend, PNG files): the one place that picks
the backend. Plugins draw with ``from astrozoo.plots import plt, save`` and reuse the common
figures here — :func:`confusion_matrix`, :func:`roc`, :func:`predicted_vs_true`,
:func:`loss_curves`, :func:`pit_histogram`, :func:`calibration_curve`, :func:`grid_plot` — each
writing one PNG and returning its path.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def save(fig, path, dpi: int = 120) -> Path:
    """Lay out, write ``path`` (PNG), close the figure, return the path."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return Path(path)


def confusion_matrix(counts, row_names, column_names=None, path=None, *, normalise: bool = False,
                     xlabel: str = "predicted", ylabel: str = "true", title: str = "confusion matrix",
                     dpi: int = 120, figsize=None, fontsize=None) -> Path:
    """A heat-map of ``counts`` (rows: true, columns: predicted); ``normalise`` shows each row's
    fractions with the counts in brackets."""
    counts = np.asarray(counts)
    column_names = list(row_names if column_names is None else column_names)
    n_rows, n_cols = counts.shape
    shown = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalise else counts
    fig, ax = plt.subplots(figsize=figsize or (1.1 * n_cols + 2, 1.0 * n_rows + 1.5))
    ax.imshow(shown, cmap="Blues", **({"vmin": 0, "vmax": 1} if normalise else {}))
    top = 1.0 if normalise else max(shown.max(), 1)
    for i in range(n_rows):
        for j in range(n_cols):
            text = f"{shown[i, j]:.2f}\n({counts[i, j]})" if normalise else str(counts[i, j])
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                    color="white" if shown[i, j] > top / 2 else "black")
    ax.set_xticks(range(n_cols), column_names)
    ax.set_yticks(range(n_rows), list(row_names))
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    plt.setp(ax.get_xticklabels(), rotation=30 if n_cols > 2 else 0, ha="right" if n_cols > 2 else "center")
    return save(fig, path, dpi)


def roc(curves: dict, path, title: str = "ROC (test)", dpi: int = 120, fontsize=None) -> Path:
    """ROC curves ``{legend label: (y_true, y_score)}`` (binary; one-vs-rest: pass ``y_true == k``)
    with the chance diagonal."""
    from sklearn.metrics import roc_curve

    fig, ax = plt.subplots(figsize=(5, 5))
    for label, (y_true, y_score) in curves.items():
        fpr, tpr, _ = roc_curve(np.asarray(y_true).astype(int), np.asarray(y_score, dtype=float))
        ax.plot(fpr, tpr, label=label)
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    ax.legend(loc="lower right", fontsize=fontsize)
    return save(fig, path, dpi)


def predicted_vs_true(y_true, y_pred, path, *, colour=None, colour_label: str = "", label: str = "",
                      title: str = "", dpi: int = 120) -> Path:
    """Predicted against true values with the one-to-one line, optionally coloured by ``colour``."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    fig, ax = plt.subplots(figsize=(5.2, 4.5))
    points = ax.scatter(y_true, y_pred, c=colour, s=10, cmap="viridis" if colour is not None else None)
    lo, hi = min(y_true.min(), y_pred.min()) - 0.1, max(y_true.max(), y_pred.max()) + 0.1
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set(xlim=(lo, hi), ylim=(lo, hi), xlabel=f"true {label}".strip(), ylabel=f"predicted {label}".strip(),
           title=title)
    if colour is not None:
        fig.colorbar(points, ax=ax, label=colour_label)
    return save(fig, path, dpi)


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
    return save(fig, path)


def pit_histogram(pit, path, *, bins: int = 10, title: str = "") -> Path:
    """Histogram of PIT values — F(y), F the predictive distribution, e.g. Φ((y − ŷ)/σ) — with the
    flat line of a calibrated model (± its Poisson scatter): a U shape means intervals too narrow,
    a hump too wide, a slope a bias."""
    pit = np.asarray(pit, float)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.hist(pit, bins=bins, range=(0, 1), color="C0", alpha=0.8)
    expected = len(pit) / bins
    ax.axhline(expected, color="k", ls="--", lw=1, label="calibrated")
    ax.axhspan(expected - np.sqrt(expected), expected + np.sqrt(expected), color="k", alpha=0.1)
    ax.set(xlabel="PIT = F(y), F the predictive distribution", ylabel="objects", title=f"PIT {title}".strip(), xlim=(0, 1))
    ax.legend()
    return save(fig, path)


def calibration_curve(curves: dict, path, title: str = "") -> Path:
    """Observed against nominal coverage of the central Gaussian intervals ``{label: (levels,
    observed)}``, with the diagonal of a calibrated σ (above it: σ too large)."""
    fig, ax = plt.subplots(figsize=(4.8, 4.5))
    for label, (levels, observed) in curves.items():
        ax.plot(levels, observed, "o-", ms=3, label=label)
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="calibrated")
    ax.set(xlabel="nominal coverage", ylabel="observed coverage", xlim=(0, 1), ylim=(0, 1),
           title=f"calibration {title}".strip())
    ax.legend(loc="upper left")
    return save(fig, path)


def grid_plot(key: str, values, means: dict, stds: dict | None, path, title: str = "") -> Path:
    """One small panel per test metric against the grid's values (``--grid KEY=V1,V2,...``), with
    ±1 std error bars when ``stds`` are given (seeds or folds per value). Numeric values are
    placed on a number line, others one after another."""
    try:
        x = np.array([float(v) for v in values])
    except ValueError:
        x = np.arange(len(values))
    n = len(means)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax, (name, ys) in zip(axes.flat, means.items()):
        ax.errorbar(x, ys, yerr=None if stds is None else stds[name], fmt="o-", ms=4, capsize=3)
        ax.set(xlabel=key, ylabel=name)
        ax.set_xticks(x, [str(v) for v in values])
    for ax in list(axes.flat)[n:]:
        ax.remove()
    if title:
        fig.suptitle(title)
    return save(fig, path)
