"""The paper's 75:15:10 split with every image of one sequence in one set."""

from __future__ import annotations

import numpy as np

SPLITS = ("train", "val", "test")


def sequence_split(sequence_ids, strata=None, fractions=(0.75, 0.15, 0.10), seed: int = 0) -> np.ndarray:
    """Assign whole sequences to train/val/test so that each set holds about ``fractions`` of the
    images. ``strata`` (one value per image, constant within a sequence, e.g. whether the sequence
    is a major merger) are split separately so that each set keeps the class mix. Returns one of
    ``"train"``, ``"val"``, ``"test"`` per image."""
    sequence_ids = np.asarray(sequence_ids)
    fractions = np.asarray(fractions, dtype=float)
    if fractions.shape != (3,) or np.any(fractions < 0) or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f"split fractions must be three non-negative numbers summing to 1, got {list(fractions)}")
    strata = np.zeros(len(sequence_ids), dtype=int) if strata is None else np.asarray(strata)
    out = np.empty(len(sequence_ids), dtype="<U5")
    rng = np.random.default_rng(seed)
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        sequences, counts = np.unique(sequence_ids[rows], return_counts=True)
        order = rng.permutation(len(sequences))
        cumulative = np.cumsum(counts[order]) / counts.sum()
        # a sequence goes to the set in which the middle of its images falls
        middle = cumulative - counts[order] / counts.sum() / 2
        bounds = np.cumsum(fractions)[:-1]
        assigned = np.searchsorted(bounds, middle, side="right")
        label = dict(zip(sequences[order], np.asarray(SPLITS)[assigned]))
        out[rows] = [label[s] for s in sequence_ids[rows]]
    return out
