"""The mock dataset end to end (tiny), its cache, the failed-fit policy and bad cache files."""

import numpy as np
import pytest

from astrozoo.data import store
from astrozoo.data.store import DataError
from astrozoo_mergers.dataset import MockHSC
from astrozoo_mergers.pipeline import VIEWS, asinh_stretch, normalise, robust_sigma


def test_tiny_mock_has_three_views_per_split(cache, tiny):
    data = MockHSC(**tiny)
    splits = {name: data.load(name) for name in ("train", "val", "test")}
    info = data.info()
    assert info["n_used"] == sum(len(s) for s in splits.values())
    assert info["n_failed_fits"] == info["n_images"] - info["n_used"]  # dropped, and counted
    for split in splits.values():
        columns = split.data["columns"]
        assert set(np.unique(columns["stage"])) <= {"pre", "ongoing", "post", "non-merger"}
        assert np.array_equal(split.y, (columns["stage"] != "non-merger").astype(int))
        assert np.all((columns["redshift"] >= 0.76) & (columns["redshift"] < 1.0))
        for view in VIEWS:
            images = split.data["views"][view]()
            assert images.shape == (len(split), 1, 32, 32) and images.dtype == np.float32
            assert images.min() >= 0 and images.max() <= 1
        np.testing.assert_array_equal(split.data["images"](), split.data["views"]["raw"]())
    sequences = [set(s.data["columns"]["sequence_id"]) for s in splits.values()]
    assert not (sequences[0] & sequences[1] or sequences[0] & sequences[2] or sequences[1] & sequences[2])
    # the residual is the raw image minus the model, before normalisation
    columns, _ = store.read(data.data_file(), "catalogue")
    with __import__("h5py").File(data.data_file()) as f:
        raw, model, residual = (f["images"][v][()] for v in VIEWS)
    assert np.allclose(residual, raw - model, atol=1e-3 * np.abs(raw).max())
    # asinh: every view of an object in units of its raw image's sky noise
    stretched = MockHSC(**tiny, normalisation="asinh").load("train").data["views"]
    rows = data.table["row"][data.table["split"] == "train"]
    sigma = robust_sigma(raw[rows])
    for view, counts in zip(VIEWS, (raw, model, residual)):
        np.testing.assert_allclose(stretched[view]()[:, 0], np.arcsinh(counts[rows] / (3 * sigma[:, None, None])),
                                   rtol=1e-4, atol=1e-5)
    with pytest.raises(Exception, match="normalisation must be one of"):
        MockHSC(**tiny, normalisation="zscale")
    # a second dataset reads the cache instead of making it again
    again = MockHSC(**tiny)
    again.build = lambda: pytest.fail("the cache was not reused")
    assert len(again.load("train")) == len(splits["train"])


def _fake_file(path, n=40, failed=(3, 7, 8)):
    rng = np.random.default_rng(0)
    sequence = np.arange(n) // 2
    label = (sequence % 2).astype(int)
    ok = np.ones(n, dtype=bool)
    ok[list(failed)] = False
    columns = {"image_id": np.arange(n), "sequence_id": sequence, "label": label,
               "stage": np.where(label == 1, "pre", "non-merger"), "t_merge": np.where(label == 1, -0.5, np.nan),
               "redshift": rng.uniform(0.1, 0.9, n), "z_bin": np.zeros(n, dtype=int), "fit_ok": ok,
               "fit_status": np.where(ok, "ok", "no central source"), "sersic_ellip": rng.uniform(0, 1, n)}
    images = {v: rng.normal(size=(n, 16, 16)).astype(np.float32) for v in VIEWS}
    store.write(path, {"catalogue": columns, "images": images}, {"provenance": "mock"})
    return path


def test_failed_fits_are_reported_then_dropped_or_kept(tmp_path, capsys):
    path = _fake_file(tmp_path / "fake.h5")
    dropped = MockHSC(path=str(path), image_size=16)
    n = sum(len(dropped.load(s)) for s in ("train", "val", "test"))
    err = capsys.readouterr().err
    assert n == 37 and "3 of 40 images have no usable Sérsic fit" in err and "3× no central source" in err
    assert "dropped from all three views" in err
    assert dropped.info()["n_failed_fits"] == 3
    kept = MockHSC(path=str(path), image_size=16, failed_fits="keep")
    assert sum(len(kept.load(s)) for s in ("train", "val", "test")) == 40
    assert "kept" in capsys.readouterr().err
    with pytest.raises(Exception, match="failed_fits must be"):
        MockHSC(path=str(path), failed_fits="ignore")


def test_bad_cache_files_name_the_file_and_the_problem(tmp_path):
    with pytest.raises(DataError, match="expected"):
        MockHSC(path=str(_fake_file(tmp_path / "a.h5")), image_size=32).load("train")  # wrong image size
    broken = tmp_path / "b.h5"
    broken.write_bytes(b"not hdf5 at all")
    with pytest.raises(DataError, match="b.h5.*not a readable HDF5"):
        MockHSC(path=str(broken)).load("train")
    columns = {"image_id": np.arange(3)}
    store.write(tmp_path / "c.h5", {"catalogue": columns}, {})
    with pytest.raises(DataError, match="missing column"):
        MockHSC(path=str(tmp_path / "c.h5")).load("train")


def test_asinh_stretch_is_linear_in_the_noise_and_compresses_the_core():
    rng = np.random.default_rng(0)
    sky = rng.normal(0, 2.0, (1, 64, 64))
    assert robust_sigma(sky)[0] == pytest.approx(2.0, rel=0.05)
    image = sky.copy()
    image[0, 32, 32] = 1e4
    out = asinh_stretch(image, robust_sigma(image))
    faint = np.abs(image[0]) < 2.0  # within 1σ: linear, x / 3σ to within 2%
    np.testing.assert_allclose(out[0][faint], image[0][faint] / (3 * robust_sigma(image)[0]), rtol=0.02, atol=1e-6)
    assert out[0, 32, 32] < 10  # the core no longer sets the scale


def test_normalise_is_linear_to_unit_range():
    images = np.stack([np.linspace(-2, 6, 16).reshape(4, 4), np.full((4, 4), 3.0)])
    out = normalise(images)
    assert out[0].min() == 0 and out[0].max() == 1 and not out[1].any()
    np.testing.assert_allclose(out[0], (images[0] + 2) / 8)


def test_data_generate_writes_the_cache_the_runs_read(cache, tiny, capsys):
    from astrozoo.testing import run_cli
    from astrozoo_mergers.dataset import MockHSC

    args = ["data", "generate", "mergers", "--seed", str(tiny["seed"])]
    args += [a for k, v in tiny.items() if k != "seed" for a in ("--set", f"{k}={v}")]
    code, out, err = run_cli(args, capsys)
    assert code == 0 and f"wrote {MockHSC(**tiny).data_file()}" in out, err
