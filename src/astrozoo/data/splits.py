"""Train / validation / test splits, all seeded: random, stratified, grouped, spatial sub-volume,
K-fold and spatial K-fold.

Each function returns one label per object — ``"train"``, ``"val"``, ``"test"`` (or ``""`` for
an object a spatial gap drops) — so a dataset stores one array and hands out ``label == name``.
The same seed gives the same split on every machine.

Why not scikit-learn's splitters: the three-way, group-aware and sub-volume splits below have
no scikit-learn counterpart with these semantics, and the stratified and K-fold assignments are
the ones the tasks' published numbers were measured on (a different but equally valid shuffle
would change every documented result). :func:`random_split` is scikit-learn's
``train_test_split`` applied twice.
"""

from __future__ import annotations

import numpy as np

from astrozoo.errors import AstrozooError

SPLITS = ("train", "val", "test")


class SplitError(AstrozooError, ValueError):
    """A split that cannot be made (bad fractions, too few objects, a box too small)."""


def check_fractions(fractions, total: bool = True) -> np.ndarray:
    """Three non-negative fractions (summing to 1 when ``total``) as an array."""
    fr = np.asarray(fractions, dtype=float)
    if fr.shape != (3,) or np.any(fr < 0) or (total and not np.isclose(fr.sum(), 1.0)):
        raise SplitError(f"split fractions must be three non-negative numbers summing to 1, got {list(fr)}")
    return fr


def random_split(n: int, fractions=(0.70, 0.15, 0.15), seed: int = 0) -> np.ndarray:
    """``n`` objects shuffled into train / val / test of about ``fractions``."""
    from sklearn.model_selection import train_test_split

    fr = check_fractions(fractions)
    rows = np.arange(n)
    rest, test = train_test_split(rows, test_size=fr[2], random_state=seed) if fr[2] > 0 else (rows, rows[:0])
    val_share = fr[1] / (fr[0] + fr[1]) if fr[0] + fr[1] > 0 else 0.0
    train, val = (train_test_split(rest, test_size=val_share, random_state=seed + 1) if val_share > 0
                  else (rest, rest[:0]))
    out = np.empty(n, dtype="<U5")
    out[train], out[val], out[test] = "train", "val", "test"
    return out


def stratified_split(labels, fractions=(0.70, 0.15, 0.15), seed=0) -> np.ndarray:
    """Each class shuffled on its own and cut at ``fractions`` (rounded), so that every split
    keeps the class mix. ``seed`` is anything ``numpy.random.default_rng`` takes."""
    fr = check_fractions(fractions)
    labels = np.asarray(labels)
    out = np.empty(len(labels), dtype="<U5")
    rng = np.random.default_rng(seed)
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        n_train = int(round(fr[0] * len(rows)))
        n_val = int(round(fr[1] * len(rows)))
        out[rows[:n_train]] = "train"
        out[rows[n_train:n_train + n_val]] = "val"
        out[rows[n_train + n_val:]] = "test"
    return out


def grouped_split(groups, fractions=(0.75, 0.15, 0.10), seed: int = 0, strata=None) -> np.ndarray:
    """Whole groups (e.g. every image of one merger sequence) to train / val / test, so that each
    set holds about ``fractions`` of the objects. ``strata`` (one value per object, constant within
    a group) are split separately so that each set keeps their mix."""
    groups = np.asarray(groups)
    fr = check_fractions(fractions)
    strata = np.zeros(len(groups), dtype=int) if strata is None else np.asarray(strata)
    out = np.empty(len(groups), dtype="<U5")
    rng = np.random.default_rng(seed)
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        names, counts = np.unique(groups[rows], return_counts=True)
        order = rng.permutation(len(names))
        cumulative = np.cumsum(counts[order]) / counts.sum()
        # a group goes to the set in which the middle of its objects falls
        middle = cumulative - counts[order] / counts.sum() / 2
        assigned = np.searchsorted(np.cumsum(fr)[:-1], middle, side="right")
        label = dict(zip(names[order], np.asarray(SPLITS)[assigned]))
        out[rows] = [label[g] for g in groups[rows]]
    return out


