"""Tests of the halo-mass mock universe (astrozoo_halo_mass.mock) and the sub-volume split."""

from __future__ import annotations

import time

import numpy as np
import pytest

from astrozoo.data.graphs import count_neighbours, minimum_image
from astrozoo_halo_mass.mock import (BOXES, COLUMN_UNITS, PARAMETERS, generate_universe,
                                     nfw_radius, smhm_moster13)
from astrozoo.data.splits import subvolume_split

BOX = BOXES["tng50"]


@pytest.fixture(scope="module")
def universe():
    return generate_universe("tng50", seed=0)


@pytest.fixture(scope="module")
def cols(universe):
    return universe[0]


@pytest.fixture(scope="module")
def split(cols):
    return subvolume_split(cols["pos"], BOX)


# --- catalogue-level requirements -----------------------------------------------------------

def test_galaxy_count_and_satellite_fraction(cols):
    n = len(cols["galaxy_id"])
    assert 1200 <= n <= 2000, n  # TNG50 in the paper: 1,666 above 10^9.5 Msun
    f_sat = 1.0 - cols["is_central"].mean()
    assert 0.20 <= f_sat <= 0.40, f_sat
    assert np.all(cols["log_mstar"] > 9.5)


def test_columns_dtypes_and_units(universe):
    cols, attrs = universe
    n = len(cols["galaxy_id"])
    assert set(cols) == set(COLUMN_UNITS)
    for name, values in cols.items():
        assert len(values) == n, name
        if name in ("galaxy_id", "host_id"):
            assert values.dtype == np.int64, name
        elif name in ("is_central", "quenched"):
            assert values.dtype == bool, name
        else:
            assert values.dtype == np.float64, name
            assert np.all(np.isfinite(values)), name
    assert cols["pos"].shape == (n, 3)
    np.testing.assert_array_equal(cols["galaxy_id"], np.arange(n))
    assert attrs["provenance"] == "mock" and attrs["seed"] == 0
    assert attrs["box_size_mpc"] == BOX and attrs["cosmology"] == "planck15"
    assert attrs["parameters"] == PARAMETERS and attrs["references"]


def test_positions_inside_box(cols):
    assert np.all(cols["pos"] >= 0.0) and np.all(cols["pos"] < BOX)


def test_same_seed_identical_different_seed_differs(cols):
    again, _ = generate_universe("tng50", seed=0)
    for name in cols:
        np.testing.assert_array_equal(cols[name], again[name], err_msg=name)
    other, _ = generate_universe("tng50", seed=1)
    assert len(other["galaxy_id"]) != len(cols["galaxy_id"]) or not np.array_equal(
        other["log_mstar"], cols["log_mstar"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown box"):
        generate_universe("tng75")
    with pytest.raises(ValueError, match="unknown parameters"):
        generate_universe("tng50", params={"no_such_knob": 1})


# --- the physics -------------------------------------------------------------------------

def test_central_and_satellite_latents_consistent(cols):
    cen, sat = cols["is_central"], ~cols["is_central"]
    np.testing.assert_array_equal(cols["log_mhalo"][cen], cols["log_macc"][cen])
    np.testing.assert_array_equal(cols["log_mhalo"][cen], cols["log_mhost"][cen])
    assert np.all(cols["strip_factor"][cen] == 1.0)
    assert np.all(cols["r_host"][cen] == 0.0) and np.all(cols["r_over_rvir"][cen] == 0.0)
    f = cols["strip_factor"][sat]
    assert np.all((f >= PARAMETERS["f_disrupt"]) & (f <= 1.0))
    np.testing.assert_allclose(cols["log_mhalo"][sat],
                               cols["log_macc"][sat] + np.log10(f), atol=1e-12)
    assert np.all(cols["log_macc"][sat] <= cols["log_mhost"][sat])
    assert np.all((cols["r_over_rvir"][sat] > 0) & (cols["r_over_rvir"][sat] <= 1))
    # one central at most per host; rows grouped by host, central first
    host = cols["host_id"]
    assert len(np.unique(host[cen])) == cen.sum()
    assert np.all(np.diff(host) >= 0)


def test_satellite_distance_matches_positions(cols):
    centre = {h: p for h, p, c in zip(cols["host_id"], cols["pos"], cols["is_central"]) if c}
    sat = np.flatnonzero(~cols["is_central"] & np.isin(cols["host_id"], list(centre)))
    assert len(sat) > 100
    d = minimum_image(cols["pos"][sat] - np.array([centre[h] for h in cols["host_id"][sat]]),
                      BOX)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), cols["r_host"][sat], atol=1e-9)


