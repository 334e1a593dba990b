"""halo-mass datasets: the mock universes (embedded default) and real IllustrisTNG data.

Both build the same thing from a catalogue in the shared HDF5 format: the overdensity Δ_G
(neighbours within ``radius`` Mpc in the periodic box), the paper's sub-volume split, and —
only when a model asks for them — gri images and statmorph morphology. Every product (the mock,
a catalogue converted from the user's TNG files, images, measured morphology) lives in the cache,
keyed by its parameters and its source files (:func:`astrozoo.data.cache.cached`), never in the
user's data folder. Morphology is read one feature at a time, so a model needs only its own
features. One sample serves every model: statmorph values with flag > 1 are NaN, and
``flag_cut`` drops the galaxies that fail the one quality rule
(:data:`astrozoo_halo_mass.conventions.QUALITY_RULE`), for mock and real morphology alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path

import numpy as np

from astrozoo.data import cache_dir, store
from astrozoo.data.cache import cached
from astrozoo.data.graphs import count_neighbours
from astrozoo.data.splits import check_fold
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import Dataset, Split
from astrozoo.validate import Column
from astrozoo_halo_mass.conventions import FEATURES, QUALITY, QUALITY_RULE, quality_mask, unusable

REQUIRED = ("galaxy_id", "pos", "log_mstar")
FINITE = ("pos", "log_mstar", "log_mhalo")
TARGET = "log_mhalo"  # needed to train and score; `astrozoo predict` reads catalogues without it
SCHEMA = {"catalogue": {  # a user's file (data.path, astrozoo predict --input) is checked against it
    "galaxy_id": Column("iu", finite=False), "pos": Column(shape=(3,), unit=("Mpc", "Mpc (comoving)")),
    "log_mstar": Column(unit="log10(Msun)"), TARGET: Column(unit="log10(Msun)", required=False)}}
STRIP_DEFAULT = -0.6  # the mock's log10 f_strip at R200c (astrozoo_halo_mass.mock.PARAMETERS)
PRODUCT_VERSION = "1"  # cache key part of images and measured morphology


class Columns(Mapping):
    """Named columns (one value per catalogue galaxy), each read on first use; ``rows`` views a subset."""

    def __init__(self, read: Callable[[str], np.ndarray], names, rows=None, store=None):
        self.read, self.names, self.rows = read, tuple(names), rows
        self.store = {} if store is None else store

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.names:
            raise KeyError(name)
        if name not in self.store:
            self.store[name] = self.read(name)
        values = self.store[name]
        return values if self.rows is None else values[self.rows]

    def __iter__(self):
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, rows) -> "Columns":
        return Columns(self.read, self.names, rows, self.store)


class HaloDataset(Dataset):
    """Shared machinery; subclasses say where the catalogue, images and morphology come from."""

    task = "halo-mass"
    schema = SCHEMA
    simulation_default = "TNG50-1"
    folds = True  # fold ≥ 0: spatial K-fold cross-validation (astrozoo.data.splits.subvolume_fold)

    def __init__(self, seed: int = 0, radius: float = 3.0, gap: float = 6.0, flag_cut: bool = False,
                 image_size: int = 224, path: str = "", simulation: str = "", snap: int = 99,
                 log_fstrip_vir: float = STRIP_DEFAULT, fold: int = -1, n_folds: int = 5):
        super().__init__(seed=seed, radius=radius, gap=gap, flag_cut=flag_cut, image_size=image_size, path=path,
                         simulation=simulation, snap=snap, log_fstrip_vir=log_fstrip_vir)
        self.fold, self.n_folds = int(fold), int(n_folds)
        check_fold(self.fold, self.n_folds)
        self.seed, self.radius, self.gap, self.flag_cut = seed, radius, gap, flag_cut
        self.image_size, self.path = image_size, path
        self.simulation, self.snap = simulation or self.simulation_default, int(snap)
        self.log_fstrip_vir = float(log_fstrip_vir)

    # -- what subclasses provide ----------------------------------------------------------
    def catalogue_file(self) -> Path:
        raise NotImplementedError

    def measure_images(self, columns: dict, attrs: dict) -> np.ndarray:
        raise NotImplementedError

    def morphology_column(self, name: str) -> np.ndarray:
        """One statmorph quantity (``FEATURES`` or ``QUALITY``) for every catalogue galaxy."""
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
    def quality(self) -> np.ndarray:
        """True where the morphology passes the one quality rule."""
        return quality_mask(self.morphology)

    @cached_property
    def split_labels(self) -> np.ndarray:
        """'train', 'val', 'test' or '' (in a gap, or dropped by the flag cut) per galaxy."""
        from astrozoo.data.splits import subvolume_fold, subvolume_split

        try:
            labels = (subvolume_fold(self.catalogue[0]["pos"], self.box, self.fold, self.n_folds, gap=self.gap)
                      if self.fold >= 0 else subvolume_split(self.catalogue[0]["pos"], self.box, gap=self.gap))
        except ValueError as exc:
            raise AstrozooError(f"{self.catalogue_file()}: cannot split: {exc}") from exc
        if self.flag_cut:
            labels = np.where(self.quality, labels, "")
            print(f"{self.name}: quality cut ({QUALITY_RULE}) removes {int((~self.quality).sum())} "
                  f"of {len(labels)} galaxies")
        return labels

    def _product(self, kind: str, params: dict, build: Callable[[Path], object]) -> Path:
        """A cache file derived from the catalogue (images, measured morphology), keyed by it."""
        source = self.catalogue_file()
        return cached("halo-mass", f"{source.stem}-{kind}", params, PRODUCT_VERSION, build, sources=[source])

    @cached_property
    def morphology(self) -> Columns:
        """statmorph features and flags of every catalogue galaxy, read per name (NaN where flag > 1)."""
        def read(name):
            values = self.morphology_column(name)
            if name in ("flag", "flag_sersic"):
                return np.asarray(values)
            return np.where(unusable(self.morphology["flag"]), np.nan, values)
        return Columns(read, FEATURES + QUALITY)

    @cached_property
    def images(self) -> store.LazyRows:
        """(N, 3, S, S) float32 gri cutouts of every catalogue galaxy: a cache file written in blocks
        (one HDF5 chunk per galaxy), read lazily, ``images[rows]`` reading only those rows."""
        def build(path):
            store.write(path, {"images": {"gri": self.measure_images(*self.catalogue)}}, {"bands": "g,r,i"})
        path = self._product("images", {"size": self.image_size, "seed": self.seed}, build)
        images = store.rows(path, "images", "gri")
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
        # the other galaxies (gaps, other splits): inputs, and the mock's host ids, which are truth (hidden in predict)
        others = np.setdiff1d(np.arange(len(self.table["galaxy_id"])), rows)
        context = {k: self.table[k][others] for k in ("pos", "log_mstar", "host_id") if k in self.table}
        return Split(
            name=split, ids=columns["galaxy_id"], y=columns.get(TARGET, np.full(rows.size, np.nan)),
            data={"columns": columns, "pos": columns["pos"], "box": self.box, "radius": self.radius,
                  "context": context, "morphology": lambda: self.morphology.subset(rows),
                  "images": lambda: self.images.take(rows)},  # read by the models a batch at a time
        )

    def info(self) -> dict:
        _, attrs = self.catalogue
        labels = self.split_labels
        counts = {s: int((labels == s).sum()) for s in ("train", "val", "test")}
        out = {**({"fold": f"{self.fold}/{self.n_folds}"} if self.fold >= 0 else {}),"file": str(self.catalogue_file()), "box_mpc": self.box, "n_galaxies": len(labels),
               "n_dropped_in_gaps": int((labels == "").sum()), **counts,
               "satellite_fraction": float(np.mean(~self.table["is_central"].astype(bool)))
               if "is_central" in self.table else "unknown",
               "provenance": attrs.get("provenance", self.provenance),
               "simulation": attrs.get("simulation", self.simulation),
               "snapshot": attrs.get("snapshot", self.snap)}
        if self.flag_cut:
            out.update(quality_rule=QUALITY_RULE, n_removed_by_quality_cut=int((~self.quality).sum()))
        return out


class MockTNG50(HaloDataset):
    """The embedded default: a mock TNG50-1 volume (51.7 Mpc), generated on first use.

    ``log_fstrip_vir`` sets the satellites' stripping strength (mean log10 of the bound fraction of
    their accreted dark matter at R200c; default -0.6; more negative = stronger stripping)."""

    name = "mock-tng50"
    provenance = "mock"
    box_name = "tng50"
    simulation_default = "TNG50-1"
    version = "1"  # of the generator's output; part of the cache key
    description = "mock TNG50-sized periodic volume (51.7 Mpc) at z=0; see docs/tasks/halo-mass-mock.md"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.simulation != self.simulation_default:
            mocks = {"TNG50-1": "mock-tng50", "TNG100-1": "mock-tng100", "TNG300-1": "mock-tng300"}
            hint = f"; use --dataset {mocks[self.simulation]}" if self.simulation in mocks else ""
            raise AstrozooError(f"{self.name} mocks {self.simulation_default}, not data.simulation="
                                f"{self.simulation!r}{hint}")
        if self.snap != 99:
            raise AstrozooError(f"{self.name} is a z = 0 mock (snapshot 99), not data.snap={self.snap}")

    def mock_params(self) -> dict:
        """The generator parameters that differ from its defaults (they enter the cache key)."""
        return {} if self.log_fstrip_vir == STRIP_DEFAULT else {"log_fstrip_vir": self.log_fstrip_vir}

    def catalogue_file(self) -> Path:
        """``path`` when given (it must exist), else the cached mock, generated on first use."""
        params = {"box": self.box_name, "seed": self.seed, **self.mock_params()}
        return cached("halo-mass", self.name, params, self.version, self._build, override=self.path)

    def _build(self, path: Path) -> None:
        print(f"generating {self.name} (seed {self.seed}{', ' if self.mock_params() else ''}"
              f"{', '.join(f'{k}={v}' for k, v in self.mock_params().items())}) → cache")
        self.generate(path)

    def generate(self, output: Path) -> Path:
        """Write this mock universe's catalogue (seeded, deterministic) to ``output``."""
        from astrozoo_halo_mass.mock import COLUMN_UNITS, generate_universe

        columns, attrs = generate_universe(self.box_name, seed=self.seed, params=self.mock_params())
        attrs["simulation"] = f"{self.simulation_default} (mock)"
        return store.write(output, {"catalogue": columns}, attrs, COLUMN_UNITS)

    def measure_images(self, columns, attrs) -> store.Rows:
        """The cutouts as blocks of rows, rendered a few chunks ahead over the workers (never all in memory)."""
        from astrozoo.progress import progress_bar
        from astrozoo_halo_mass.render import iter_cutouts

        ids, size = columns["galaxy_id"], self.image_size

        def blocks():
            with progress_bar(f"rendering {size} px gri cutouts (once)", len(ids)) as advance:
                block = []
                for image in iter_cutouts(columns, float(attrs["box_size_mpc"]), ids, size=size, seed=self.seed,
                                          progress=advance):
                    block.append(image)
                    if len(block) == 64:
                        yield np.stack(block)
                        block = []
                if block:
                    yield np.stack(block)
        return store.Rows((len(ids), 3, size, size), "float32", blocks())

    @cached_property
    def measured_morphology(self) -> Columns:
        """statmorph on 224 px i-band cutouts rendered on demand, per name (see :meth:`measured_column`)."""
        return Columns(self.measured_column, FEATURES + QUALITY)

    def measured_column(self, name: str) -> np.ndarray:
        """One statmorph quantity of every galaxy. The cutouts are rendered by the worker that measures
        them (the 224 px images of the TNG300 mock would be 214 GB; rendering is ~5% of statmorph's
        time), in resumable chunks. The Sérsic values come from a full statmorph run, made only when
        they are asked for (or with ``flag_cut``, whose rule reads ``flag_sersic``); everything else
        from a run without the Sérsic fit: the very same numbers (astrozoo_halo_mass.morphology),
        12% cheaper."""
        from astrozoo_halo_mass.morphology import SERSIC

        sersic = name in SERSIC + ("flag_sersic",) or self.flag_cut  # the quality rule reads flag_sersic
        if sersic not in self._measured:
            self._measured[sersic] = self._measure(sersic)
        return self._measured[sersic][name]

    @cached_property
    def _measured(self) -> dict:
        return {}

    def _measure(self, sersic: bool) -> dict[str, np.ndarray]:
        def build(path):
            from astrozoo.progress import progress_bar
            from astrozoo_halo_mass.morphology import measure_rendered

            columns, attrs = self.catalogue
            what = "statmorph morphology" if sersic else "statmorph morphology without the Sérsic fit"
            with progress_bar(f"{what} (once, ~1 CPU s per galaxy)", len(columns["galaxy_id"])) as advance:
                features = measure_rendered(columns, float(attrs["box_size_mpc"]), columns["galaxy_id"], size=224,
                                            seed=self.seed, sersic=sersic, progress=advance)
            store.write(path, {"morphology": features}, {"catalogue": str(self.catalogue_file())})
        kind = "morphology" if sersic else "morphology-nonparametric"
        path = self._product(kind, {"band": "i", "size": 224, "seed": self.seed}, build)
        features, _ = store.read(path, "morphology", required=QUALITY)
        return features

    def morphology_column(self, name):
        return self.measured_morphology[name]


