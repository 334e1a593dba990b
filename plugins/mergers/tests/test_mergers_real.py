"""The real-data loader on small files written here in the merger-challenge layout."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from astrozoo.data.images import convolve_psf, sersic_image
from astrozoo.data.store import DataError
from astrozoo_mergers.real import TNG_SNAPSHOT_Z, MergerChallenge

#: ID → (snapnum, folder, is_major, stage flags pre/ongoing/post, time before, time after, sequence)
ROWS = {
    101: (90, "snapnum_78_91", 1, (1, 0, 0), 0.5, -1.0, 1),
    102: (88, "snapnum_78_91", 1, (0, 0, 1), -1.0, 0.2, 1),
    103: (60, "snapnum_58_66", 0, (0, 0, 0), -1.0, -1.0, 2),
    104: (52, "snapnum_50_57", 0, (0, 0, 0), -1.0, -1.0, 3),
    105: (70, "snapnum_67_77", 1, (0, 1, 0), 0.05, -1.0, 4),
    106: (71, "snapnum_67_77", 0, (0, 0, 0), -1.0, -1.0, 5),
    107: (80, "snapnum_78_91", 0, (0, 0, 0), -1.0, -1.0, 6),
    108: (81, "snapnum_78_91", 1, (1, 0, 0), 0.7, -1.0, 7),
}


def galaxy(seed, size=64, background=0.3, sigma=0.05, blank=False):
    rng = np.random.default_rng(seed)
    image = np.zeros((size, size))
    if not blank:
        image = sersic_image((size, size), flux=300.0, r_eff_px=4.0, n=1.5, ellip=0.3, theta=0.4)
        image = convolve_psf(image, 0.7, 0.168)
    return (image + background + rng.normal(0, sigma, image.shape)).astype(np.float32)


def write_challenge(root, rows=ROWS, sample="train", skip_images=(), extra_images=(), corrupt=(), blank=(),
                    drop_columns=()):
    columns = {"ID": list(rows), "snapnum": [r[0] for r in rows.values()],
               "is_major_merger": [r[2] for r in rows.values()],
               "is_pre_merger": [r[3][0] for r in rows.values()], "is_ongoing_merger": [r[3][1] for r in rows.values()],
               "is_post_merger": [r[3][2] for r in rows.values()], "time_before_merger": [r[4] for r in rows.values()],
               "time_after_merger": [r[5] for r in rows.values()], "sequence_ID": [r[6] for r in rows.values()]}
    Table({k: v for k, v in columns.items() if k not in drop_columns}).write(
        root / f"catalog_merger_challenge_TNG_{sample}.fits", overwrite=True)
    for oid, (snap, folder, *_rest) in list(rows.items()) + [(i, (91, "snapnum_78_91")) for i in extra_images]:
        if oid in skip_images:
            continue
        path = root / sample / folder / f"objID_{oid}.fits"
        path.parent.mkdir(parents=True, exist_ok=True)
        if oid in corrupt:
            path.write_bytes(b"SIMPLE  = this is not a FITS file")
        else:
            fits.PrimaryHDU(galaxy(oid, blank=oid in blank)).writeto(path)
    return root


def dataset(root, **kw):
    params = dict(root=str(root), image_size=32, max_sources=2, workers=1, fractions=[0.5, 0.25, 0.25],
                  max_bad_fraction=0.3)
    params.update(kw)
    return MergerChallenge(**params)


def test_reads_labels_times_and_redshifts(cache, tmp_path, capsys):
    data = dataset(write_challenge(tmp_path))
    columns, _ = data.catalogue
    order = np.argsort(columns["image_id"])
    assert columns["image_id"][order].tolist() == list(ROWS)
    assert columns["label"][order].tolist() == [1, 1, 0, 0, 1, 0, 0, 1]
    assert columns["stage"][order].tolist() == ["pre", "post", "non-merger", "non-merger", "ongoing", "non-merger",
                                                "non-merger", "pre"]
    np.testing.assert_allclose(columns["t_merge"][order][[0, 1, 4]], [-0.5, 0.2, -0.05])
    assert np.isnan(columns["t_merge"][order][2])
    assert columns["redshift"][order][0] == pytest.approx(TNG_SNAPSHOT_Z[90])
    assert columns["fit_ok"].all()
    splits = [data.load(s) for s in ("train", "val", "test")]
    assert sum(len(s) for s in splits) == len(ROWS)
    assert splits[0].data["views"]["residual"]().shape[1:] == (1, 32, 32)


def test_corrupt_and_missing_images_are_skipped_with_counts(cache, tmp_path, capsys):
    root = write_challenge(tmp_path, skip_images=(103,), extra_images=(999,), corrupt=(104,), blank=(107,))
    data = dataset(root)
    n = sum(len(data.load(s)) for s in ("train", "val", "test"))
    err = capsys.readouterr().err
    assert "1 of 8 catalogue IDs have no image (e.g. ID 103)" in err
    assert "1 image(s) have no catalogue row (e.g. objID_999.fits)" in err
    assert "1 of 7 images could not be used (objID_104.fits: unreadable FITS" in err
    assert "1 of 6 images have no usable Sérsic fit" in err and "no source detected" in err  # the blank one
    assert n == 5
    info = data.info()
    assert (info["n_missing_images"], info["n_unlabelled_images"], info["n_corrupt"], info["n_failed_fits"]) == (1, 1, 1, 1)


def test_too_many_bad_images_stop_with_the_files_named(cache, tmp_path):
    root = write_challenge(tmp_path, corrupt=(101, 102, 103))
    with pytest.raises(DataError, match=r"3 of 8 images could not be used \(objID_101.fits: unreadable"):
        dataset(root).load("train")


def test_a_label_table_that_does_not_match_the_images_stops(cache, tmp_path):
    other = {i + 1000: row for i, row in ROWS.items()}
    write_challenge(tmp_path, rows=ROWS)
    Table({"ID": list(other), "snapnum": [r[0] for r in other.values()],
           **{c: [0] * len(other) for c in ("is_major_merger", "is_pre_merger", "is_ongoing_merger", "is_post_merger")}}
          ).write(tmp_path / "catalog_merger_challenge_TNG_train.fits", overwrite=True)
    with pytest.raises(DataError, match="does not match the images: none of its 8 IDs has an image"):
        dataset(tmp_path).load("train")
    root = tmp_path / "half"
    root.mkdir()
    write_challenge(root, skip_images=(101, 102, 103, 104))
    with pytest.raises(DataError, match="4 of 8 IDs have no image"):
        dataset(root).load("train")
    wrong_folder = dict(ROWS)
    wrong_folder.update({k: (55,) + ROWS[k][1:] for k in (101, 102, 107)})  # snapnum 55 in the 78_91 folder
    root = tmp_path / "folders"
    root.mkdir()
    with pytest.raises(DataError, match="snapnum outside"):
        dataset(write_challenge(root, rows=wrong_folder)).load("train")


def test_bad_catalogues_name_the_file_and_the_columns(cache, tmp_path):
    write_challenge(tmp_path, drop_columns=("is_post_merger", "snapnum"))
    with pytest.raises(DataError, match="missing column.*snapnum, is_post_merger"):
        dataset(tmp_path).load("train")
    with pytest.raises(DataError, match="no such label catalogue"):
        dataset(tmp_path, sample="test").load("train")
    with pytest.raises(DataError, match="give the folder"):
        MergerChallenge()


def test_an_image_statmorph_cannot_fit_is_counted_and_the_run_goes_on(cache, tmp_path, capsys, monkeypatch):
    """statmorph raising on one galaxy: its image is reported with the reason and its class, then
    dropped from all three views (or kept with an empty model); the other images are used."""
    from astrozoo.data import morphology

    real = morphology._sersic_only_class()

    class GivesUpOnBrightGalaxies(real):
        def __init__(self, image, segmap, label, **kwargs):
            if image[segmap == label].sum() > 2000:  # only the bright one written below
                raise RuntimeError("fit did not converge")
            super().__init__(image, segmap, label, **kwargs)

    monkeypatch.setattr(morphology, "_sersic_only_class", lambda: GivesUpOnBrightGalaxies)
    root = write_challenge(tmp_path)
    bright = root / "train" / "snapnum_67_77" / "objID_105.fits"  # an ongoing merger
    fits.PrimaryHDU(10 * galaxy(105)).writeto(bright, overwrite=True)
    data = dataset(root)
    n = sum(len(data.load(s)) for s in ("train", "val", "test"))
    err = capsys.readouterr().err
    assert "1 of 8 images have no usable Sérsic fit of the central galaxy (1 mergers, 0 non-mergers" in err
    assert "central fit failed (RuntimeError: fit did not converge)" in err and "dropped from all three views" in err
    assert n == 7 and data.info()["n_failed_fits"] == 1
    columns, _ = data.catalogue
    assert columns["fit_status"][columns["image_id"] == 105][0].startswith("central fit failed")
    kept = dataset(root, failed_fits="keep")
    assert sum(len(kept.load(s)) for s in ("train", "val", "test")) == 8
