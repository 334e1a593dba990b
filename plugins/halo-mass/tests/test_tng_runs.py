"""`astrozoo run halo-mass --dataset tng` end to end on small files in the real layouts (tng_files.py):
every model in both profiles, the one quality rule, and bad inputs → one line naming the file, exit 2."""

import numpy as np
import pytest

from astrozoo.testing import run_cli, workdir  # noqa: F401
from tng_files import MORPH_FEATURES, flat_folder, official_tree, passes_rule

FAST = {"gnn": ["params.epochs=2", "params.clusters=4"],
        "cnn": ["params.epochs=1", "params.pretrained=false", "data.image_size=32", "params.batch_size=32"],
        "cnn-gnn": ["params.epochs=1", "params.gnn_epochs=1", "params.pretrained=false", "params.clusters=4",
                    "data.image_size=32"]}


@pytest.fixture
def cache(workdir, tmp_path, monkeypatch):  # noqa: F811
    path = tmp_path / "cache"
    monkeypatch.setenv("ASTROZOO_CACHE", str(path))
    return path


def run(capsys, *args):
    """Run the CLI in-process; (exit code, stdout, stderr)."""
    return run_cli(args, capsys)


def last_run():
    import mlflow

    return mlflow.search_runs(experiment_names=["halo-mass"], order_by=["attributes.start_time DESC"],
                              output_format="list")[0]


def tng_run(capsys, model, path, profile="quick", *sets):
    args = ["run", "halo-mass", "--model", model, "--dataset", "tng", "--profile", profile,
            "--set", f"data.path={path}"]
    for text in FAST.get(model, []) + list(sets):
        args += ["--set", text]
    return run(capsys, *args)


@pytest.mark.parametrize("profile", ["quick", "paper"])
@pytest.mark.parametrize("model", ["simple", "morphological", "overdensity", "combined", "xgboost", "oracle", "gnn"])
def test_every_model_without_images_runs_on_the_official_layout(cache, tmp_path, capsys, model, profile):
    files = official_tree(tmp_path / "TNG50-1")
    code, out, err = tng_run(capsys, model, tmp_path / "TNG50-1", profile)
    assert code == 0, err
    run_ = last_run()
    params, tags = run_.data.params, run_.data.tags
    assert tags["astrozoo.dataset"] == "tng" and tags["astrozoo.provenance"] == "real"
    assert params["data.info.simulation"] == "TNG50-1" and params["data.info.snapshot"] == "99"
    assert np.isfinite(run_.data.metrics["test_rmse"])
    if profile == "paper":
        removed = sum(not passes_rule(files["flags"], int(g)) for g in files["galaxies"])
        assert params["data.info.n_removed_by_quality_cut"] == str(removed)
        assert f"removes {removed} of {len(files['galaxies'])} galaxies" in out
    converted = list((cache / "halo-mass").glob("tng-TNG50-1-snap099-*.h5"))
    assert len(converted) == 1 and not list((tmp_path / "TNG50-1").rglob("*.h5"))  # nothing in the user's folder


@pytest.mark.parametrize("model", ["simple", "combined", "gnn"])
def test_the_flat_folder_works_too(cache, tmp_path, capsys, monkeypatch, model):
    monkeypatch.setenv("TNG_API_KEY", "key-that-must-stay-private")
    flat_folder(tmp_path / "flat")
    code, out, err = tng_run(capsys, model, tmp_path / "flat", "paper", "data.simulation=TNG50-1")
    assert code == 0, err
    run_ = last_run()
    recorded = " ".join([out, err, *run_.data.params.values(), *run_.data.tags.values()])
    assert "key-that-must-stay-private" not in recorded


@pytest.mark.parametrize("model", ["cnn", "cnn-gnn"])
def test_image_models_run_with_cutouts(cache, tmp_path, capsys, model):
    official_tree(tmp_path / "TNG50-1", images=True)
    code, _, err = tng_run(capsys, model, tmp_path / "TNG50-1")
    assert code == 0, err
    assert np.isfinite(last_run().data.metrics["test_rmse"])


def test_paper_profile_removes_exactly_the_documented_cut(cache, tmp_path):
    from astrozoo_halo_mass.dataset import TNG

    files = official_tree(tmp_path / "TNG50-1")
    loose, cut = TNG(path=str(tmp_path / "TNG50-1")), TNG(path=str(tmp_path / "TNG50-1"), flag_cut=True)
    for split in ("train", "val", "test"):
        expected = [g for g in loose.load(split).ids if passes_rule(files["flags"], int(g))]
        assert cut.load(split).ids.tolist() == expected


