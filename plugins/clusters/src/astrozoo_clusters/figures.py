"""Report figures of the cluster tasks (matplotlib, Agg, PNG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from sklearn import metrics as skm

from astrozoo.metrics.classification import to_labels
from astrozoo.plots import confusion_matrix, plt, roc
from astrozoo.plots import save as _save


def one_vs_all_scores(y_true, y_pred, n_classes: int) -> list[dict]:
    """Accuracy, precision, recall and AUC of each class against the rest (Kosiba et al. Table 6)."""
    labels = to_labels(y_pred)
    rows = []
    for k in range(n_classes):
        t, p = np.asarray(y_true) == k, labels == k
        score = y_pred[:, k]
        rows.append({"accuracy": float((t == p).mean()),
                     "precision": float(skm.precision_score(t, p, zero_division=0)),
                     "recall": float(skm.recall_score(t, p, zero_division=0)),
                     "auc": float(skm.roc_auc_score(t, score)) if 0 < t.sum() < len(t) else float("nan")})
    return rows


def roc_figure(y_true, y_pred, class_names, path, title="") -> Path:
    """Binary ROC, or one-vs-all ROC per class with A, P, R, AUC in the legend (Figure 13 / Table 6)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred, dtype=float)
    if y_pred.ndim == 1:
        curves = {f"AUC = {skm.roc_auc_score(y_true, y_pred):.3f}": (y_true, y_pred)}
    else:
        curves = {f"{name}: A {row['accuracy']:.2f} P {row['precision']:.2f} R {row['recall']:.2f} "
                  f"AUC {row['auc']:.2f}": (y_true == k, y_pred[:, k])
                  for k, (name, row) in enumerate(zip(class_names, one_vs_all_scores(y_true, y_pred, y_pred.shape[1])))
                  if 0 < (y_true == k).sum() < len(y_true)}
    return roc(curves, path, title=title or "ROC (test)", fontsize=7)


def confusion_figure(y_true, y_pred, class_names, path, title="") -> Path:
    n = len(class_names)
    counts = skm.confusion_matrix(y_true, to_labels(y_pred), labels=np.arange(n))
    return confusion_matrix(counts, class_names, path=path, title=title or "confusion matrix (test)")


def per_class_table_figure(rows: list[dict], class_names, path, title="") -> Path:
    """A table figure: one row per class, one column per score."""
    keys = list(rows[0])
    fig, ax = plt.subplots(figsize=(1.3 * len(keys) + 1.5, 0.4 * len(rows) + 1.0))
    ax.axis("off")
    cells = [[f"{r[k]:.2f}" for k in keys] for r in rows]
    table = ax.table(cellText=cells, rowLabels=list(class_names), colLabels=keys, loc="center")
    table.scale(1, 1.3)
    ax.set_title(title)
    return _save(fig, path)


