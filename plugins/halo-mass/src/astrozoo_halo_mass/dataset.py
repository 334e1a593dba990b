"""halo-mass datasets: the mock universes (embedded default) and real IllustrisTNG data.

Both build the same thing from a catalogue in the shared HDF5 format: the overdensity Δ_G
(neighbours within ``radius`` Mpc in the periodic box), the paper's sub-volume split, and —
only when a model asks for them — rendered gri images and statmorph morphology, each made once
and cached beside the catalogue. One sample serves every model (see docs/tasks/halo-mass.md):
galaxies whose statmorph fit is flagged keep NaN morphology unless ``flag_cut`` drops them.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from astrozoo.data import cache_dir, store
from astrozoo.data.graphs import count_neighbours
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import Dataset, Split
from astrozoo.validate import Column

REQUIRED = ("galaxy_id", "pos", "log_mstar")
FINITE = ("pos", "log_mstar", "log_mhalo")
TARGET = "log_mhalo"  # needed to train and score; `astrozoo predict` reads catalogues without it
SCHEMA = {"catalogue": {  # a user's file (data.path, astrozoo predict --input) is checked against it
    "galaxy_id": Column("iu", finite=False), "pos": Column(shape=(3,), unit=("Mpc", "Mpc (comoving)")),
    "log_mstar": Column(unit="log10(Msun)"), TARGET: Column(unit="log10(Msun)", required=False)}}


class HaloDataset(Dataset):
    """Shared machinery; subclasses say where the catalogue, images and morphology come from."""

    task = "halo-mass"
    schema = SCHEMA

    def __init__(self, seed: int = 0, radius: float = 3.0, gap: float = 6.0, flag_cut: bool = False,
                 image_size: int = 224, path: str = ""):
        super().__init__(seed=seed, radius=radius, gap=gap, flag_cut=flag_cut, image_size=image_size, path=path)
        self.seed, self.radius, self.gap, self.flag_cut = seed, radius, gap, flag_cut
        self.image_size, self.path = image_size, path

    # -- what subclasses provide ----------------------------------------------------------
    def catalogue_file(self) -> Path:
        raise NotImplementedError

    def measure_images(self, columns: dict, attrs: dict) -> np.ndarray:
        raise NotImplementedError

    def measure_morphology(self, columns: dict, attrs: dict) -> dict[str, np.ndarray]:
        raise NotImplementedError

    # -- derived products, made once ------------------------------------------------------
    @cached_property
    def catalogue(self) -> tuple[dict, dict]:
        columns, attrs = store.read(self.catalogue_file(), "catalogue", required=REQUIRED, finite=FINITE)
        box = float(attrs.get("box_size_mpc", 0))
        if box <= 0:
            raise AstrozooError(f"{self.catalogue_file()}: attribute 'box_size_mpc' missing or not positive")
        return columns, attrs

    @property
    def box(self) -> float:
        return float(self.catalogue[1]["box_size_mpc"])

    @cached_property
    def table(self) -> dict[str, np.ndarray]:
        """Catalogue + Δ_G (neighbours within ``radius`` in the periodic box)."""
        columns, _ = self.catalogue
        table = dict(columns)
        table["delta_g"] = count_neighbours(columns["pos"], self.radius, box=self.box).astype(float)
        return table

    @cached_property
    def split_labels(self) -> np.ndarray:
        """'train', 'val', 'test' or '' (in a gap, or dropped by the flag cut) per galaxy."""
        from astrozoo_halo_mass.split import subvolume_split

        try:
            labels = subvolume_split(self.catalogue[0]["pos"], self.box, gap=self.gap)
        except ValueError as exc:
            raise AstrozooError(f"{self.catalogue_file()}: cannot split: {exc}") from exc
        if self.flag_cut:
            labels = np.where(self.morphology["flag"] <= 1, labels, "")
        return labels

    def _cached(self, suffix: str) -> Path:
        source = self.catalogue_file()
        return source.with_name(source.stem + f"-{suffix}.h5")

    @cached_property
    def morphology(self) -> dict[str, np.ndarray]:
        """statmorph features of every catalogue galaxy (NaN where the fit is flagged > 1)."""
        path = self._cached("morphology")
        if not path.exists():
            features = self.measure_morphology(*self.catalogue)
            store.write(path, {"morphology": features}, {"catalogue": str(self.catalogue_file())})
        features, _ = store.read(path, "morphology", required=("flag",))
        bad = features["flag"] > 1
        return {k: np.where(bad, np.nan, v) if k not in ("flag", "flag_sersic") else v
                for k, v in features.items()}

    @cached_property
    def images(self) -> np.ndarray:
        """(N, 3, S, S) float32 gri cutouts of every catalogue galaxy, rendered or read once."""
        path = self._cached(f"images{self.image_size}")
        if not path.exists():
            images = self.measure_images(*self.catalogue)
            store.write(path, {"images": {"gri": images}}, {"bands": "g,r,i"})
        images, _ = store.read(path, "images", required=("gri",))
        images = images["gri"]
        expected = (len(self.catalogue[0]["galaxy_id"]), 3, self.image_size, self.image_size)
        if images.shape != expected:
            raise AstrozooError(f"{path}: images have shape {images.shape}, expected {expected}")
        return images

    # -- the Dataset contract ---------------------------------------------------------------
    def load(self, split: str) -> Split:
        """``train``, ``val``, ``test`` (the paper's sub-volumes) or ``all`` (every galaxy, for
        predict; the only split of a catalogue without halo masses)."""
        if split == "all":
            rows = np.arange(len(self.table["galaxy_id"]))
        else:
            if TARGET not in self.table:
                raise AstrozooError(f"{self.catalogue_file()}: table 'catalogue' is missing column(s) {TARGET} "
                                    "(needed to train and score; `astrozoo predict` reads catalogues without it)")
            rows = np.flatnonzero(self.split_labels == split)
        if rows.size == 0:
            raise AstrozooError(f"{self.name}: split {split!r} is empty")
        columns = {k: v[rows] for k, v in self.table.items()}
        return Split(
            name=split, ids=columns["galaxy_id"], y=columns.get(TARGET, np.full(rows.size, np.nan)),
            data={"columns": columns, "pos": columns["pos"], "box": self.box, "radius": self.radius,
                  "morphology": lambda: {k: v[rows] for k, v in self.morphology.items()},
                  "images": lambda: self.images[rows]},
        )

    def info(self) -> dict:
        _, attrs = self.catalogue
        labels = self.split_labels
        counts = {s: int((labels == s).sum()) for s in ("train", "val", "test")}
        return {"file": str(self.catalogue_file()), "box_mpc": self.box, "n_galaxies": len(labels),
                "n_dropped_in_gaps": int((labels == "").sum()), **counts,
                "satellite_fraction": float(np.mean(~self.table["is_central"].astype(bool)))
                if "is_central" in self.table else "unknown",
                "provenance": attrs.get("provenance", self.provenance)}


class MockTNG50(HaloDataset):
    """The embedded default: a mock TNG50-1 volume (51.7 Mpc), generated on first use."""

    name = "mock-tng50"
    provenance = "mock"
    box_name = "tng50"
    description = "mock TNG50-sized periodic volume (51.7 Mpc) at z=0; see docs/mock-halo-mass.md"

    def catalogue_file(self) -> Path:
        """``path`` when given (it must exist), else the cached mock, generated on first use."""
        if self.path:
            return Path(self.path)
        path = cache_dir("halo-mass") / f"{self.name}-seed{self.seed}.h5"
        if not path.exists():
            print(f"generating {self.name} (seed {self.seed}) → {path}")
            self.generate(path)
        return path

    def generate(self, output: Path) -> Path:
        """Write this mock universe's catalogue (seeded, deterministic) to ``output``."""
        from astrozoo_halo_mass.mock import COLUMN_UNITS, generate_universe

        columns, attrs = generate_universe(self.box_name, seed=self.seed)
        return store.write(output, {"catalogue": columns}, attrs, COLUMN_UNITS)

    def measure_images(self, columns, attrs):
        from astrozoo.progress import progress_bar
        from astrozoo_halo_mass.render import render_cutouts

        ids = columns["galaxy_id"]
        with progress_bar(f"rendering {self.image_size} px gri cutouts (once)", len(ids)) as advance:
            return render_cutouts(columns, float(attrs["box_size_mpc"]), ids, size=self.image_size,
                                  seed=self.seed, progress=advance)

    def measure_morphology(self, columns, attrs):
        from astrozoo.progress import progress_bar
        from astrozoo_halo_mass.morphology import measure_morphology

        size = 224
        images = self.images if self.image_size == size else type(self)(seed=self.seed, path=self.path).images
        with progress_bar("statmorph morphology (once, ~0.8 CPU s per galaxy)", len(images)) as advance:
            return measure_morphology(images, progress=advance)


