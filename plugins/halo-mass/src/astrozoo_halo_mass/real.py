"""Readers of real IllustrisTNG files: Subfind group catalogues, the RG19 statmorph catalogue, SKIRT cutouts.

Formats are those documented in ``docs/tasks/halo-mass-real-data.md`` (from the public AREPO writer,
``illustris_python`` and the TNG API; Nelson et al. 2019, Comput. Astrophys. Cosmol. 6, 2). The
morphology catalogue is Rodriguez-Gomez et al. (2019, MNRAS 483, 4140). Loaders return
``(columns, attrs)`` like :func:`astrozoo_halo_mass.mock.generate_universe`, with masses in Msun (not
Msun/h) and lengths in comoving Mpc, and raise :class:`astrozoo.data.store.DataError` naming the file.

Two folder layouts are accepted (:func:`find_layout`):

- the official one, ``SIM/output/groups_099/fof_subhalo_tab_099.N.hdf5`` and
  ``SIM/postprocessing/skirt_images/sdss/snapnum_099/{morphs_i.hdf5, subfind_ids.txt, broadband_*.fits}``
  (``SIM`` or ``SIM/output`` may be given); the downloader writes this one;
- a flat folder: every file in one place (the chunks may also sit in a ``groups_099/`` subfolder).

Why h5py and not ``illustris_python.groupcat.loadSubhalos``: that reader only knows the official
``groups_099/`` path, pre-allocates ``N*_Total`` zeros and fills them chunk by chunk, so a chunk
shorter than its header leaves zero rows behind without a word, and its errors do not name the file.
The tests check that both readers give the same values on a good catalogue and that this one refuses
the short chunk (``test_tng.py::test_illustris_python_agrees_but_accepts_a_short_chunk``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astrozoo.data.images import add_sky_noise, convolve_psf, crop_or_pad
from astrozoo.data.store import DataError, open_hdf5

from .render import PIXSCALE, PSF_FWHM_ARCSEC, SKY_SIGMA
from .conventions import BOX_CKPC_H, CATALOGUE_UNITS, FEATURES, QUALITY, QUALITY_RULE, expected_box, quality_mask

__all__ = ["Layout", "find_layout", "load_group_catalogue", "read_morphology", "load_morphology_catalogue",
           "load_cutouts", "describe"]

SUBHALO_FIELDS = ("SubhaloPos", "SubhaloMassType", "SubhaloGrNr")
GROUP_FIELDS = ("GroupFirstSub", "Group_M_Crit200")
GROUP_OPTIONAL = ("GroupPos", "Group_R_Crit200")  # for r / R200c of satellites
PART_DM, PART_STARS = 1, 4  # columns of the (N, 6) *MassType arrays (illustris_python util.partTypeNum)
READER_VERSION = "2"  # part of the cache key of converted catalogues


# ---------------------------------------------------------------- layouts

@dataclass
class Layout:
    """Where one snapshot's files are: the group-catalogue folder and the SKIRT/statmorph folder."""

    root: Path
    groups: Path
    skirt: Path
    snap: int

    def chunk(self, i: int) -> Path:
        """Chunk ``i``: the old name ``groups_099.i.hdf5`` if present, else ``fof_subhalo_tab_099.i.hdf5``
        (the rule of ``illustris_python.groupcat.gcPath``)."""
        old = self.groups / f"groups_{self.snap:03d}.{i}.hdf5"
        return old if old.exists() else self.groups / f"fof_subhalo_tab_{self.snap:03d}.{i}.hdf5"

    def chunks(self) -> list[Path]:
        first = self.chunk(0)
        with open_hdf5(first) as f:
            if "Header" not in f or "NumFiles" not in f["Header"].attrs:
                raise DataError(f"{first}: no Header/NumFiles (not a Subfind group catalogue?)")
            n = int(f["Header"].attrs["NumFiles"])
        return [self.chunk(i) for i in range(n)]

    def morphs(self, band: str = "i") -> Path:
        return self.skirt / f"morphs_{band}.hdf5"