class MockTNG100(MockTNG50):
    name, box_name, simulation_default = "mock-tng100", "tng100", "TNG100-1"
    description = "mock TNG100-sized periodic volume (110.7 Mpc) at z=0"


class MockTNG300(MockTNG50):
    name, box_name, simulation_default = "mock-tng300", "tng300", "TNG300-1"
    description = "mock TNG300-sized periodic volume (302.6 Mpc) at z=0"


class TNG(HaloDataset):
    """Real IllustrisTNG galaxies (TNG50-1 at snapshot 99 in the paper): the Subfind group catalogue,
    the Rodriguez-Gomez et al. (2019) statmorph catalogue and SKIRT cutouts, fetched once with
    ``astrozoo data download halo-mass --simulation TNG50-1 --snap 99 [--images]`` (needs ``TNG_API_KEY``).

    ``path`` is the folder with the files (the official tree ``SIM/output/groups_099/`` +
    ``SIM/postprocessing/skirt_images/sdss/snapnum_099/``, or a flat folder; see
    :func:`astrozoo_halo_mass.real.find_layout`) or an already converted catalogue file; empty means
    the download's default folder. ``simulation`` and ``snap`` say which run and snapshot (checked
    against the files' box size, recorded in the converted file and the run)."""

    name = "tng"
    provenance = "real"
    description = ("IllustrisTNG (default TNG50-1, snapshot 99): group catalogue + RG19 statmorph + SKIRT "
                   "cutouts; `astrozoo data download halo-mass` first (docs/tasks/halo-mass-real-data.md)")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.log_fstrip_vir != STRIP_DEFAULT:
            raise AstrozooError(f"data.log_fstrip_vir={self.log_fstrip_vir} is a mock parameter; "
                                "real TNG data have no stripping knob")

    @property
    def folder(self) -> Path:
        if not self.path:
            return cache_dir("halo-mass", "real") / self.simulation
        path = Path(self.path).expanduser()
        return path.parent if path.suffix == ".h5" else path

    @cached_property
    def layout(self):
        from astrozoo_halo_mass import real

        if not self.path and not self.folder.is_dir():
            raise AstrozooError(
                f"no {self.simulation} group catalogue in {self.folder}: run `astrozoo data download halo-mass "
                f"--simulation {self.simulation} --snap {self.snap}` with TNG_API_KEY set, or give data.path, "
                "the folder that holds it")
        return real.find_layout(self.folder, self.snap)

    def catalogue_file(self) -> Path:
        """The converted catalogue (in the cache, keyed by the chunk files), made on first use."""
        from astrozoo_halo_mass import real

        if str(self.path).endswith(".h5"):
            return cached("halo-mass", self.name, {}, real.READER_VERSION, None, override=self.path)
        chunks = self.layout.chunks()

        def build(path):
            columns, attrs = real.load_group_catalogue(self.folder, self.snap, simulation=self.simulation)
            attrs["n_subhalos_total"] = _n_subhalos(chunks[0])
            units = attrs.pop("column_units")
            store.write(path, {"catalogue": columns}, attrs, units)
        params = {"simulation": self.simulation, "snap": self.snap, "log_mstar_min": 9.5}
        return cached("halo-mass", f"tng-{self.simulation}-snap{self.snap:03d}", params, real.READER_VERSION,
                      build, sources=chunks)

    @cached_property
    def _morph_rows(self) -> tuple[Path, np.ndarray]:
        """The i-band statmorph file and, per catalogue galaxy, its row there (-1: not in RG19)."""
        from astrozoo_halo_mass import real

        path = self.layout.morphs("i")
        ids, _ = real.read_morphology(path, ())
        ids = ids["galaxy_id"]
        _, attrs = self.catalogue
        total = attrs.get("n_subhalos_total")
        if total is not None and ids.size and (ids.min() < 0 or ids.max() >= int(total)):
            raise AstrozooError(f"{path}: subhalo ids up to {ids.max()} but {self.simulation} snapshot {self.snap} "
                                f"has {total} subhalos: ids of another simulation or snapshot?")
        row = {int(g): k for k, g in enumerate(ids)}
        index = np.array([row.get(int(g), -1) for g in self.catalogue[0]["galaxy_id"]], dtype=np.int64)
        if ids.size and not (index >= 0).any():
            raise AstrozooError(f"{path}: none of its {ids.size} subhalo ids is a galaxy of the catalogue "
                                f"(log M* > 9.5): ids of another simulation or snapshot?")
        print(f"{self.simulation}: RG19 morphology for {int((index >= 0).sum())} of {len(index)} galaxies")
        return path, index

    def morphology_column(self, name):
        """RG19's i-band values matched by Subfind id; galaxies it lacks get flag 4 (no fit) and NaN."""
        from astrozoo_halo_mass import real

        path, index = self._morph_rows
        values = real.read_morphology(path, (name,))[0][name]
        missing = 4 if name in ("flag", "flag_sersic") else np.nan
        return np.where(index >= 0, values[np.maximum(index, 0)], missing)

    def measure_images(self, columns, attrs):
        """SKIRT g, r, i cutouts (``broadband_{id}.fits``) with the paper's PSFs and noise."""
        from astrozoo_halo_mass import real

        return real.load_cutouts(self.layout.skirt, columns["galaxy_id"], size=self.image_size, observe=True,
                                 seed=self.seed)

    @classmethod
    def describe(cls, path) -> list[str] | None:
        """What a raw TNG file is (for `astrozoo data info`): a Subfind chunk or a statmorph catalogue."""
        from astrozoo_halo_mass import real

        return real.describe(path)

    @classmethod
    def download(cls, output: Path, simulation: str | None = None, snap: int = 99, images: bool = False) -> Path:
        """Fetch what the halo-mass models read into ``output/<simulation>`` (official layout; resumable,
        checksummed), convert the catalogue into the cache and return the converted file."""
        from astrozoo_halo_mass.api import download_halo_mass

        simulation = simulation or "TNG50-1"
        root = download_halo_mass(output, simulation, snap, images=images)
        print(f"downloaded into {root}")
        return cls(simulation=simulation, snap=snap, path=str(root)).catalogue_file()


def _n_subhalos(chunk: Path) -> int:
    with store.open_hdf5(chunk) as f:
        header = f["Header"].attrs
        return int(header.get("Nsubgroups_Total", header.get("Nsubhalos_Total", -1)))


DATASETS = [MockTNG50, MockTNG100, MockTNG300, TNG]
