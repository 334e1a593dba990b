"""Tests for the real-TNG loaders and API client on small files in the real layouts and a fake server.

The fake TNG API listens on 127.0.0.1 only and never contacts any other host.
"""

import hashlib
import io
import json
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import h5py
import numpy as np
import pytest
from astropy.io import fits

from astrozoo.data.store import DataError
from astrozoo.testing import run_cli
from astrozoo_halo_mass.conventions import FEATURES
from astrozoo_halo_mass.api import TNGClient, TNGError
from astrozoo_halo_mass.real import (load_cutouts, load_group_catalogue,
                                    load_morphology_catalogue)

H = 0.6774
MSUN = 1e10 / H  # Msun per catalogue mass unit


# ---------------------------------------------------------------- a group catalogue in the AREPO layout

def subfind_chunks(flag=True):
    """Three chunks: groups 0-1 with subhalos 0-3, an empty chunk, group 2 with subhalos 4-5."""
    log_mstar = np.array([11.0, 10.0, 9.0, 10.2, 9.8, 10.0])
    log_mdm = np.array([12.3, 11.0, 10.5, 11.8, 11.6, -np.inf])  # subhalo 5 has no dark matter
    mass_type = np.zeros((6, 6), np.float32)
    mass_type[:, 1] = 10 ** log_mdm / MSUN
    mass_type[:, 4] = 10 ** log_mstar / MSUN
    sub = dict(SubhaloMassType=mass_type, SubhaloGrNr=np.array([0, 0, 0, 1, 2, 2], np.int32),
               SubhaloPos=np.array([[17500, 100, 34990], [17510, 110, 34995], [0, 0, 0], [5, 5, 5],
                                    [30000, 30000, 30000], [30010, 30000, 30000]], np.float32),
               SubhaloFlag=np.array([1, 1, 1, 0, 1, 1], np.uint8),
               SubhaloSFR=np.arange(6, dtype=np.float32))
    if not flag:
        del sub["SubhaloFlag"]
    grp = dict(GroupFirstSub=np.array([0, 3, 4], np.int32), GroupNsubs=np.array([3, 1, 2], np.int32),
               Group_M_Crit200=(10 ** np.array([12.5, 11.9, 11.7]) / MSUN).astype(np.float32))
    rows = [(slice(0, 2), slice(0, 4)), (slice(0, 0), slice(0, 0)), (slice(2, 3), slice(4, 6))]
    return [({k: v[g] for k, v in grp.items()}, {k: v[s] for k, v in sub.items()}) for g, s in rows]


def write_groupcat(base, flag=True, snap=99):
    folder = base / f"groups_{snap:03d}"
    folder.mkdir(parents=True, exist_ok=True)
    chunks = subfind_chunks(flag)
    paths = []
    for i, (grp, sub) in enumerate(chunks):
        path = folder / f"fof_subhalo_tab_{snap:03d}.{i}.hdf5"
        with h5py.File(path, "w") as f:
            header = f.create_group("Header").attrs
            header.update(dict(Ngroups_ThisFile=np.int32(len(grp["GroupFirstSub"])), Ngroups_Total=np.int32(3),
                               Nsubgroups_ThisFile=np.int32(len(sub["SubhaloGrNr"])), Nsubgroups_Total=np.int32(6),
                               NumFiles=np.int32(len(chunks)), Time=1.0, Redshift=2.2e-16, HubbleParam=H,
                               BoxSize=35000.0, Omega0=0.3089, OmegaLambda=0.6911, FlagDoubleprecision=np.int32(0)))
            g, s = f.create_group("Group"), f.create_group("Subhalo")
            if len(grp["GroupFirstSub"]):  # an empty chunk keeps the groups but no datasets (AREPO)
                for k, v in grp.items():
                    g[k] = v
            if len(sub["SubhaloGrNr"]):
                for k, v in sub.items():
                    s[k] = v
        paths.append(path)
    return paths


@pytest.fixture
def groupcat(tmp_path):
    base = tmp_path / "TNG50-1" / "output"
    return base, write_groupcat(base)


