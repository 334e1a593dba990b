"""The halo-mass paper's spatial split: three contiguous sub-volumes separated by gaps.

Jespersen et al. (Section 3.1) split TNG50 into train / validation / test slabs with a 6 Mpc
partition between each, so that no 3 Mpc graph edge (and no Delta_G sphere centre pair) joins
two sets: 1,011 / 112 / 259 galaxies. In a periodic box the last slab also touches the first
across the boundary, so here a gap sits at the wrap as well.

Layout along ``axis`` (x by default), with b1 and b2 chosen from the galaxy counts::

    0 ── train ── b1 │gap│ val ── b2 │gap│ test ── box-gap │gap│ box (= 0)
"""

from __future__ import annotations

import numpy as np

__all__ = ["subvolume_split", "PAPER_FRACTIONS"]

PAPER_FRACTIONS = (1011 / 1382, 112 / 1382, 259 / 1382)  # ≈ 0.732, 0.081, 0.187


def subvolume_split(pos, box: float, gap: float = 6.0,
                    fractions=(0.732, 0.081, 0.187), axis: int = 0) -> np.ndarray:
    """Label each galaxy 'train', 'val', 'test', or '' (inside a gap, dropped).

    The slab boundaries are set so that the numbers of *kept* galaxies are as close as possible
    to ``fractions`` (normalised to sum to 1): every possible train/validation boundary is tried
    (vectorised over the sorted coordinates, O(N log N)). Raises ``ValueError`` when the box
    cannot hold three gaps and three non-empty slabs (e.g. box = 15 Mpc with 6 Mpc gaps).
    """
    pos = np.atleast_2d(np.asarray(pos, dtype=np.float64))
    box, gap = float(box), float(gap)
    fr = np.asarray(fractions, dtype=np.float64)
    if fr.shape != (3,) or np.any(fr <= 0):
        raise ValueError(f"fractions must be three positive numbers, got {fractions!r}")
    fr = fr / fr.sum()
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap}")
    if box <= 3.0 * gap:
        raise ValueError(f"box of {box} Mpc is too small for three {gap} Mpc gaps "
                         f"(needs more than {3 * gap} Mpc plus room for the three sub-volumes)")
    x = np.mod(pos[:, axis], box)
    xs = np.sort(x)
    n = len(xs)
    if n < 3:
        raise ValueError(f"need at least 3 galaxies to split, got {n}")

    # Try every train count c1 (b1 midway between sorted neighbours); the validation slab
    # takes c2 = c1 f_val / f_train galaxies after the gap, the test slab whatever lies between
    # the next gap and the wrap gap. Keep the c1 whose three counts best match the fractions.
    c1 = np.arange(1, n)
    b1 = 0.5 * (xs[c1 - 1] + xs[c1])
    c2 = np.maximum(1, np.rint(c1 * fr[1] / fr[0]).astype(np.int64))
    first_val = np.searchsorted(xs, b1 + gap, side="left")
    last = first_val + c2  # index of the first galaxy after the validation slab
    ok = last < n
    b2 = np.where(ok, 0.5 * (xs[np.minimum(last, n - 1) - 1] + xs[np.minimum(last, n - 1)]),
                  np.inf)
    c3 = np.searchsorted(xs, box - gap, side="left") - np.searchsorted(xs, b2 + gap, side="left")
    ok &= (b1 > 0) & (b2 + gap < box - gap) & (c3 > 0)
    if not ok.any():
        raise ValueError(f"box of {box} Mpc is too small for {gap} Mpc gaps with fractions "
                         f"{tuple(np.round(fr, 3))}: a sub-volume would be empty")
    counts = np.stack([c1, c2, c3], axis=1).astype(np.float64)
    mismatch = np.abs(counts - fr * counts.sum(axis=1, keepdims=True)).sum(axis=1)
    best = np.argmin(np.where(ok, mismatch, np.inf))
    b1, b2 = b1[best], b2[best]

    label = np.full(len(x), "", dtype="<U5")
    label[x < b1] = "train"
    label[(x >= b1 + gap) & (x < b2)] = "val"
    label[(x >= b2 + gap) & (x < box - gap)] = "test"
    for name in ("train", "val", "test"):
        if not np.any(label == name):
            raise ValueError(f"box of {box} Mpc is too small for {gap} Mpc gaps with fractions "
                             f"{tuple(np.round(fr, 3))}: the {name} sub-volume is empty")
    return label
