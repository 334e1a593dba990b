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


def test_large_columns_are_chunked_in_mib_blocks_and_images_per_galaxy(tmp_path):
    import h5py

    pos = np.random.default_rng(0).uniform(0, 300, (100_000, 3))  # 2.4 MB
    images = store.Rows((40, 3, 64, 64), "float32",
                        (np.full((n, 3, 64, 64), k, np.float32) for k, n in enumerate((16, 16, 8))))
    path = store.write(tmp_path / "c.h5", {"catalogue": {"pos": pos}, "images": {"gri": images}})
    with h5py.File(path) as f:
        assert f["catalogue/pos"].chunks == (43690, 3) and f["catalogue/pos"].compression is None
        assert f["images/gri"].chunks == (1, 3, 64, 64) and f["images/gri"].compression is None
    np.testing.assert_array_equal(store.read(path)[0]["pos"], pos)
    column = store.rows(path, "images", "gri")
    assert column.shape == (40, 3, 64, 64) and len(column) == 40
    picked = column[np.array([39, 0, 17, 16, 17])]  # any order, repeats allowed
    assert picked[:, 0, 0, 0].tolist() == [2, 0, 1, 1, 1]
    assert np.asarray(column).shape == (40, 3, 64, 64)


def test_rows_that_do_not_add_up_leave_no_file(tmp_path):
    short = store.Rows((10, 3, 8, 8), "float32", iter([np.zeros((4, 3, 8, 8), np.float32)]))
    with pytest.raises(ValueError, match="4 rows written, 10 announced"):
        store.write(tmp_path / "c.h5", {"images": {"gri": short}})
    assert list(tmp_path.iterdir()) == []


def test_a_view_of_some_rows_is_a_lazy_column_of_its_own(tmp_path):
    values = np.arange(30, dtype=np.float32).reshape(10, 3)[:, :, None, None] * np.ones((1, 1, 2, 2), np.float32)
    path = store.write(tmp_path / "c.h5", {"images": {"gri": values}})
    column = store.rows(path, "images", "gri")
    rows = np.array([7, 2, 3, 9])
    view = column.take(rows)
    assert view.shape == (4, 3, 2, 2) and len(view) == 4 and view.rows.tolist() == rows.tolist()
    np.testing.assert_array_equal(view[np.array([3, 0, 0])], values[[9, 7, 7]])
    np.testing.assert_array_equal(view[1:3], values[[2, 3]])
    np.testing.assert_array_equal(view[-1], values[9])
    np.testing.assert_array_equal(view[np.array([True, False, True, False])], values[[7, 3]])
    np.testing.assert_array_equal(view[2, 1], values[3, 1])
    np.testing.assert_array_equal(np.asarray(view), values[rows])
    np.testing.assert_array_equal(np.stack(list(view)), values[rows])
    np.testing.assert_array_equal(view.take([3, 1])[:], values[[9, 2]])  # a view of a view
    np.testing.assert_array_equal(column.take(column.shape[0] * [False])[:], values[:0])
    with pytest.raises(IndexError):
        view[4]