def volunteer_figure(expert_class, shares: dict, cluster_classes, class_names, path) -> Path:
    """Left: accuracy / precision / recall of the volunteers' plain and weighted votes against the
    experts (binary cluster decision). Right: what the weighted majority answered for each expert
    class (the paper's Figure 6)."""
    from astrozoo_clusters.candidates.volunteers import binary_scores, cluster_probability

    truth = np.isin(expert_class, cluster_classes)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.38
    for i, kind in enumerate(("unweighted", "weighted")):
        s = binary_scores(truth, cluster_probability(shares[kind]) >= 0.5)
        values = [s["accuracy"], s["precision"], s["recall"]]
        bars = a1.bar(np.arange(3) + (i - 0.5) * width, values, width, label=kind)
        a1.bar_label(bars, fmt="%.2f", fontsize=7)
    a1.set(xticks=range(3), xticklabels=["accuracy", "precision", "recall"], ylim=(0, 1.1),
           title=f"volunteers vs experts ({len(truth)} objects)")
    a1.legend(fontsize=8)
    answer = shares["weighted"].argmax(axis=1)
    n = len(class_names)
    table = np.array([[np.mean(answer[expert_class == k] == j) if (expert_class == k).any() else 0 for j in range(n)]
                      for k in range(n)])
    a2.imshow(table, cmap="Purples", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            a2.text(j, i, f"{table[i, j]:.2f}", ha="center", va="center", fontsize=8)
    a2.set(xticks=range(n), yticks=range(n), xticklabels=class_names, yticklabels=class_names,
           xlabel="volunteers' weighted majority", ylabel="expert class", title="volunteer answers per expert class")
    plt.setp(a2.get_xticklabels(), rotation=30, ha="right")
    return _save(fig, path)


def examples_figure(images, y_true, y_pred, class_names, path, per_class: int = 4) -> Path:
    """A few test candidates per true class: optical (grey) and X-ray (magma) with P(predicted)."""
    labels = to_labels(y_pred)
    n = len(class_names)
    fig, axes = plt.subplots(n, 2 * per_class, figsize=(2 * per_class * 1.3, n * 1.45))
    axes = np.atleast_2d(axes)
    for k in range(n):
        rows = np.flatnonzero(np.asarray(y_true) == k)[:per_class]
        for j in range(per_class):
            for c, cmap in ((0, "gray"), (1, "magma")):
                ax = axes[k, 2 * j + c]
                ax.set_xticks([])
                ax.set_yticks([])
                if j < len(rows):
                    ax.imshow(images[rows[j], 1 + c], cmap=cmap, origin="lower", vmin=0, vmax=1)
                    if c == 0:
                        ax.set_title(f"{class_names[k]}→{class_names[labels[rows[j]]]}", fontsize=6)
    return _save(fig, path)


def cam_figure(mean_maps: dict, pixel_kpc: float, path, title="") -> Path:
    """Mean class activation map per class and their radial profiles in kpc (Su et al. Figure 9)."""
    names = list(mean_maps)
    fig, axes = plt.subplots(1, len(names) + 1, figsize=(3.3 * (len(names) + 1), 3.3))
    for ax, name in zip(axes, names):
        cam, n = mean_maps[name]
        if cam is None:
            ax.set_title(f"{name}: none")
            ax.axis("off")
            continue
        half = cam.shape[-1] * pixel_kpc / 2
        ax.imshow(cam, origin="lower", cmap="inferno", extent=(-half, half, -half, half))
        ax.set(title=f"{name} (n={n})", xlabel="kpc")
        r, profile = radial_profile(cam, pixel_kpc)
        axes[-1].plot(r, profile, label=name)
    axes[-1].set(xlabel="radius [kpc]", ylabel="mean CAM", title="radial profiles")
    axes[-1].legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def radial_profile(image, pixel_kpc: float, n_bins: int = 20):
    size = image.shape[-1]
    y, x = np.mgrid[:size, :size]
    r = np.hypot(x - (size - 1) / 2, y - (size - 1) / 2) * pixel_kpc
    edges = np.linspace(0, size / 2 * pixel_kpc, n_bins + 1)
    idx = np.digitize(r.ravel(), edges) - 1
    ok = (idx >= 0) & (idx < n_bins)
    sums = np.bincount(idx[ok], weights=image.ravel()[ok], minlength=n_bins)
    counts = np.bincount(idx[ok], minlength=n_bins)
    return 0.5 * (edges[1:] + edges[:-1]), sums / np.maximum(counts, 1)


def cooling_figure(columns: dict, csb: np.ndarray | None, path) -> Path:
    """The labels' physics: t_cool against the central density and against C_SB, with the
    class boundaries and the baselines' thresholds."""
    from astrozoo_clusters.coolcore.physics import CLASSES, T_CC, T_NCC

    panels = [("ne0", columns["ne0"], (0.015, 0.005), "central n_e [cm$^{-3}$]")]
    if csb is not None:
        panels.append(("csb", csb, (0.155, 0.075), "C$_{SB}$ = S(<40 kpc)/S(<400 kpc)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4))
    axes = np.atleast_1d(axes)
    for ax, (_, values, cuts, label) in zip(axes, panels):
        for k, name in enumerate(CLASSES):
            sel = columns["label"] == k
            ax.scatter(values[sel], columns["tcool"][sel], s=8, label=name)
        for cut in cuts:
            ax.axvline(cut, color="k", ls=":", lw=1)
        for t in (T_CC, T_NCC):
            ax.axhline(t, color="gray", ls="--", lw=1)
        ax.set(xscale="log", yscale="log", xlabel=label, ylabel="central t$_{cool}$ [Gyr]")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.legend(fontsize=8)
    return _save(fig, path)