def kfold(labels, n_folds: int, seed: int = 0) -> np.ndarray:
    """Stratified fold index 0..n_folds−1 per object: each class shuffled and dealt round-robin,
    the next class starting where the last stopped, so folds are equal-sized and keep the mix."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    folds = np.empty(len(labels), dtype=int)
    offset = 0
    for value in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == value))
        folds[members] = (np.arange(len(members)) + offset) % n_folds
        offset += len(members)
    return folds


def check_fold(fold: int, n_folds: int) -> None:
    """``fold`` must be −1 (the dataset's default split) or 0..n_folds−1, with n_folds ≥ 3."""
    if n_folds < 3:
        raise SplitError(f"data.n_folds={n_folds}: need at least 3 folds (train, val and test)")
    if not -1 <= fold < n_folds:
        raise SplitError(f"data.fold={fold}: must be -1 (default split) or 0..{n_folds - 1}")


def fold_split(labels, fold: int, n_folds: int, seed: int = 0) -> np.ndarray:
    """Cross-validation fold ``fold`` of ``n_folds`` (stratified by ``labels``): that fold is
    the test split, the next one (mod K) validation, the other K−2 training."""
    check_fold(fold, n_folds)
    folds = kfold(labels, n_folds, seed)
    out = np.full(len(folds), "train", dtype="<U5")
    out[folds == fold] = "test"
    out[folds == (fold + 1) % n_folds] = "val"
    return out


def subvolume_split(pos, box: float, gap: float = 6.0, fractions=(0.732, 0.081, 0.187),
                    axis: int = 0) -> np.ndarray:
    """Three contiguous slabs of a periodic box along ``axis`` — train, val, test — with a gap of
    ``gap`` between each and at the wrap, so that no pair closer than ``gap`` spans two sets.
    Objects inside a gap get ``""`` (dropped).

    Layout: ``0 ── train ── b1 │gap│ val ── b2 │gap│ test ── box−gap │gap│ box``. Every
    train/val boundary is tried (vectorised over the sorted coordinates) and the one whose kept
    counts best match ``fractions`` (normalised) wins.
    """
    pos = np.atleast_2d(np.asarray(pos, dtype=np.float64))
    box, gap = float(box), float(gap)
    fr = np.asarray(fractions, dtype=np.float64)
    if fr.shape != (3,) or np.any(fr <= 0):
        raise SplitError(f"fractions must be three positive numbers, got {fractions!r}")
    fr = fr / fr.sum()
    if gap < 0:
        raise SplitError(f"gap must be >= 0, got {gap}")
    if box <= 3.0 * gap:
        raise SplitError(f"box of {box} Mpc is too small for three {gap} Mpc gaps "
                         f"(needs more than {3 * gap} Mpc plus room for the three sub-volumes)")
    x = np.mod(pos[:, axis], box)
    xs = np.sort(x)
    n = len(xs)
    if n < 3:
        raise SplitError(f"need at least 3 objects to split, got {n}")
    c1 = np.arange(1, n)
    b1 = 0.5 * (xs[c1 - 1] + xs[c1])
    c2 = np.maximum(1, np.rint(c1 * fr[1] / fr[0]).astype(np.int64))
    first_val = np.searchsorted(xs, b1 + gap, side="left")
    last = first_val + c2  # index of the first object after the validation slab
    ok = last < n
    b2 = np.where(ok, 0.5 * (xs[np.minimum(last, n - 1) - 1] + xs[np.minimum(last, n - 1)]), np.inf)
    c3 = np.searchsorted(xs, box - gap, side="left") - np.searchsorted(xs, b2 + gap, side="left")
    ok &= (b1 > 0) & (b2 + gap < box - gap) & (c3 > 0)
    too_small = (f"box of {box} Mpc is too small for {gap} Mpc gaps with fractions "
                 f"{tuple(np.round(fr, 3))}")
    if not ok.any():
        raise SplitError(f"{too_small}: a sub-volume would be empty")
    counts = np.stack([c1, c2, c3], axis=1).astype(np.float64)
    mismatch = np.abs(counts - fr * counts.sum(axis=1, keepdims=True)).sum(axis=1)
    best = np.argmin(np.where(ok, mismatch, np.inf))
    b1, b2 = b1[best], b2[best]
    label = np.full(len(x), "", dtype="<U5")
    label[x < b1] = "train"
    label[(x >= b1 + gap) & (x < b2)] = "val"
    label[(x >= b2 + gap) & (x < box - gap)] = "test"
    for name in SPLITS:
        if not np.any(label == name):
            raise SplitError(f"{too_small}: the {name} sub-volume is empty")
    return label


def subvolume_fold(pos, box: float, fold: int, n_folds: int, gap: float = 6.0, val_fraction: float = 0.1,
                   axis: int = 0) -> np.ndarray:
    """Spatial K-fold cross-validation in a periodic box: K equal slabs along ``axis``, slab
    ``fold`` the test sub-volume (so every object is tested in exactly one fold). After it, a gap
    of ``gap``, a validation slab of ``val_fraction`` of the remaining length, a gap, the training
    slab and a gap before the test slab again — the layout of :func:`subvolume_split`, rotated.
    Objects inside a gap get ``""``."""
    check_fold(fold, n_folds)
    pos = np.atleast_2d(np.asarray(pos, dtype=np.float64))
    box, gap = float(box), float(gap)
    width = box / n_folds
    rest = box - width - 3 * gap
    if gap < 0 or rest <= 0:
        raise SplitError(f"box of {box} Mpc is too small for {n_folds} folds with {gap} Mpc gaps "
                         f"(needs more than {width + 3 * gap:.1f} Mpc)")
    x = np.mod(pos[:, axis] - fold * width, box)
    val_start = width + gap
    train_start = val_start + val_fraction * rest + gap
    label = np.full(len(x), "", dtype="<U5")
    label[x < width] = "test"
    label[(x >= val_start) & (x < train_start - gap)] = "val"
    label[(x >= train_start) & (x < box - gap)] = "train"
    for name in SPLITS:
        if not np.any(label == name):
            raise SplitError(f"fold {fold} of {n_folds}: the {name} sub-volume is empty")
    return label
