"""cluster-candidates: the mock's physics, the volunteers' weighting, the dataset and its splits."""

import numpy as np
import pytest

from astrozoo.errors import AstrozooError
from astrozoo_clusters.candidates import mock
from astrozoo_clusters.candidates import volunteers as vol
from astrozoo_clusters.candidates.dataset import MockXClass

SIZE = 48


def renders(cls, n=6, size=SIZE, seed=0):
    return [mock.render_candidate(np.random.default_rng(seed + 100 * cls + i), cls, size) for i in range(n)]


def central_excess(channel: np.ndarray, radius_px: float) -> float:
    """Mean inside ``radius_px`` of the centre minus the mean outside twice that radius."""
    size = channel.shape[-1]
    y, x = np.mgrid[:size, :size]
    r = np.hypot(x - (size - 1) / 2, y - (size - 1) / 2)
    return float(channel[r < radius_px].mean() - channel[r > 2 * radius_px].mean())


def test_render_shape_dtype_and_determinism():
    for cls in range(5):
        image, truth = mock.render_candidate(np.random.default_rng(cls), cls, SIZE)
        again, _ = mock.render_candidate(np.random.default_rng(cls), cls, SIZE)
        assert image.shape == (3, SIZE, SIZE) and image.dtype == np.uint8
        np.testing.assert_array_equal(image, again)
        assert image[0].max() == 0  # the empty channel
        assert image[2].max() > 0  # every candidate has X-ray emission or background
    _, truth = mock.render_candidate(np.random.default_rng(1), 1, SIZE)
    assert truth["z"] >= 0.3 and truth["counts"] >= 60


def test_low_z_clusters_show_galaxies_high_z_do_not():
    """The optical overdensity (red sequence + BCG) is visible at z < 0.3 and lost below the plate limit beyond."""
    radius = 60 / (mock.FIELD_ARCSEC / SIZE)  # 60 arcsec
    low = np.mean([central_excess(img[1].astype(float), radius) for img, _ in renders(0, 8)])
    high = np.mean([central_excess(img[1].astype(float), radius) for img, t in renders(1, 8) if t["z"] > 0.5] or [0])
    assert low > 2 * max(high, 0.5)


def test_clusters_are_extended_point_sources_are_not():
    """X-ray brightness 3–6 px from the centre relative to the central pixels: a β-model's wide
    core against the PSF."""

    def ring_over_core(img):
        x = img[2].astype(float)
        x = np.clip(x - np.median(x), 0, None)
        size = x.shape[-1]
        yy, xx = np.mgrid[:size, :size]
        r = np.hypot(xx - (size - 1) / 2, yy - (size - 1) / 2)
        return x[(r >= 3) & (r < 6)].mean() / max(x[r < 1.5].mean(), 1e-9)

    clusters = np.median([ring_over_core(img) for img, _ in renders(0, 8)])
    points = np.median([ring_over_core(img) for img, _ in renders(3, 8)])
    assert clusters > 2 * points


def test_weights_follow_the_definition():
    """G_vi = C_vi / Q_vi: the share of a volunteer's answers to question i that agree with the majority."""
    # three objects, each answered by volunteers 0, 1 and 2
    votes = {"object": np.array([0, 0, 0, 1, 1, 1, 2, 2, 2]), "volunteer": np.array([0, 1, 2] * 3),
             "question": np.zeros(9, int), "answer": np.array([1, 1, 0, 2, 2, 4, 3, 0, 2])}
    # plain majorities: object 0 → 1, object 1 → 2, object 2 → a tie of 0, 2 and 3 (the first, 0, wins)
    g = vol.weights(votes, 0, 3, 5)
    np.testing.assert_allclose(g, [2 / 3, 1.0, 0.0])
    shares = vol.vote_shares(votes, 3, 0, 5)
    np.testing.assert_allclose(shares.sum(axis=1), 1)
    np.testing.assert_allclose(shares[1], [0, 0, 1, 0, 0])  # the zero-weight volunteer's 4 counts for nothing
    np.testing.assert_allclose(shares[2], [0.6, 0, 0, 0.4, 0])  # 1 against 2/3: the tie is broken by G


def test_volunteers_are_pure_but_incomplete_and_weighting_helps():
    rng = np.random.default_rng(0)
    expert = rng.choice(5, 1200, p=mock.DEFAULT_FRACTIONS)
    counts = 10 ** rng.uniform(1.8, 3.3, 1200)
    votes, people = vol.simulate_votes(expert, counts, seed=1)
    assert len(votes["object"]) == 2 * 30 * 1200  # two questions, 30 volunteers per object
    truth = np.isin(expert, mock.CLUSTER_CLASSES)
    scores = {w: vol.binary_scores(truth, vol.cluster_probability(vol.vote_shares(votes, 1200, 0, 5, w)) >= 0.5)
              for w in (False, True)}
    assert scores[True]["precision"] > 0.95 and scores[True]["recall"] < 0.8  # pure, not complete
    assert scores[True]["accuracy"] >= scores[False]["accuracy"]
    g = vol.weights(votes, 0, 1200, 5)
    careless = people["careless"].astype(bool)
    assert g[careless].mean() < g[~careless].mean()


@pytest.fixture(scope="module")
def small_mock(tmp_path_factory):
    path = tmp_path_factory.mktemp("xclass") / "mock.h5"
    from astrozoo_clusters.candidates.dataset import write_mock

    write_mock(path, seed=0, n_objects=60, size=32, votes_per_object=10)
    return str(path)


def test_default_split_is_balanced_and_volunteer_labels_only_train(small_mock):
    data = MockXClass(n_objects=60, image_size=32, path=small_mock)
    test, train = data.load("test"), data.load("train")
    assert len(test) == 6 and test.y.sum() == 3  # 10 %, half clusters
    assert len(set(test.ids) & set(train.ids)) == 0
    assert train.data["images"]().shape == (len(train), 3, 32, 32)
    volunteer = MockXClass(n_objects=60, image_size=32, path=small_mock, labels="volunteer")
    v_train, v_test = volunteer.load("train"), volunteer.load("test")
    assert v_train.data["labels"] == "volunteer" and v_test.data["labels"] == "expert"
    np.testing.assert_array_equal(v_test.y, test.y)
    assert v_train.y.sum() < train.y.sum()  # volunteers miss clusters
    five = MockXClass(n_objects=60, image_size=32, path=small_mock, classes="multiclass")
    assert set(five.load("train").y) == {0, 1, 2, 3, 4}
    assert len(data.load("all")) == 60
    info = data.info()
    assert info["n_test"] == 6 and "volunteers_weighted_all_precision" in info


def test_folds_and_bad_parameters(small_mock):
    seen = []
    for k in range(10):
        seen += list(MockXClass(n_objects=60, image_size=32, path=small_mock, fold=k).load("test").ids)
    assert len(seen) == 60 and len(set(seen)) == 60
    with pytest.raises(AstrozooError, match="data.fold=10"):
        MockXClass(fold=10)
    with pytest.raises(AstrozooError, match="data.classes"):
        MockXClass(classes="three")
    with pytest.raises(AstrozooError, match="images have shape"):
        MockXClass(n_objects=60, image_size=64, path=small_mock).load("train").data["images"]()
