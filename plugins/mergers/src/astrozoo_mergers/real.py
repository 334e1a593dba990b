"""Real data: the Margalef-Bentabol et al. (2024, A&A 687, A24) merger-challenge layout.

Expected under ``path`` (REAL-DATA.md §4; the column order and some conventions are unverified):

* ``catalog_merger_challenge_TNG_{train,test}.fits`` (or ``.csv``; or give ``catalogue``): columns
  ``ID``, ``snapnum`` (50–91), ``is_major_merger``, ``is_pre_merger``, ``is_ongoing_merger``,
  ``is_post_merger`` (0/1); optional ``sequence_ID`` (the merger history: the split keeps it
  together), ``time_before_merger``, ``time_after_merger`` (Gyr; values above 20 are read as
  Myr), ``redshift`` or ``z``;
* one image per object: ``{train,test}/snapnum_{50_57,58_66,67_77,78_91}/objID_{ID}.fits`` — the
  first HDU holding a 2-D array (or a (1, N, N) cube), one band, background not yet subtracted.

Label: 1 when ``is_major_merger`` is 1; the stage comes from the three stage flags ("unknown"
for a major merger without one). Redshift:
the catalogue's, else the TNG snapshot's. Each image is background-subtracted (sigma-clipped
median), fitted and resized exactly like the mock (:mod:`astrozoo_mergers.pipeline`) with a
Gaussian PSF of ``psf_fwhm`` arcsec (the challenge ships no PSF; HSC i ≈ 0.6–0.7").

What goes wrong is reported with counts: catalogue rows without an image and images without a
row (the label table does not match the images), unreadable or malformed images (skipped), and
snapnums outside their folder's range. Each may affect at most ``max_bad_fraction`` of the
catalogue before the loader stops with an error naming the files.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from astrozoo.data.store import DataError

from astrozoo_mergers.dataset import MergerDataset, _note
from astrozoo_mergers.conventions import PIXSCALE, STAGES, z_bin

# TNG snapshot redshifts (from the snapshot headers; TNG snapshots 50–91)
TNG_SNAPSHOT_Z = dict(zip(range(50, 92), (
    0.997294, 0.950531, 0.923001, 0.886897, 0.851471, 0.816710, 0.791068, 0.757441, 0.732636, 0.700106,
    0.676110, 0.644642, 0.621429, 0.598543, 0.575981, 0.546392, 0.524566, 0.503048, 0.481833, 0.460918,
    0.440298, 0.419969, 0.399927, 0.380168, 0.360688, 0.347854, 0.328830, 0.310074, 0.297718, 0.273353,
    0.261343, 0.243540, 0.225988, 0.214425, 0.197284, 0.180385, 0.169252, 0.152749, 0.141876, 0.125759,
    0.109870, 0.099402)))
FOLDERS = {"snapnum_50_57": (50, 57), "snapnum_58_66": (58, 66), "snapnum_67_77": (67, 77), "snapnum_78_91": (78, 91)}
REQUIRED_COLUMNS = ("ID", "snapnum", "is_major_merger", "is_pre_merger", "is_ongoing_merger", "is_post_merger")
FILE_PATTERN = re.compile(r"^objID_(\d+)\.fits(\.gz)?$")


def read_image(path: Path) -> np.ndarray:
    """The one-band image of a challenge FITS file as float64 (N, N); raises ValueError naming the problem."""
    from astropy.io import fits

    try:
        with warnings.catch_warnings(), fits.open(path, ignore_missing_simple=True, memmap=False) as hdus:
            warnings.simplefilter("ignore")
            data = next((h.data for h in hdus if getattr(h, "data", None) is not None and np.ndim(h.data) >= 2), None)
            if data is None:
                raise ValueError("no HDU holds an image")
            data = np.asarray(data, dtype=float)
    except (OSError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"unreadable FITS ({exc})") from exc
    data = np.squeeze(data)
    if data.ndim != 2:
        raise ValueError(f"expected one 2-D band, got shape {data.shape}")
    if data.shape[0] != data.shape[1] or data.shape[0] < 16:
        raise ValueError(f"expected a square image of at least 16 pixels, got shape {data.shape}")
    bad = ~np.isfinite(data)
    if bad.mean() > 0.01:
        raise ValueError(f"{bad.mean():.0%} of the pixels are NaN or infinite")
    if bad.any():
        data[bad] = np.nanmedian(data)
    if np.ptp(data) == 0:
        raise ValueError("the image is constant")
    return data


def _challenge_one(item) -> tuple:
    from astrozoo.data.morphology import sky_stats

    from astrozoo_mergers.pipeline import process_image

    row, path, psf_fwhm, pixscale, image_size, max_sources, fit_size = item
    try:
        image = read_image(Path(path))
    except ValueError as exc:
        return "corrupt", path, str(exc)
    median, sigma = sky_stats(image)
    fit_row, views = process_image(image - median, sigma, psf_fwhm, pixscale, image_size, max_sources, fit_size)
    return "ok", {**row, **fit_row, "sky_sigma": sigma}, views


class MergerChallenge(MergerDataset):
    """Margalef-Bentabol et al. (2024) merger-challenge images and labels, fitted and cached."""

    name = "merger-challenge"
    provenance = "real"
    description = "HSC-like TNG merger-challenge images (Margalef-Bentabol et al. 2024): give data.root"

    def __init__(self, root: str = "", sample: str = "train", catalogue: str = "", psf_fwhm: float = 0.7,
                 pixscale: float = PIXSCALE, image_size: int = 128, fit_size: int = 0, max_sources: int = 8,
                 max_bad_fraction: float = 0.05, **kwargs):
        super().__init__(image_size=image_size, root=root, sample=sample, catalogue=catalogue, psf_fwhm=psf_fwhm,
                         pixscale=pixscale, fit_size=fit_size, max_sources=max_sources,
                         max_bad_fraction=max_bad_fraction, **kwargs)
        if not root and not self.path:
            raise DataError(f"{self.name}: give the folder holding the challenge data, e.g. --set data.root=/data/mc "
                            "(it must contain catalog_merger_challenge_TNG_train.fits and train/snapnum_*/)")
        self.root, self.sample, self.catalogue_path = Path(root) if root else None, sample, catalogue
        self.psf_fwhm, self.pixscale, self.fit_size = psf_fwhm, pixscale, fit_size
        self.max_sources, self.max_bad_fraction = max_sources, max_bad_fraction

    # -- inputs ----------------------------------------------------------------------------------------
    def catalogue_file(self) -> Path:
        if self.catalogue_path:
            return Path(self.catalogue_path)
        for suffix in (".fits", ".fit", ".csv"):
            path = self.root / f"catalog_merger_challenge_TNG_{self.sample}{suffix}"
            if path.exists():
                return path
        return self.root / f"catalog_merger_challenge_TNG_{self.sample}.fits"

    def read_labels(self) -> dict[str, np.ndarray]:
        from astropy.table import Table

        path = self.catalogue_file()
        if not path.exists():
            raise DataError(f"{path}: no such label catalogue (give data.catalogue to name it)")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                table = Table.read(path)
        except Exception as exc:
            raise DataError(f"{path}: cannot read the label catalogue ({type(exc).__name__}: {exc})") from exc
        missing = [c for c in REQUIRED_COLUMNS if c not in table.colnames]
        if missing:
            raise DataError(f"{path}: label catalogue is missing column(s) {', '.join(missing)} "
                            f"(has: {', '.join(table.colnames)})")
        columns = {name: np.asarray(table[name]) for name in table.colnames}
        for name in REQUIRED_COLUMNS:
            values = np.asarray(columns[name], dtype=float)
            if not np.isfinite(values).all():
                raise DataError(f"{path}: column {name!r} has {int((~np.isfinite(values)).sum())} missing values")
        ids = columns["ID"].astype(np.int64)
        if len(np.unique(ids)) != len(ids):
            raise DataError(f"{path}: column 'ID' has {len(ids) - len(np.unique(ids))} duplicate value(s)")
        return columns

    def image_files(self) -> dict[int, Path]:
        base = self.root / self.sample
        if not base.is_dir():
            raise DataError(f"{base}: no image folder (expected {base}/snapnum_50_57/objID_<ID>.fits ...)")
        found: dict[int, Path] = {}
        for folder in sorted(base.glob("snapnum_*")):
            for path in sorted(folder.iterdir()):
                match = FILE_PATTERN.match(path.name)
                if match:
                    found.setdefault(int(match.group(1)), path)
        return found

    def cache_params(self) -> dict:
        return {"root": str(self.root.resolve()) if self.root else "", "sample": self.sample,
                "catalogue": str(self.catalogue_file()), "psf_fwhm": self.psf_fwhm, "pixscale": self.pixscale,
                "image_size": self.image_size, "fit_size": self.fit_size, "max_sources": self.max_sources}

    def data_file(self) -> Path:
        """``data.path`` when given, else the challenge's catalogue and images fitted once, keyed by
        the catalogue's and the image folder's files (sizes and modification times): a changed
        file is fitted again."""
        from astrozoo.data.cache import cached

        sources = [p for p in (self.catalogue_file(), self.root / self.sample if self.root else None)
                   if p is not None and p.exists()]
        return cached(self.task, self.name, self.cache_params(), self.version, self.write, sources=sources,
                      override=self.path)

    # -- building the cache --------------------------------------------------------------------------
    def _too_many(self, count: int, total: int) -> bool:
        return count > self.max_bad_fraction * total

    def build(self):
        from astrozoo.data.parallel import parallel_map

        from astrozoo_mergers.pipeline import stack

        labels = self.read_labels()
        cat_path = self.catalogue_file()
        files = self.image_files()
        ids = labels["ID"].astype(np.int64)
        n = len(ids)
        has_image = np.array([i in files for i in ids])
        unlabelled = sorted(set(files) - set(ids.tolist()))
        if not has_image.any():
            example = next(iter(files.values()), None)
            raise DataError(f"{cat_path}: the label table does not match the images: none of its {n} IDs has an image "
                            f"objID_<ID>.fits under {self.root / self.sample} ({len(files)} image files found"
                            + (f", e.g. {example.name})" if example else ")"))
        n_missing = int((~has_image).sum())
        if self._too_many(n_missing, n):
            raise DataError(f"{cat_path}: the label table does not match the images: {n_missing} of {n} IDs have no "
                            f"image under {self.root / self.sample} (e.g. ID {ids[~has_image][0]}); more than "
                            f"max_bad_fraction = {self.max_bad_fraction}. Are the catalogue and the folder the same sample?")
        if n_missing:
            _note(f"{cat_path}: {n_missing} of {n} catalogue IDs have no image (e.g. ID {ids[~has_image][0]}): left out")
        if unlabelled:
            _note(f"{self.root / self.sample}: {len(unlabelled)} image(s) have no catalogue row "
                  f"(e.g. objID_{unlabelled[0]}.fits): ignored")

        snap = labels["snapnum"].astype(int)
        folder_ok = np.ones(n, dtype=bool)
        for k in np.flatnonzero(has_image):
            lo, hi = FOLDERS.get(files[ids[k]].parent.name, (0, 10**6))
            folder_ok[k] = lo <= snap[k] <= hi
        n_mismatch = int((has_image & ~folder_ok).sum())
        if self._too_many(n_mismatch, n):
            raise DataError(f"{cat_path}: the label table does not match the images: {n_mismatch} of {n} rows have a "
                            f"snapnum outside their image's folder range (e.g. ID {ids[has_image & ~folder_ok][0]})")
        if n_mismatch:
            _note(f"{cat_path}: {n_mismatch} row(s) have a snapnum outside their image folder's range: left out")
        use = np.flatnonzero(has_image & folder_ok)

        items = [(self._row(labels, k), str(files[ids[k]]), self.psf_fwhm, self.pixscale, self.image_size,
                  self.max_sources, self.fit_size or None) for k in use]
        results = list(parallel_map(_challenge_one, items, f"{self.name}: read + fit", workers=self.workers or None,
                                    chunk=4))
        corrupt = [(path, why) for status, path, why in (r for r in results if r[0] == "corrupt")]
        good = [(row, views) for status, row, views in (r for r in results if r[0] == "ok")]
        if corrupt:
            listed = "; ".join(f"{Path(p).name}: {why}" for p, why in corrupt[:5])
            message = f"{len(corrupt)} of {len(items)} images could not be used ({listed}{' ...' if len(corrupt) > 5 else ''})"
            if self._too_many(len(corrupt), len(items)) or not good:
                raise DataError(f"{self.root / self.sample}: {message}; more than max_bad_fraction = "
                                f"{self.max_bad_fraction}")
            _note(f"{self.root / self.sample}: {message}: skipped")
        columns, images = stack([r for r, _ in good], [v for _, v in good])
        attrs = {"n_corrupt": len(corrupt), "n_missing_images": n_missing, "n_unlabelled_images": len(unlabelled),
                 "n_snapnum_mismatch": n_mismatch, "catalogue": str(cat_path)}
        return columns, images, attrs

    def _row(self, labels: dict, k: int) -> dict:
        flags = {stage: int(labels[f"is_{stage}_merger"][k]) for stage in ("pre", "ongoing", "post")}
        major = int(labels["is_major_merger"][k])
        stage = next((s for s in ("pre", "ongoing", "post") if flags[s]), "unknown") if major else "non-merger"
        code = STAGES.index(stage) if stage in STAGES else -1
        before = _gyr(labels, "time_before_merger", k)
        after = _gyr(labels, "time_after_merger", k)
        t_merge = np.nan
        if major and stage in ("pre", "ongoing") and np.isfinite(before):
            t_merge = -before
        elif major and stage in ("ongoing", "post") and np.isfinite(after):
            t_merge = after
        snap = int(labels["snapnum"][k])
        z = next((float(labels[c][k]) for c in ("redshift", "z") if c in labels), TNG_SNAPSHOT_Z.get(snap, np.nan))
        sequence = labels["sequence_ID"][k] if "sequence_ID" in labels else labels["ID"][k]
        return {"image_id": int(labels["ID"][k]), "sequence_id": int(sequence), "label": int(major == 1),
                "stage_code": code, "stage": stage, "t_merge": t_merge,
                "redshift": z, "z_bin": int(z_bin(z)), "snapnum": snap}


def _gyr(labels: dict, column: str, k: int) -> float:
    """A time column in Gyr: NaN when absent or negative (no merger); read as Myr above 20."""
    if column not in labels:
        return np.nan
    values = np.asarray(labels[column], dtype=float)
    value = float(values[k])
    if not np.isfinite(value) or value < 0:
        return np.nan
    return value / 1000.0 if np.nanmax(np.abs(values)) > 20 else value
