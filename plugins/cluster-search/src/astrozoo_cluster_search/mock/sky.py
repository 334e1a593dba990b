"""Rendering mock skies of any size: WISE-like W1/W2 images and ACT-like f090/f150 maps.

A *scene* is a list of objects placed on a canvas (pixel coordinates, centres at integers);
a cutout is a scene whose object sits near the centre, a sky field one with many objects. The
same code draws both, so a network trained on cutouts meets the same sky when it is slid over
a field. Backgrounds (field galaxies and stars; the CMB) are drawn for every canvas.
"""

from __future__ import annotations

import numpy as np

from astrozoo.data import cosmology
from astrozoo.data.images import convolve_psf, sersic_image
from astrozoo_cluster_search.conventions import CLASSES  # noqa: F401
from astrozoo_cluster_search.mock import physics as ph

IR_SOURCE_KINDS = ("galaxy", "star", "agn")
MW_SOURCE_KINDS = ("radio", "dusty")

# Number counts at high Galactic latitude, dN/dm = 10^(a + b (m − 16)) deg⁻² mag⁻¹ in W1 (Vega):
# galaxies a = 3.5, b = 0.35 (rising counts of Jarrett et al. 2017, to W1 = 19.5, well below the
# detection limit, so that faint galaxies make a lumpy confusion background); stars a = 3.0,
# b = 0.12. The galaxy density of each field is scaled by a lognormal factor (σ_ln = 0.3, counts
# in arcminute cells; large-scale structure) — overdense random fields are the IR false positives.
GALAXY_COUNTS = (3.5, 0.35, 12.0, 19.5)
STAR_COUNTS = (3.0, 0.12, 8.0, 19.0)
FIELD_VARIANCE = 0.3
AGN_FRACTION = 0.05  # of field galaxies, with W1−W2 ≥ 0.8 (Stern et al. 2012)
# Members of clusters that are AGN (W1−W2 0.8–1.5): 2% (1+z)^2, at most 15% — the AGN fraction
# of cluster galaxies rises steeply with redshift (Martini et al. 2009; Galametz et al. 2009 find
# IRAC-selected AGN overdense in clusters at z > 1).
MEMBER_AGN = (0.02, 2.0, 0.15)


# -- infrared ----------------------------------------------------------------------------------------
def ir_field_sources(shape, rng: np.random.Generator, band: ph.IRBand = ph.IR, star_density: float = 1.0) -> dict:
    """Field galaxies, faint AGN and stars over a canvas of ``shape`` pixels (plus a margin);
    ``star_density`` scales the star counts (the Galactic latitude of the field)."""
    ny, nx = shape
    margin = 8
    area = (nx + 2 * margin) * (ny + 2 * margin) * (band.pixscale / 3600) ** 2
    boost = np.exp(rng.normal(-FIELD_VARIANCE**2 / 2, FIELD_VARIANCE))
    gal = ph.number_counts(rng, area * boost, *GALAXY_COUNTS)
    colour = np.clip(-0.1 + 0.12 * (gal - 14), -0.2, 0.5) + rng.normal(0, 0.15, gal.size)
    agn = rng.random(gal.size) < AGN_FRACTION
    colour[agn] = rng.uniform(0.8, 1.5, agn.sum())
    stars = ph.number_counts(rng, area * star_density, *STAR_COUNTS)
    mags = np.concatenate([gal, stars])
    colours = np.concatenate([colour, rng.normal(0.0, 0.05, stars.size)])
    n = mags.size
    return {"x": rng.uniform(-margin, nx + margin, n), "y": rng.uniform(-margin, ny + margin, n),
            "w1": mags, "w1w2": colours}


def cluster_members(z: float, m500: float, x0: float, y0: float, rng: np.random.Generator,
                    band: ph.IRBand = ph.IR, alpha: float = -0.9, concentration: float = 3.0) -> tuple[dict, dict]:
    """Members of a cluster at (x0, y0): (point-like members, the BCG as an extended source).

    Projected NFW positions (concentration 3 in units of R500, truncated at 2 R500; Lin et al.
    2004), Schechter magnitudes (α = −0.9) from m*−3 to m*+3 around ``mstar_w1(z)`` with
    N(<m*+2, <R500) = ``richness(M500)`` on average, red-sequence colours ``passive_w1w2(z)``
    ± 0.05, of which a fraction :data:`MEMBER_AGN` are AGN colours; a BCG 1.5 ± 0.3 mag brighter
    than m* with a de Vaucouleurs profile (r_e = 15 kpc). Works for groups (M500 ~ 3e13) as well.
    """
    mstar = float(ph.mstar_w1(z))
    lo, hi = mstar - 3, mstar + 3
    inside = ph.fraction_inside(concentration, 1.0, 2.0)
    bright = ph.schechter_fraction(mstar, alpha, lo, hi, lo, mstar + 2)
    n = rng.poisson(ph.richness(m500) / (inside * bright))
    radius = ph.projected_nfw_radii(n, concentration, 2.0, rng)
    r500_px = cosmology.r500(m500, z) * cosmology.arcsec_per_mpc(z) / band.pixscale
    phi = rng.uniform(0, 2 * np.pi, n)
    members = {"x": x0 + radius * r500_px * np.cos(phi), "y": y0 + radius * r500_px * np.sin(phi),
               "w1": ph.schechter_mags(n, mstar, alpha, lo, hi, rng),
               "w1w2": ph.passive_w1w2(z) + rng.normal(0, 0.05, n)}
    a, slope, most = MEMBER_AGN
    agn = rng.random(n) < min(a * (1 + z) ** slope, most)
    members["w1w2"][agn] = rng.uniform(0.8, 1.5, agn.sum())
    bcg = {"x": x0, "y": y0, "w1": mstar - rng.normal(1.5, 0.3), "w1w2": float(ph.passive_w1w2(z)),
           "r_eff_px": 0.015 * cosmology.arcsec_per_mpc(z) / band.pixscale, "n": 4.0,
           "ellip": rng.uniform(0.05, 0.35), "theta": rng.uniform(0, np.pi)}
    return members, bcg


