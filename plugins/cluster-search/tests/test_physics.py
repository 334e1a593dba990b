"""The physics of the cluster-search mocks checked against the relations they cite."""

import numpy as np
import pytest
from scipy import integrate

from astrozoo.data import cosmology

from astrozoo_cluster_search.mock import physics as ph


def test_tsz_spectrum():
    f = ph.tsz_f([98.0, 150.0, 217.0, 353.0])
    np.testing.assert_allclose(f[:2], [-1.53, -0.953], atol=0.01)
    assert abs(f[2]) < 0.05 and f[3] > 0  # the null near 217 GHz, an increment above it


@pytest.mark.parametrize("m500,z", [(3e14, 0.5), (1e15, 1.0)])
def test_pressure_profile_gives_the_arnaud_y_m_relation(m500, z):
    """Y_sph(R500) of the profile vs Arnaud et al. 2010's fit 10^-4.739 (M/3e14 h70^-1)^1.79 E(z)^2/3 h70^-1 Mpc²,
    and the projected map integrates to the spherical Y within 5 R500."""
    h70 = ph.COSMO.h / 0.7
    mass = m500 / (3e14 / h70)
    p500 = 1.65e-3 * ph.COSMO.efunc(z) ** (8 / 3) * mass ** (2 / 3) * h70**2
    r500_cm = cosmology.r500(m500, z) * ph.MPC_CM

    def y_sph(x_max):
        shell = integrate.quad(lambda x: 4 * np.pi * x**2 * ph.upp_shape(x), 0, x_max, limit=200)[0]
        return ph.SIGMA_T_OVER_MEC2 * p500 * mass**0.12 * shell * r500_cm**3 / ph.MPC_CM**2

    fit = 10**-4.739 * mass**1.79 * ph.COSMO.efunc(z) ** (2 / 3) / h70
    assert y_sph(1.0) == pytest.approx(fit, rel=0.05)
    theta = np.linspace(0, 5 * ph.theta500_arcmin(m500, z), 4000)
    y_cyl = np.trapezoid(2 * np.pi * theta * ph.compton_y(theta, m500, z), theta) * ph.ARCMIN**2
    y_cyl *= ph.COSMO.angular_diameter_distance(z).value ** 2
    assert y_cyl == pytest.approx(y_sph(5.0), rel=0.01)


def test_cmb_field_has_the_input_power():
    rng = np.random.default_rng(0)
    n, pix = 128, 0.5 * ph.ARCMIN
    ell = ph.ell_grid(n, pix)
    band = (ell > 1000) & (ell < 2000)
    measured = []
    for _ in range(8):
        field = ph.gaussian_random_field(n, pix, ph.cmb_cl, rng)
        power = np.abs(np.fft.fft2(field)) ** 2 * pix**2 / n**2  # flat-sky C_ℓ estimate
        measured.append(power[band].mean())
    assert np.mean(measured) == pytest.approx(ph.cmb_cl(ell[band]).mean(), rel=0.15)
    assert ph.cmb_dl(220) == pytest.approx(5750, rel=0.01)


def test_gaussians_conserve_flux_and_point_source_depth():
    image = np.zeros((31, 31))
    ph.add_gaussians(image, [15.3], [14.8], [100.0], 1.2)
    assert image.sum() == pytest.approx(100.0, rel=1e-6)
    # a source at the 5σ depth is detected at ≈5σ with PSF-weighted photometry
    psf = ph.add_gaussians(np.zeros((31, 31)), [15.0], [15.0], [1.0], ph.IR.psf_sigma_px()[0])
    flux = ph.mag_to_flux(ph.IR.depth5[0])
    snr = flux * np.sqrt((psf**2).sum()) / ph.IR.noise_sigma()[0]
    assert snr == pytest.approx(5.0, rel=0.1)


def test_galaxy_populations():
    assert ph.mstar_w1(0.5) == pytest.approx(16.30)
    assert np.all(np.diff(ph.mstar_w1([0.1, 0.5, 1.0, 1.5])) > 0)  # fainter with distance
    assert np.all(np.diff(ph.passive_w1w2([0.2, 0.8, 1.2])) > 0)    # redder at high z
    assert ph.richness(1e14) == pytest.approx(36.0)
    rng = np.random.default_rng(0)
    mags = ph.schechter_mags(20000, 16.0, -0.9, 13.0, 19.0, rng)
    frac = ph.schechter_fraction(16.0, -0.9, 13.0, 19.0, 13.0, 16.0)
    assert np.mean(mags < 16.0) == pytest.approx(frac, abs=0.01)
    radii = ph.projected_nfw_radii(20000, 3.0, 2.0, rng)
    assert np.mean(radii < 1.0) == pytest.approx(ph.fraction_inside(3.0, 1.0, 2.0), abs=0.01)


def test_cluster_sample_follows_the_mass_function():
    z, m = ph.sample_clusters(2000, np.random.default_rng(0), (0.1, 1.5), 1.5e14, 2e15)
    assert z.min() >= 0.1 and z.max() <= 1.5 and m.min() >= 1.5e14 and m.max() <= 2e15
    assert np.median(m) < 2.5e14  # steep mass function: most clusters near the threshold
    assert np.median(m[z > 1.0]) < np.median(m[z < 0.5])  # massive clusters are rarer at high z
