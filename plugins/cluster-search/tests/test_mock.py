"""The mock cutouts and sky fields; the datasets built on them."""

import numpy as np
import pytest

from astrozoo.data import store
from astrozoo.errors import AstrozooError
from astrozoo_cluster_search import mock
from astrozoo_cluster_search.mock import physics as ph
from astrozoo_cluster_search.dataset import MockIR, MockMicrowave, scale, with_difference
from astrozoo_cluster_search.mock.sky import render_microwave


@pytest.mark.parametrize("band", ["ir", "microwave"])
def test_generate_is_seeded_balanced_and_order_free(band):
    cols, images, attrs = mock.generate(band, n_per_class=5, image_size=32, seed=3)
    assert images.shape == (15, 2, 32, 32) and images.dtype == np.float32 and np.isfinite(images).all()
    assert np.bincount(cols["label"]).tolist() == [5, 5, 5]
    assert np.isfinite(cols["z"][cols["label"] == 0]).all() and np.isnan(cols["z"][cols["label"] != 0]).all()
    again = mock.generate(band, n_per_class=5, image_size=32, seed=3)[1]
    np.testing.assert_array_equal(images, again)
    row = {k: v[7] for k, v in cols.items()}
    np.testing.assert_array_equal(mock.render_object(band, row, 32, 3)[0], images[7])
    assert attrs["band"] == band and attrs["seed"] == 3 and len(attrs["noise_sigma"]) == 2


def test_both_bands_hold_the_same_clusters():
    ir, mw = mock.catalogue("ir", 8, seed=1), mock.catalogue("microwave", 8, seed=1)
    np.testing.assert_array_equal(ir["z"][:8], mw["z"][:8])
    np.testing.assert_array_equal(ir["m500"][:8], mw["m500"][:8])
    assert set(ir["kind"][8:16]) <= {"galaxy", "star", "agn"} and set(mw["kind"][8:16]) <= {"radio", "dusty"}


def test_ir_classes_differ_where_the_physics_says():
    cols, images, _ = mock.generate("ir", n_per_class=12, image_size=48, seed=0)
    centre = images[:, 0, 20:28, 20:28].sum((1, 2))
    label = cols["label"]
    assert np.median(centre[label == 1]) > 3 * np.median(centre[label == 2])  # a bright source at the centre
    low_z = (label == 0) & (cols["z"] < 0.6)
    assert np.median(centre[low_z]) > np.median(centre[label == 2])  # BCG and members


def test_microwave_tsz_and_source_fluxes():
    """The tSZ decrement has the tSZ spectrum (integrated, beam-free ratio f(98)/f(150)), and a
    point source's integrated temperature converts back to its flux density."""
    shape, cluster = (64, 64), {"x": 31.5, "y": 31.5, "z": 0.3, "m500": 5e14}
    base = render_microwave(shape, [], [], np.random.default_rng(0), noise=False)
    with_cl = render_microwave(shape, [cluster], [], np.random.default_rng(0), noise=False)
    sz = (with_cl - base).astype(float).sum((1, 2))
    assert sz[0] < 0 and sz[1] < 0
    assert sz[0] / sz[1] == pytest.approx(ph.tsz_f(98.0) / ph.tsz_f(150.0), rel=0.03)
    source = {"x": 30.0, "y": 33.0, "s150": 50.0, "alpha": -0.7}
    with_src = render_microwave(shape, [], [source], np.random.default_rng(0), noise=False)
    total = (with_src - base).astype(float).sum((1, 2))[1]  # μK summed over pixels at 150 GHz
    s_jy = total * 1e-6 * (ph.MICROWAVE.pixscale * ph.ARCMIN) ** 2 * ph.db_dt(150.0)
    assert s_jy == pytest.approx(0.050, rel=0.01)


@pytest.mark.parametrize("band", ["ir", "microwave"])
def test_sky_field_places_separated_objects(band):
    image, table = mock.sky_field(band, size=160, seed=0, n_clusters=2, n_sources=2, cutout=48)
    assert image.shape == (2, 160, 160) and np.isfinite(image).all()
    assert (table["kind"] == "cluster").sum() == 2 and len(table["x"]) == 4


def test_scalings():
    x = np.array([[[[-3.0, 0.0, 3.0, 3000.0]]]], np.float32)
    sigma = [1.0]
    np.testing.assert_allclose(scale(x, sigma, "none"), x)
    a = scale(x, sigma, "asinh", 3.0)
    np.testing.assert_allclose(a, np.arcsinh(x / 3.0), rtol=1e-6)
    lg = scale(x, sigma, "log", 3.0)
    assert lg[0, 0, 0, 0] < 0 < lg[0, 0, 0, 3] < 4  # sign kept, range compressed
    with pytest.raises(AstrozooError, match="unknown scaling"):
        scale(x, sigma, "sqrt")


