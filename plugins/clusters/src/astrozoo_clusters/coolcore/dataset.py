"""cool-core dataset: the mock TNG300-like cluster sample with Chandra-like images (default).

The file (shared HDF5 format) holds ``catalogue`` (cluster_id, label, ne0, log_m500, the latent
state, ...) and ``images/counts`` (N, S, S) int32 photon counts; attributes give the pixel size
in kpc and the expected background per pixel.

A split hands models ``images``: (N, 1, S, S) float32 = log10(1 + counts) (``scale = "log"``) or
the counts (``"linear"``), ``counts`` (raw, for the concentration baseline), ``columns`` (the
catalogue, whose ``ne0`` the density baseline reads, as Su et al. read it from the simulation),
``pixel_kpc`` and ``background_per_pixel``.

Split: ``fold = k`` of ``n_folds`` (stratified; test = fold k, val = fold k+1, train = the other
eight: Su et al.'s 10-fold 8/1/1 cross-validation); ``fold = -1`` (default) is fold 0.
"""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path

import numpy as np

from astrozoo.data import store
from astrozoo.data.splits import check_fold, fold_split
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import Dataset, Split
from astrozoo_clusters.coolcore.physics import CLASSES
from astrozoo_clusters.coolcore.mock import VERSION

SCALES = ("log", "linear")


class MockCoolCore(Dataset):
    name = "mock-cool-core"
    task = "cool-core"
    provenance = "mock"
    version = str(VERSION)
    folds = True
    description = ("mock TNG300-like clusters (M500 > 10^13.75) with Chandra-like 1 Mpc images; "
                   "see docs/tasks/clusters.md")

    def __init__(self, seed: int = 0, box_mpc: float = 302.6, log_m_min: float = 13.75, image_size: int = 256,
                 exposure_ks: float = 50.0, scale: str = "log", fold: int = -1, n_folds: int = 10, path: str = ""):
        super().__init__(seed=seed, box_mpc=box_mpc, log_m_min=log_m_min, image_size=image_size,
                         exposure_ks=exposure_ks, scale=scale, fold=fold, n_folds=n_folds, path=path)
        if scale not in SCALES:
            raise AstrozooError(f"data.scale={scale!r}: choose {' or '.join(SCALES)}")
        check_fold(fold, n_folds)
        self.seed, self.box_mpc, self.log_m_min, self.image_size = seed, box_mpc, log_m_min, image_size
        self.exposure_ks, self.scale, self.fold, self.n_folds, self.path = exposure_ks, scale, fold, n_folds, path

    def cache_params(self) -> dict:
        return {"seed": self.seed, "box_mpc": self.box_mpc, "log_m_min": self.log_m_min,
                "image_size": self.image_size, "exposure_ks": self.exposure_ks}

    def generate(self, output: Path) -> Path:
        """Draw the cluster sample and its images (seeded, deterministic) into ``output``."""
        from astrozoo_clusters.coolcore.mock import COLUMN_UNITS, generate

        print(f"generating {self.name} (seed {self.seed}, {self.image_size} px, once)", file=sys.stderr)
        columns, counts, attrs = generate(self.seed, self.box_mpc, self.log_m_min, self.image_size, self.exposure_ks)
        return store.write(output, {"catalogue": columns, "images": {"counts": counts}}, attrs, COLUMN_UNITS)

    @cached_property
    def table(self) -> tuple[dict, dict]:
        path = self.data_file()
        columns, attrs = store.read(path, "catalogue", required=("cluster_id", "label", "ne0"),
                                    finite=("ne0",))
        for key in ("pixel_kpc", "background_per_pixel"):
            if key not in attrs:
                raise AstrozooError(f"{path}: attribute {key!r} missing")
        if not np.isin(columns["label"], np.arange(len(CLASSES))).all():
            raise AstrozooError(f"{path}: column 'label' must hold 0 (CC), 1 (WCC) or 2 (NCC)")
        return columns, attrs

    @cached_property
    def counts(self) -> np.ndarray:
        path = self.data_file()
        images, _ = store.read(path, "images", required=("counts",))
        counts = images["counts"]
        expected = (len(self.table[0]["label"]), self.image_size, self.image_size)
        if counts.ndim == 3 and counts.shape[0] != expected[0]:
            raise AstrozooError(f"{path}: labels do not match the images: the catalogue lists {expected[0]} "
                                f"clusters, images/counts holds {counts.shape[0]}")
        if counts.shape != expected:
            raise AstrozooError(f"{path}: images have shape {counts.shape}, expected {expected}")
        return counts

    @cached_property
    def split_of(self) -> np.ndarray:
        return fold_split(self.table[0]["label"], max(self.fold, 0), self.n_folds, self.seed)

    def _images(self, rows) -> np.ndarray:
        counts = self.counts[rows].astype(np.float32)
        return (np.log10(1 + counts) if self.scale == "log" else counts)[:, None]

    def load(self, split: str) -> Split:
        columns, attrs = self.table
        rows = np.arange(len(columns["label"])) if split == "all" else np.flatnonzero(self.split_of == split)
        if rows.size == 0:
            raise AstrozooError(f"{self.name}: split {split!r} is empty")
        return Split(name=split, ids=columns["cluster_id"][rows], y=columns["label"][rows],
                     data={"images": lambda: self._images(rows), "counts": lambda: self.counts[rows],
                           "columns": {k: v[rows] for k, v in columns.items()},
                           "pixel_kpc": float(attrs["pixel_kpc"]),
                           "background_per_pixel": float(attrs["background_per_pixel"]),
                           "class_names": CLASSES})

    def info(self) -> dict:
        columns, attrs = self.table
        label = columns["label"]
        return {"file": str(self.data_file()), "n_clusters": len(label), "image_size": self.image_size,
                "pixel_kpc": attrs["pixel_kpc"], "redshift": attrs.get("redshift", "?"),
                "fold": self.fold, "n_folds": self.n_folds, "provenance": attrs.get("provenance", self.provenance),
                **{f"n_{name}": int((label == k).sum()) for k, name in enumerate(CLASSES)},
                **{f"n_{s}": int((self.split_of == s).sum()) for s in ("train", "val", "test")}}


DATASETS = [MockCoolCore]
