"""cluster-search datasets: one per band (``mock-ir``, ``mock-microwave``), the same contract.

The images are generated once into the shared HDF5 format (``catalogue`` table: id, label,
kind, z, m500, ...; ``images`` table: ``cutouts`` (N, 2, S, S) in physical units) and cached;
``path`` reads a file in that format instead (e.g. real WISE or ACT cutouts prepared the same
way). Preprocessing happens at load: ``difference`` appends the difference of the two bands as
a third channel (on by default in the microwave, where the CMB, equal in both bands in
temperature units, cancels in it and leaves the tSZ decrement and the sources' spectra); then the
right-skewed pixel distribution is compressed by ``scaling`` ("asinh", "log" or "none") with the
softening in units of each channel's noise σ.
Splits are stratified by class, 70/15/15, drawn from the data seed.
"""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path

import numpy as np

from astrozoo.data import store
from astrozoo.data.splits import stratified_split
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import Dataset, Split
from astrozoo_cluster_search.mock import VERSION

REQUIRED = ("id", "label", "kind", "z")
SCALINGS = ("asinh", "log", "none")
FRACTIONS = {"train": 0.70, "val": 0.15, "test": 0.15}


def with_difference(images: np.ndarray, noise_sigma) -> tuple[np.ndarray, np.ndarray]:
    """Append band 0 − band 1 as a channel of (N, C, H, W) or (C, H, W) images, in physical
    units, before any non-linear scaling; its white-noise σ is the two σ in quadrature."""
    sigma = np.asarray(noise_sigma, np.float64)
    diff = images[..., :1, :, :] - images[..., 1:2, :, :]
    return (np.concatenate([images, diff], axis=-3),
            np.append(sigma[:2], np.hypot(sigma[0], sigma[1])))


def scale(images: np.ndarray, noise_sigma, scaling: str = "asinh", softening: float = 3.0) -> np.ndarray:
    """Compress the dynamic range of right-skewed images (bright stars, radio sources) channel by
    channel, in units of the channel's noise σ: asinh(x / (k σ)) (Lupton et al. 1999), the
    sign-keeping log sign(x) log10(1 + |x| / (k σ)), or just x / σ ("none")."""
    if scaling not in SCALINGS:
        raise AstrozooError(f"unknown scaling {scaling!r}: choose {', '.join(SCALINGS)}")
    sigma = np.asarray(noise_sigma, np.float32).reshape(-1, 1, 1)  # broadcasts over (C,H,W) and (N,C,H,W)
    x = images / sigma
    if scaling == "asinh":
        return np.arcsinh(x / softening).astype(np.float32)
    if scaling == "log":
        return (np.sign(x) * np.log10(1 + np.abs(x) / softening)).astype(np.float32)
    return x.astype(np.float32)


