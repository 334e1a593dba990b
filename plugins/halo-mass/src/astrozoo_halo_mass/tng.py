"""Real IllustrisTNG data: group catalogues, the RG19 statmorph catalogue, SKIRT cutouts, the web API.

Formats are those documented in ``docs/real-data-halo-mass.md`` (from the public AREPO writer,
``illustris_python`` and the TNG API; Nelson et al. 2019, Comput. Astrophys. Cosmol. 6, 2). The
morphology catalogue is Rodriguez-Gomez et al. (2019, MNRAS 483, 4140). Every loader returns
``(columns, attrs)`` like :func:`astrozoo_halo_mass.mock.generate_universe`, with masses in Msun
(not Msun/h) and lengths in comoving Mpc, and raises :class:`astrozoo.data.store.DataError`
naming the file and the problem for bad input.
"""

from __future__ import annotations

import hashlib
import os
import re
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urljoin

import numpy as np

from astrozoo.data.images import add_sky_noise, convolve_psf, crop_or_pad
from astrozoo.data.store import DataError, open_hdf5
from astrozoo.errors import AstrozooError

from .morphology import FEATURES, QUALITY, morphology_quality_mask
from .render import PIXSCALE, PSF_FWHM_ARCSEC, SKY_SIGMA

__all__ = ["load_group_catalogue", "load_morphology_catalogue", "morphology_quality_mask", "load_cutouts",
           "TNGClient", "TNGError"]

SUBHALO_FIELDS = ("SubhaloPos", "SubhaloMassType", "SubhaloGrNr")
GROUP_FIELDS = ("GroupFirstSub", "Group_M_Crit200")
PART_DM, PART_STARS = 1, 4  # columns of the (N, 6) *MassType arrays (illustris_python util.partTypeNum)


# ---------------------------------------------------------------- group catalogue

