"""Tests for astrozoo.data.images: Sérsic flux, PSF convolution, noise, crop/pad."""

import numpy as np
import pytest
from scipy.special import gammainc, gammaincinv

from astrozoo.data.images import (add_sky_noise, convolve_psf, crop_or_pad, gaussian_psf_kernel,
                                  sersic_image, sersic_total_flux)


@pytest.mark.parametrize("n", [0.5, 1.0, 2.5, 4.0])
def test_sersic_half_light_radius_holds_half_the_flux(n):
    r_eff, ellip, theta = 15.0, 0.3, 0.6
    image = sersic_image((161, 161), flux=1.0, r_eff_px=r_eff, n=n, ellip=ellip, theta=theta)
    y, x = np.mgrid[:161, :161] - 80.0
    major = x * np.cos(theta) + y * np.sin(theta)
    minor = -x * np.sin(theta) + y * np.cos(theta)
    inside = np.hypot(major, minor / (1 - ellip)) <= r_eff
    assert image[inside].sum() == pytest.approx(0.5, abs=0.02)


def test_sersic_flux_and_amplitude_agree():
    image = sersic_image((201, 201), flux=3.0, r_eff_px=8.0, n=1.0, ellip=0.2)
    assert image.sum() == pytest.approx(3.0, rel=0.01)  # exponential: ~all light inside 12 r_e
    amplitude = 3.0 / sersic_total_flux(1.0, 8.0, 1.0, 0.2)
    same = sersic_image((201, 201), amplitude=amplitude, r_eff_px=8.0, n=1.0, ellip=0.2)
    np.testing.assert_allclose(image, same)
    with pytest.raises(ValueError, match="exactly one"):
        sersic_image((10, 10), r_eff_px=2.0, n=1.0)


def test_oversampled_centre_fixes_the_cusp():
    """A small n=4 source centred on a pixel: sampling the cusp at r=0 alone overestimates the flux ~10x."""
    coarse = sersic_image((121, 121), flux=1.0, r_eff_px=3.0, n=4.0, oversample=1)
    fine = sersic_image((121, 121), flux=1.0, r_eff_px=3.0, n=4.0, oversample=10)
    assert coarse.sum() > 5
    b_n = gammaincinv(8.0, 0.5)
    y, x = np.mgrid[:121, :121] - 60.0
    inside = np.hypot(x, y) <= 60
    assert fine[inside].sum() == pytest.approx(gammainc(8.0, b_n * 20 ** 0.25), rel=0.01)


def test_psf_convolution_conserves_flux_and_widens():
    image = np.zeros((101, 101))
    image[50, 50] = 5.0
    out = convolve_psf(image, fwhm_arcsec=1.21, pixscale=0.25)
    assert out.sum() == pytest.approx(5.0, rel=1e-6)
    # the FWHM of the response is the PSF's: 1.21"/0.25" = 4.84 px
    half = out[50] >= out[50].max() / 2
    assert half.sum() in (4, 5, 6)
    kernel = gaussian_psf_kernel(1.21, 0.25)
    assert kernel.array.sum() == pytest.approx(1.0)
    assert kernel.shape[0] % 2 == 1


def test_psf_per_channel():
    cube = np.zeros((3, 61, 61))
    cube[:, 30, 30] = 1.0
    out = convolve_psf(cube, [1.31, 1.21, 1.11], 0.25)
    assert out.shape == cube.shape
    np.testing.assert_allclose(out.sum(axis=(1, 2)), 1.0, rtol=1e-6)
    assert out[0, 30, 30] < out[1, 30, 30] < out[2, 30, 30]  # wider PSF, lower peak


def test_sky_noise_per_channel_and_seeded():
    cube = np.zeros((3, 200, 200))
    noisy = add_sky_noise(cube, [1 / 25, 1 / 19, 1 / 15], rng=1)
    np.testing.assert_allclose(noisy.std(axis=(1, 2)), [1 / 25, 1 / 19, 1 / 15], rtol=0.03)
    np.testing.assert_array_equal(noisy, add_sky_noise(cube, [1 / 25, 1 / 19, 1 / 15], rng=1))
    with pytest.raises(ValueError, match="sigmas"):
        add_sky_noise(cube, [0.1, 0.2])


@pytest.mark.parametrize("shape,size", [((3, 300, 250), 224), ((3, 100, 90), 224), ((3, 300, 90), 224),
                                        ((64, 64), 31), ((3, 224, 224), (128, 96))])
def test_crop_or_pad_shapes(shape, size):
    image = np.random.default_rng(0).random(shape)
    out = crop_or_pad(image, size)
    want = (size, size) if np.isscalar(size) else size
    assert out.shape == shape[:-2] + want
    assert out.dtype == image.dtype
    # the centre pixel stays the centre pixel
    assert out[..., want[0] // 2, want[1] // 2].tolist() == image[..., shape[-2] // 2, shape[-1] // 2].tolist()


def test_crop_then_pad_keeps_the_centre_and_zero_pads():
    image = np.ones((2, 50, 50))
    out = crop_or_pad(crop_or_pad(image, 30), 50)
    assert out.sum() == 2 * 30 * 30
    assert out[:, 25, 25].tolist() == [1, 1]
    assert out[:, 0, 0].tolist() == [0, 0]
