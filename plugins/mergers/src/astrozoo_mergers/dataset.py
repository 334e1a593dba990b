"""mergers datasets: the embedded mock (``mock-hsc``) and the real merger-challenge loader.

Both write one file in the shared HDF5 format (:mod:`astrozoo.data.store`): a ``catalogue`` table
(one row per image: ids, sequence, time to coalescence, stage, label, redshift, the Sérsic fit of
the central galaxy and its status) and an ``images`` table with the three views — ``raw``,
``model`` (Sérsic profiles of every fitted galaxy) and ``residual`` (raw − model) — in counts at
``image_size``. Splits hand the views to models as (N, 1, S, S), ``normalisation`` "minmax"
(linearly to [0, 1] per image, the paper's) or "asinh" (asinh(x / 3σ), σ the raw image's sky
noise, for all three views of an object alike).

Images whose central galaxy has no usable Sérsic fit are counted and reported; by default they
are dropped from all three views (``failed_fits = "drop"``) so the three CNNs are compared on
the same galaxies; ``"keep"`` keeps them with whatever was fitted (model may be empty).
"""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path

import numpy as np

from astrozoo.data import store
from astrozoo.data.splits import SPLITS, grouped_split
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import Dataset, Split

from astrozoo_mergers.mock import VERSION as MOCK_VERSION
from astrozoo_mergers.pipeline import FIT_COLUMNS, VIEWS, asinh_stretch, normalise, robust_sigma

REQUIRED = ("image_id", "sequence_id", "label", "stage", "t_merge", "redshift", "z_bin", "fit_ok", "fit_status",
            "sersic_ellip")
FINITE = ("image_id", "sequence_id", "label", "redshift")
FORMAT_VERSION = 1  # the file's layout; the mock adds its generator's VERSION
NORMALISATIONS = ("minmax", "asinh")


def _note(message: str) -> None:
    print(f"mergers: {message}", file=sys.stderr)


