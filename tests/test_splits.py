"""astrozoo.data.splits: every split is seeded, keeps what it promises, and fails in one line."""

import numpy as np
import pytest

from astrozoo.data import splits
from astrozoo.errors import AstrozooError


def _fractions(label):
    return [np.mean(label == name) for name in splits.SPLITS]


def test_random_split_is_seeded_and_has_the_fractions():
    a = splits.random_split(1000, (0.7, 0.2, 0.1), seed=3)
    assert _fractions(a) == pytest.approx([0.7, 0.2, 0.1], abs=0.002)
    assert np.array_equal(a, splits.random_split(1000, (0.7, 0.2, 0.1), seed=3))
    assert not np.array_equal(a, splits.random_split(1000, (0.7, 0.2, 0.1), seed=4))


def test_stratified_split_keeps_the_class_mix_in_every_split():
    labels = np.repeat([0, 1, 2], [600, 300, 100])
    label = splits.stratified_split(labels, (0.7, 0.15, 0.15), seed=[0, 99])
    for k, n in ((0, 600), (1, 300), (2, 100)):
        counts = [np.sum((labels == k) & (label == s)) for s in splits.SPLITS]
        assert counts == [round(0.7 * n), round(0.15 * n), n - round(0.7 * n) - round(0.15 * n)]
    assert np.array_equal(label, splits.stratified_split(labels, (0.7, 0.15, 0.15), seed=[0, 99]))


def test_grouped_split_keeps_groups_whole_and_strata_mixed():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(400), rng.integers(1, 9, 400))
    kind = (groups % 3 == 0).astype(int)
    label = splits.grouped_split(groups, (0.75, 0.15, 0.10), seed=1, strata=kind)
    assert all(len(set(label[groups == g])) == 1 for g in np.unique(groups))
    assert _fractions(label) == pytest.approx([0.75, 0.15, 0.10], abs=0.03)
    for k in (0, 1):
        share = [np.mean(kind[label == s] == k) for s in splits.SPLITS]
        assert max(share) - min(share) < 0.08
    with pytest.raises(AstrozooError, match="summing to 1"):
        splits.grouped_split(groups, (0.5, 0.2, 0.2))


def test_k_folds_test_every_object_once_and_validate_on_the_next_fold():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    folds = splits.kfold(labels, 10, seed=0)
    assert np.bincount(folds).tolist() == [10] * 10  # equal-sized folds
    for k in (0, 1, 2):
        assert np.bincount(folds[labels == k], minlength=10).max() - np.bincount(folds[labels == k], minlength=10).min() <= 1
    tested = np.concatenate([np.flatnonzero(splits.fold_split(labels, f, 10, 0) == "test") for f in range(10)])
    assert np.array_equal(np.sort(tested), np.arange(100))
    label = splits.fold_split(labels, 9, 10, 0)
    assert np.array_equal(label == "val", folds == 0) and np.array_equal(label == "test", folds == 9)
    with pytest.raises(AstrozooError, match="data.fold=10"):
        splits.fold_split(labels, 10, 10, 0)
    with pytest.raises(AstrozooError, match="at least 3 folds"):
        splits.check_fold(0, 2)


def test_subvolume_split_leaves_gaps_between_slabs_and_at_the_wrap():
    pos = np.random.default_rng(3).uniform(0, 100.0, (20000, 3))
    label = splits.subvolume_split(pos, 100.0, gap=6.0)
    assert np.all(label[pos[:, 0] >= 94.0] == "")
    x = {s: pos[label == s, 0] for s in splits.SPLITS}
    assert x["train"].max() + 6.0 <= x["val"].min() and x["val"].max() + 6.0 <= x["test"].min()
    counts = np.array([len(x[s]) for s in splits.SPLITS])
    np.testing.assert_allclose(counts / counts.sum(), [0.732, 0.081, 0.187], atol=0.002)
    with pytest.raises(ValueError, match="too small"):  # a SplitError is also a ValueError
        splits.subvolume_split(pos[:500] * 0.15, 15.0)
