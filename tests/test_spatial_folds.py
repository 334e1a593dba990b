"""Spatial K-fold cross-validation (astrozoo.data.splits.subvolume_fold)."""

import numpy as np
import pytest

from astrozoo.data.splits import SplitError, subvolume_fold


def periodic_gap(a, b, box):
    """The smallest x-distance between two sets of objects in a periodic box."""
    d = np.abs(a[:, None] - b[None, :])
    return np.minimum(d, box - d).min()


def test_every_object_is_tested_once_and_splits_stay_a_gap_apart():
    pos = np.random.default_rng(0).uniform(0, 100.0, (3000, 3))
    tested = np.zeros(len(pos), int)
    for fold in range(5):
        label = subvolume_fold(pos, 100.0, fold, 5, gap=6.0)
        tested += label == "test"
        x = {name: pos[label == name, 0] for name in ("train", "val", "test")}
        for a, b in (("train", "val"), ("val", "test"), ("train", "test")):
            assert periodic_gap(x[a], x[b], 100.0) >= 6.0 - 0.1  # no pair closer than the gap
        assert 0.18 < np.mean(label == "test") < 0.22 and 0.04 < np.mean(label == "val") < 0.08
    assert np.all(tested == 1)


def test_a_box_too_small_for_the_folds_is_a_one_line_error():
    with pytest.raises(SplitError, match="too small for 5 folds"):
        subvolume_fold(np.zeros((10, 3)), 20.0, 0, 5, gap=6.0)
    with pytest.raises(SplitError, match="at least 3 folds"):
        subvolume_fold(np.zeros((10, 3)), 100.0, 0, 2)