class MergerDataset(Dataset):
    """Shared machinery: the file's format, the failed-fit policy, the split and lazy views.
    ``workers`` processes render and fit (0: every CPU this process may use)."""

    task = "mergers"
    version = str(FORMAT_VERSION)

    def __init__(self, seed: int = 0, image_size: int = 128, fractions: list | None = None,
                 failed_fits: str = "drop", workers: int = 0, path: str = "", normalisation: str = "minmax",
                 **params):
        fractions = list(fractions or [0.75, 0.15, 0.10])
        super().__init__(seed=seed, image_size=image_size, fractions=fractions, failed_fits=failed_fits,
                         workers=workers, path=path, normalisation=normalisation, **params)
        if failed_fits not in ("drop", "keep"):
            raise AstrozooError(f"{self.name}: failed_fits must be 'drop' or 'keep', got {failed_fits!r}")
        if normalisation not in NORMALISATIONS:
            raise AstrozooError(f"{self.name}: normalisation must be one of {', '.join(NORMALISATIONS)}, "
                                f"got {normalisation!r}")
        self.seed, self.image_size, self.fractions = seed, image_size, fractions
        self.failed_fits, self.workers, self.path, self.normalisation = failed_fits, workers, path, normalisation

    # -- what subclasses provide ------------------------------------------------------------------
    def build(self) -> tuple[dict, dict, dict]:
        """Make (catalogue columns, {view: (N, S, S)}, root attributes)."""
        raise NotImplementedError

    # -- the file ------------------------------------------------------------------------------------
    def write(self, output: Path) -> Path:
        """:meth:`build` the data and write it to ``output`` in the shared HDF5 format."""
        _note(f"making {self.name} (once; later runs read the cache)")
        columns, images, attrs = self.build()
        return store.write(output, {"catalogue": columns, "images": images},
                           {"provenance": self.provenance, "seed": self.seed, "params": self.cache_params(), **attrs},
                           {"t_merge": "Gyr", "redshift": "", "sersic_rhalf": "pixel (fitted image)",
                            "sersic_theta": "rad", **{v: "counts" for v in VIEWS}})

    @cached_property
    def catalogue(self) -> tuple[dict, dict]:
        path = self.data_file()
        columns, attrs = store.read(path, "catalogue", required=REQUIRED, finite=FINITE)
        with store.open_hdf5(path) as f:
            if "images" not in f or any(v not in f["images"] for v in VIEWS):
                raise store.DataError(f"{path}: table 'images' must hold the views {', '.join(VIEWS)}")
            shapes = {v: f["images"][v].shape for v in VIEWS}
        n = len(columns["image_id"])
        for view, shape in shapes.items():
            if shape != (n, self.image_size, self.image_size):
                raise store.DataError(f"{path}: images/{view} has shape {shape}, expected "
                                      f"({n}, {self.image_size}, {self.image_size}) (image_size = {self.image_size})")
        return columns, attrs

    @cached_property
    def table(self) -> dict[str, np.ndarray]:
        """The catalogue after the failed-fit policy, with the split of each row."""
        columns, _ = self.catalogue
        ok = columns["fit_ok"].astype(bool)
        n_failed = int((~ok).sum())
        keep = ok if self.failed_fits == "drop" else np.ones_like(ok)
        if n_failed:
            label = columns["label"]
            reasons, counts = np.unique(columns["fit_status"][~ok], return_counts=True)
            common = "; ".join(f"{c}× {r}" for r, c in sorted(zip(reasons, counts), key=lambda rc: -rc[1])[:3])
            action = ("dropped from all three views so the CNNs compare the same galaxies"
                      if self.failed_fits == "drop" else "kept (their model holds only what was fitted)")
            _note(f"{self.name}: {n_failed} of {len(ok)} images have no usable Sérsic fit of the central galaxy "
                  f"({int(label[~ok].sum())} mergers, {int((label[~ok] == 0).sum())} non-mergers; {common}): {action}")
        table = {k: v[keep] for k, v in columns.items()}
        table["row"] = np.flatnonzero(keep)
        table["split"] = grouped_split(table["sequence_id"], self.fractions, self.seed, strata=self.strata(table))
        return table

    def strata(self, table: dict) -> np.ndarray:
        """One value per image, constant per sequence: whether its sequence holds any merger image."""
        sequences, inverse = np.unique(table["sequence_id"], return_inverse=True)
        any_merger = np.zeros(len(sequences), dtype=int)
        np.maximum.at(any_merger, inverse, table["label"].astype(int))
        return any_merger[inverse]

    def view(self, name: str, rows: np.ndarray) -> np.ndarray:
        """(len(rows), 1, S, S) float32 images of one view, normalised (``normalisation``)."""
        if name not in VIEWS:
            raise AstrozooError(f"{self.name}: unknown view {name!r}; choose {', '.join(VIEWS)}")
        out = self._read(name, rows)
        if self.normalisation == "asinh":
            sky = out if name == "raw" else self._read("raw", rows)  # the model view has no noise
            return asinh_stretch(out, robust_sigma(sky))[:, None]
        return normalise(out)[:, None]

    def _read(self, name: str, rows: np.ndarray) -> np.ndarray:
        import h5py

        order = np.argsort(rows)
        with h5py.File(self.data_file(), "r") as f:
            images = f["images"][name][np.asarray(rows)[order]] if len(rows) else np.zeros((0, self.image_size, self.image_size))
        out = np.empty_like(images, dtype=np.float32)
        out[order] = images
        return out

    # -- the Dataset contract ------------------------------------------------------------------------
    def load(self, split: str) -> Split:
        table = self.table
        rows = np.flatnonzero(table["split"] == split)
        if rows.size == 0:
            raise AstrozooError(f"{self.name}: split {split!r} is empty ({len(table['split'])} images in all)")
        columns = {k: v[rows] for k, v in table.items() if k != "split"}
        file_rows = table["row"][rows]
        views = {name: (lambda name=name: self.view(name, file_rows)) for name in VIEWS}
        return Split(name=split, ids=columns["image_id"], y=columns["label"].astype(np.int64),
                     data={"images": views["raw"], "views": views, "columns": columns})

    def info(self) -> dict:
        columns, attrs = self.catalogue
        table = self.table
        ok = columns["fit_ok"].astype(bool)
        info = {"file": str(self.data_file()), "provenance": attrs.get("provenance", self.provenance),
                "n_images": len(ok), "n_used": len(table["split"]), "merger_fraction": float(table["label"].mean()),
                "n_sequences": len(np.unique(table["sequence_id"])), "n_failed_fits": int((~ok).sum()),
                "n_failed_fits_mergers": int((~ok & (columns["label"] == 1)).sum()),
                "failed_fits": self.failed_fits, "image_size": self.image_size}
        info.update({f"n_{s}": int((table["split"] == s).sum()) for s in SPLITS})
        for key in ("n_corrupt", "n_missing_images", "n_unlabelled_images"):
            if key in attrs:
                info[key] = attrs[key]
        return info