def test_group_catalogue_columns_units_and_cuts(groupcat):
    base, _ = groupcat
    cols, attrs = load_group_catalogue(base, fields=("SubhaloSFR",))
    # 2 (M* < 10^9.5), 3 (SubhaloFlag = 0) and 5 (no dark matter) are cut
    assert cols["galaxy_id"].tolist() == [0, 1, 4]
    assert cols["is_central"].tolist() == [True, False, True]
    assert cols["host_id"].tolist() == [0, 0, 2]
    np.testing.assert_allclose(cols["log_mstar"], [11.0, 10.0, 9.8], atol=1e-5)
    np.testing.assert_allclose(cols["log_mhalo"], [12.3, 11.0, 11.6], atol=1e-5)
    np.testing.assert_allclose(cols["log_mhost"], [12.5, 12.5, 11.7], atol=1e-5)
    np.testing.assert_allclose(cols["pos"][0], np.array([17500, 100, 34990]) / H / 1e3, rtol=1e-6)
    assert cols["SubhaloSFR"].tolist() == [0, 1, 4]
    assert attrs["box_size_mpc"] == pytest.approx(51.67, abs=0.01)
    assert attrs["provenance"] == "real" and attrs["simulation"] == "TNG50-1" and attrs["snapshot"] == 99
    assert attrs["hubble_h"] == H and attrs["n_dropped_without_dm"] == 1 and attrs["subhalo_flag_applied"]


def test_group_catalogue_without_subhalo_flag(tmp_path):
    write_groupcat(tmp_path, flag=False)
    cols, attrs = load_group_catalogue(tmp_path, simulation="TNG50-1-Dark")
    assert cols["galaxy_id"].tolist() == [0, 1, 3, 4]
    assert not attrs["subhalo_flag_applied"] and attrs["simulation"] == "TNG50-1-Dark"


def test_truncated_chunk_names_the_file(groupcat):
    base, paths = groupcat
    data = paths[2].read_bytes()
    paths[2].write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"fof_subhalo_tab_099\.2\.hdf5.*(truncated|corrupt)"):
        load_group_catalogue(base)


def test_missing_chunk_and_missing_dataset(groupcat):
    base, paths = groupcat
    with h5py.File(paths[2], "a") as f:
        del f["Subhalo/SubhaloMassType"]
    with pytest.raises(DataError, match=r"fof_subhalo_tab_099\.2\.hdf5: missing dataset Subhalo/SubhaloMassType"):
        load_group_catalogue(base)
    paths[2].unlink()
    with pytest.raises(DataError, match=r"fof_subhalo_tab_099\.2\.hdf5: no such file"):
        load_group_catalogue(base)


def test_nan_masses_are_refused(groupcat):
    base, paths = groupcat
    with h5py.File(paths[0], "a") as f:
        masses = f["Subhalo/SubhaloMassType"][()]
        masses[1, 4] = np.nan
        f["Subhalo/SubhaloMassType"][...] = masses
    with pytest.raises(DataError, match=r"fof_subhalo_tab_099\.0\.hdf5: Subhalo/SubhaloMassType has 1 row"):
        load_group_catalogue(base)


# ---------------------------------------------------------------- RG19 morphology catalogue

def write_morphs(folder, ids=(0, 1, 4, 7), with_id_dataset=False, drop=None):
    folder.mkdir(parents=True, exist_ok=True)
    n = len(ids)
    with h5py.File(folder / "morphs_i.hdf5", "w") as f:
        for k, name in enumerate(FEATURES):
            f[name] = np.arange(n, dtype=np.float64) + k
        f["sersic_n"][...] = [1.0, -99.0, 4.0, 2.0]
        f["flag"] = np.array([0, 4, 0, 1], np.int64)
        f["flag_sersic"] = np.array([0, 4, 0, 0], np.int64)
        f["sn_per_pixel"] = np.array([10.0, -99.0, 2.0, 8.0])
        f["sersic_ellip"] = np.zeros(n)  # extra datasets are ignored
        if with_id_dataset:
            f["subfind_id"] = np.asarray(ids)
        if drop:
            del f[drop]
    if not with_id_dataset:
        np.savetxt(folder / "subfind_ids.txt", np.asarray(ids), fmt="%d")
    return folder


def test_morphology_catalogue_with_id_file(tmp_path):
    folder = write_morphs(tmp_path / "snapnum_099")
    cols, attrs = load_morphology_catalogue(folder, quality_cut=False)
    assert cols["galaxy_id"].tolist() == [0, 1, 4, 7]
    assert np.isnan(cols["sersic_n"][1]) and np.isnan(cols["sn_per_pixel"][1])
    assert set(FEATURES) <= set(cols) and cols["flag"].dtype.kind == "i"
    cut, attrs = load_morphology_catalogue(folder / "morphs_i.hdf5")
    assert cut["galaxy_id"].tolist() == [0]  # 1: flag 4, 4: S/N 2 < 2.5, 7: flag 1
    assert attrs["n_removed_by_quality_cut"] == 3 and attrs["band"] == "i"