def find_layout(folder, snap: int = 99) -> Layout:
    """The :class:`Layout` of ``folder`` (official tree, its ``output/`` folder, or a flat folder)."""
    folder = Path(folder).expanduser()
    root = folder.parent if folder.name == "output" else folder
    groups_name = f"groups_{snap:03d}"
    candidates = [root / "output" / groups_name, folder / groups_name, folder]
    groups = next((c for c in candidates if _has_chunk(c, snap)), None)
    if groups is None:
        raise DataError(f"{folder}: no group catalogue of snapshot {snap} (looked for "
                        f"output/{groups_name}/fof_subhalo_tab_{snap:03d}.0.hdf5, {groups_name}/… and "
                        f"fof_subhalo_tab_{snap:03d}.0.hdf5 in the folder itself)")
    official = root / "postprocessing" / "skirt_images" / "sdss" / f"snapnum_{snap:03d}"
    skirt = next((c for c in (official, folder, groups) if any(c.glob("morphs_*.hdf5"))
                  or any(c.glob("broadband_*.fits"))), official if official.is_dir() else folder)
    return Layout(root=root, groups=groups, skirt=skirt, snap=snap)


def _has_chunk(folder: Path, snap: int) -> bool:
    return any((folder / f"{stem}_{snap:03d}.0.hdf5").exists() for stem in ("fof_subhalo_tab", "groups"))


# ---------------------------------------------------------------- group catalogue