def load_group_catalogue(base_path, snap: int = 99, fields: Sequence[str] = (), log_mstar_min: float = 9.5,
                         simulation: str | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """Galaxies of a Subfind catalogue ``{base_path}/groups_{snap:03d}/fof_subhalo_tab_{snap:03d}.N.hdf5``.

    Reads every chunk (empty chunks are skipped, as illustris_python does), keeps subhalos with
    ``SubhaloFlag == 1`` (when the catalogue has it) and log10 M*/Msun > ``log_mstar_min``, and
    returns the common columns: ``galaxy_id`` (Subfind id = row in chunk order), ``pos`` (comoving
    Mpc), ``log_mstar`` (``SubhaloMassType[:,4]``), ``log_mhalo`` (bound dark matter,
    ``SubhaloMassType[:,1]``), ``is_central`` (``GroupFirstSub[SubhaloGrNr] == id``), ``host_id``
    (``SubhaloGrNr``), ``log_mhost`` (``Group_M_Crit200``, NaN where zero), plus any extra Subhalo
    ``fields`` unchanged (catalogue units). Subhalos without dark matter are dropped and counted.
    """
    from illustris_python.groupcat import gcPath

    base = Path(base_path).expanduser()
    first = Path(gcPath(str(base), snap, 0))
    with open_hdf5(first) as f:
        if "Header" not in f:
            raise DataError(f"{first}: no Header group (not a Subfind group catalogue?)")
        header = dict(f["Header"].attrs)
    for key in ("NumFiles", "HubbleParam", "BoxSize", "Time", "Redshift"):
        if key not in header:
            raise DataError(f"{first}: Header has no attribute {key}")
    paths = [Path(gcPath(str(base), snap, i)) for i in range(int(header["NumFiles"]))]
    sub = _read_chunks(paths, "Subhalo", ("Nsubgroups", "Nsubhalos"), SUBHALO_FIELDS + tuple(fields),
                       optional=("SubhaloFlag",), finite=("SubhaloPos", "SubhaloMassType"))
    grp = _read_chunks(paths, "Group", ("Ngroups",), GROUP_FIELDS, finite=("Group_M_Crit200",))

    h, a = float(header["HubbleParam"]), float(header["Time"])
    n_sub, n_grp = len(sub["SubhaloGrNr"]), len(grp["GroupFirstSub"])
    ids = np.arange(n_sub, dtype=np.int64)
    host = sub["SubhaloGrNr"].astype(np.int64)
    if n_sub and (host.min() < 0 or host.max() >= n_grp):
        raise DataError(f"{base / f'groups_{snap:03d}'}: SubhaloGrNr points outside the {n_grp} groups")
    mass = sub["SubhaloMassType"].astype(np.float64) * 1e10 / h
    with np.errstate(divide="ignore"):
        log_mstar, log_mdm = np.log10(mass[:, PART_STARS]), np.log10(mass[:, PART_DM])
        log_mhost = np.log10(grp["Group_M_Crit200"].astype(np.float64) * 1e10 / h)
    keep = log_mstar > log_mstar_min
    if "SubhaloFlag" in sub:
        keep &= sub["SubhaloFlag"] == 1
    no_dm = keep & ~np.isfinite(log_mdm)
    keep &= ~no_dm

    columns = {
        "galaxy_id": ids[keep],
        "pos": sub["SubhaloPos"][keep].astype(np.float64) / h / 1e3,
        "log_mstar": log_mstar[keep],
        "log_mhalo": log_mdm[keep],
        "is_central": (grp["GroupFirstSub"][host] == ids)[keep],
        "host_id": host[keep],
        "log_mhost": np.where(np.isfinite(log_mhost), log_mhost, np.nan)[host[keep]],
    }
    columns.update({name: sub[name][keep] for name in fields})
    attrs = {
        "provenance": "real",
        "simulation": simulation or _simulation_name(base),
        "snapshot": int(snap),
        "redshift": float(header["Redshift"]),
        "scale_factor": a,
        "box_size_mpc": float(header["BoxSize"]) / h / 1e3,
        "hubble_h": h,
        "source": str(base),
        "log_mstar_min": float(log_mstar_min),
        "subhalo_flag_applied": "SubhaloFlag" in sub,
        "n_dropped_without_dm": int(no_dm.sum()),
        "n_galaxies": int(keep.sum()),
        "n_satellites": int((~columns["is_central"]).sum()),
        "target": "log10 bound dark-matter mass SubhaloMassType[:,1] (Msun)",
        "column_units": {"galaxy_id": "", "pos": "Mpc (comoving)", "log_mstar": "log10(Msun)",
                         "log_mhalo": "log10(Msun)", "is_central": "", "host_id": "",
                         "log_mhost": "log10(Msun)"},
    }
    return columns, attrs


def _simulation_name(base: Path) -> str:
    """'TNG50-1' from .../TNG50-1/output (the usual layout), else the folder name."""
    return base.parent.name if base.name == "output" else base.name


def _read_chunks(paths: list[Path], group: str, counts: Sequence[str], fields: Sequence[str], optional=(),
                 finite=()) -> dict[str, np.ndarray]:
    """Concatenate ``group/field`` over the chunks in order, skipping chunks with no objects.

    ``counts`` are the Header names of the row counts (``Nsubgroups``, or GADGET-4's ``Nsubhalos``),
    read as ``{name}_ThisFile`` and ``{name}_Total``.
    """
    parts: dict[str, list] = {name: [] for name in (*fields, *optional)}
    total = None
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
        if name in optional and len(chunks) != len(parts[fields[0]]):
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

def load_morphology_catalogue(path_or_dir, band: str = "i", quality_cut: bool = True
                              ) -> tuple[dict[str, np.ndarray], dict]:
    """Rodriguez-Gomez et al. (2019) statmorph catalogue ``morphs_{band}.hdf5`` (flat datasets).

    Ids come from the file's ``subfind_id`` dataset or from ``subfind_ids.txt`` beside it (one id
    per line, row k ↔ line k). Returns ``galaxy_id`` plus the features of
    :data:`astrozoo_halo_mass.morphology.FEATURES` and ``flag``, ``flag_sersic``, ``sn_per_pixel``
    (statmorph's −99 placeholders become NaN); with ``quality_cut`` only rows passing
    :func:`morphology_quality_mask` are kept (``attrs['n_removed_by_quality_cut']`` counts the rest).
    """
    path = Path(path_or_dir).expanduser()
    if path.is_dir():
        path = path / f"morphs_{band}.hdf5"
    with open_hdf5(path) as f:
        missing = [name for name in FEATURES + QUALITY if name not in f]
        if missing:
            raise DataError(f"{path}: missing dataset(s) {', '.join(missing)}")
        data = {name: f[name][()] for name in FEATURES + QUALITY}
        ids = f["subfind_id"][()] if "subfind_id" in f else None
    n = len(data["flag"])
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
    if lengths or len(ids) != n:
        raise DataError(f"{path}: datasets have different lengths ({lengths or len(ids)} vs {n} flags)")

    columns = {"galaxy_id": np.asarray(ids, dtype=np.int64)}
    for name in FEATURES + ("sn_per_pixel",):
        values = data[name].astype(np.float64)
        columns[name] = np.where(values == -99, np.nan, values)
    columns["flag"] = data["flag"].astype(np.int64)
    columns["flag_sersic"] = data["flag_sersic"].astype(np.int64)
    good = morphology_quality_mask(columns)
    if quality_cut:
        columns = {name: values[good] for name, values in columns.items()}
    attrs = {"provenance": "real", "catalogue": "Rodriguez-Gomez et al. 2019 statmorph", "band": band,
             "source": str(path), "n_rows": int(n), "quality_cut": bool(quality_cut),
             "n_removed_by_quality_cut": int((~good).sum()) if quality_cut else 0}
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


# ---------------------------------------------------------------- web API

class TNGError(AstrozooError):
    """A TNG web API failure, as one line (the API key is never part of the message)."""


class TNGClient:
    """Minimal client of the TNG public API (https://www.tng-project.org/data/docs/api/).

    The key comes from ``api_key`` or the ``TNG_API_KEY`` environment variable and is sent as the
    ``api-key`` header; it is never printed, logged or put in an error message. ``TNG_API_URL``
    points the client at a mirror (or a test server).
    """

    def __init__(self, api_key: str | None = None, base_url: str | None = None, timeout: float = 60.0):
        import requests

        base_url = base_url or os.environ.get("TNG_API_URL") or "https://www.tng-project.org/api/"
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = timeout
        self._has_key = bool(api_key or os.environ.get("TNG_API_KEY"))
        self.session = requests.Session()
        if self._has_key:
            self.session.headers["api-key"] = api_key or os.environ["TNG_API_KEY"]

    def __repr__(self) -> str:
        return f"TNGClient(base_url={self.base_url!r}, api_key={'set' if self._has_key else 'missing'})"

    def url(self, path: str) -> str:
        """Absolute URL of an API path like ``TNG50-1/snapshots/99/``."""
        return path if re.match(r"https?://", path) else urljoin(self.base_url, path.lstrip("/"))

    def _get(self, url: str, ok=(200,), **kwargs):
        import requests

        try:
            response = self.session.get(url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise TNGError(f"TNG API: cannot reach {url} ({type(exc).__name__})") from None
        if response.status_code in ok:
            return response
        response.close()
        code = response.status_code
        if code == 401:
            hint = "no API key: set TNG_API_KEY" if not self._has_key else "the API key was not accepted"
            raise TNGError(f"TNG API 401 Unauthorized for {url}: {hint}")
        if code == 403:
            raise TNGError(f"TNG API 403 Forbidden for {url}: the API key is wrong or lacks access to this data")
        if code == 404:
            raise TNGError(f"TNG API 404 Not Found: {url}")
        raise TNGError(f"TNG API {code} {response.reason} for {url}")

    def get(self, path: str, params: dict | None = None):
        """GET an API path and return the decoded JSON."""
        url = self.url(path)
        response = self._get(url, params=params, headers={"Accept": "application/json"})
        try:
            return response.json()
        except ValueError:
            raise TNGError(f"TNG API: {url} did not return JSON "
                           f"(content-type {response.headers.get('content-type')})") from None

    def subhalos(self, simulation: str, snap: int = 99, **params) -> Iterator[dict]:
        """Every result of ``{simulation}/snapshots/{snap}/subhalos/``, following ``next`` links.

        ``params`` are the API's filters, e.g. ``mass_stars__gt=0.2`` (1e10 Msun/h), ``limit=100``.
        """
        page = self.get(f"{simulation}/snapshots/{snap}/subhalos/", params=params or None)
        while True:
            yield from page.get("results", [])
            if not page.get("next"):
                return
            page = self.get(page["next"])

    def checksums(self, simulation: str, name: str) -> dict[str, str]:
        """{file name: sha256} from ``{simulation}/checksums/{name}/`` (sha256sum format); {} if absent."""
        try:
            response = self._get(self.url(f"{simulation}/checksums/{name}/"))
        except TNGError as exc:
            if " 404 " in str(exc):
                return {}
            raise
        if "json" in response.headers.get("content-type", ""):
            return {str(k): str(v).lower() for k, v in response.json().items()}
        sums = {}
        for line in response.text.splitlines():
            match = re.match(r"^([0-9a-fA-F]{64})\s+\*?(.+?)\s*$", line)
            if match:
                sums[Path(match.group(2)).name] = match.group(1).lower()
        return sums

    def download(self, url: str, dest, sha256: str | None = None, checksums: dict | None = None,
                 retries: int = 3) -> Path:
        """Download ``url`` to the file ``dest`` (or into the folder ``dest`` under the server's name).

        Bytes go to ``<name>.part``; an interrupted transfer resumes from there with an HTTP Range
        request (up to ``retries`` times here, or on the next call), and the file is renamed into
        place only when complete and, if a sha256 is known (``sha256`` or ``checksums[name]``),
        verified. A checksum mismatch deletes the partial file and raises. An existing complete
        file is checked and kept.
        """
        import requests

        url = self.url(url)
        for attempt in range(retries + 1):
            try:
                return self._download_once(url, Path(dest).expanduser(), sha256, checksums or {})
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, _Incomplete) as exc:
                if attempt == retries:
                    raise TNGError(f"TNG API: download of {url} interrupted ({type(exc).__name__}); "
                                   "the partial file is kept, call again to resume") from None
        raise AssertionError("unreachable")

    def _download_once(self, url: str, dest: Path, sha256, checksums) -> Path:
        identity = {"Accept-Encoding": "identity"}  # byte offsets must be those of the file itself
        response = self._get(url, stream=True, headers=identity)
        target = dest / _filename(response, url) if dest.is_dir() else dest
        expected = sha256 or checksums.get(target.name)
        if target.exists():
            try:
                _verify(target, expected)
                response.close()
                return target
            except TNGError:
                target.unlink()  # a stale or corrupt copy: fetch it again
        part = target.with_name(target.name + ".part")
        have = part.stat().st_size if part.exists() else 0
        if have:
            response.close()
            response = self._get(url, ok=(200, 206, 416), stream=True, headers={**identity, "Range": f"bytes={have}-"})
            if response.status_code == 200:
                have = 0  # the server ignored the range: start again
        if response.status_code != 416:  # 416: the .part file already holds every byte
            length = response.headers.get("content-length")
            with open(part, "ab" if have else "wb") as f:
                for block in response.iter_content(1 << 16):  # a break loses at most this block
                    f.write(block)
            if length is not None and part.stat().st_size != have + int(length):
                raise _Incomplete(part)
        try:
            _verify(part, expected, name=target.name)
        except TNGError:
            part.unlink(missing_ok=True)
            raise
        os.replace(part, target)
        return target

    def download_groupcat(self, simulation: str, snap: int, dest_dir) -> Path:
        """All chunks of a group catalogue into ``dest_dir/groups_{snap:03d}/``, checksummed when the
        API lists checksums. Returns ``dest_dir``, ready for :func:`load_group_catalogue`."""
        listing = self.get(f"{simulation}/files/groupcat-{snap}/")
        urls = listing.get("files") if isinstance(listing, dict) else None
        if not urls:
            raise TNGError(f"TNG API: no files listed at {self.url(f'{simulation}/files/groupcat-{snap}/')}")
        sums = self.checksums(simulation, f"groupcat-{snap}")
        folder = Path(dest_dir).expanduser() / f"groups_{snap:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        for url in urls:
            self.download(url, folder, checksums=sums)
        return Path(dest_dir).expanduser()

    def download_morphology(self, simulation: str, snap: int, dest_dir,
                            path: str = "{simulation}/files/skirt_images_sdss.{snap}.tar",
                            images: bool = False) -> Path:
        """The RG19 SKIRT tarball; extracts ``morphs_*.hdf5`` and ``subfind_ids.txt`` (and the
        ``broadband_*.fits`` images if ``images``) flat into ``dest_dir``, which is returned.

        The tarball URL is the one public scripts use; that it holds the morphology files (as
        ``postprocessing/skirt_images/sdss/snapnum_XXX/`` does) is UNVERIFIED.
        """
        folder = Path(dest_dir).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        tar_path = self.download(path.format(simulation=simulation, snap=snap), folder)
        wanted = re.compile(r"(morphs_\w+\.hdf5|subfind_ids\.txt" + (r"|broadband_\d+\.fits" if images else "") + ")$")
        found = False
        with tarfile.open(tar_path) as tar:
            for member in tar:
                name = Path(member.name).name
                if member.isfile() and wanted.match(name):
                    with tar.extractfile(member) as src, open(folder / name, "wb") as out:
                        out.write(src.read())
                    found = found or name.startswith("morphs_")
        if not found:
            raise TNGError(f"{tar_path}: no morphs_*.hdf5 inside the tarball")
        return folder


class _Incomplete(Exception):
    """The connection closed before Content-Length bytes arrived."""


def _filename(response, url: str) -> str:
    match = re.search(r'filename="?([^";]+)"?', response.headers.get("content-disposition", ""))
    name = match.group(1) if match else url.rstrip("/").split("/")[-1].split("?")[0]
    return Path(name).name  # never a path from the server


def _verify(path: Path, expected: str | None, name: str | None = None) -> None:
    if not expected:
        return
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected.lower():
        raise TNGError(f"{name or path.name}: sha256 mismatch (expected {expected[:12]}…, "
                       f"got {digest.hexdigest()[:12]}…); the file was not kept, download it again")
