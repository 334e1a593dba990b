"""Tests for statmorph on rendered cutouts (astrozoo_halo_mass.morphology)."""

import numpy as np
import pytest

from astrozoo_halo_mass.morphology import FEATURES, measure_morphology, morphology_quality_mask
from astrozoo_halo_mass.render import DISTANCE_MPC, PIXSCALE, SKY_SIGMA, render_cutouts

BOX = 51.7
KPC_PER_PX = PIXSCALE / 206264.806 * DISTANCE_MPC * 1e3


def galaxies(sersic_n, clumpiness=0.0, disturbance=0.0, quenched=True, re_kpc=3.0):
    """Isolated bright galaxies (one per value), 5 Mpc apart so none shares a field."""
    n = len(sersic_n)
    return dict(
        galaxy_id=np.arange(n, dtype=np.int64), pos=np.column_stack([5.0 + 5 * np.arange(n), np.full(n, 20.0),
                                                                      np.full(n, 20.0)]),
        log_mstar=np.full(n, 10.5), re_kpc=np.full(n, re_kpc), sersic_n=np.asarray(sersic_n, float),
        axis_ratio=np.full(n, 0.7), position_angle=np.full(n, 0.5), quenched=np.full(n, quenched),
        color_gr=np.full(n, 0.7), clumpiness=np.full(n, clumpiness), disturbance=np.full(n, disturbance))


@pytest.fixture(scope="module")
def clean():
    cat = galaxies([1.0, 4.0])
    images = render_cutouts(cat, BOX, cat["galaxy_id"], workers=1)
    return measure_morphology(images, workers=1)


def test_sersic_index_and_radius_recovered(clean):
    assert clean["flag"].tolist() == [0, 0] and clean["flag_sersic"].tolist() == [0, 0]
    assert clean["sersic_n"][0] == pytest.approx(1.0, abs=0.25)
    assert clean["sersic_n"][1] == pytest.approx(4.0, abs=0.8)
    np.testing.assert_allclose(clean["sersic_rhalf"], 3.0 / KPC_PER_PX, rtol=0.2)
    assert clean["concentration"][1] > clean["concentration"][0] + 0.5  # de Vaucouleurs is more concentrated
    assert set(FEATURES) | {"flag", "flag_sersic", "sn_per_pixel"} == set(clean)
    assert morphology_quality_mask(clean).all()


def test_failures_are_flagged_not_raised():
    rng = np.random.default_rng(0)
    blank = rng.standard_normal((1, 3, 224, 224)) * np.array(SKY_SIGMA)[None, :, None, None]
    broken = np.full((1, 3, 224, 224), np.nan)
    out = measure_morphology(np.concatenate([blank, broken]).astype(np.float32), workers=1)
    assert out["flag"].tolist() == [4, 4] and out["flag_sersic"].tolist() == [4, 4]
    assert np.isnan(out["sersic_n"]).all() and np.isnan(out["gini"]).all()
    assert not morphology_quality_mask(out).any()


def test_clumpy_disturbed_disk_is_more_asymmetric(clean):
    cat = galaxies([1.0], clumpiness=1.0, disturbance=0.8, quenched=False)
    rough = measure_morphology(render_cutouts(cat, BOX, cat["galaxy_id"], workers=1), workers=1)
    assert rough["asymmetry"][0] > clean["asymmetry"][0] + 0.05
    assert rough["smoothness"][0] > clean["smoothness"][0]


def test_quality_mask_thresholds():
    table = {"flag": np.array([0, 1, 0, 0]), "flag_sersic": np.array([0, 0, 1, 0]),
             "sn_per_pixel": np.array([3.0, 3.0, 3.0, 2.0])}
    assert morphology_quality_mask(table).tolist() == [True, False, False, False]


def test_bad_input_shape():
    with pytest.raises(ValueError, match="expected"):
        measure_morphology(np.zeros((2, 224, 224)))


def test_stamp_fallback_rule():
    from astrozoo_halo_mass.morphology import _fits_in_stamp
    segmap = np.zeros((224, 224), int)
    segmap[80:140, 90:130] = 1
    assert _fits_in_stamp(segmap, 128, margin=4)
    segmap[112, 40] = 1  # reaches 72 px left of the centre: past a 128-px stamp
    assert not _fits_in_stamp(segmap, 128, margin=4)


