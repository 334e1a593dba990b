"""The TNG web API (https://www.tng-project.org/data/docs/api/): a small client and the halo-mass download.

The API key comes from ``api_key`` or ``TNG_API_KEY`` and is sent as the ``api-key`` header to the
configured host only (redirects are followed by hand, and a redirect to another host goes without
the key); it is never printed, logged or put in an error message. ``TNG_API_URL`` points the client
at a mirror (or a test server).
"""

from __future__ import annotations

import hashlib
import os
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlparse

from astrozoo.errors import AstrozooError

__all__ = ["TNGClient", "TNGError", "download_halo_mass"]

MAX_REDIRECTS = 5


class TNGError(AstrozooError):
    """A TNG web API failure, as one line (the API key is never part of the message)."""


class TNGClient:
    """Minimal client of the TNG public API: JSON pages, paginated listings, resumable checked downloads."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None, timeout: float = 60.0):
        import requests

        base_url = base_url or os.environ.get("TNG_API_URL") or "https://www.tng-project.org/api/"
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = timeout
        self._key = api_key or os.environ.get("TNG_API_KEY") or None
        self.session = requests.Session()
        self.session.trust_env = False  # no .netrc credentials or proxies picked up behind our back

    def __repr__(self) -> str:
        return f"TNGClient(base_url={self.base_url!r}, api_key={'set' if self._key else 'missing'})"

    def url(self, path: str) -> str:
        """Absolute URL of an API path like ``TNG50-1/snapshots/99/``."""
        return path if re.match(r"https?://", path) else urljoin(self.base_url, path.lstrip("/"))

    def _own_host(self, url: str) -> bool:
        ours, theirs = urlparse(self.base_url), urlparse(url)
        return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)

    def _get(self, url: str, ok=(200,), headers=None, **kwargs):
        import requests

        for _ in range(MAX_REDIRECTS + 1):
            sent = dict(headers or {})
            if self._key and self._own_host(url):
                sent["api-key"] = self._key
            try:
                response = self.session.get(url, timeout=self.timeout, headers=sent, allow_redirects=False, **kwargs)
            except requests.RequestException as exc:
                raise TNGError(f"TNG API: cannot reach {url} ({type(exc).__name__})") from None
            if response.is_redirect and "location" in response.headers:
                response.close()
                url = urljoin(url, response.headers["location"])
                kwargs.pop("params", None)  # the Location carries its own query
                continue
            break
        else:
            raise TNGError(f"TNG API: more than {MAX_REDIRECTS} redirects for {url}")
        if response.status_code in ok:
            return response
        response.close()
        code = response.status_code
        if code == 401:
            hint = "no API key: set TNG_API_KEY" if not self._key else "the API key was not accepted"
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
                 retries: int = 3, progress: bool = False) -> Path:
        """Download ``url`` to the file ``dest`` (or into the folder ``dest`` under the server's name).

        Bytes go to ``<name>.part``; an interrupted transfer resumes from there with an HTTP Range
        request (up to ``retries`` times here, or on the next call), and the file is renamed into
        place only when complete and, if a sha256 is known (``sha256`` or ``checksums[name]``),
        verified. A checksum mismatch deletes the partial file and raises. An existing complete
        file is checked and kept. ``progress`` shows a byte counter on the terminal.
        """
        import requests

        url = self.url(url)
        for attempt in range(retries + 1):
            try:
                return self._download_once(url, Path(dest).expanduser(), sha256, checksums or {}, progress)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, _Incomplete):
                if attempt == retries:
                    raise TNGError(f"TNG API: download of {url} interrupted; "
                                   "the partial file is kept, call again to resume") from None
        raise AssertionError("unreachable")

    def _download_once(self, url: str, dest: Path, sha256, checksums, progress) -> Path:
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
            total = have + int(length) if length is not None else 0
            with open(part, "ab" if have else "wb") as f, _bytes_bar(target.name, total, have, progress) as advance:
                for block in response.iter_content(1 << 16):  # a break loses at most this block
                    f.write(block)
                    advance(steps=len(block))
            if length is not None and part.stat().st_size != total:
                raise _Incomplete(part)
        try:
            _verify(part, expected, name=target.name)
        except TNGError:
            part.unlink(missing_ok=True)
            raise
        os.replace(part, target)
        return target

    def download_groupcat(self, simulation: str, snap: int, dest_dir, progress: bool = False) -> Path:
        """All chunks of a group catalogue into ``dest_dir/groups_{snap:03d}/``, checksummed when the
        API lists checksums. Returns ``dest_dir``."""
        listing = self.get(f"{simulation}/files/groupcat-{snap}/")
        urls = listing.get("files") if isinstance(listing, dict) else None
        if not urls:
            raise TNGError(f"TNG API: no files listed at {self.url(f'{simulation}/files/groupcat-{snap}/')}")
        sums = self.checksums(simulation, f"groupcat-{snap}")
        folder = Path(dest_dir).expanduser() / f"groups_{snap:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        for url in urls:
            self.download(url, folder, checksums=sums, progress=progress)
        return Path(dest_dir).expanduser()

    def download_morphology(self, simulation: str, snap: int, dest_dir,
                            path: str = "{simulation}/files/skirt_images_sdss.{snap}.tar",
                            images: bool = False, progress: bool = False) -> Path:
        """The RG19 SKIRT tarball; extracts ``morphs_*.hdf5`` and ``subfind_ids.txt`` (and the
        ``broadband_*.fits`` images if ``images``) flat into ``dest_dir``, which is returned.

        The tarball URL is the one public scripts use; that it holds the morphology files (as
        ``postprocessing/skirt_images/sdss/snapnum_XXX/`` does) is UNVERIFIED.
        """
        folder = Path(dest_dir).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        name = f"skirt_images_sdss.{snap}"
        tar_path = self.download(path.format(simulation=simulation, snap=snap), folder,
                                 checksums=self.checksums(simulation, name), progress=progress)
        wanted = re.compile(r"(morphs_\w+\.hdf5|subfind_ids\.txt" + (r"|broadband_\d+\.fits" if images else "") + ")$")
        found = {"morphs": 0, "fits": 0}
        try:
            with tarfile.open(tar_path) as tar:
                for member in tar:
                    base = Path(member.name).name
                    if member.isfile() and wanted.match(base):
                        with tar.extractfile(member) as src, open(folder / base, "wb") as out:
                            out.write(src.read())
                        found["morphs"] += base.startswith("morphs_")
                        found["fits"] += base.endswith(".fits")
        except (tarfile.TarError, OSError) as exc:
            raise TNGError(f"{tar_path}: not a readable tar archive ({type(exc).__name__})") from None
        if not found["morphs"]:
            raise TNGError(f"{tar_path}: no morphs_*.hdf5 inside the tarball")
        if images and not found["fits"]:
            raise TNGError(f"{tar_path}: no broadband_*.fits images inside the tarball")
        return folder


def download_halo_mass(output, simulation: str = "TNG50-1", snap: int = 99, images: bool = False,
                       client: TNGClient | None = None, progress: bool = True) -> Path:
    """The files the halo-mass models read, in the official layout under ``output/<simulation>/``:
    ``output/groups_{snap}/`` (group catalogue) and ``postprocessing/skirt_images/sdss/snapnum_{snap}/``
    (RG19 morphology, ``subfind_ids.txt`` and, with ``images``, the ``broadband_{id}.fits`` cutouts).
    Resumable and checksummed; returns ``output/<simulation>``."""
    client = client or TNGClient()
    root = Path(output).expanduser() / simulation
    client.download_groupcat(simulation, snap, root / "output", progress=progress)
    skirt = root / "postprocessing" / "skirt_images" / "sdss" / f"snapnum_{snap:03d}"
    client.download_morphology(simulation, snap, skirt, images=images, progress=progress)
    return root


class _Incomplete(Exception):
    """The connection closed before Content-Length bytes arrived."""


def _bytes_bar(name: str, total: int, done: int, show: bool):
    from contextlib import nullcontext

    from astrozoo.progress import progress_bar

    if not show or not total:
        return nullcontext(lambda steps=0, note="": None)
    return progress_bar(f"downloading {name} (bytes)", total, completed=done)


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