def test_stripping_stronger_deeper_in_host(cols):
    sat = ~cols["is_central"]
    x, f = cols["r_over_rvir"][sat], cols["strip_factor"][sat]
    assert np.median(f[x < 0.4]) < np.median(f[x > 0.7])
    # satellites sit below the central SMHM: less halo at fixed stellar mass
    band = (cols["log_mstar"] > 9.8) & (cols["log_mstar"] < 10.3)
    assert (np.median(cols["log_mhalo"][band & sat])
            < np.median(cols["log_mhalo"][band & cols["is_central"]]) - 0.3)


def test_massive_hosts_sit_in_dense_regions(cols):
    """Tinker et al. (2010) bias through the lognormal field."""
    from scipy.spatial import cKDTree
    from astrozoo_halo_mass import mock

    # the placement rule: higher bias -> denser cells of the lognormal field
    delta, cell = mock._gaussian_field(np.random.default_rng(0), BOX, PARAMETERS)
    log_rho = delta - 0.5 * delta.var()
    mean_log_rho = []
    for b in (0.8, 1.5, 3.0):
        ijk = (mock._place_hosts(np.random.default_rng(1), delta, cell, np.full(3000, b))
               // cell).astype(int)
        mean_log_rho.append(log_rho[ijk[:, 0], ijk[:, 1], ijk[:, 2]].mean())
    assert 0 < mean_log_rho[0] < mean_log_rho[1] < mean_log_rho[2]
    # in the catalogue: other hosts' centrals within 5 Mpc (own satellites excluded)
    cen = cols["is_central"]
    pos, logm = cols["pos"][cen], cols["log_mhost"][cen]
    counts = cKDTree(pos, boxsize=BOX).query_ball_point(pos, 5.0, return_length=True) - 1
    assert counts[logm > 13.0].mean() > counts[logm < 11.8].mean()


def test_quenching_and_morphology_trends(cols):
    q, cen = cols["quenched"], cols["is_central"]
    assert q[~cen].mean() > q[cen].mean() + 0.15
    assert q[cen & (cols["log_mhost"] > 12.5)].mean() > q[cen & (cols["log_mhost"] < 11.8)].mean()
    assert np.median(cols["sersic_n"][q]) > 3 and np.median(cols["sersic_n"][~q]) < 1.6
    assert np.median(cols["color_gr"][q]) > np.median(cols["color_gr"][~q]) + 0.2
    assert np.median(cols["axis_ratio"][q]) > np.median(cols["axis_ratio"][~q])
    assert np.median(cols["clumpiness"][~q]) > 5 * np.median(cols["clumpiness"][q])
    for name in ("clumpiness", "disturbance", "axis_ratio"):
        assert np.all((cols[name] >= 0) & (cols[name] <= 1)), name
    assert np.all((cols["position_angle"] >= 0) & (cols["position_angle"] < np.pi))
    # R_e ~ 0.015 R200: a few kpc for these galaxies
    assert 1.5 < np.median(cols["re_kpc"]) < 6


def test_disturbance_grows_with_close_neighbour(cols):
    from scipy.spatial import cKDTree
    d, _ = cKDTree(cols["pos"], boxsize=BOX).query(cols["pos"], k=2)
    close = d[:, 1] < 0.1
    assert cols["disturbance"][close].mean() > 3 * cols["disturbance"][d[:, 1] > 1.0].mean()


def test_smhm_and_nfw_helpers():
    # at M = M1 Moster et al. give m/M = N
    m1 = PARAMETERS["smhm_log_m1"]
    assert smhm_moster13(m1) == pytest.approx(m1 + np.log10(PARAMETERS["smhm_n"]))
    u = np.linspace(0.01, 1.0, 50)
    for c in (4.0, 10.0):
        x = nfw_radius(u, c)
        m = lambda y: np.log1p(y) - y / (1 + y)  # noqa: E731
        np.testing.assert_allclose(m(c * x) / m(c), u, rtol=1e-10)
    assert nfw_radius(1.0, 7.0) == pytest.approx(1.0)


@pytest.mark.parametrize("box", ["tng100"])
def test_bigger_box_scales(box):
    cols, attrs = generate_universe(box, seed=0)
    size = BOXES[box]
    ratio = len(cols["galaxy_id"]) / size ** 3 * BOX ** 3
    assert 1200 <= ratio <= 2200
    assert np.all((cols["pos"] >= 0) & (cols["pos"] < size))
    assert 0.2 <= 1 - cols["is_central"].mean() <= 0.4


@pytest.mark.slow
def test_tng300_is_fast_enough():
    start = time.perf_counter()
    cols, _ = generate_universe("tng300", seed=0)
    assert time.perf_counter() - start < 90
    assert np.all((cols["pos"] >= 0) & (cols["pos"] < BOXES["tng300"]))


# --- the signal exists (Table 2 ordering for simple forests) ---------------------------------

def test_environment_and_latents_predict_halo_mass(cols, split):
    from sklearn.ensemble import RandomForestRegressor

    delta_g = count_neighbours(cols["pos"], 3.0, BOX)
    train, test = split == "train", split == "test"
    y = cols["log_mhalo"]

    def rmse(*features):
        x = np.column_stack(features).astype(np.float64)
        forest = RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=2)
        forest.fit(x[train], y[train])
        return float(np.sqrt(np.mean((forest.predict(x[test]) - y[test]) ** 2)))

    simple = rmse(cols["log_mstar"])
    overdensity = rmse(cols["log_mstar"], delta_g)
    morphology = rmse(cols["log_mstar"], cols["re_kpc"], cols["sersic_n"], cols["color_gr"],
                      cols["axis_ratio"])
    oracle = rmse(cols["log_mstar"], cols["is_central"], cols["log_mhost"],
                  cols["r_over_rvir"], cols["log_macc"])
    assert overdensity < simple
    assert morphology < simple
    assert oracle < min(simple, overdensity, morphology)


