"""Figures of the merger paper from one run: ROC, confusion matrix, metrics vs threshold, metrics
per redshift bin and per merger time with bootstrap intervals, ellipticity bins, example views and
occlusion maps. Each function writes one PNG and returns its path."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from astrozoo import plots
from astrozoo.plots import plt

from astrozoo_mergers.evaluation import MERGER_WINDOW_GYR, roc_auc

_save = partial(plots.save, dpi=110)


def roc_curve(y_true, y_score, path: Path, title: str = "") -> Path:
    return plots.roc({f"AUC = {roc_auc(y_true, y_score):.3f}": (y_true, y_score)}, path,
                     title=title or "ROC (test)", dpi=110)


def confusion(y_true, y_score, threshold: float, path: Path, title: str = "") -> Path:
    y = np.asarray(y_true).astype(int)
    y_hat = (np.asarray(y_score, dtype=float) >= threshold).astype(int)
    counts = np.array([[np.sum((y == i) & (y_hat == j)) for j in (0, 1)] for i in (0, 1)])
    return plots.confusion_matrix(counts, ["non-merger", "merger"], path=path, normalise=True, figsize=(4.2, 3.8),
                                  title=title or f"confusion (threshold {threshold:.2f})", dpi=110)


def versus_threshold(table: dict, threshold: float, path: Path, title: str = "") -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 4))
    styles = {"accuracy": ("C0", "-"), "precision": ("C3", ":"), "recall": ("C2", "--"), "f1": ("k", "-.")}
    for name, (color, ls) in styles.items():
        ax.plot(table["threshold"], table[name], color=color, ls=ls, label=name)
    ax.axvline(threshold, color="grey", lw=1, label=f"precision = recall ({threshold:.2f}, validation)")
    ax.set(xlabel="threshold", ylabel="metric (test)", ylim=(0, 1.02), title=title or "metrics vs threshold")
    ax.legend(fontsize=8)
    return _save(fig, path)


def _errorbars(ax, centres, results, **kw):
    mean = np.array([r["mean"] for r in results], dtype=float)
    low = np.array([r["low"] for r in results], dtype=float)
    high = np.array([r["high"] for r in results], dtype=float)
    ax.errorbar(centres, mean, yerr=[mean - low, high - mean], capsize=3, marker="o", **kw)


def per_redshift(tables: dict, path: Path, title: str = "") -> Path:
    edges = np.asarray(tables["redshift"]["edges"])
    centres = (edges[:-1] + edges[1:]) / 2
    fig, axes = plt.subplots(4, 1, figsize=(5, 8), sharex=True)
    for ax, name in zip(axes, ("accuracy", "precision", "recall", "f1")):
        results = tables["redshift"][name]
        _errorbars(ax, centres, results)
        for c, r in zip(centres, results):
            ax.annotate(f"n={r['n']}", (c, 0.02), ha="center", fontsize=7, xycoords=("data", "axes fraction"))
        ax.set(ylabel=name, ylim=(0, 1.02))
    axes[-1].set(xlabel="redshift", xticks=edges)
    axes[0].set_title(title or "per redshift bin: bootstrap mean and 95% interval")
    return _save(fig, path)


def per_time(tables: dict, path: Path, title: str = "") -> Path:
    edges = np.asarray(tables["time"]["edges"])
    centres = (edges[:-1] + edges[1:]) / 2
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.axvspan(*MERGER_WINDOW_GYR, color="C1", alpha=0.12, label="merger window (label 1)")
    for x in (-0.1, 0.1):
        ax.axvline(x, color="C1", lw=0.8, ls=":")
    _errorbars(ax, centres, tables["time"]["merger_fraction"], label="fraction classified as merger")
    ax.set(xlabel="time to coalescence [Gyr] (negative: before)", ylabel="fraction classified merger", ylim=(0, 1.02),
           title=title or "major-merger sequences: bootstrap mean and 95% interval")
    ax.legend(fontsize=8, loc="lower center")
    return _save(fig, path)


def ellipticity(y_true, ellip, balanced: dict, path: Path, title: str = "") -> Path:
    edges = np.asarray(balanced["edges"])
    centres = (edges[:-1] + edges[1:]) / 2
    y = np.asarray(y_true).astype(int)
    fig, axes = plt.subplots(3, 1, figsize=(5.5, 8.5), sharex=True)
    axes[0].hist([np.asarray(ellip)[y == 1], np.asarray(ellip)[y == 0]], bins=edges, label=["merger", "non-merger"])
    axes[0].set(ylabel="images", title=title or "central galaxy's Sérsic ellipticity (test)")
    axes[0].legend(fontsize=8)
    for ax, name in zip(axes[1:], ("accuracy", "precision")):
        ax.plot(centres, balanced[f"raw_{name}"], "s--", color="grey", label="all images in the bin")
        ax.errorbar(centres, balanced[name], yerr=balanced[f"{name}_std"], marker="o", capsize=3,
                    label="balanced: mean ± std of draws")
        ax.set(ylabel=name, ylim=(0, 1.02))
        ax.legend(fontsize=7)
    axes[-1].set(xlabel="Sérsic ellipticity")
    return _save(fig, path)


def examples(images: dict[str, np.ndarray], captions: list[str], path: Path, title: str = "") -> Path:
    """Rows of raw / model / residual (the paper's Fig. 4, power-law stretch 0.2 for display)."""
    views = list(images)
    n = len(captions)
    fig, axes = plt.subplots(n, len(views), figsize=(2.2 * len(views), 2.2 * n), squeeze=False)
    for i in range(n):
        for j, view in enumerate(views):
            image = np.asarray(images[view][i]).squeeze()
            shown = np.clip(image, 0, None) ** 0.2 if view != "residual" else image
            axes[i, j].imshow(shown, origin="lower", cmap="gray")
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
            if i == 0:
                axes[i, j].set_title(view)
        axes[i, 0].set_ylabel(captions[i], fontsize=7)
    fig.suptitle(title or "examples (test)")
    return _save(fig, path)


def occlusion_maps(images: np.ndarray, maps: np.ndarray, captions: list[str], path: Path, title: str = "") -> Path:
    """Input and heatmap (mean score while each pixel was covered) per example (Figs. 14–15)."""
    n = len(captions)
    fig, axes = plt.subplots(n, 2, figsize=(5, 2.4 * n), squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(np.clip(images[i].squeeze(), 0, None) ** 0.2, origin="lower", cmap="gray")
        shown = axes[i, 1].imshow(maps[i], origin="lower", cmap="viridis")
        fig.colorbar(shown, ax=axes[i, 1], fraction=0.046)
        axes[i, 0].set_ylabel(captions[i], fontsize=7)
        for ax in axes[i]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_title("input")
    axes[0, 1].set_title("score with pixel occluded")
    fig.suptitle(title or "occlusion")
    return _save(fig, path)