def test_morphology_is_read_per_feature_and_matched_by_id(cache, tmp_path):
    from astrozoo_halo_mass.dataset import TNG

    files = official_tree(tmp_path / "TNG50-1")
    data = TNG(path=str(tmp_path / "TNG50-1"))
    split = data.load("all")
    morphology = split.data["morphology"]()
    flags = files["flags"]
    for k, g in enumerate(split.ids[:40]):
        flag = flags.get(int(g), (4, 4, np.nan))[0]
        assert morphology["flag"][k] == flag
        assert np.isnan(morphology["rpetro_circ"][k]) == (flag > 1)  # NaN where the fit is bad or missing
    with pytest.raises(Exception, match=r"morphs_i\.hdf5: no dataset\(s\) gini .*the file has asymmetry"):
        morphology["gini"]


def test_the_group_straddling_the_chunk_boundary_keeps_its_satellites(cache, tmp_path):
    from astrozoo_halo_mass.dataset import TNG

    files = official_tree(tmp_path / "TNG50-1")
    group, first_in_chunk1 = files["straddle"]
    table = TNG(path=str(tmp_path / "TNG50-1")).table
    members = table["galaxy_id"][table["host_id"] == group]
    central = int(files["grp"]["GroupFirstSub"][group])
    expected = [g for g in files["galaxies"] if files["sub"]["SubhaloGrNr"][g] == group]
    assert members.tolist() == expected and any(g >= first_in_chunk1 for g in members)
    assert table["is_central"][table["galaxy_id"] == central].all()
    assert not table["is_central"][(table["host_id"] == group) & (table["galaxy_id"] != central)].any()


def test_simulation_and_snapshot_are_recorded_in_the_converted_file(cache, tmp_path):
    from astrozoo.data import store
    from astrozoo_halo_mass.dataset import TNG

    official_tree(tmp_path / "sims" / "TNG100-like", snap=95, box=75000.0)
    data = TNG(path=str(tmp_path / "sims" / "TNG100-like"), simulation="TNG100-1", snap=95)
    attrs = store.read_attrs(data.catalogue_file())
    assert attrs["simulation"] == "TNG100-1" and attrs["snapshot"] == 95 and attrs["box_size_mpc"] > 110


def test_a_changed_source_regenerates_the_converted_catalogue(cache, tmp_path):
    import os

    import h5py

    from astrozoo_halo_mass.dataset import TNG

    files = official_tree(tmp_path / "TNG50-1")
    first = TNG(path=str(tmp_path / "TNG50-1")).catalogue_file()
    with h5py.File(files["chunks"][1], "a") as f:
        f["Subhalo/SubhaloFlag"][...] = 0  # every subhalo of chunk 1 becomes unusable
    os.utime(files["chunks"][1], ns=(2, 2))
    data = TNG(path=str(tmp_path / "TNG50-1"))
    assert data.catalogue_file() != first
    assert len(data.table["galaxy_id"]) < len(TNG(path=str(first)).table["galaxy_id"])


# ---------------------------------------------------------------- bad inputs

def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


BAD = {
    "missing chunk": (lambda f: f["chunks"][1].unlink(), "simple", (), r"fof_subhalo_tab_099\.1\.hdf5: no such file"),
    "truncated chunk": (lambda f: _truncate(f["chunks"][1]), "simple", (),
                        r"fof_subhalo_tab_099\.1\.hdf5: not a readable HDF5 file"),
    "feature missing": (None, "combined", (), r"morphs_i\.hdf5: no dataset\(s\) rpetro_circ"),
    "ids of another run": (lambda f: np.savetxt(f["skirt"] / "subfind_ids.txt",
                                                np.loadtxt(f["skirt"] / "subfind_ids.txt") + 10**6, fmt="%d"),
                           "morphological", (), r"subfind_ids\.txt|morphs_i\.hdf5: subhalo ids up to"),
    "wrong simulation": (None, "simple", ("data.simulation=TNG100-1",),
                         r"fof_subhalo_tab_099\.0\.hdf5: BoxSize 35000 ckpc/h is not TNG100-1's"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_inputs_give_one_line_naming_the_file_and_exit_2(cache, tmp_path, capsys, case):
    spoil, model, sets, message = BAD[case]
    features = tuple(f for f in MORPH_FEATURES if f != "rpetro_circ") if case == "feature missing" else MORPH_FEATURES
    files = official_tree(tmp_path / "TNG50-1", features=features)
    if spoil:
        spoil(files)
    before = sorted((tmp_path / "TNG50-1").rglob("*"))
    code, out, err = tng_run(capsys, model, tmp_path / "TNG50-1", "quick", *sets)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    import re

    assert re.search(message, lines[0]), lines[0]
    assert sorted((tmp_path / "TNG50-1").rglob("*")) == before  # the user's folder is untouched
    folder = cache / "halo-mass"
    assert not list(folder.glob("*.part")) and not list(folder.glob(".*.part"))
    converted = list(folder.glob("tng-*.h5"))
    if case in ("missing chunk", "truncated chunk", "wrong simulation"):
        assert converted == []  # the group catalogue could not be converted: nothing is left
    else:  # the group catalogue is fine and stays converted; morphology is never converted
        assert len(converted) == 1 and not list(folder.glob("*morphology*"))