def test_morphology_catalogue_with_id_dataset_and_errors(tmp_path):
    cols, _ = load_morphology_catalogue(write_morphs(tmp_path / "a", with_id_dataset=True), quality_cut=False)
    assert cols["galaxy_id"].tolist() == [0, 1, 4, 7]
    folder = write_morphs(tmp_path / "b")
    (folder / "subfind_ids.txt").unlink()
    with pytest.raises(DataError, match="no subfind_id dataset and no subfind_ids.txt"):
        load_morphology_catalogue(folder)
    with pytest.raises(DataError, match=r"morphs_i\.hdf5: no dataset\(s\) gini"):
        load_morphology_catalogue(write_morphs(tmp_path / "d", drop="gini"))
    with pytest.raises(DataError, match="morphs_g.hdf5: no such file"):
        load_morphology_catalogue(folder, band="g")


def test_morphology_catalogue_id_count_mismatch(tmp_path):
    folder = write_morphs(tmp_path)
    np.savetxt(folder / "subfind_ids.txt", [0, 1, 4], fmt="%d")
    with pytest.raises(DataError, match="subfind_ids.txt: 3 ids for 4 rows"):
        load_morphology_catalogue(folder)


# ---------------------------------------------------------------- SKIRT FITS cubes

def test_cutouts_crop_pad_and_bad_shapes(tmp_path):
    rng = np.random.default_rng(0)
    fits.PrimaryHDU(rng.random((4, 250, 200)).astype(np.float32)).writeto(tmp_path / "broadband_12.fits")
    fits.PrimaryHDU(rng.random((4, 100, 100)).astype(np.float32)).writeto(tmp_path / "broadband_13.fits")
    images = load_cutouts(tmp_path, [12, 13])
    assert images.shape == (2, 3, 224, 224) and images.dtype == np.float32
    assert images[1, :, 0, 0].tolist() == [0, 0, 0]  # zero padding around the small cube
    observed = load_cutouts([tmp_path / "broadband_13.fits"], [13], size=64, observe=True)
    assert observed.std() > 0 and not np.array_equal(observed, load_cutouts(tmp_path, [13], size=64))
    fits.PrimaryHDU(rng.random((100, 100)).astype(np.float32)).writeto(tmp_path / "broadband_14.fits")
    with pytest.raises(DataError, match=r"broadband_14\.fits: expected a \[band, y, x\] cube.*\(100, 100\)"):
        load_cutouts(tmp_path, [14])
    with pytest.raises(DataError, match=r"broadband_15\.fits: no such file"):
        load_cutouts(tmp_path, [15])


# ---------------------------------------------------------------- a fake TNG API on 127.0.0.1