def load_group_catalogue(base_path, snap: int = 99, fields: Sequence[str] = (), log_mstar_min: float = 9.5,
                         simulation: str | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """Galaxies of the Subfind catalogue of snapshot ``snap`` in the folder ``base_path`` (any layout).

    Reads every chunk (empty chunks are skipped, as illustris_python does), keeps subhalos with
    ``SubhaloFlag == 1`` (when the catalogue has it) and log10 M*/Msun > ``log_mstar_min``, and
    returns ``galaxy_id`` (Subfind id = row in chunk order), ``pos`` (comoving Mpc), ``log_mstar``
    (``SubhaloMassType[:,4]``), ``log_mhalo`` (bound dark matter, ``SubhaloMassType[:,1]``),
    ``is_central`` (``GroupFirstSub[SubhaloGrNr] == id``), ``host_id`` (``SubhaloGrNr``),
    ``log_mhost`` (``Group_M_Crit200``, NaN where zero), ``r_host`` and ``r_over_rvir`` (distance to
    ``GroupPos`` in Mpc and over ``Group_R_Crit200``; 0 for centrals) when the catalogue has those
    group fields, plus any extra Subhalo ``fields`` unchanged (catalogue units). Subhalos without dark
    matter are dropped and counted. With ``simulation`` (e.g. ``TNG100-1``) the Header's BoxSize must
    be that simulation's.
    """
    layout = find_layout(base_path, snap)
    paths = layout.chunks()
    with open_hdf5(paths[0]) as f:
        header = dict(f["Header"].attrs)
    for key in ("HubbleParam", "BoxSize", "Time", "Redshift"):
        if key not in header:
            raise DataError(f"{paths[0]}: Header has no attribute {key}")
    simulation = simulation or _simulation_name(layout.root)
    expected = expected_box(simulation)
    if expected and abs(float(header["BoxSize"]) - expected) > 1e-3 * expected:
        raise DataError(f"{paths[0]}: BoxSize {float(header['BoxSize']):g} ckpc/h is not {simulation}'s "
                        f"({expected:g}): a folder of another simulation? (set data.simulation)")
    wanted = tuple(dict.fromkeys(SUBHALO_FIELDS + tuple(fields)))
    sub = _read_chunks(paths, "Subhalo", ("Nsubgroups", "Nsubhalos"), wanted,
                       optional=("SubhaloFlag",), finite=("SubhaloPos", "SubhaloMassType"))
    grp = _read_chunks(paths, "Group", ("Ngroups",), GROUP_FIELDS, optional=GROUP_OPTIONAL,
                       finite=("Group_M_Crit200",))

    h, a = float(header["HubbleParam"]), float(header["Time"])
    n_sub, n_grp = len(sub["SubhaloGrNr"]), len(grp["GroupFirstSub"])
    ids = np.arange(n_sub, dtype=np.int64)
    host = sub["SubhaloGrNr"].astype(np.int64)
    if n_sub and (host.min() < 0 or host.max() >= n_grp):
        raise DataError(f"{layout.groups}: SubhaloGrNr points outside the {n_grp} groups")
    mass = sub["SubhaloMassType"].astype(np.float64) * 1e10 / h
    with np.errstate(divide="ignore"):
        log_mstar, log_mdm = np.log10(mass[:, PART_STARS]), np.log10(mass[:, PART_DM])
        log_mhost = np.log10(grp["Group_M_Crit200"].astype(np.float64) * 1e10 / h)
    keep = log_mstar > log_mstar_min
    if "SubhaloFlag" in sub:
        keep &= sub["SubhaloFlag"] == 1
    no_dm = keep & ~np.isfinite(log_mdm)
    keep &= ~no_dm

    box_mpc = float(header["BoxSize"]) / h / 1e3
    pos = sub["SubhaloPos"].astype(np.float64) / h / 1e3
    is_central = grp["GroupFirstSub"][host] == ids
    columns = {
        "galaxy_id": ids[keep],
        "pos": pos[keep],
        "log_mstar": log_mstar[keep],
        "log_mhalo": log_mdm[keep],
        "is_central": is_central[keep],
        "host_id": host[keep],
        "log_mhost": np.where(np.isfinite(log_mhost), log_mhost, np.nan)[host[keep]],
    }
    if all(name in grp for name in GROUP_OPTIONAL):
        offset = pos[keep] - grp["GroupPos"].astype(np.float64)[host[keep]] / h / 1e3
        offset -= box_mpc * np.round(offset / box_mpc)  # periodic box
        r_host = np.where(columns["is_central"], 0.0, np.linalg.norm(offset, axis=1))
        r200 = grp["Group_R_Crit200"].astype(np.float64)[host[keep]] / h / 1e3
        with np.errstate(divide="ignore", invalid="ignore"):
            columns["r_host"] = r_host
            columns["r_over_rvir"] = np.where(r200 > 0, r_host / r200, np.nan)
    columns.update({name: sub[name][keep] for name in fields})
    attrs = {
        "provenance": "real",
        "simulation": simulation,
        "snapshot": int(snap),
        "redshift": float(header["Redshift"]),
        "scale_factor": a,
        "box_size_mpc": box_mpc,
        "hubble_h": h,
        "source": str(layout.groups),
        "n_chunks": len(paths),
        "log_mstar_min": float(log_mstar_min),
        "subhalo_flag_applied": "SubhaloFlag" in sub,
        "n_dropped_without_dm": int(no_dm.sum()),
        "n_galaxies": int(keep.sum()),
        "n_satellites": int((~columns["is_central"]).sum()),
        "target": "log10 bound dark-matter mass SubhaloMassType[:,1] (Msun)",
        "column_units": {k: v for k, v in CATALOGUE_UNITS.items() if k in columns},
    }
    return columns, attrs


def _simulation_name(root: Path) -> str:
    """'TNG50-1' from .../TNG50-1 (or .../TNG50-1/output), else the folder name."""
    return root.name


def _read_chunks(paths: list[Path], group: str, counts: Sequence[str], fields: Sequence[str], optional=(),
                 finite=()) -> dict[str, np.ndarray]:
    """Concatenate ``group/field`` over the chunks in order, skipping chunks with no objects.

    ``counts`` are the Header names of the row counts (``Nsubgroups``, or GADGET-4's ``Nsubhalos``),
    read as ``{name}_ThisFile`` and ``{name}_Total``.
    """
    parts: dict[str, list] = {name: [] for name in (*fields, *optional)}
    total, non_empty = None, 0
    for path in paths:
        with open_hdf5(path) as f:
            attrs = f["Header"].attrs if "Header" in f else {}
            n_key = next((f"{c}_ThisFile" for c in counts if f"{c}_ThisFile" in attrs), None)
            if n_key is None:
                raise DataError(f"{path}: Header has no {counts[0]}_ThisFile attribute")
            total_key = n_key.replace("_ThisFile", "_Total")
            total = int(attrs[total_key]) if total_key in attrs else total
            n = int(attrs[n_key])
            if n == 0:
                continue
            non_empty += 1
            if group not in f or len(f[group].keys()) == 0:
                raise DataError(f"{path}: Header says {n} {group} rows but the {group} group is empty")
            for name in (*fields, *optional):
                if name not in f[group]:
                    if name in optional:
                        continue
                    raise DataError(f"{path}: missing dataset {group}/{name}")
                try:
                    values = f[group][name][()]
                except OSError as exc:
                    raise DataError(f"{path}: cannot read {group}/{name} (truncated file?): {exc}") from exc
                if len(values) != n:
                    raise DataError(f"{path}: {group}/{name} has {len(values)} rows, Header says {n}")
                if name in finite and not np.isfinite(values).all():
                    bad = int((~np.isfinite(values)).any(axis=tuple(range(1, values.ndim))).sum())
                    raise DataError(f"{path}: {group}/{name} has {bad} row(s) with NaN or infinite values")
                parts[name].append(values)
    out = {}
    for name, chunks in parts.items():
        if name in optional and len(chunks) != non_empty:
            if chunks:
                raise DataError(f"{paths[0].parent}: {group}/{name} is present in some chunks only")
            continue
        out[name] = np.concatenate(chunks) if chunks else np.zeros(0)
    n_read = len(out[fields[0]])
    if n_read == 0:
        raise DataError(f"{paths[0].parent}: the catalogue holds no {group} rows")
    if total is not None and n_read != total:
        raise DataError(f"{paths[0].parent}: read {n_read} {group} rows from {len(paths)} chunk(s), "
                        f"Header says {total} in total (missing or truncated chunk?)")
    return out


# ---------------------------------------------------------------- RG19 morphology catalogue

def read_morphology(path, names: Sequence[str]) -> tuple[dict[str, np.ndarray], dict]:
    """``galaxy_id`` and the statmorph datasets ``names`` of one ``morphs_{band}.hdf5`` file, nothing else.

    Ids come from the file's ``subfind_id`` dataset or from ``subfind_ids.txt`` beside it (row k ↔
    line k). statmorph's −99 placeholders become NaN (flags stay integers). A missing dataset is an
    error that names the file, the missing names and what the file has.
    """
    path = Path(path).expanduser()
    with open_hdf5(path) as f:
        missing = [name for name in names if name not in f]
        if missing:
            have = sorted(k for k in f.keys() if k in FEATURES + QUALITY)
            raise DataError(f"{path}: no dataset(s) {', '.join(missing)} (needed here; the file has "
                            f"{', '.join(have) or 'no statmorph datasets'})")
        data = {name: f[name][()] for name in names}
        ids = f["subfind_id"][()] if "subfind_id" in f else None
        n = len(ids) if ids is not None else (len(data[names[0]]) if names else None)
        if n is None:
            n = next((len(f[k]) for k in QUALITY + FEATURES if k in f), 0)
    if ids is None:
        id_file = path.with_name("subfind_ids.txt")
        if not id_file.exists():
            raise DataError(f"{path}: no subfind_id dataset and no {id_file.name} beside it")
        try:
            ids = np.atleast_1d(np.loadtxt(id_file, dtype=np.int64))
        except ValueError as exc:
            raise DataError(f"{id_file}: not a list of integer subhalo ids: {exc}") from exc
        if len(ids) != n:
            raise DataError(f"{id_file}: {len(ids)} ids for {n} rows in {path.name}")
    lengths = {name: len(values) for name, values in data.items() if len(values) != n}
    if lengths:
        raise DataError(f"{path}: datasets have different lengths ({lengths} vs {n} ids)")
    ids = np.asarray(ids, dtype=np.int64)
    if len(np.unique(ids)) != len(ids):
        raise DataError(f"{path}: subhalo ids repeat ({len(ids) - len(np.unique(ids))} duplicate(s))")
    columns = {"galaxy_id": ids}
    for name, values in data.items():
        if name in ("flag", "flag_sersic"):
            columns[name] = values.astype(np.int64)
        else:
            values = values.astype(np.float64)
            columns[name] = np.where(values == -99, np.nan, values)
    return columns, {"provenance": "real", "catalogue": "Rodriguez-Gomez et al. 2019 statmorph",
                     "source": str(path), "n_rows": int(n)}


def load_morphology_catalogue(path_or_dir, band: str = "i", quality_cut: bool = True,
                              features: Sequence[str] = FEATURES) -> tuple[dict[str, np.ndarray], dict]:
    """RG19 statmorph catalogue ``morphs_{band}.hdf5``: ``galaxy_id``, ``features`` and the quality columns.

    With ``quality_cut`` only rows passing :func:`astrozoo_halo_mass.conventions.quality_mask` are kept
    (``attrs['n_removed_by_quality_cut']`` counts the rest).
    """
    path = Path(path_or_dir).expanduser()
    if path.is_dir():  # the file itself, or the official tree's postprocessing folder under it
        name = f"morphs_{band}.hdf5"
        found = sorted(path.glob(f"postprocessing/skirt_images/sdss/snapnum_*/{name}"))
        path = path / name if (path / name).exists() or not found else found[-1]
    columns, attrs = read_morphology(path, tuple(features) + QUALITY)
    good = quality_mask(columns)
    if quality_cut:
        columns = {name: values[good] for name, values in columns.items()}
    attrs.update(band=band, quality_cut=bool(quality_cut),
                 n_removed_by_quality_cut=int((~good).sum()) if quality_cut else 0)
    return columns, attrs


# ---------------------------------------------------------------- SKIRT cutouts

def load_cutouts(paths_or_dir, ids: Sequence[int], size: int = 224, bands: Sequence[int] = (0, 1, 2),
                 observe: bool = False, pixscale: float = PIXSCALE, seed: int = 0) -> np.ndarray:
    """(n, 3, size, size) float32 g, r, i images from SKIRT FITS cubes ``broadband_{id}.fits``.

    ``paths_or_dir`` is a folder holding ``broadband_{id}.fits`` or a list of paths in the order of
    ``ids``. The primary HDU must be a ``[band, y, x]`` cube; ``bands`` picks g, r, i (0, 1, 2 is an
    UNVERIFIED assumption about the band order). Images are centre-cropped or zero-padded to ``size``.
    ``observe=True`` then adds the paper's Gaussian PSFs and sky noise (seeded by seed and id),
    assuming the cube is already at ``pixscale`` arcsec/pixel and in e⁻/s.
    """
    from astropy.io import fits

    ids = [int(i) for i in ids]
    if isinstance(paths_or_dir, (str, os.PathLike)):
        paths = [Path(paths_or_dir) / f"broadband_{i}.fits" for i in ids]
    else:
        paths = [Path(p) for p in paths_or_dir]
        if len(paths) != len(ids):
            raise ValueError(f"load_cutouts: {len(paths)} paths for {len(ids)} ids")
    out = np.empty((len(ids), len(bands), size, size), dtype=np.float32)
    for k, (path, galaxy) in enumerate(zip(paths, ids)):
        if not path.exists():
            raise DataError(f"{path}: no such file")
        try:
            cube = fits.getdata(path, ext=0)
        except (OSError, TypeError, ValueError) as exc:
            raise DataError(f"{path}: not a readable FITS file: {exc}") from exc
        if cube is None or cube.ndim != 3 or cube.shape[0] <= max(bands):
            shape = None if cube is None else cube.shape
            raise DataError(f"{path}: expected a [band, y, x] cube with at least {max(bands) + 1} bands "
                            f"in the primary HDU, got shape {shape}")
        cube = cube[list(bands)].astype(np.float64)
        if not np.isfinite(cube).all():
            raise DataError(f"{path}: {int((~np.isfinite(cube)).sum())} NaN or infinite pixel(s)")
        if observe:
            cube = convolve_psf(cube, PSF_FWHM_ARCSEC, pixscale)
            cube = add_sky_noise(cube, SKY_SIGMA, np.random.default_rng([seed, galaxy, 1]))
        out[k] = crop_or_pad(cube, size)
    return out


# ---------------------------------------------------------------- what a file is

def describe(path) -> list[str] | None:
    """Lines saying what a raw TNG file is (a Subfind chunk or a statmorph catalogue), else None."""
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError:
        return None
    with f:
        header = dict(f["Header"].attrs) if "Header" in f else {}
        if any(k in header for k in ("Nsubgroups_ThisFile", "Nsubhalos_ThisFile")):
            n_sub = header.get("Nsubgroups_ThisFile", header.get("Nsubhalos_ThisFile"))
            total = header.get("Nsubgroups_Total", header.get("Nsubhalos_Total"))
            h = float(header.get("HubbleParam", 1.0))
            lines = ["raw Subfind group-catalogue chunk (AREPO fof_subhalo_tab), not an astrozoo file",
                     f"  chunk holds {header.get('Ngroups_ThisFile')} of {header.get('Ngroups_Total')} groups, "
                     f"{n_sub} of {total} subhalos; NumFiles {header.get('NumFiles')}",
                     f"  redshift {float(header.get('Redshift', np.nan)):.3g}, BoxSize "
                     f"{float(header.get('BoxSize', np.nan)):g} ckpc/h = "
                     f"{float(header.get('BoxSize', np.nan)) / h / 1e3:.1f} Mpc (h = {h})"]
            sims = [name for name, box in BOX_CKPC_H.items() if abs(float(header.get("BoxSize", 0)) - box) < 1]
            if sims:
                lines.append(f"  box size of {' / '.join(sims)}")
            lines.append("  use: astrozoo run halo-mass --dataset tng --set data.path=<the folder above "
                         "groups_XXX/> --set data.simulation=<name> --set data.snap=<N>")
            return lines
        present = [k for k in FEATURES + QUALITY if k in f]
        if "flag" in present:
            n = len(f["flag"])
            missing = [k for k in FEATURES + QUALITY if k not in f]
            ids = "subfind_id dataset" if "subfind_id" in f else "ids from subfind_ids.txt beside it"
            return ["statmorph morphology catalogue (Rodriguez-Gomez et al. 2019 layout), not an astrozoo file",
                    f"  {n} galaxies; {ids}",
                    f"  datasets used by astrozoo: {', '.join(present)}",
                    f"  absent (models needing them will stop): {', '.join(missing) or 'none'}",
                    f"  quality rule: {QUALITY_RULE}"]
    return None