class CutoutDataset(Dataset):
    """Cutouts of one band; subclasses name the band."""

    task = "cluster-search"
    version = str(VERSION)
    band: str = ""
    difference_default = False  # the band's default for ``difference``

    def __init__(self, seed: int = 0, n_per_class: int = 1000, image_size: int = 64, scaling: str = "asinh",
                 softening: float = 3.0, z_min: float = 0.1, z_max: float = 1.5, m_min: float = 1e14,
                 field_size: int = 256, path: str = "", difference: bool | None = None):
        difference = self.difference_default if difference is None else bool(difference)
        super().__init__(seed=seed, n_per_class=n_per_class, image_size=image_size, scaling=scaling,
                         softening=softening, z_min=z_min, z_max=z_max, m_min=m_min, field_size=field_size,
                         path=path, difference=difference)
        if scaling not in SCALINGS:
            raise AstrozooError(f"{self.name}: unknown scaling {scaling!r}: choose {', '.join(SCALINGS)}")
        if n_per_class < 10:
            raise AstrozooError(f"{self.name}: n_per_class must be at least 10, got {n_per_class}")
        self.seed, self.n_per_class, self.image_size = seed, n_per_class, image_size
        self.scaling, self.softening, self.difference = scaling, softening, difference
        self.z_range, self.m_min, self.field_size, self.path = (z_min, z_max), m_min, field_size, path

    # -- the file ------------------------------------------------------------------------------
    def cache_params(self) -> dict:
        return {"band": self.band, "seed": self.seed, "n_per_class": self.n_per_class,
                "image_size": self.image_size, "z_range": list(self.z_range), "m_min": self.m_min}

    def generate(self, output: Path) -> Path:
        """Render this band's cutouts (seeded, deterministic) into ``output``."""
        from astrozoo_cluster_search.mock import COLUMN_UNITS, generate

        note = lambda message: print(message, file=sys.stderr)  # noqa: E731
        note(f"generating {self.name} (seed {self.seed}, {3 * self.n_per_class} cutouts, once)")
        cols, images, attrs = generate(self.band, self.n_per_class, self.image_size, self.seed,
                                       self.z_range, self.m_min, echo=note)
        return store.write(output, {"catalogue": cols, "images": {"cutouts": images}}, attrs, COLUMN_UNITS)

    @cached_property
    def catalogue(self) -> tuple[dict, dict]:
        cols, attrs = store.read(self.data_file(), "catalogue", required=REQUIRED, finite=("label",))
        for key in ("noise_sigma", "classes"):
            if key not in attrs:
                raise AstrozooError(f"{self.data_file()}: root attribute {key!r} missing")
        if set(np.unique(cols["label"])) - {0, 1, 2}:
            raise AstrozooError(f"{self.data_file()}: column 'label' must hold 0 (cluster), 1 (source), 2 (random)")
        return cols, attrs

    @cached_property
    def raw_images(self) -> np.ndarray:
        images, _ = store.read(self.data_file(), "images", required=("cutouts",))
        images = images["cutouts"]
        n = len(self.catalogue[0]["id"])
        if images.ndim != 4 or images.shape[0] != n:
            raise AstrozooError(f"{self.data_file()}: images/cutouts has shape {images.shape}, expected ({n}, C, S, S)")
        if not np.isfinite(images).all():
            raise AstrozooError(f"{self.data_file()}: images/cutouts holds NaN or infinite pixels")
        return images

    def preprocess(self, images: np.ndarray) -> np.ndarray:
        sigma = self.catalogue[1]["noise_sigma"]
        if self.difference:
            images, sigma = with_difference(images, sigma)
        return scale(images, sigma, self.scaling, self.softening)

    @cached_property
    def split_of(self) -> np.ndarray:
        """'train' / 'val' / 'test' per object: stratified by class, from the data seed."""
        return stratified_split(self.catalogue[0]["label"], tuple(FRACTIONS.values()), seed=[self.seed, 99])

    # -- the Dataset contract ----------------------------------------------------------------------
    def load(self, split: str) -> Split:
        if split not in FRACTIONS:
            raise AstrozooError(f"{self.name}: unknown split {split!r}")
        rows = np.flatnonzero(self.split_of == split)
        cols, attrs = self.catalogue
        data = {"images": lambda: self.preprocess(self.raw_images[rows]),
                "catalogue": {k: v[rows] for k, v in cols.items()},
                "band": self.band, "classes": tuple(attrs["classes"]), "image_size": self.image_size}
        if split == "test" and self.field_size and not self.path:
            data["sky_field"] = self.sky_field
        return Split(name=split, ids=cols["id"][rows], y=cols["label"][rows].astype(np.int64), data=data)

    def sky_field(self) -> tuple[np.ndarray, dict]:
        """A larger mock field (preprocessed like the cutouts) and its objects, for probability maps."""
        from astrozoo_cluster_search.mock import sky_field

        image, table = sky_field(self.band, self.field_size, self.seed, cutout=self.image_size)
        return self.preprocess(image), table

    def info(self) -> dict:
        cols, attrs = self.catalogue
        clusters = cols["label"] == 0
        return {"file": str(self.data_file()), "band": self.band, "n_objects": len(cols["id"]),
                "image_size": int(self.raw_images.shape[-1]), "scaling": self.scaling, "difference": self.difference,
                "cluster_z_median": float(np.nanmedian(cols["z"][clusters])) if clusters.any() else "none",
                "provenance": attrs.get("provenance", self.provenance)}


class MockIR(CutoutDataset):
    name = "mock-ir"
    band = "ir"
    paper_key = "ir"  # the paper's numbers for this band are the cards' `accuracy_ir`
    provenance = "mock"
    description = "mock WISE-like W1/W2 cutouts (2.75\"/px): clusters, sources, random fields; see docs/tasks/cluster-search.md"


class MockMicrowave(CutoutDataset):
    name = "mock-microwave"
    band = "microwave"
    paper_key = "microwave"
    difference_default = True
    provenance = "mock"
    description = "mock ACT-like f090/f150 cutouts (0.5'/px): tSZ clusters, point sources, CMB fields; see docs/tasks/cluster-search.md"


DATASETS = [MockIR, MockMicrowave]