class FakeTNG(BaseHTTPRequestHandler):
    """Serves JSON pages, files with content-disposition and Range support, and checksums."""

    files: dict = {}
    checksums: dict = {}
    redirects: dict = {}
    interrupt: set = set()
    log: list = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, code, body=b"", content_type="application/json", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        base = f"http://127.0.0.1:{self.server.server_port}/api/"
        self.log.append((self.path, self.headers.get("Range")))
        key = self.headers.get("api-key")
        if key is None:
            return self._send(401, b'{"detail": "no key"}')
        if key != "secret":
            return self._send(403, b'{"detail": "bad key"}')
        path, _, query = self.path.partition("?")
        if path in self.redirects:
            return self._send(302, b"", headers=[("Location", self.redirects[path])])
        if path == "/api/TNG50-1/snapshots/99/subhalos/":
            params = dict(p.split("=") for p in query.split("&") if p)
            limit, offset = int(params.get("limit", 2)), int(params.get("offset", 0))
            ids = list(range(offset, min(offset + limit, 5)))
            more = offset + limit < 5
            listing = f"{base}TNG50-1/snapshots/99/subhalos/"
            page = {"count": 5, "previous": None,
                    "results": [{"id": i, "url": f"{listing}{i}/"} for i in ids],
                    "next": f"{listing}?limit={limit}&offset={offset + limit}" if more else None}
            return self._send(200, json.dumps(page).encode())
        if path == "/api/TNG50-1/files/groupcat-99/":
            names = sorted(n for n in self.files if n.startswith("groupcat-99."))
            return self._send(200, json.dumps({"files": [f"{base}TNG50-1/files/{n}" for n in names]}).encode())
        if path == "/api/TNG50-1/checksums/groupcat-99/":
            if not self.checksums:
                return self._send(404, b'{"detail": "Not found."}')
            text = "".join(f"{digest}  {name}\n" for name, digest in self.checksums.items())
            return self._send(200, text.encode(), "text/plain")
        name = path.removeprefix("/api/TNG50-1/files/")
        if name not in self.files:
            return self._send(404, b'{"detail": "Not found."}')
        served_name, data = self.files[name]
        start = int(self.headers["Range"].split("=")[1].split("-")[0]) if self.headers.get("Range") else 0
        headers = [("Content-Disposition", f"attachment; filename={served_name}"), ("Accept-Ranges", "bytes")]
        if start:
            headers.append(("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}"))
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) - start))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        if name in self.interrupt:  # promise everything, send a third, hang up
            self.interrupt.discard(name)
            self.wfile.write(data[start:start + len(data) // 3])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data[start:])


@pytest.fixture
def api(tmp_path, monkeypatch):
    monkeypatch.delenv("TNG_API_KEY", raising=False)
    chunks = write_groupcat(tmp_path / "served")
    FakeTNG.files = {f"groupcat-99.{i}.hdf5": (p.name, p.read_bytes()) for i, p in enumerate(chunks)}
    FakeTNG.checksums = {name: hashlib.sha256(data).hexdigest() for name, data in FakeTNG.files.values()}
    FakeTNG.interrupt, FakeTNG.log, FakeTNG.redirects = set(), [], {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTNG)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/"
    server.shutdown()
    server.server_close()


def test_json_and_pagination(api):
    client = TNGClient(api_key="secret", base_url=api)
    results = list(client.subhalos("TNG50-1", 99, limit=2))
    assert [r["id"] for r in results] == [0, 1, 2, 3, 4]
    assert client.get("TNG50-1/files/groupcat-99/")["files"][0].endswith("groupcat-99.0.hdf5")


def test_auth_errors_are_one_line_and_never_show_the_key(api, monkeypatch):
    with pytest.raises(TNGError, match="401 Unauthorized.*set TNG_API_KEY"):
        TNGClient(base_url=api).get("TNG50-1/files/groupcat-99/")
    monkeypatch.setenv("TNG_API_KEY", "wrong-key-123")
    client = TNGClient(base_url=api)
    with pytest.raises(TNGError, match="403 Forbidden") as info:
        client.get("TNG50-1/files/groupcat-99/")
    assert "wrong-key-123" not in str(info.value) and "wrong-key-123" not in repr(client)
    assert "\n" not in str(info.value)
    with pytest.raises(TNGError, match="404 Not Found: .*nothing-here"):
        TNGClient(api_key="secret", base_url=api).get("TNG50-1/files/nothing-here")


def test_download_groupcat_resumes_and_loads(api, tmp_path):
    FakeTNG.interrupt = {"groupcat-99.0.hdf5"}
    client = TNGClient(api_key="secret", base_url=api)
    dest = client.download_groupcat("TNG50-1", 99, tmp_path / "TNG50-1" / "output")
    files = sorted(p.name for p in (dest / "groups_099").iterdir())
    assert files == [f"fof_subhalo_tab_099.{i}.hdf5" for i in range(3)]  # names from content-disposition
    assert sum(path.endswith("groupcat-99.0.hdf5") for path, _ in FakeTNG.log) >= 2  # retried
    cols, attrs = load_group_catalogue(dest)
    assert cols["galaxy_id"].tolist() == [0, 1, 4] and attrs["simulation"] == "TNG50-1"
    n_requests = len(FakeTNG.log)
    client.download_groupcat("TNG50-1", 99, dest)  # complete files are verified and kept
    assert not any(rng for _, rng in FakeTNG.log[n_requests:])


def test_interrupted_download_resumes_on_the_next_call(api, tmp_path):
    data = np.random.default_rng(0).bytes(600_000)
    FakeTNG.files["blob.bin"] = ("blob_from_server.bin", data)
    FakeTNG.interrupt = {"blob.bin"}
    client = TNGClient(api_key="secret", base_url=api)
    with pytest.raises(TNGError, match="interrupted.*call again to resume"):
        client.download("TNG50-1/files/blob.bin", tmp_path, retries=0)
    part = tmp_path / "blob_from_server.bin.part"
    have = part.stat().st_size
    assert 0 < have < len(data) and not (tmp_path / "blob_from_server.bin").exists()
    path = client.download("TNG50-1/files/blob.bin", tmp_path, sha256=hashlib.sha256(data).hexdigest())
    assert path.read_bytes() == data and not part.exists()
    assert FakeTNG.log[-1][1] == f"bytes={have}-"  # only the missing bytes were asked for


def test_checksum_mismatch_keeps_nothing(api, tmp_path):
    FakeTNG.checksums["fof_subhalo_tab_099.1.hdf5"] = "0" * 64
    client = TNGClient(api_key="secret", base_url=api)
    with pytest.raises(TNGError, match=r"fof_subhalo_tab_099\.1\.hdf5: sha256 mismatch"):
        client.download_groupcat("TNG50-1", 99, tmp_path)
    folder = tmp_path / "groups_099"
    assert not (folder / "fof_subhalo_tab_099.1.hdf5").exists()
    assert not list(folder.glob("*.part"))


def test_download_morphology_from_the_skirt_tarball(api, tmp_path):
    folder = write_morphs(tmp_path / "src" / "sdss" / "snapnum_099")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(folder, arcname="sdss/snapnum_099")
    FakeTNG.files["skirt_images_sdss.99.tar"] = ("skirt_images_sdss.99.tar", buffer.getvalue())
    client = TNGClient(api_key="secret", base_url=api)
    out = client.download_morphology("TNG50-1", 99, tmp_path / "morph")
    cols, _ = load_morphology_catalogue(out, quality_cut=False)
    assert cols["galaxy_id"].tolist() == [0, 1, 4, 7]


def skirt_tarball(tmp_path, images=False):
    """skirt_images_sdss.99.tar: sdss/snapnum_099/{morphs_i.hdf5, subfind_ids.txt[, broadband_*.fits]}."""
    folder = write_morphs(tmp_path / "src" / "sdss" / "snapnum_099", ids=(0, 1, 4, 5))  # the catalogue has 6
    if images:
        for i in (0, 1, 4, 5):
            fits.PrimaryHDU(np.ones((4, 50, 50), np.float32) * i).writeto(folder / f"broadband_{i}.fits")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(folder, arcname="sdss/snapnum_099")
    FakeTNG.files["skirt_images_sdss.99.tar"] = ("skirt_images_sdss.99.tar", buffer.getvalue())


def test_data_download_cli_makes_the_real_dataset(api, tmp_path, monkeypatch, capsys, caplog):
    """`astrozoo data download halo-mass --simulation TNG50-1 --snap 99 --images` → the official layout,
    FITS cutouts included; the `tng` dataset reads it; the key is in no output and no log."""
    import logging

    from astrozoo.data import store
    from astrozoo_halo_mass.dataset import TNG

    skirt_tarball(tmp_path, images=True)
    monkeypatch.setenv("TNG_API_URL", api)
    monkeypatch.setenv("TNG_API_KEY", "secret")
    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path / "cache"))
    caplog.set_level(logging.DEBUG)
    code, out, err = run_cli(["data", "download", "halo-mass", "--simulation", "TNG50-1", "--snap", "99", "--images"],
                             capsys)
    assert code == 0, err
    root = tmp_path / "cache" / "halo-mass" / "real" / "TNG50-1"
    assert sorted(p.name for p in (root / "output" / "groups_099").glob("*.hdf5")) == \
        [f"fof_subhalo_tab_099.{i}.hdf5" for i in range(3)]
    skirt = root / "postprocessing" / "skirt_images" / "sdss" / "snapnum_099"
    assert (skirt / "morphs_i.hdf5").exists() and (skirt / "subfind_ids.txt").exists()
    assert sorted(p.name for p in skirt.glob("*.fits")) == [f"broadband_{i}.fits" for i in (0, 1, 4, 5)]
    converted = next((tmp_path / "cache" / "halo-mass").glob("tng-TNG50-1-snap099-*.h5"))
    assert f"wrote {converted}" in out
    assert "secret" not in out + err + caplog.text
    columns, attrs = store.read(converted)
    assert attrs["provenance"] == "real" and attrs["simulation"] == "TNG50-1" and attrs["snapshot"] == 99

    data = TNG(image_size=32)  # the default folder is where the download went
    galaxies = data.load("all")
    assert galaxies.ids.tolist() == [0, 1, 4] and np.allclose(galaxies.y, [12.3, 11.0, 11.6], atol=1e-5)
    morphology = galaxies.data["morphology"]()
    assert morphology["flag"].tolist() == [0, 4, 0]  # subhalo 1: flagged 4 by RG19
    assert np.isnan(morphology["sersic_n"][1]) and morphology["sersic_n"][2] == 4.0
    assert galaxies.data["images"]().shape == (3, 3, 32, 32)


