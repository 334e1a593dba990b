"""Train/val/test assignment shared by the cluster datasets: stratified K folds (8/1/1).

``fold = k`` (0 ≤ k < n_folds) puts stratified fold k in the test split, fold k+1 (mod K) in
validation and the other K−2 folds in training — the 10-fold cross-validation of Su et al. (2020)
and Kosiba et al. (2020); ``astrozoo run ... --folds K`` runs k = 0..K−1. ``fold = -1`` asks the
dataset for its default split (each dataset documents its own).
"""

from __future__ import annotations

import numpy as np

from astrozoo.errors import AstrozooError


def stratified_folds(labels: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Fold index 0..n_folds−1 per object; every class spread evenly over the folds."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    folds = np.empty(len(labels), dtype=int)
    offset = 0
    for value in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == value))
        folds[members] = (np.arange(len(members)) + offset) % n_folds
        offset += len(members)  # the next class starts where this one stopped: folds stay equal-sized
    return folds


def fold_split(labels: np.ndarray, fold: int, n_folds: int, seed: int) -> np.ndarray:
    """'train' / 'val' / 'test' per object for cross-validation fold ``fold`` of ``n_folds``."""
    check_fold(fold, n_folds)
    folds = stratified_folds(labels, n_folds, seed)
    out = np.full(len(labels), "train", dtype="<U5")
    out[folds == fold] = "test"
    out[folds == (fold + 1) % n_folds] = "val"
    return out


def check_fold(fold: int, n_folds: int) -> None:
    if n_folds < 3:
        raise AstrozooError(f"data.n_folds={n_folds}: need at least 3 folds (train, val and test)")
    if not -1 <= fold < n_folds:
        raise AstrozooError(f"data.fold={fold}: must be -1 (default split) or 0..{n_folds - 1}")