# -- the mock ----------------------------------------------------------------------------------------
def _mock_one(item) -> tuple[dict, dict]:
    from astrozoo_mergers.mock import PIXSCALE, observe
    from astrozoo_mergers.pipeline import process_image

    obs, seed, image_size, fit_size, max_sources = item
    image, row = observe(obs, seed)
    fit_row, views = process_image(image, row["sky_sigma"], row["psf_fwhm"], PIXSCALE, image_size, max_sources, fit_size)
    return {**row, **fit_row}, views


class MockHSC(MergerDataset):
    """The embedded default: mock HSC i-band merger sequences and non-mergers, made on first use."""

    name = "mock-hsc"
    provenance = "mock"
    version = f"{FORMAT_VERSION}.{MOCK_VERSION}"
    description = "mock HSC i-band major-merger sequences and non-mergers at 0.1 < z < 1 (docs/tasks/mergers.md)"

    def __init__(self, seed: int = 0, n_major: int = 500, n_nonmerger: int = 380, keep: float = 0.3,
                 image_size: int = 64, fit_size: int = 128, max_sources: int = 8, z_min: float = 0.1,
                 z_max: float = 1.0, **kwargs):
        super().__init__(seed=seed, image_size=image_size, n_major=n_major, n_nonmerger=n_nonmerger, keep=keep,
                         fit_size=fit_size, max_sources=max_sources, z_min=z_min, z_max=z_max, **kwargs)
        self.n_major, self.n_nonmerger, self.keep = n_major, n_nonmerger, keep
        self.fit_size, self.max_sources, self.z_range = fit_size, max_sources, (z_min, z_max)
        if not 0.1 <= z_min < z_max <= 1.0:
            raise AstrozooError(f"{self.name}: need 0.1 <= z_min < z_max <= 1.0, got {z_min}, {z_max}")

    def cache_params(self) -> dict:
        return {"seed": self.seed, "n_major": self.n_major, "n_nonmerger": self.n_nonmerger, "keep": self.keep,
                "image_size": self.image_size, "fit_size": self.fit_size, "max_sources": self.max_sources,
                "z_range": list(self.z_range)}

    def generate(self, output: Path) -> Path:
        """Render and fit the mock (seeded, deterministic) into ``output``."""
        return self.write(output)

    def build(self):
        from astrozoo.data.parallel import parallel_map

        from astrozoo_mergers import mock
        from astrozoo_mergers.pipeline import stack

        sequences = mock.draw_sequences(self.n_major, self.n_nonmerger, keep=self.keep, seed=self.seed,
                                        z_range=self.z_range)
        observations = mock.observations(sequences, self.z_range)
        items = [(obs, self.seed, self.image_size, self.fit_size or None, self.max_sources) for obs in observations]
        flat = list(parallel_map(_mock_one, items, f"{self.name}: render + fit", workers=self.workers or None, chunk=4,
                                 keep="render-fit"))  # an interrupted build continues where it stopped
        columns, images = stack([r for r, _ in flat], [v for _, v in flat])
        attrs = {"n_sequences": len(sequences), "pixscale_arcsec": mock.PIXSCALE, "zero_point": mock.ZERO_POINT}
        return columns, images, attrs
