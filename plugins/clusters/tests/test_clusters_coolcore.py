"""cool-core: per-class metrics, the conventional baselines, the dataset and its folds."""

import numpy as np
import pytest

from astrozoo.errors import AstrozooError
from astrozoo.interfaces import FitContext, Split
from astrozoo_clusters.coolcore.dataset import MockCoolCore
from astrozoo_clusters.metrics import class_bacc, class_f1, class_precision, class_recall, mean_bacc
from astrozoo_clusters.models.baselines import Concentration, ConcentrationRank, Density, concentration


def test_per_class_scores_match_su_et_al_definitions():
    y = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
    pred = np.eye(3)[[0, 0, 1, 1, 1, 1, 2, 2, 2, 0]]
    # class 0: tp 2, fn 1, fp 1, tn 6 → BAcc ½(2/3 + 6/7), F1 2·2/(4 + 1 + 1)
    assert class_bacc(y, pred, 0) == pytest.approx(0.5 * (2 / 3 + 6 / 7))
    assert class_f1(y, pred, 0) == pytest.approx(4 / 6)
    from sklearn.metrics import f1_score, precision_score, recall_score

    labels = pred.argmax(1)
    np.testing.assert_allclose([class_f1(y, pred, k) for k in range(3)], f1_score(y, labels, average=None))
    np.testing.assert_allclose([class_precision(y, pred, k) for k in range(3)], precision_score(y, labels, average=None))
    np.testing.assert_allclose([class_recall(y, pred, k) for k in range(3)], recall_score(y, labels, average=None))
    assert mean_bacc(y, pred) == pytest.approx(np.mean([class_bacc(y, pred, k) for k in range(3)]))


def counts_split(profiles, labels=None, ne0=None, pixel_kpc=1000 / 64, size=64, background=1.0):
    """Images from radial profiles (functions of radius in kpc), on a flat background."""
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(xx - (size - 1) / 2, yy - (size - 1) / 2) * pixel_kpc
    counts = np.stack([f(r) + background for f in profiles])
    n = len(profiles)
    return Split("test", np.arange(n), np.zeros(n, int) if labels is None else np.asarray(labels),
                 {"counts": counts, "pixel_kpc": pixel_kpc, "background_per_pixel": background,
                  "columns": {"ne0": np.zeros(n) if ne0 is None else np.asarray(ne0)}})


def test_concentration_of_known_profiles():
    flat = counts_split([lambda r: np.where(r < 400, 10.0, 0.0)])
    assert concentration(flat)[0] == pytest.approx((40 / 400) ** 2, rel=0.05)  # uniform disc: area ratio
    peaked = counts_split([lambda r: 1e4 * (1 + (r / 10) ** 2) ** -1.5])
    assert concentration(peaked)[0] > 0.5


def test_threshold_baselines_and_rank_cuts():
    density = Density().fit(None, None, FitContext())
    split = counts_split([lambda r: 0 * r] * 4, ne0=[0.03, 0.01, 0.004, 0.015])
    np.testing.assert_array_equal(density.predict(split).argmax(1), [0, 1, 2, 1])
    assert density.predict(split).sum(axis=1).tolist() == [1, 1, 1, 1]  # one-hot probabilities
    widths = np.linspace(5, 200, 20)
    train = counts_split([lambda r, w=w: 1e3 * (1 + (r / w) ** 2) ** -1.5 for w in widths],
                         labels=[0] * 5 + [1] * 10 + [2] * 5)
    rank = ConcentrationRank().fit(train, train, FitContext())
    labels = rank.predict(train).argmax(1)
    assert np.bincount(labels, minlength=3).tolist() == [5, 10, 5]  # the training fractions
    assert (labels == train.y).all()  # narrower cores are more concentrated
    fixed = Concentration()
    assert (fixed.cc_min, fixed.ncc_max) == (0.155, 0.075)


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    from astrozoo.data import store
    from astrozoo_clusters.coolcore.mock import COLUMN_UNITS, generate

    columns, counts, attrs = generate(seed=1, box_mpc=130.0, size=32)
    path = tmp_path_factory.mktemp("coolcore") / "mock.h5"
    store.write(path, {"catalogue": columns, "images": {"counts": counts}}, attrs, COLUMN_UNITS)
    return str(path), len(columns["label"])


def test_dataset_folds_and_errors(small_file):
    path, n = small_file
    default = MockCoolCore(image_size=32, path=path, n_folds=5)
    assert list(default.load("test").ids) == list(MockCoolCore(image_size=32, path=path, n_folds=5, fold=0)
                                                 .load("test").ids)  # the default split is fold 0
    tested = np.concatenate([MockCoolCore(image_size=32, path=path, n_folds=5, fold=k).load("test").ids
                             for k in range(5)])
    assert sorted(tested.tolist()) == list(range(n))
    train = default.load("train")
    images = train.data["images"]()
    assert images.shape == (len(train), 1, 32, 32) and images.dtype == np.float32
    np.testing.assert_allclose(images[:, 0], np.log10(1 + train.data["counts"]()), rtol=1e-6)
    assert len(default.load("all")) == n and default.info()["n_clusters"] == n
    with pytest.raises(AstrozooError, match="images have shape"):
        MockCoolCore(image_size=64, path=path).load("train").data["counts"]()
    with pytest.raises(AstrozooError, match="data.fold=-2"):
        MockCoolCore(fold=-2)