def test_download_cli_errors_never_show_the_key(api, tmp_path, monkeypatch, capsys, caplog):
    import logging


    monkeypatch.setenv("TNG_API_URL", api)
    monkeypatch.setenv("TNG_API_KEY", "not-the-key-42")
    caplog.set_level(logging.DEBUG)
    code, out, err = run_cli(["data", "download", "halo-mass", "--simulation", "TNG50-1", "--output", str(tmp_path)],
                             capsys)
    assert code == 2 and "403 Forbidden" in err and len(err.strip().splitlines()) == 1
    assert "not-the-key-42" not in out + err + caplog.text


class Elsewhere(BaseHTTPRequestHandler):
    """Another host (another port): records the headers it receives, serves a file."""

    seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.seen.append(dict(self.headers))
        body = b"payload from elsewhere"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Disposition", "attachment; filename=moved.bin")
        self.end_headers()
        self.wfile.write(body)


def test_the_key_goes_to_the_configured_host_only(api, tmp_path):
    other = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    threading.Thread(target=other.serve_forever, args=(0.05,), daemon=True).start()
    try:
        Elsewhere.seen = []
        FakeTNG.redirects = {"/api/TNG50-1/files/moved.bin": f"http://127.0.0.1:{other.server_port}/moved.bin",
                             "/api/TNG50-1/files/here.bin": "/api/TNG50-1/files/groupcat-99.0.hdf5"}
        client = TNGClient(api_key="secret", base_url=api)
        path = client.download("TNG50-1/files/moved.bin", tmp_path)
        assert path.read_bytes() == b"payload from elsewhere"
        assert Elsewhere.seen and all("api-key" not in {k.lower() for k in h} for h in Elsewhere.seen)
        same_host = client.download("TNG50-1/files/here.bin", tmp_path)  # a redirect on our host keeps the key
        assert same_host.name == "fof_subhalo_tab_099.0.hdf5"
    finally:
        other.shutdown()
        other.server_close()


