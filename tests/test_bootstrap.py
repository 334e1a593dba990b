import numpy as np
import pytest

from astrozoo.metrics.bootstrap import bootstrap, bootstrap_bins
from astrozoo.metrics.classification import accuracy, roc_auc


def _sample(n=400, p_correct=0.8, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    correct = rng.random(n) < p_correct
    prob = np.where(correct, y, 1 - y) * 0.8 + 0.1
    return y, prob


def test_bootstrap_is_seeded_and_brackets_the_value():
    y, p = _sample()
    a = bootstrap(accuracy, y, p, seed=3)
    b = bootstrap(accuracy, y, p, seed=3)
    c = bootstrap(accuracy, y, p, seed=4)
    assert a == b
    assert a != c
    assert a.n_resamples == 1000 and a.n == 400 and a.n_failed == 0
    assert a.low < a.value < a.high
    assert abs(a.mean - a.value) < 0.01
    # the percentile interval matches the binomial one, 2 × 1.96 × sqrt(p(1-p)/n)
    expected = 2 * 1.96 * np.sqrt(a.value * (1 - a.value) / 400)
    assert a.high - a.low == pytest.approx(expected, rel=0.2)
    assert a.half_width == pytest.approx(a.high - a.mean)


def test_failed_resamples_are_counted_and_all_failed_gives_nan():
    y = np.array([0, 0, 0, 0, 0, 0, 0, 1])
    p = np.linspace(0, 1, 8)
    result = bootstrap(roc_auc, y, p, n_resamples=200, seed=0)
    assert 0 < result.n_failed < 200  # resamples without the single positive have no AUC
    assert np.isfinite(result.mean)
    one_class = bootstrap(roc_auc, np.zeros(5), np.linspace(0, 1, 5), n_resamples=50)
    assert one_class.n_failed == 50 and np.isnan(one_class.mean) and np.isnan(one_class.value)
    empty = bootstrap(accuracy, [], [])
    assert empty.n == 0 and np.isnan(empty.mean)


def test_group_bootstrap_is_wider_for_correlated_rows():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(40), 10)  # 40 groups of 10 identical outcomes
    right = np.repeat(rng.random(40) < 0.7, 10)
    y = np.ones(400, dtype=int)
    p = np.where(right, 0.9, 0.1)
    rows = bootstrap(accuracy, y, p, seed=0)
    grouped = bootstrap(accuracy, y, p, seed=0, groups=groups)
    assert (grouped.high - grouped.low) > 2 * (rows.high - rows.low)
    with pytest.raises(ValueError, match="group labels"):
        bootstrap(accuracy, y, p, groups=groups[:10])


def test_bins_split_rows_and_keep_empty_bins():
    y, p = _sample(300)
    z = np.linspace(0.1, 0.99, 300)
    results = bootstrap_bins(accuracy, y, p, z, [0.1, 0.31, 0.52, 0.76, 1.0, 2.0], n_resamples=100)
    assert [r.n for r in results[:4]] == [int(((z >= a) & (z < b)).sum())
                                          for a, b in zip([0.1, 0.31, 0.52, 0.76], [0.31, 0.52, 0.76, 1.0])]
    assert results[-1].n == 0 and np.isnan(results[-1].mean)
    with pytest.raises(ValueError, match="increasing"):
        bootstrap_bins(accuracy, y, p, z, [1.0, 0.5])


def test_input_checks_name_the_problem():
    with pytest.raises(ValueError, match="3 true values but 2"):
        bootstrap(accuracy, [0, 1, 1], [0.2, 0.8])
    with pytest.raises(ValueError, match="confidence"):
        bootstrap(accuracy, [0, 1], [0.2, 0.8], confidence=95)
