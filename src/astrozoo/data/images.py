"""Image physics shared by the image tasks: Sérsic profiles, Gaussian PSFs, sky noise, crop/pad.

Conventions: images are numpy arrays indexed ``[y, x]`` (or ``[channel, y, x]``); a pixel's
centre sits at integer coordinates, so the centre of an ``(ny, nx)`` image is
``((nx - 1) / 2, (ny - 1) / 2)``. Angles are radians, counter-clockwise from the +x axis.

References: Sérsic (1963); Graham & Driver (2005, PASA 22, 118) for the total flux of a
Sérsic profile; astropy.modeling ``Sersic2D`` and astropy.convolution do the work.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from astropy.convolution import Gaussian2DKernel, convolve_fft
from astropy.modeling.models import Sersic2D
from astropy.stats import gaussian_fwhm_to_sigma
from scipy.special import gamma, gammaincinv

__all__ = ["sersic_total_flux", "sersic_image", "gaussian_psf_kernel", "convolve_psf",
           "add_sky_noise", "crop_or_pad"]


def sersic_total_flux(amplitude: float, r_eff: float, n: float, ellip: float = 0.0) -> float:
    """Total flux of an elliptical Sérsic profile with surface brightness ``amplitude`` at ``r_eff``.

    F = 2π n q r_e² I_e e^{b_n} Γ(2n) / b_n^{2n} with q = 1 − ellip (Graham & Driver 2005, eq. 4);
    ``r_eff`` is the semi-major half-light radius, as in astropy's ``Sersic2D``.
    """
    b_n = gammaincinv(2.0 * n, 0.5)
    return float(2 * np.pi * n * (1 - ellip) * r_eff**2 * amplitude * np.exp(b_n) * gamma(2 * n) / b_n ** (2 * n))


def sersic_image(shape: tuple[int, int], *, amplitude: float | None = None, flux: float | None = None,
                 r_eff_px: float, n: float, x0: float | None = None, y0: float | None = None,
                 ellip: float = 0.0, theta: float = 0.0, oversample: int = 10,
                 oversample_radius: int = 3) -> np.ndarray:
    """Sérsic surface brightness sampled on a pixel grid (astropy ``Sersic2D``).

    Give either ``amplitude`` (surface brightness at ``r_eff_px``) or ``flux`` (analytic total
    flux over the infinite plane; the image holds less when the profile spills past its edge).
    The profile is sampled at pixel centres, except the central ``(2·oversample_radius + 1)²``
    pixels around (x0, y0), which are averaged over ``oversample²`` sub-pixels: a cuspy n≈4
    centre would otherwise be badly under- or over-estimated. ``oversample=1`` turns this off.
    """
    if (amplitude is None) == (flux is None):
        raise ValueError("sersic_image: give exactly one of amplitude or flux")
    ny, nx = shape
    x0 = (nx - 1) / 2 if x0 is None else x0
    y0 = (ny - 1) / 2 if y0 is None else y0
    if flux is not None:
        amplitude = flux / sersic_total_flux(1.0, r_eff_px, n, ellip)
    params = (amplitude, r_eff_px, n, x0, y0, ellip, theta)
    y, x = np.mgrid[0:ny, 0:nx].astype(float)
    image = Sersic2D.evaluate(x, y, *params)

    xc, yc = int(round(x0)), int(round(y0))
    xs = slice(max(xc - oversample_radius, 0), max(min(xc + oversample_radius + 1, nx), 0))
    ys = slice(max(yc - oversample_radius, 0), max(min(yc + oversample_radius + 1, ny), 0))
    if oversample > 1 and xs.stop > xs.start and ys.stop > ys.start:
        offsets = (np.arange(oversample) + 0.5) / oversample - 0.5
        sub_y = np.arange(ys.start, ys.stop)[:, None, None, None] + offsets[None, None, :, None]
        sub_x = np.arange(xs.start, xs.stop)[None, :, None, None] + offsets[None, None, None, :]
        image[ys, xs] = Sersic2D.evaluate(sub_x, sub_y, *params).mean(axis=(2, 3))
    return image


def gaussian_psf_kernel(fwhm_arcsec: float, pixscale: float) -> Gaussian2DKernel:
    """Normalised circular Gaussian PSF kernel for a FWHM in arcsec at ``pixscale`` arcsec/pixel.

    The kernel array (``.array``, odd size ≈ 8σ) can be passed as ``psf=`` to statmorph.
    """
    sigma_px = fwhm_arcsec / pixscale * gaussian_fwhm_to_sigma
    return Gaussian2DKernel(sigma_px)


def convolve_psf(image: np.ndarray, fwhm_arcsec: float | Sequence[float], pixscale: float) -> np.ndarray:
    """Convolve with a Gaussian PSF (astropy ``convolve_fft``, zero outside the image, kernel normalised).

    A 2-D image takes one FWHM; a channel-first ``(C, H, W)`` image takes one FWHM or one per channel.
    Flux is conserved except for light scattered past the image edge.
    """
    image = np.asarray(image, dtype=float)
    if image.ndim == 2:
        return convolve_fft(image, gaussian_psf_kernel(float(fwhm_arcsec), pixscale),
                            boundary="fill", fill_value=0.0, normalize_kernel=True)
    if image.ndim != 3:
        raise ValueError(f"convolve_psf: expected a (H, W) or (C, H, W) image, got shape {image.shape}")
    fwhms = np.broadcast_to(np.asarray(fwhm_arcsec, dtype=float), (image.shape[0],))
    return np.stack([convolve_psf(channel, fwhm, pixscale) for channel, fwhm in zip(image, fwhms)])


def add_sky_noise(image: np.ndarray, sigma: float | Sequence[float],
                  rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Return ``image`` plus Gaussian sky noise of standard deviation ``sigma`` (one per channel allowed).

    For a ``(C, H, W)`` image ``sigma`` may be a sequence of C values. ``rng`` is a numpy Generator
    or a seed.
    """
    image = np.asarray(image)
    rng = np.random.default_rng(rng)
    sigma = np.asarray(sigma, dtype=float)
    if sigma.ndim == 1:
        if image.ndim != 3 or len(sigma) != image.shape[0]:
            raise ValueError(f"add_sky_noise: {len(sigma)} sigmas for an image of shape {image.shape}")
        sigma = sigma[:, None, None]
    return image + rng.standard_normal(image.shape) * sigma


def crop_or_pad(image: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Centre-crop or zero-pad the last two axes (y, x) to ``size``; leading (channel) axes are kept.

    Works per axis, so one axis may be cropped while the other is padded. The pixel at index
    ``H // 2`` stays at index ``size // 2`` (so crop then pad back returns the centre unchanged).
    """
    image = np.asarray(image)
    if image.ndim < 2:
        raise ValueError(f"crop_or_pad: expected at least 2 dimensions, got shape {image.shape}")
    height, width = (size, size) if np.isscalar(size) else size
    out = np.zeros(image.shape[:-2] + (height, width), dtype=image.dtype)
    src, dst = [], []
    for have, want in zip(image.shape[-2:], (height, width)):
        shift = have // 2 - want // 2  # source index of output index 0
        lo, hi = max(shift, 0), min(have, shift + want)
        src.append(slice(lo, hi))
        dst.append(slice(lo - shift, hi - shift))
    out[(..., *dst)] = image[(..., *src)]
    return out
