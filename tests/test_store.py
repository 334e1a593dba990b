import numpy as np
import pytest

from astrozoo.data import store
from astrozoo.data.store import DataError


def table():
    return {"catalogue": {"galaxy_id": np.arange(5), "log_mstar": np.linspace(9.6, 11, 5),
                          "name": np.array(list("abcde"))}}


def test_roundtrip_with_units_and_attrs(tmp_path):
    path = store.write(tmp_path / "c.h5", table(), {"seed": 3, "params": {"a": 1}}, {"log_mstar": "log10(Msun)"})
    columns, attrs = store.read(path, required=("galaxy_id",), finite=("log_mstar",))
    assert attrs["seed"] == 3 and attrs["params"] == {"a": 1} and attrs["format"] == store.FORMAT
    np.testing.assert_array_equal(columns["galaxy_id"], np.arange(5))
    assert columns["name"].tolist() == list("abcde")
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_truncated_file_names_the_file(tmp_path):
    path = store.write(tmp_path / "c.h5", table())
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(DataError, match=r"c\.h5: not a readable HDF5 file"):
        store.read(path)


def test_missing_column_and_nan_are_named(tmp_path):
    bad = table()
    bad["catalogue"]["log_mstar"][2] = np.nan
    path = store.write(tmp_path / "c.h5", bad)
    with pytest.raises(DataError, match=r"c\.h5: table 'catalogue' is missing column\(s\) log_mhalo"):
        store.read(path, required=("galaxy_id", "log_mhalo"))
    with pytest.raises(DataError, match=r"c\.h5: column 'log_mstar' has 1 NaN"):
        store.read(path, finite=("log_mstar",))
    with pytest.raises(DataError, match="no such file"):
        store.read(tmp_path / "nope.h5")


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(TypeError):
        store.write(tmp_path / "c.h5", {"catalogue": {"x": np.array([object()])}})
    assert list(tmp_path.iterdir()) == []