def ir_source(kind: str, x0: float, y0: float, rng: np.random.Generator, band: ph.IRBand = ph.IR) -> tuple[dict, dict | None]:
    """One bright catalogue source: a nearby galaxy (extended Sérsic, W1 9–13), a star (point,
    W1 7–14, W1−W2 ≈ 0) or an AGN (point, W1 12–16, W1−W2 0.8–1.5; Stern et al. 2012)."""
    if kind == "galaxy":
        ext = {"x": x0, "y": y0, "w1": rng.uniform(9, 13), "w1w2": rng.normal(0.0, 0.1),
               "r_eff_px": rng.uniform(3, 15) / band.pixscale, "n": rng.uniform(1, 4),
               "ellip": rng.uniform(0, 0.6), "theta": rng.uniform(0, np.pi)}
        return _empty(), ext
    if kind == "star":
        return {"x": [x0], "y": [y0], "w1": [rng.uniform(7, 14)], "w1w2": [rng.normal(0, 0.05)]}, None
    if kind == "agn":
        return {"x": [x0], "y": [y0], "w1": [rng.uniform(12, 16)], "w1w2": [rng.uniform(0.8, 1.5)]}, None
    raise ValueError(f"unknown IR source kind {kind!r}")


def _empty() -> dict:
    return {"x": [], "y": [], "w1": [], "w1w2": []}


def _concat(parts: list[dict]) -> dict:
    return {k: np.concatenate([np.atleast_1d(np.asarray(p[k], float)) for p in parts]) for k in ("x", "y", "w1", "w1w2")}


def render_ir(shape, points: list[dict], extended: list[dict], rng: np.random.Generator,
              band: ph.IRBand = ph.IR, noise: bool = True, noise_scale: float = 1.0,
              star_density: float = 1.0) -> np.ndarray:
    """(2, H, W) W1/W2 image in nanomaggies: the field background, the given point-like sources
    and extended (Sérsic) sources, each band convolved with its Gaussian PSF, plus sky noise
    (``noise_scale`` × the nominal σ: the survey's depth at this place)."""
    ny, nx = shape
    pts = _concat([ir_field_sources(shape, rng, band, star_density), *points])
    image = np.zeros((2, ny, nx))
    sigma = band.psf_sigma_px()
    flux_w1 = ph.mag_to_flux(pts["w1"])
    for c, flux in enumerate((flux_w1, ph.mag_to_flux(pts["w1"] - pts["w1w2"]))):
        ph.add_gaussians(image[c], pts["x"], pts["y"], flux, sigma[c])
    for src in extended:
        profile = sersic_image((ny, nx), flux=1.0, r_eff_px=max(src["r_eff_px"], 0.3), n=src["n"],
                               x0=src["x"], y0=src["y"], ellip=src["ellip"], theta=src["theta"])
        fluxes = ph.mag_to_flux([src["w1"], src["w1"] - src["w1w2"]])
        image += convolve_psf(np.stack([profile * f for f in fluxes]), band.fwhm, band.pixscale)
    if noise:
        image += rng.standard_normal(image.shape) * noise_scale * band.noise_sigma()[:, None, None]
    return image.astype(np.float32)


# -- microwave ---------------------------------------------------------------------------------------
def microwave_source(kind: str, rng: np.random.Generator) -> tuple[float, float]:
    """(S_150 [mJy], spectral index α, S_ν ∝ ν^α) of a catalogue point source: radio (synchrotron,
    S_150 from dN/dS ∝ S^−2 over 10–1000 mJy, α = −0.7 ± 0.3) or dusty (thermal dust, S_150 from
    dN/dS ∝ S^−3 over 8–100 mJy, α = 3.0 ± 0.3); cf. Marsden et al. 2014; Gralla et al. 2020."""
    if kind == "radio":
        s = _power_law(rng, 10.0, 1000.0, 2.0)
        return s, rng.normal(-0.7, 0.3)
    if kind == "dusty":
        s = _power_law(rng, 8.0, 100.0, 3.0)
        return s, rng.normal(3.0, 0.3)
    raise ValueError(f"unknown microwave source kind {kind!r}")