# --- the split ----------------------------------------------------------------------------

def test_split_fractions_and_gaps(cols, split):
    kept = split != ""
    counts = np.array([(split == s).sum() for s in ("train", "val", "test")])
    np.testing.assert_allclose(counts / kept.sum(), [0.732, 0.081, 0.187], atol=0.02)
    # galaxies inside gaps are dropped: roughly 3 x 6 Mpc of the 51.7 Mpc box
    assert 0.2 < 1 - kept.mean() < 0.5


def test_split_no_close_pair_across_sets(cols, split):
    from astrozoo.data.graphs import radius_graph
    edges, _ = radius_graph(cols["pos"], 3.0, BOX)
    a, b = split[edges[0]], split[edges[1]]
    crossing = (a != b) & (a != "") & (b != "")
    assert not crossing.any()


def test_split_periodic_wrap_gap_and_uniform_points():
    rng = np.random.default_rng(3)
    pos = rng.uniform(0, 100.0, (20000, 3))
    label = subvolume_split(pos, 100.0, gap=6.0)
    assert np.all(label[pos[:, 0] >= 94.0] == "")  # gap across the periodic boundary
    x = {s: pos[label == s, 0] for s in ("train", "val", "test")}
    assert x["train"].max() + 6.0 <= x["val"].min() and x["val"].max() + 6.0 <= x["test"].min()
    counts = np.array([len(x[s]) for s in ("train", "val", "test")])
    np.testing.assert_allclose(counts / counts.sum(), [0.732, 0.081, 0.187], atol=0.002)
    # another axis works too
    label_y = subvolume_split(pos, 100.0, axis=1)
    assert np.all(label_y[pos[:, 1] >= 94.0] == "")


def test_split_box_too_small():
    pos = np.random.default_rng(0).uniform(0, 15.0, (500, 3))
    with pytest.raises(ValueError, match="too small"):
        subvolume_split(pos, 15.0)
    # room for the gaps, but all galaxies sit inside them: no sub-volume can be filled
    pos = np.column_stack([np.full(50, 10.0), np.zeros(50), np.zeros(50)])
    with pytest.raises(ValueError, match="too small|empty"):
        subvolume_split(pos, 30.0)
