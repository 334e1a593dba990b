"""astrozoo.data.cosmology: radii, angular scales, magnitudes and mass functions (Planck15)."""

import numpy as np
import pytest

from astrozoo.data import cosmology as cosmo


def test_overdensity_radius_encloses_delta_times_the_critical_density():
    m, z = 3e14, 0.4
    r = cosmo.r500(m, z)
    assert 4 / 3 * np.pi * r**3 * 500 * cosmo.critical_density(z) == pytest.approx(m)
    assert cosmo.r500(1e14) == pytest.approx(0.721, abs=0.005)  # Mpc, z = 0 (ρ_c = 2.775e11 h² Msun/Mpc³)
    assert cosmo.r200(m, z) > r  # a lower overdensity reaches further out
    assert cosmo.r500(m, z, unit="kpc") == pytest.approx(1000 * r)
    assert cosmo.r500(m, 1.0) < r  # the universe was denser


def test_angular_scales_are_inverse_and_tabulated_values_match():
    z = np.array([0.05, 0.5, 1.2])
    assert cosmo.kpc_per_arcsec(z) * cosmo.arcsec_per_mpc(z) == pytest.approx(1000, rel=1e-8)
    assert cosmo.kpc_per_arcsec(0.05) == pytest.approx(1.01, abs=0.01)  # D_A ≈ 208 Mpc
    table = cosmo.tabulated(0.5)
    assert table["kpc_per_arcsec"] == pytest.approx(cosmo.kpc_per_arcsec(0.5), rel=1e-4)
    assert table["distmod"] == pytest.approx(cosmo.distance_modulus(0.5), abs=1e-3)


def test_magnitudes_need_an_explicit_zero_point():
    assert cosmo.mag_to_flux(22.5, zero_point=22.5) == pytest.approx(1.0)
    assert cosmo.mag_to_flux(20.0, 25.0) / cosmo.mag_to_flux(20.0, 22.5) == pytest.approx(10.0)
    assert cosmo.flux_to_mag(cosmo.mag_to_flux(17.3, 27.0), 27.0) == pytest.approx(17.3)
    with pytest.raises(TypeError):
        cosmo.mag_to_flux(20.0)  # noqa  (no default zero point on purpose)


def test_halo_masses_follow_the_mass_function():
    assert np.all(np.diff(cosmo.mass_function(np.logspace(13, 15, 5))) < 0)
    rng = np.random.default_rng(0)
    masses = cosmo.sample_halo_masses(rng, 300.0**3, 13.75, 15.8, n_grid=400)
    log_m = np.linspace(13.75, 15.8, 400)
    expected = np.trapezoid(cosmo.mass_function(10**log_m), log_m * np.log(10)) * 300.0**3
    assert abs(len(masses) - expected) < 5 * np.sqrt(expected)
    assert masses.min() >= 10**13.75 and np.median(masses) < 10**14.1  # steep: most are near the floor
    again = cosmo.sample_halo_masses(np.random.default_rng(0), 300.0**3, 13.75, 15.8, n_grid=400)
    assert np.array_equal(masses, again)


def test_masses_at_redshift_stay_in_range_and_fall_with_redshift():
    rng = np.random.default_rng(1)
    z = np.repeat([0.1, 1.5], 400)
    m = cosmo.sample_masses_at(rng, z, 1.5e14, 2e15, z_range=(0.1, 1.5))
    assert m.min() >= 1.5e14 and m.max() <= 2e15
    assert np.median(m[z > 1]) < np.median(m[z < 1])  # massive clusters are rarer early on


def test_redshift_at_follows_the_age_of_the_universe():
    assert cosmo.age(0.0) == pytest.approx(13.80, abs=0.01)  # Planck15
    dt = np.array([-1.0, 0.0, 1.0])
    z = cosmo.redshift_at(0.5, dt, grid=(0.0, 3.0, 3001))
    assert z[0] > 0.5 > z[2] and z[1] == pytest.approx(0.5, abs=1e-6)
    assert cosmo.age(z) - cosmo.age(0.5) == pytest.approx(dt, abs=1e-3)
    assert cosmo.tabulated(0.5)["age"] == pytest.approx(cosmo.age(0.5), rel=1e-4)


def test_distance_redshift_hubble_time_and_colossus_radius():
    d = cosmo.angular_diameter_distance(0.05)
    assert d == pytest.approx(208.3, abs=0.1)  # Mpc, Planck15
    assert cosmo.redshift_at_distance(d) == pytest.approx(0.05, abs=1e-6)
    assert cosmo.hubble_time() == pytest.approx(977.8 / 67.74, rel=1e-4)  # Gyr, 1/H0 (977.8 Gyr km/s/Mpc)
    m = np.logspace(10, 15, 6)
    # colossus's ρ_c and astropy's differ only in the last digits
    np.testing.assert_allclose(cosmo.halo_radius(m, 0.0, "200c"), cosmo.r200(m, unit="kpc"), rtol=1e-11)


def test_concentration_bias_and_power_spectrum():
    m = np.logspace(11, 15, 5)
    c, b = cosmo.concentration(m), cosmo.halo_bias(m)
    assert np.all(np.diff(c) < 0) and 3 < c[-1] < c[0] < 15  # massive halos are less concentrated
    assert np.all(np.diff(b) > 0) and b[0] < 1 < b[-1]  # and more clustered
    k = np.logspace(-3, 1, 50)
    p = cosmo.linear_power(k)
    assert np.all(p > 0) and 0.005 < k[np.argmax(p)] < 0.05  # turnover near the horizon at equality


def test_colossus_results_do_not_depend_on_a_cosmology_set_elsewhere():
    from colossus.cosmology import cosmology as colossus

    before = cosmo.halo_radius(1e12, 0.5, "200c")
    colossus.setCosmology("WMAP9", persistence="")  # another library in the same process
    assert cosmo.halo_radius(1e12, 0.5, "200c") == before
