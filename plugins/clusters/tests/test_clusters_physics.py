"""The cool-core mock's physics: cooling function and time, profiles, projection, the sample."""

import numpy as np
import pytest

from astrozoo_clusters.coolcore import mock
from astrozoo_clusters.coolcore.physics import (CORE_RADIUS, KPC_CM, MSUN_G, RHO_PER_NE, ClusterModel,
                                                aperture_fraction, cool_core_class, cooling_function,
                                                cooling_time, project)


def test_cooling_function_matches_the_tozzi_norman_fit():
    # at Z = 0.3 Zsun the fit is C1 kT^-1.7 + C2 kT^0.5 + C3 (1e-22 erg cm^3 s^-1)
    assert cooling_function(3.0, 0.3) == pytest.approx(1e-22 * (8.6e-3 * 3**-1.7 + 5.8e-2 * 3**0.5 + 6.3e-2))
    assert cooling_function(1.0, 0.6) > cooling_function(1.0, 0.3)  # more metals, more line cooling
    assert cooling_function(8.0, 0.3) > cooling_function(3.0, 0.3)  # bremsstrahlung regime rises with T


def test_cooling_time_scales_and_classes():
    t = cooling_time(0.01, 3.0, 0.3)
    # 3/2 (ne+ni) kT / (ne ni Λ) with ni = ne 1.1/1.2, in Gyr
    ni = 0.01 * 1.1 / 1.2
    expected = 1.5 * (0.01 + ni) * 3.0 * 1.602176634e-9 / (0.01 * ni * cooling_function(3.0, 0.3)) / 3.15576e16
    assert t == pytest.approx(expected)
    assert cooling_time(0.02, 3.0) == pytest.approx(t / 2)  # t_cool ∝ 1/n_e
    assert 1.0 < t < 10.0  # a 0.01 cm^-3, 3 keV core is a weak cool core
    assert list(cool_core_class([0.5, 1.0, 5.0, 7.7, 8.0])) == [0, 1, 1, 1, 2]


def test_gas_mass_normalisation():
    shape = dict(rc=100.0, alpha=0.5, beta=0.65, rs=1000.0, eps=3.0, amp2=2.0, rc2=20.0, beta2=1.0)
    model = ClusterModel(3e14, 1000.0, 4.0, 0.5, 0.6, shape, 0.1)
    r = np.geomspace(1e-3 * 1000, 1000, 4000)
    m_gas = np.trapezoid(4 * np.pi * r**2 * model.ne(r), r) * KPC_CM**3 * RHO_PER_NE / MSUN_G
    assert m_gas == pytest.approx(0.1 * 3e14, rel=1e-3)
    centre = model.central()
    assert centre["ne0"] > model.ne(CORE_RADIUS * 1000)  # volume average of a falling profile
    assert centre["kT0"] < 4.0 * 1.35  # the cool core's temperature drop


def test_projection_of_a_beta_model():
    """ε ∝ (1 + r²/rc²)^(-3β) projects to Σ ∝ (1 + R²/rc²)^(-3β + 1/2)."""
    rc, beta = 100.0, 0.7
    R = np.array([10.0, 300.0])
    sigma = project(lambda r: (1 + (r / rc) ** 2) ** (-3 * beta), R, l_max=1e6)
    expected = ((1 + (R[1] / rc) ** 2) / (1 + (R[0] / rc) ** 2)) ** (-3 * beta + 0.5)
    assert sigma[1] / sigma[0] == pytest.approx(expected, rel=0.01)


def test_aperture_fraction_area():
    frac = aperture_fraction(64, (31.5, 31.5), 10.0)
    assert frac.sum() == pytest.approx(np.pi * 100, rel=0.01)
    assert frac.max() == 1.0 and frac.min() == 0.0


def test_field_redshift_puts_1_mpc_in_256_pixels_of_3_9_arcsec():
    assert mock.field_redshift() == pytest.approx(0.05, abs=0.005)


def test_sample_and_labels_are_physical():
    rng = np.random.default_rng(1)
    m500 = mock.sample_masses(rng, mock.BOX_TNG300_MPC, 13.75)
    assert 300 < len(m500) < 550 and m500.min() >= 10**13.75  # ≈ 420 expected (Tinker 2008)
    p = mock.draw_clusters(rng, m500)
    central = [mock.cluster_model(m500, p, i).central() for i in range(len(m500))]
    tcool = np.array([c["tcool"] for c in central])
    labels = cool_core_class(tcool)
    fractions = np.bincount(labels, minlength=3) / len(labels)
    assert (fractions > 0.12).all(), fractions  # every class well represented
    assert np.corrcoef(p["disturbance"], np.log(tcool))[0, 1] > 0.3  # mergers go with long cooling times
    ne = np.array([c["ne0"] for c in central])
    assert np.median(ne[labels == 0]) > 0.015 > np.median(ne[labels == 1]) > 0.005 > np.median(ne[labels == 2])


def test_generate_is_deterministic_and_cool_cores_are_concentrated():
    a = mock.generate(seed=3, box_mpc=90.0, size=32, exposure_ks=50.0)
    b = mock.generate(seed=3, box_mpc=90.0, size=32, exposure_ks=50.0)
    np.testing.assert_array_equal(a[1], b[1])
    columns, counts, attrs = a
    assert counts.shape == (len(columns["label"]), 32, 32) and counts.dtype == np.int32
    assert attrs["pixel_kpc"] == pytest.approx(1000 / 32)
    centre = counts[:, 15:17, 15:17].sum(axis=(1, 2)) / counts.sum(axis=(1, 2))
    cc, ncc = columns["label"] == 0, columns["label"] == 2
    if cc.any() and ncc.any():
        assert centre[cc].mean() > centre[ncc].mean()