def test_the_band_difference_cancels_the_cmb_and_keeps_the_tsz():
    rng = np.random.default_rng(3)
    sky = render_microwave((64, 64), [], [], rng, noise=False)
    images, sigma = with_difference(sky, [10.0, 20.0])
    assert images.shape == (3, 64, 64) and sigma[2] == pytest.approx(np.hypot(10, 20))
    # the CMB is the same in both bands in temperature units: only the beams differ
    assert images[2].std() < 0.1 * images[0].std()
    cluster = render_microwave((64, 64), [{"x": 31.5, "y": 31.5, "z": 0.3, "m500": 5e14}], [],
                               np.random.default_rng(3), noise=False)
    tsz = with_difference(cluster, [10.0, 20.0])[0][2] - images[2]
    assert tsz[28:36, 28:36].mean() < -5 * images[2].std()  # the decrement is deeper at 90 GHz


def test_datasets_split_and_validate(cache, tmp_path):
    data = MockMicrowave(n_per_class=10, image_size=32, field_size=96)
    splits = {s: data.load(s) for s in ("train", "val", "test")}
    assert [len(s) for s in splits.values()] == [21, 6, 3]
    ids = np.concatenate([s.ids for s in splits.values()])
    assert len(np.unique(ids)) == 30
    images = splits["train"].data["images"]()
    assert images.shape == (21, 3, 32, 32) and np.isfinite(images).all()  # f090, f150, f090 − f150
    field, table = splits["test"].data["sky_field"]()
    assert field.shape == (3, 96, 96) and "x" in table
    assert data.info()["band"] == "microwave" and data.info()["difference"]
    two = MockMicrowave(n_per_class=10, image_size=32, field_size=96, difference=False).load("train")
    assert two.data["images"]().shape == (21, 2, 32, 32)
    ir = MockIR(n_per_class=10, image_size=32).load("test")
    assert len(ir) == 3 and ir.data["images"]().shape[1] == 2

    bad = tmp_path / "bad.h5"
    store.write(bad, {"catalogue": {"id": np.arange(3), "label": np.array([0, 1, 5]), "kind": np.array(["a"] * 3),
                                    "z": np.zeros(3)}}, {"noise_sigma": [1.0, 1.0], "classes": ["a", "b", "c"]})
    with pytest.raises(AstrozooError, match="bad.h5.*label"):
        MockIR(path=str(bad)).load("train")
    with pytest.raises(AstrozooError, match="unknown scaling"):
        MockIR(scaling="sqrt")


def test_data_generate_writes_a_file_the_dataset_reads(tmp_path, capsys):
    from astrozoo.testing import run_cli

    path = tmp_path / "mw.h5"
    code, out, err = run_cli(["data", "generate", "cluster-search", "--dataset", "mock-microwave", "--seed", "2",
                              "--set", "n_per_class=10", "--set", "image_size=16", "-o", str(path)], capsys)
    assert code == 0 and f"wrote {path}" in out, err
    data = MockMicrowave(seed=2, n_per_class=10, image_size=16, path=str(path))
    assert sum(len(data.load(s)) for s in ("train", "val", "test")) == 30
    assert data.load("test").data["images"]().shape[1:] == (3, 16, 16)  # f090, f150 and their difference


def test_the_survey_varies_from_cutout_to_cutout():
    """Version 2: depth, bright stars and projected groups differ per cutout, and are recorded."""
    assert mock.VERSION >= 2
    ir = mock.generate("ir", n_per_class=20, image_size=32, seed=1)[0]
    mw = mock.generate("microwave", n_per_class=20, image_size=32, seed=1)[0]
    for cols in (ir, mw):
        assert cols["noise_scale"].max() / cols["noise_scale"].min() > 1.5
        random = cols["label"] == 2
        assert np.isnan(cols["group_m500"][~random]).all() and np.isfinite(cols["group_m500"][random]).any()
    stars = np.isfinite(ir["star_w1"])
    assert stars.any() and (ir["label"][stars] != 2).any()  # foreground stars in clusters and sources too
    assert np.isnan(mw["star_w1"]).all()
    z, _ = ph.sample_clusters(4000, np.random.default_rng(0), (0.1, 1.5), 1e14)
    assert 0.5 < np.median(z) < 0.8 and 0.02 < np.mean(z > 1.2) < 0.15  # a mass-limited sample