def test_ctrl_c_during_statmorph_keeps_the_finished_galaxies(monkeypatch, tmp_path):
    """A measurement interrupted inside its cache build continues where it stopped: the galaxies
    of finished chunks (8 each) are not measured again, and the result is the same."""
    from astrozoo.data import cache, store
    from astrozoo_halo_mass import morphology

    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path))
    measured = []

    def counted(image, psf, sky_sigma, stamp=128, sersic=True):  # statmorph's place: one row of features per galaxy
        if len(measured) == 19 and not measured[-1] == "resumed":
            raise KeyboardInterrupt  # Ctrl-C while the 20th galaxy is measured
        measured.append(float(image.sum()))
        row = {name: float(image.mean() * (k + 1)) for k, name in enumerate(FEATURES)}
        return {**row, "sn_per_pixel": float(image.std()), "flag": int(image[0, 0] > 0), "flag_sersic": 0}

    monkeypatch.setattr(morphology, "measure_one", counted)
    rng = np.random.default_rng(0)
    images = rng.normal(0, 1, (24, 3, 16, 16)).astype(np.float32)

    def build(path):
        store.write(path, {"morphology": morphology.measure_morphology(images, stamp=None, workers=1)})

    with pytest.raises(KeyboardInterrupt):
        cache.cached("halo-mass", "morph-test", {}, "1", build)
    assert len(measured) == 19  # chunks 0 and 1 (16 galaxies) were finished and kept
    measured.append("resumed")
    path = cache.cached("halo-mass", "morph-test", {}, "1", build)
    assert len(measured) - 20 == 8  # only the last chunk was measured again
    features, _ = store.read(path, "morphology")
    assert len(features["flag"]) == 24
    again = morphology.measure_morphology(images, stamp=None, workers=1)  # no cache build: nothing kept
    for name in ("flag", "flag_sersic"):
        assert np.array_equal(features[name], again[name])
    for name in FEATURES:
        assert np.allclose(features[name], again[name], equal_nan=True)


def test_without_the_sersic_fit_every_other_value_is_the_same(clean):
    """Rendered by the measuring worker, without the Sérsic fit: the same numbers and flags as the
    full statmorph run on stored cutouts; the Sérsic values are not measured."""
    from astrozoo_halo_mass.morphology import SERSIC, measure_rendered

    cat = galaxies([1.0, 4.0])
    cheap = measure_rendered(cat, BOX, cat["galaxy_id"], sersic=False, workers=1)
    for name in set(FEATURES) - set(SERSIC) | {"sn_per_pixel", "flag"}:
        np.testing.assert_array_equal(cheap[name], clean[name], err_msg=name)
    assert np.isnan(cheap["sersic_n"]).all() and cheap["flag_sersic"].tolist() == [-1, -1]


KILLED = """
import sys
import numpy as np
from astrozoo.data import cache, store
from astrozoo_halo_mass import morphology

calls = open(sys.argv[1], "a")
measure_one = morphology.measure_one
def counted(*args, **kwargs):
    calls.write("x\\n"); calls.flush()
    return measure_one(*args, **kwargs)
morphology.measure_one = counted
n = 24
cat = dict(galaxy_id=np.arange(n), pos=np.column_stack([5.0 + 6 * (np.arange(n) % 8), 5.0 + 6 * (np.arange(n) // 8),
           np.full(n, 20.0)]), log_mstar=np.full(n, 10.5), re_kpc=np.full(n, 2.0), sersic_n=np.full(n, 1.5),
           axis_ratio=np.full(n, 0.7), position_angle=np.full(n, 0.5), quenched=np.full(n, True),
           color_gr=np.full(n, 0.7), clumpiness=np.zeros(n), disturbance=np.zeros(n))
def build(path):
    rows = morphology.measure_rendered(cat, 51.7, cat["galaxy_id"], sersic=False, workers=1)
    store.write(path, {"morphology": rows})
print(cache.cached("halo-mass", "killed", {}, "1", build))
"""


@pytest.mark.slow
def test_a_killed_measurement_resumes_without_measuring_finished_chunks_again(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from astrozoo.data import store

    script, calls = tmp_path / "measure.py", tmp_path / "calls.txt"
    script.write_text(KILLED)
    env = {**os.environ, "ASTROZOO_CACHE": str(tmp_path / "cache")}
    child = subprocess.Popen([sys.executable, str(script), str(calls)], env=env)
    deadline = time.time() + 300
    work = tmp_path / "cache" / "halo-mass"
    while len(list(work.glob(".*.work/*/chunk-*.npz"))) < 2 and time.time() < deadline:
        time.sleep(0.2)
    child.send_signal(signal.SIGKILL)
    child.wait()
    kept = len(list(work.glob(".*.work/*/chunk-*.npz")))
    first = len(calls.read_text().split())
    assert kept >= 2 and first < 24, "killed mid-way, with finished chunks kept"
    out = subprocess.run([sys.executable, str(script), str(calls)], env=env, capture_output=True, text=True, check=True)
    again = len(calls.read_text().split()) - first
    assert again == 24 - 8 * kept  # only the chunks not kept were measured
    features, _ = store.read(out.stdout.strip().splitlines()[-1], "morphology")
    assert len(features["flag"]) == 24 and (features["flag"] == 0).all()
    assert not list(work.glob(".*.work"))