def _power_law(rng, lo, hi, slope):
    """One draw from dN/dS ∝ S^−slope on [lo, hi]."""
    a = 1 - slope
    return float((lo**a + rng.random() * (hi**a - lo**a)) ** (1 / a))


def render_microwave(shape, clusters: list[dict], sources: list[dict], rng: np.random.Generator,
                     band: ph.MicrowaveBand = ph.MICROWAVE, noise: bool = True, pad: int = 2,
                     noise_scale: float = 1.0, faint_sources: bool = False) -> np.ndarray:
    """(2, H, W) f090/f150 maps in μK_CMB: lensed-free primary CMB (a Gaussian random field of
    ``cmb_cl`` on a ``pad``× larger canvas, cropped, so modes larger than the cutout are present)
    plus the tSZ of each cluster (Arnaud et al. 2010 profile), both convolved with the channel's
    beam, plus point sources (beam-shaped) and noise: white (``noise_scale`` × the nominal depth)
    plus atmospheric 1/f noise, common to both channels (:func:`physics.atmosphere_cl`).
    ``faint_sources`` adds the background of sources below the catalogue's limit
    (:data:`FAINT_SOURCES`).

    ``clusters``: dicts with x, y [px], z, m500; ``sources``: dicts with x, y, s150 [mJy], alpha.
    """
    ny, nx = shape
    n = int(2 ** np.ceil(np.log2(pad * max(ny, nx))))
    pix = band.pixscale * ph.ARCMIN
    off_y, off_x = (n - ny) // 2, (n - nx) // 2
    cmb = ph.gaussian_random_field(n, pix, ph.cmb_cl, rng)
    ymap = np.zeros((n, n))
    gy, gx = np.mgrid[0:n, 0:n]
    for cl in clusters:
        theta = np.hypot(gx - (cl["x"] + off_x), gy - (cl["y"] + off_y)) * band.pixscale
        ymap += ph.compton_y(theta, cl["m500"], cl["z"])
    maps = np.zeros((2, ny, nx))
    omega_pix = pix**2
    if faint_sources:
        sources = sources + faint_source_background(shape, band, rng)
    for c, (nu, fwhm) in enumerate(zip(band.freqs, band.fwhm)):
        sky = cmb + ph.tsz_f(nu) * ph.T_CMB_UK * ymap
        sky = np.fft.ifft2(np.fft.fft2(sky) * ph.beam_transfer(n, pix, fwhm)).real
        maps[c] = sky[off_y:off_y + ny, off_x:off_x + nx]
        if sources:
            s = np.array([src["s150"] * (nu / 150.0) ** src["alpha"] for src in sources]) * 1e-3  # Jy
            flux = s / ph.db_dt(nu) * 1e6 / omega_pix  # μK summed over pixels
            ph.add_gaussians(maps[c], [src["x"] for src in sources], [src["y"] for src in sources], flux,
                             band.beam_sigma_px()[c])
    if noise:
        maps += rng.standard_normal(maps.shape) * noise_scale * band.noise_sigma()[:, None, None]
        common = ph.gaussian_random_field(n, pix, ph.atmosphere_cl, rng)[off_y:off_y + ny, off_x:off_x + nx]
        maps += noise_scale * np.asarray(band.depth)[:, None, None] / band.depth[0] * \
            np.asarray(ph.ATMOSPHERE["amplitude"])[:, None, None] * common
    return maps.astype(np.float32)


# Sources below a catalogue's limit, everywhere: radio N(>1 mJy) ≈ 10 deg⁻² and dusty
# N(>1 mJy) ≈ 20 deg⁻² at 150 GHz, dN/dS ∝ S^−2 up to 8 mJy (approximations to the counts of
# de Zotti et al. 2010 and Mocanu et al. 2013 (SPT); Gralla et al. 2020 (ACT)).
FAINT_SOURCES = {"radio": (10.0, -0.7), "dusty": (20.0, 3.0)}  # kind: (N(>1 mJy) per deg², α)


def faint_source_background(shape, band: ph.MicrowaveBand, rng: np.random.Generator) -> list[dict]:
    ny, nx = shape
    area = nx * ny * (band.pixscale / 60) ** 2
    out = []
    for density, alpha in FAINT_SOURCES.values():
        for _ in range(rng.poisson(density * area)):
            out.append({"x": rng.uniform(0, nx - 1), "y": rng.uniform(0, ny - 1),
                        "s150": _power_law(rng, 1.0, 8.0, 2.0), "alpha": rng.normal(alpha, 0.3)})
    return out
