"""The halo-mass dataset on user-given catalogues: good ones load, bad ones fail with the file named."""

import numpy as np
import pytest

from astrozoo.data import store
from astrozoo.errors import AstrozooError
from astrozoo_halo_mass.dataset import MockTNG50


def catalogue(tmp_path, n=600, box=51.7, drop=(), nan=False, name="cat.h5"):
    rng = np.random.default_rng(1)
    columns = {"galaxy_id": np.arange(n), "pos": rng.uniform(0, box, (n, 3)),
               "log_mstar": rng.uniform(9.5, 11.5, n), "is_central": rng.random(n) < 0.7}
    columns["log_mhalo"] = 1.3 * (columns["log_mstar"] - 10) + 12 + rng.normal(0, 0.2, n)
    if nan:
        columns["log_mhalo"][5] = np.nan
    for key in drop:
        columns.pop(key)
    return store.write(tmp_path / name, {"catalogue": columns}, {"box_size_mpc": box, "provenance": "mock"})


def test_user_catalogue_loads_with_split_and_overdensity(tmp_path):
    data = MockTNG50(path=str(catalogue(tmp_path)))
    splits = {s: data.load(s) for s in ("train", "val", "test")}
    assert all(len(s) > 0 for s in splits.values())
    assert len(data.load("all")) == 600
    ids = [set(s.ids) for s in splits.values()]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert (splits["train"].data["columns"]["delta_g"] >= 0).all()
    assert data.info()["n_galaxies"] == 600


@pytest.mark.parametrize("kwargs, message", [
    ({"drop": ("log_mhalo",)}, r"cat\.h5: table 'catalogue' is missing column\(s\) log_mhalo"),
    ({"nan": True}, r"cat\.h5: column 'log_mhalo' has 1 NaN"),
    ({"box": 15.0}, r"cat\.h5: cannot split"),
])
def test_bad_catalogues_name_the_file(tmp_path, kwargs, message):
    data = MockTNG50(path=str(catalogue(tmp_path, **kwargs)))
    with pytest.raises(AstrozooError, match=message):
        data.load("train")


def test_cutouts_of_the_wrong_shape_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path / "cache"))
    data = MockTNG50(path=str(catalogue(tmp_path)), image_size=64)
    monkeypatch.setattr(data, "measure_images", lambda columns, attrs: np.zeros((600, 3, 32, 32), np.float32))
    with pytest.raises(AstrozooError, match=r"cache/halo-mass/cat-images-[0-9a-f]+\.h5: images have shape "
                                            r"\(600, 3, 32, 32\), expected \(600, 3, 64, 64\)"):
        data.load("train").data["images"]()
    assert not list(tmp_path.glob("cat-*")), "products go to the cache, not beside the user's catalogue"


def test_products_follow_their_source(tmp_path, monkeypatch):
    """A changed catalogue gives new images (the cache key holds the source's size and mtime)."""
    import os

    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path / "cache"))
    path = catalogue(tmp_path)
    calls = []

    def fake(columns, attrs):
        calls.append(1)
        return np.full((len(columns["galaxy_id"]), 3, 8, 8), len(calls), np.float32)

    first = MockTNG50(path=str(path), image_size=8)
    monkeypatch.setattr(first, "measure_images", fake)
    assert first.images[0, 0, 0, 0] == 1
    again = MockTNG50(path=str(path), image_size=8)
    monkeypatch.setattr(again, "measure_images", fake)
    assert again.images[0, 0, 0, 0] == 1 and len(calls) == 1  # read from the cache
    catalogue(tmp_path, n=500)
    os.utime(path, ns=(1, 1))
    changed = MockTNG50(path=str(path), image_size=8)
    monkeypatch.setattr(changed, "measure_images", fake)
    assert changed.images.shape[0] == 500 and len(calls) == 2


def test_missing_user_file(tmp_path):
    with pytest.raises(AstrozooError, match="no such file"):
        MockTNG50(path=str(tmp_path / "nope.h5")).load("train")


def test_mock_morphology_uses_the_same_quality_rule(tmp_path, monkeypatch):
    """flag_cut drops exactly flag == 0 & flag_sersic == 0 & sn_per_pixel > 2.5 failures, as for real TNG."""
    from astrozoo_halo_mass.conventions import FEATURES

    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path / "cache"))
    path = catalogue(tmp_path)
    rng = np.random.default_rng(3)
    morph = {name: rng.random(600) for name in FEATURES}
    morph.update(flag=rng.choice([0, 0, 0, 1, 2], 600), flag_sersic=rng.choice([0, 0, 0, 1], 600),
                 sn_per_pixel=rng.uniform(1, 10, 600))
    passes = (morph["flag"] == 0) & (morph["flag_sersic"] == 0) & (morph["sn_per_pixel"] > 2.5)
    loose, cut = MockTNG50(path=str(path)), MockTNG50(path=str(path), flag_cut=True)
    for data in (loose, cut):
        data.__dict__["measured_morphology"] = morph  # instead of rendering and statmorph
    for split in ("train", "val", "test"):
        ids = loose.load(split).ids
        assert cut.load(split).ids.tolist() == ids[passes[ids]].tolist()
    assert cut.info()["n_removed_by_quality_cut"] == int((~passes).sum())
    values = loose.load("all").data["morphology"]()["gini"]
    assert np.isnan(values[morph["flag"] > 1]).all() and np.isfinite(values[morph["flag"] <= 1]).all()


def test_the_sersic_fit_runs_only_when_a_sersic_value_is_read(tmp_path, monkeypatch):
    """R_petro, S, A and flag come from statmorph without the Sérsic fit; sersic_n (or flag_cut,
    whose rule reads flag_sersic) makes the full run, whose product then serves every value."""
    from astrozoo_halo_mass import morphology
    from astrozoo_halo_mass.conventions import FEATURES

    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path / "cache"))
    path = catalogue(tmp_path)
    runs = []

    def fake(columns, box, ids, size, seed, sersic, progress):
        runs.append(sersic)
        n = len(ids)
        return {**{name: np.full(n, 1.0 if sersic else 2.0) for name in FEATURES}, "sn_per_pixel": np.full(n, 3.0),
                "flag": np.zeros(n, int), "flag_sersic": np.full(n, 0 if sersic else -1)}

    monkeypatch.setattr(morphology, "measure_rendered", fake)
    loose = MockTNG50(path=str(path)).load("all").data["morphology"]()
    assert loose["asymmetry"][0] == 2.0 and loose["flag"][0] == 0 and runs == [False]
    assert loose["sersic_n"][0] == 1.0 and runs == [False, True]
    cut = MockTNG50(path=str(path), flag_cut=True)
    assert cut.load("train").data["morphology"]()["asymmetry"][0] == 1.0 and runs == [False, True]  # cached