class MockTNG100(MockTNG50):
    name, box_name = "mock-tng100", "tng100"
    description = "mock TNG100-sized periodic volume (110.7 Mpc) at z=0"


class MockTNG300(MockTNG50):
    name, box_name = "mock-tng300", "tng300"
    description = "mock TNG300-sized periodic volume (302.6 Mpc) at z=0"


class TNG(HaloDataset):
    """Real IllustrisTNG galaxies at z = 0 (TNG50-1 in the paper): the Subfind group catalogue,
    the Rodriguez-Gomez et al. (2019) statmorph catalogue and SKIRT cutouts, fetched once with
    ``astrozoo data download halo-mass --simulation TNG50-1`` (needs ``TNG_API_KEY``).

    ``path`` is the folder the download wrote (holding ``groups_099/``), or the converted
    catalogue file inside it; empty means the download's default folder in the cache. The first
    load converts the group catalogue to the shared HDF5 format, with the paper's cuts."""

    name = "tng"
    provenance = "real"
    description = ("IllustrisTNG (default TNG50-1, snapshot 99): group catalogue + RG19 statmorph + SKIRT "
                   "cutouts; `astrozoo data download halo-mass` first (docs/real-data-halo-mass.md)")

    def __init__(self, simulation: str = "TNG50-1", snap: int = 99, **kwargs):
        super().__init__(**kwargs)
        self.params.update(simulation=simulation, snap=snap)
        self.simulation, self.snap = simulation, snap

    @property
    def folder(self) -> Path:
        if not self.path:
            return cache_dir("halo-mass", "real") / self.simulation
        path = Path(self.path).expanduser()
        return path.parent if path.suffix == ".h5" else path

    def catalogue_file(self) -> Path:
        """The converted catalogue, made from ``groups_{snap}/`` on first use."""
        from astrozoo_halo_mass import tng

        path = Path(self.path).expanduser() if str(self.path).endswith(".h5") else \
            self.folder / f"{self.simulation}-snap{self.snap:03d}.h5"
        if path.exists():
            return path
        if not (self.folder / f"groups_{self.snap:03d}").is_dir():
            raise AstrozooError(
                f"no {self.simulation} group catalogue in {self.folder} (expected groups_{self.snap:03d}/): run "
                f"`astrozoo data download halo-mass --simulation {self.simulation}` with TNG_API_KEY set, "
                "or give data.path, the folder that holds it")
        columns, attrs = tng.load_group_catalogue(self.folder, self.snap, simulation=self.simulation)
        units = attrs.pop("column_units")
        return store.write(path, {"catalogue": columns}, attrs, units)

    def measure_morphology(self, columns, attrs):
        """RG19's i-band measurements matched by Subfind id; galaxies it lacks get flag 4 (no fit)."""
        from astrozoo_halo_mass import tng

        morph, _ = tng.load_morphology_catalogue(self.folder, quality_cut=False)
        row = {int(g): k for k, g in enumerate(morph["galaxy_id"])}
        index = np.array([row.get(int(g), -1) for g in columns["galaxy_id"]])
        found = index >= 0
        print(f"{self.simulation}: RG19 morphology for {found.sum()} of {len(index)} galaxies")
        out = {}
        for name, values in morph.items():
            if name == "galaxy_id":
                continue
            missing = 4 if name in ("flag", "flag_sersic") else np.nan
            out[name] = np.where(found, values[np.maximum(index, 0)], missing)
        return out

    def measure_images(self, columns, attrs):
        """SKIRT g, r, i cutouts (``broadband_{id}.fits`` in the folder) with the paper's PSFs and noise."""
        from astrozoo_halo_mass import tng

        return tng.load_cutouts(self.folder, columns["galaxy_id"], size=self.image_size, observe=True,
                                seed=self.seed)

    @classmethod
    def download(cls, output: Path, simulation: str | None = None, snap: int = 99, images: bool = False) -> Path:
        """Fetch the group catalogue and the RG19 morphology into ``output/<simulation>`` (resumable,
        checksummed), convert the catalogue, and return its path."""
        from astrozoo_halo_mass import tng

        simulation = simulation or "TNG50-1"
        folder = Path(output).expanduser() / simulation
        client = tng.TNGClient()
        client.download_groupcat(simulation, snap, folder)
        client.download_morphology(simulation, snap, folder, images=images)
        return cls(simulation=simulation, snap=snap, path=str(folder)).catalogue_file()


DATASETS = [MockTNG50, MockTNG100, MockTNG300, TNG]
