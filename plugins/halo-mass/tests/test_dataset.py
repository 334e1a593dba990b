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


def test_cutouts_of_the_wrong_shape_are_refused(tmp_path):
    path = catalogue(tmp_path)
    store.write(path.with_name("cat-images64.h5"), {"images": {"gri": np.zeros((600, 3, 32, 32), np.float32)}})
    data = MockTNG50(path=str(path), image_size=64)
    with pytest.raises(AstrozooError, match=r"cat-images64\.h5: images have shape \(600, 3, 32, 32\), expected \(600, 3, 64, 64\)"):
        data.load("train").data["images"]()


def test_missing_user_file(tmp_path):
    with pytest.raises(AstrozooError, match="no such file"):
        MockTNG50(path=str(tmp_path / "nope.h5")).load("train")