def test_illustris_python_agrees_but_accepts_a_short_chunk(groupcat):
    """Why the reader is ours (h5py): the community reader gives the same values on a good catalogue,
    but fills a chunk shorter than its Header with zeros, silently."""
    from illustris_python.groupcat import loadSubhalos

    base, paths = groupcat
    theirs = loadSubhalos(str(base), 99, fields=["SubhaloMassType", "SubhaloGrNr"])
    ours, _ = load_group_catalogue(base, log_mstar_min=-np.inf, fields=("SubhaloMassType",))
    keep = ours["galaxy_id"]
    np.testing.assert_array_equal(theirs["SubhaloMassType"][keep], ours["SubhaloMassType"])
    np.testing.assert_array_equal(theirs["SubhaloGrNr"][keep], ours["host_id"])
    with h5py.File(paths[2], "a") as f:  # chunk 2 loses its last subhalo, its Header still says 2
        for name in list(f["Subhalo"]):
            values = f["Subhalo"][name][()][:1]
            del f["Subhalo"][name]
            f["Subhalo"][name] = values
    short = loadSubhalos(str(base), 99, fields=["SubhaloMassType"])
    assert short.shape[0] == 6 and not short[5].any()  # a row of zeros, no warning
    with pytest.raises(DataError, match=r"fof_subhalo_tab_099\.2\.hdf5: Subhalo/\w+ has 1 rows, Header says 2"):
        load_group_catalogue(base)


def test_data_info_says_what_raw_files_are(groupcat, tmp_path, capsys):

    _, paths = groupcat
    folder = write_morphs(tmp_path / "m")
    for path, expected in ((paths[0], ["raw Subfind group-catalogue chunk", "2 of 3 groups, 4 of 6 subhalos",
                                       "box size of TNG50"]),
                           (folder / "morphs_i.hdf5", ["statmorph morphology catalogue", "4 galaxies",
                                                       "ids from subfind_ids.txt", "flag == 0"])):
        code, out, _ = run_cli(["data", "info", str(path)], capsys)
        assert code == 0
        for text in expected:
            assert text in out, out


def test_real_dataset_without_download_says_what_to_do(tmp_path, monkeypatch):
    from astrozoo.errors import AstrozooError
    from astrozoo_halo_mass.dataset import TNG

    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path))
    with pytest.raises(AstrozooError, match="no TNG50-1 group catalogue in .*astrozoo data download halo-mass "
                                            "--simulation TNG50-1"):
        TNG().load("train")
