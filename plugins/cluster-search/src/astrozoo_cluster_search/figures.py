"""The paper's figures: predicted class per object type, recall by redshift (and mass), and
probability maps of a network slid over a larger sky field."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astrozoo.plots import confusion_matrix, plt, save
from astrozoo_cluster_search.conventions import CLASSES


def predicted_per_kind(kinds: np.ndarray, y_pred: np.ndarray, path: Path, title: str = "") -> Path:
    """Row-normalised matrix: true object type (cluster, galaxy, star, AGN, radio, dusty, random)
    × predicted class, counts in brackets (the slides' 'predicted class per object type')."""
    order = [k for k in ("cluster", "galaxy", "star", "agn", "radio", "dusty", "random") if k in set(kinds)]
    pred = np.asarray(y_pred).argmax(1)
    counts = np.array([[np.sum((kinds == k) & (pred == c)) for c in range(len(CLASSES))] for k in order])
    return confusion_matrix(counts, order, CLASSES, path, normalise=True, xlabel="predicted class",
                            ylabel="object type", title=title or "predicted class per object type",
                            figsize=(4.8, 0.5 * len(order) + 1.6), fontsize=8)


def _wilson(k, n, z=1.0):
    """Wilson score interval (1σ) of a binomial fraction k/n."""
    n = np.maximum(n, 1)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def binned_recall(values: np.ndarray, hit: np.ndarray, edges: np.ndarray) -> dict:
    """Recall (fraction of true clusters predicted 'cluster') in bins of ``values``."""
    idx = np.digitize(values, edges) - 1
    n = np.array([np.sum(idx == b) for b in range(len(edges) - 1)])
    k = np.array([np.sum(hit[idx == b]) for b in range(len(edges) - 1)])
    lo, hi = _wilson(k, n)
    return {"centres": 0.5 * (edges[1:] + edges[:-1]), "n": n, "k": k,
            "recall": np.where(n > 0, k / np.maximum(n, 1), np.nan), "lo": lo, "hi": hi}


def recall_by_redshift(z: np.ndarray, m500: np.ndarray, y_pred: np.ndarray, path: Path, title: str = "") -> Path:
    """Left: recall of the cluster class per redshift bin with all test clusters' histogram
    (the slides' 'all clusters' vs 'identified by the model'); right: recall per M500 bin."""
    hit = np.asarray(y_pred).argmax(1) == 0
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    z_edges = np.linspace(np.floor(np.nanmin(z) * 10) / 10, np.ceil(np.nanmax(z) * 10) / 10, 8)
    m_edges = np.logspace(np.log10(np.nanmin(m500)), np.log10(np.nanmax(m500)) + 1e-9, 7)
    for ax, values, edges, label, log in ((axes[0], z, z_edges, "redshift z", False),
                                          (axes[1], m500, m_edges, "M500 [Msun]", True)):
        b = binned_recall(values, hit, edges)
        ax.hist(values, bins=edges, color="0.85", label="all test clusters")
        ax.hist(values[hit], bins=edges, color="C0", alpha=0.6, label="identified by the model")
        ax.set(xlabel=label, ylabel="clusters", xscale="log" if log else "linear")
        twin = ax.twinx()
        ok = b["n"] > 0
        yerr = np.clip([b["recall"][ok] - b["lo"][ok], b["hi"][ok] - b["recall"][ok]], 0, None)
        twin.errorbar(b["centres"][ok], b["recall"][ok], yerr=yerr, color="C3", marker="o", capsize=3,
                      label="recall")
        twin.set(ylim=(0, 1.05), ylabel="recall")
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(title or "recall by redshift")
    return save(fig, path)


def sliding_windows(image: np.ndarray, size: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, C, size, size) windows of a (C, H, W) image every ``stride`` px, and their centres (N, 2) as (x, y)."""
    c, h, w = image.shape
    ys = np.arange(0, h - size + 1, stride)
    xs = np.arange(0, w - size + 1, stride)
    view = np.lib.stride_tricks.sliding_window_view(image, (size, size), axis=(1, 2))  # (C, H', W', s, s)
    windows = view[:, ys][:, :, xs]  # (C, ny, nx, s, s)
    windows = np.ascontiguousarray(windows.transpose(1, 2, 0, 3, 4)).reshape(-1, c, size, size)
    cy, cx = np.meshgrid(ys + (size - 1) / 2, xs + (size - 1) / 2, indexing="ij")
    return windows, np.stack([cx.ravel(), cy.ravel()], 1)


def probability_maps(image: np.ndarray, table: dict, probs: np.ndarray, centres: np.ndarray, path: Path,
                     band: str, title: str = "") -> Path:
    """The field (one channel), P(cluster) and P(source) of the window centred on each position,
    with the true clusters (circles, labelled with z) and sources (crosses) marked."""
    xs, ys = np.unique(centres[:, 0]), np.unique(centres[:, 1])
    shape = (len(ys), len(xs))
    step = xs[1] - xs[0] if len(xs) > 1 else 1
    extent = (xs[0] - step / 2, xs[-1] + step / 2, ys[0] - step / 2, ys[-1] + step / 2)
    channel = 0 if band == "ir" else 1
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.4))
    axes[0].imshow(image[channel], origin="lower", cmap="gray" if band == "ir" else "RdBu_r")
    axes[0].set_title(f"{'W1' if band == 'ir' else 'f150'} (preprocessed)")
    for ax, k, name in ((axes[1], 0, "P(cluster)"), (axes[2], 1, "P(source)")):
        im = ax.imshow(probs[:, k].reshape(shape), origin="lower", extent=extent, cmap="magma", vmin=0, vmax=1)
        ax.set(xlim=(0, image.shape[2]), ylim=(0, image.shape[1]), title=name)
        fig.colorbar(im, ax=ax, fraction=0.046)
    for ax in axes:
        cl = table["kind"] == "cluster"
        ax.scatter(table["x"][cl], table["y"][cl], s=260, facecolors="none", edgecolors="lime", lw=1.5)
        ax.scatter(table["x"][~cl], table["y"][~cl], s=80, marker="x", color="cyan", lw=1.5)
        for x, y, z in zip(table["x"][cl], table["y"][cl], table["z"][cl]):
            ax.annotate(f"z={z:.2f}", (x, y), xytext=(8, 8), textcoords="offset points", color="lime", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title or "probability maps")
    return save(fig, path, dpi=110)
