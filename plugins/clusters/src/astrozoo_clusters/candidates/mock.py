"""Mock X-CLASS cluster candidates: XMM-like X-ray and DSS2-like optical cutouts (Kosiba et al. 2020).

Every candidate is a 7′×7′ field centred on an X-ray detection, rendered as an RGB-like image
[empty, optical, X-ray] of ``size``² pixels (356 in the paper, 1.18″/px; a smaller size keeps the
7′ field with larger pixels) and stored as 8-bit values exactly like the public PNGs.

Classes (the public data set's order): 0 low-z cluster (z < 0.3), 1 high-z cluster (z ≥ 0.3),
2 nearby galaxy, 3 point source, 4 other (artefacts).

**X-ray (XMM-Newton EPIC-like).** Counts are Poisson draws of (source ⊛ PSF) × exposure plus a
flat background of 1.2×10⁻⁶ counts s⁻¹ arcsec⁻², with 8–30 ks exposures. The PSF is a King
profile [1 + (r/r0)²]^−1.6 with r0 = 5.5″ on axis, widened by up to 60 % off axis (after the EPIC
calibration, Read et al. 2011). Clusters: a β-model (Cavaliere & Fusco-Femiano 1976) with
r_c = 0.15 R500 and β ≈ 2/3 at redshift 0.05–0.3 (low-z) or 0.3–1.1 (high-z); M500 from
10^13.3 to 10^14.8 M⊙, exponentially distributed in log M (scale 0.35 dex: mostly groups, as a
steep mass function gives); L_X(0.5–2 keV) = 5×10⁴³ (M500 / 3×10¹⁴ M⊙)^1.6 E(z)² erg s⁻¹ with
0.25 dex scatter (after Pratt et al. 2009); 10¹² counts per erg cm⁻² (all EPIC cameras, soft
band); and the survey's selection: only clusters with ≥ 60 counts are kept. Point sources:
PSF-shaped, 40–3000 counts, often far off axis (PSF up to 2.9× wider) — which is why the pipeline
took them for extended. Nearby galaxies: 40–800 counts of extended emission following the optical
light (hot halo, X-ray binaries), sometimes a nucleus. Others: detector artefacts — a chip edge
across the source, two to four blended point sources ('split' detections), an out-of-time streak
of a bright source, or a background fluctuation on a CCD gap. Any field may hold serendipitous
point sources and a CCD gap; the exposure is zero in gaps and beyond edges.

**Optical (DSS2 R-like).** Seeing 2–3.5″ FWHM (Gaussian), sky noise giving 5σ at R = 20.5 for a
point source, photographic saturation (asinh stretch clipped at 1). Field stars (≈14 per field,
N(<m) ∝ 10^0.3m) and field galaxies (≈40, N(<m) ∝ 10^0.45m) everywhere. Cluster members: a
Schechter luminosity function (M*_R = −21.7, α = −1) down to M* + 2.5, N ∝ M500^0.9, a BCG at
M_R ≈ −23.2, projected King-like positions with a = 0.15 R500, de Vaucouleurs profiles with
r_e ∝ L^0.55, apparent magnitudes with the Planck15 distance modulus and a K-correction of
2.5 z mag. So low-z clusters show a red-sequence galaxy overdensity and high-z ones, whose
galaxies fall below the plate limit, show none — the physical reason the optical channel separates
the two. Point sources mostly have a QSO (55 %) or a star (30 %) counterpart; nearby galaxies
are bright Sérsic galaxies (R = 9.5–14).

Display: X-ray counts are smoothed with a 4″ Gaussian and shown as asinh(surface brightness /
background); the optical as asinh(flux / noise); both fixed stretches (no per-image scaling).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve

from astrozoo.data import cosmology
from astrozoo.data.images import gaussian_psf_kernel, sersic_image
from astrozoo_clusters.candidates.conventions import CLASSES, CLUSTER_CLASSES, PAPER_SIZE, SHORT  # noqa: F401

VERSION = 3  # bump when the generator changes: cached files carry it in their names
FIELD_ARCSEC = 420.0
DEFAULT_FRACTIONS = (0.40, 0.26, 0.09, 0.12, 0.13)  # ≈ 1130 clusters : 577 others in the expert set
OTHER_KINDS = ("edge", "split", "streak", "spurious")

BACKGROUND = 1.2e-6  # counts / s / arcsec²
ECF = 1e12  # counts per erg cm⁻² (EPIC, 0.5–2 keV)
KING_R0, KING_ALPHA = 5.5, 1.6
MAG_LIMIT = 20.5  # 5σ point source
ZERO_POINT = 25.0  # plate flux units: m = 25 − 2.5 log10 f
M_STAR, BCG_MAG = -21.7, -23.2


class Field:
    """Pixel grid of one cutout: coordinates in arcsec from the centre."""

    def __init__(self, size: int):
        self.size = size
        self.pix = FIELD_ARCSEC / size
        c = (np.arange(size) - (size - 1) / 2) * self.pix
        self.x, self.y = np.meshgrid(c, c)

    def to_pix(self, x_arcsec, y_arcsec):
        return (np.asarray(x_arcsec) / self.pix + (self.size - 1) / 2,
                np.asarray(y_arcsec) / self.pix + (self.size - 1) / 2)


# -- cosmology (Planck15, interpolated on a redshift grid) ------------------------------------------
def cosmo_at(z: float) -> dict:
    """Angular scale, distances and ρ_c at z (:func:`astrozoo.data.cosmology.tabulated`)."""
    return cosmology.tabulated(z, (0.01, 1.5, 300))


# -- X-ray ----------------------------------------------------------------------------------------
def king_psf(field: Field, blur: float) -> np.ndarray:
    half = int(min(field.size // 2, np.ceil(60 / field.pix)))
    r = np.hypot(*np.meshgrid(np.arange(-half, half + 1), np.arange(-half, half + 1))) * field.pix
    k = (1 + (r / (KING_R0 * blur)) ** 2) ** -KING_ALPHA
    return k / k.sum()


def beta_model(field: Field, x0, y0, theta_c, beta, ellip=0.0, angle=0.0):
    dx, dy = field.x - x0, field.y - y0
    q = 1 - ellip
    xr, yr = dx * np.cos(angle) + dy * np.sin(angle), -dx * np.sin(angle) + dy * np.cos(angle)
    r2 = (xr**2 * q + yr**2 / q) / theta_c**2
    img = (1 + r2) ** (-3 * beta + 0.5)
    return img / img.sum()


def point(field: Field, x0, y0) -> np.ndarray:
    """A unit source deposited bilinearly at sub-pixel position (x0, y0) arcsec."""
    img = np.zeros((field.size, field.size))
    px, py = field.to_pix(x0, y0)
    i0, j0 = int(np.floor(py)), int(np.floor(px))
    fy, fx = py - i0, px - j0
    for di, wy in ((0, 1 - fy), (1, fy)):
        for dj, wx in ((0, 1 - fx), (1, fx)):
            i, j = i0 + di, j0 + dj
            if 0 <= i < field.size and 0 <= j < field.size:
                img[i, j] += wy * wx
    return img


def sersic_stamp(field: Field, x0, y0, re_arcsec, n, q=1.0, angle=0.0) -> np.ndarray:
    """A Sérsic profile (circularised r_e ``re_arcsec``, axis ratio ``q``) at (x0, y0) arcsec:
    :func:`astrozoo.data.images.sersic_image` on a local stamp, normalised to unit flux over it."""
    img = np.zeros((field.size, field.size))
    r_major = max(re_arcsec / field.pix, 0.05) / np.sqrt(q)  # semi-major r_e in pixels
    half = int(np.clip(np.ceil(6 * r_major) + 2, 2, field.size))
    px, py = field.to_pix(x0, y0)
    ic, jc = int(round(py)), int(round(px))
    i_lo, i_hi = max(ic - half, 0), min(ic + half + 1, field.size)
    j_lo, j_hi = max(jc - half, 0), min(jc + half + 1, field.size)
    if i_lo >= i_hi or j_lo >= j_hi:
        return img
    stamp = sersic_image((i_hi - i_lo, j_hi - j_lo), amplitude=1.0, r_eff_px=r_major, n=n,
                         x0=px - j_lo, y0=py - i_lo, ellip=1 - q, theta=angle)
    total = stamp.sum()
    if total > 0:
        img[i_lo:i_hi, j_lo:j_hi] = stamp / total
    return img


def cluster_xray(rng, field: Field, z: float, m500: float, vignetting: float, exposure: float, small_core=1.0):
    """(unit-normalised β-model image, counts, θc in arcsec) of a cluster at redshift z."""
    c = cosmo_at(z)
    r500 = cosmology.r500(m500, unit="kpc", rho_c=c["rho_c"])
    theta_c = 0.15 * r500 * small_core * 10 ** rng.normal(0, 0.15) / c["kpc_per_arcsec"]
    lx = 5e43 * (m500 / 3e14) ** 1.6 * c["efunc"] ** 2 * 10 ** rng.normal(0, 0.25)
    counts = lx / (4 * np.pi * c["dl_cm"] ** 2) * ECF * exposure * vignetting
    model = beta_model(field, *rng.normal(0, 3, 2), theta_c, np.clip(rng.normal(0.67, 0.05), 0.5, 0.85),
                       rng.uniform(0, 0.3), rng.uniform(0, np.pi))
    return model, counts, theta_c


# -- optical --------------------------------------------------------------------------------------
def mag_to_flux(m):
    """Plate flux units with zero point :data:`ZERO_POINT`."""
    return cosmology.mag_to_flux(m, ZERO_POINT)


def schechter_mags(rng, n: int, m_star=M_STAR, alpha=-1.0, depth=2.5) -> np.ndarray:
    """Absolute magnitudes from a Schechter function between M* − 1.5 and M* + depth (rejection)."""
    out = []
    while len(out) < n:
        M = rng.uniform(m_star - 1.5, m_star + depth, 4 * n + 10)
        L = 10 ** (-0.4 * (M - m_star))
        p = L ** (alpha + 1) * np.exp(-L)
        keep = rng.random(len(M)) < p / p.max()
        out.extend(M[keep])
    return np.asarray(out[:n])


class OpticalCanvas:
    """Pre-seeing flux image; ``finish`` convolves with the seeing and adds plate noise."""

    def __init__(self, field: Field, rng):
        self.field, self.rng = field, rng
        self.flux = np.zeros((field.size, field.size))
        self.seeing = rng.uniform(2.0, 3.5)  # FWHM arcsec

    def star(self, x, y, mag):
        self.flux += mag_to_flux(mag) * point(self.field, x, y)

    def galaxy(self, x, y, mag, re, n, q=1.0, angle=0.0):
        self.flux += mag_to_flux(mag) * sersic_stamp(self.field, x, y, re, n, q, angle)

    def field_sources(self):
        rng, half = self.rng, FIELD_ARCSEC / 2
        for _ in range(rng.poisson(14)):
            self.star(*rng.uniform(-half, half, 2), 10 + np.log10(1 + rng.random() * (10 ** 3.3 - 1)) / 0.3)
        for _ in range(rng.poisson(40)):
            mag = 14 + np.log10(1 + rng.random() * (10 ** (0.45 * 7.5) - 1)) / 0.45
            self.galaxy(*rng.uniform(-half, half, 2), mag, 10 ** rng.uniform(-0.2, 0.3) * (1 + 0.3 * max(19 - mag, 0)),
                        rng.choice([1.0, 4.0]), rng.uniform(0.3, 1), rng.uniform(0, np.pi))

    def finish(self) -> np.ndarray:
        kernel = gaussian_psf_kernel(self.seeing, self.field.pix).array
        image = fftconvolve(self.flux, kernel, mode="same")
        sigma_psf = self.seeing / 2.3548
        noise_1 = mag_to_flux(MAG_LIMIT) / (5 * np.sqrt(4 * np.pi * sigma_psf**2))  # per arcsec
        noise = noise_1 * self.field.pix
        image = image + self.rng.normal(0, noise, image.shape)
        return np.clip(np.arcsinh(image / noise + 2.0) / np.arcsinh(300.0), 0, 1)  # sky pedestal, plate saturation


def cluster_members(canvas: OpticalCanvas, rng, z: float, m500: float, centre):
    c = cosmo_at(z)
    r500 = cosmology.r500(m500, unit="kpc", rho_c=c["rho_c"])
    kpc = c["kpc_per_arcsec"]
    shift = c["distmod"] + 2.5 * z
    n = rng.poisson(25 * (m500 / 1e14) ** 0.9)
    bcg = BCG_MAG + rng.normal(0, 0.3)
    canvas.galaxy(centre[0], centre[1], bcg + shift, 15 / kpc * 10 ** rng.normal(0, 0.1), 4.0,
                  rng.uniform(0.6, 1), rng.uniform(0, np.pi))
    mags = schechter_mags(rng, n)
    a = 0.15 * r500
    u = rng.uniform(0, 0.97, n)
    radius = np.minimum(a * np.sqrt(u / (1 - u)), r500) / kpc
    phi = rng.uniform(0, 2 * np.pi, n)
    for M, r, p in zip(mags, radius, phi):
        re = 4.0 * 10 ** (-0.4 * (M - M_STAR) * 0.55) / kpc
        canvas.galaxy(centre[0] + r * np.cos(p), centre[1] + r * np.sin(p), M + shift, re, 4.0,
                      rng.uniform(0.5, 1), rng.uniform(0, np.pi))
    return n


# -- one candidate ----------------------------------------------------------------------------------
def render_candidate(rng: np.random.Generator, cls: int, size: int) -> tuple[np.ndarray, dict]:
    """(uint8 image (3, size, size) [empty, optical, X-ray], truth dict) for one candidate."""
    field = Field(size)
    exposure = rng.uniform(8e3, 30e3)
    exposure_map = np.ones((size, size))
    vignetting = rng.uniform(0.5, 1.0)
    blur = rng.uniform(1.0, 1.6)
    source = np.zeros((size, size))
    optical = OpticalCanvas(field, rng)
    optical.field_sources()
    truth = {"z": np.nan, "log_m500": np.nan, "counts": 0.0, "theta_c": np.nan, "kind": "", "n_members": 0}

    if cls in CLUSTER_CLASSES:
        while True:  # the survey keeps clusters detected with ≥ 60 counts
            z = rng.uniform(0.05, 0.3) if cls == 0 else 0.3 + 0.8 * rng.beta(1.3, 2.5)
            m500 = 10 ** min(13.3 + rng.exponential(0.35), 14.8)  # a steep mass function: mostly groups
            model, counts, theta_c = cluster_xray(rng, field, z, m500, vignetting, exposure)
            if counts >= 60:
                break
        source += counts * model
        truth.update(z=z, log_m500=np.log10(m500), counts=counts, theta_c=theta_c)
        truth["n_members"] = cluster_members(optical, rng, z, m500, rng.normal(0, 4, 2))
    elif cls == 3:  # point source: AGN or an X-ray-active star, far enough off axis to look extended
        counts = 10 ** rng.uniform(np.log10(40), np.log10(3000))
        blur *= rng.uniform(1.0, 1.8)
        pos = rng.normal(0, 2, 2)
        source += counts * point(field, *pos)
        kind = rng.choice(["qso", "star", "none"], p=[0.55, 0.3, 0.15])
        if kind == "qso":
            optical.star(*pos, rng.uniform(17, 21))
        elif kind == "star":
            optical.star(*pos, rng.uniform(9, 15))
        truth.update(counts=counts, kind=str(kind))
    elif cls == 2:  # nearby galaxy
        re = 10 ** rng.uniform(np.log10(8), np.log10(40))
        n, q, ang = rng.uniform(1, 4), rng.uniform(0.3, 1), rng.uniform(0, np.pi)
        pos = rng.normal(0, 3, 2)
        optical.galaxy(*pos, rng.uniform(9.5, 14), re, n, q, ang)
        counts = 10 ** rng.uniform(np.log10(40), np.log10(800))  # hot halo and X-ray binaries
        source += counts * sersic_stamp(field, *pos, re * rng.uniform(0.5, 1.0), 1.0, q, ang)
        if rng.random() < 0.3:
            source += 10 ** rng.uniform(np.log10(20), np.log10(200)) * point(field, *pos)
        truth.update(counts=counts, kind="galaxy")
    else:  # artefacts
        kind = str(rng.choice(OTHER_KINDS))
        truth["kind"] = kind
        if kind == "edge":
            angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(-10, 40)
            exposure_map *= (field.x * np.cos(angle) + field.y * np.sin(angle)) < dist
            counts = 10 ** rng.uniform(np.log10(60), np.log10(600))
            source += counts * beta_model(field, 0, 0, rng.uniform(5, 20), 0.67)
        elif kind == "split":
            counts = 0.0
            for _ in range(rng.integers(2, 5)):
                pos = rng.uniform(-15, 15, 2)
                c = 10 ** rng.uniform(np.log10(25), np.log10(300))
                source += c * point(field, *pos)
                counts += c
                if rng.random() < 0.5:
                    optical.star(*pos, rng.uniform(12, 19))
        elif kind == "streak":
            counts = 10 ** rng.uniform(3, 3.8)
            pos = rng.normal(0, 15, 2)
            source += counts * point(field, *pos)
            column = np.abs(field.x - pos[0]) < field.pix * 0.75  # out-of-time events along the readout column
            source += 0.06 * counts * column / column.sum()
            if rng.random() < 0.5:
                optical.star(*pos, rng.uniform(8, 12))
        else:  # spurious: a background fluctuation on a CCD gap
            counts = 10 ** rng.uniform(np.log10(20), np.log10(80))
            source += counts * beta_model(field, *rng.normal(0, 5, 2), rng.uniform(10, 30), 0.6)
            exposure_map *= np.abs(field.y - rng.normal(0, 10)) > rng.uniform(6, 12)
        truth["counts"] = counts

    for _ in range(rng.poisson(1.5)):  # serendipitous point sources away from the centre
        r, phi = rng.uniform(60, 290), rng.uniform(0, 2 * np.pi)
        source += 10 ** rng.uniform(np.log10(15), np.log10(150)) * point(field, r * np.cos(phi), r * np.sin(phi))
    if rng.random() < 0.2:  # a CCD gap somewhere in the field
        axis = field.x if rng.random() < 0.5 else field.y
        exposure_map *= np.abs(axis - rng.uniform(-200, 200)) > 6

    expected = fftconvolve(source, king_psf(field, blur), mode="same").clip(0)
    background = BACKGROUND * field.pix**2 * exposure
    counts_img = rng.poisson((expected + background) * exposure_map)
    xray = xray_display(counts_img, field, background)
    image = np.zeros((3, size, size), dtype=np.uint8)
    image[1] = np.round(optical.finish() * 255)
    image[2] = np.round(xray * 255)
    truth.update(exposure=exposure, blur=blur, seeing=optical.seeing)
    return image, truth


def xray_display(counts: np.ndarray, field: Field, background: float) -> np.ndarray:
    """Smoothed counts per background level, asinh-stretched to [0, 1] (a fixed stretch)."""
    from scipy.ndimage import gaussian_filter

    smooth = gaussian_filter(counts.astype(float), 4.0 / field.pix)
    return np.clip(np.arcsinh(smooth / (3 * background)) / np.arcsinh(300.0), 0, 1)


def generate(seed: int = 0, n_objects: int = 1707, size: int = PAPER_SIZE,
             fractions=DEFAULT_FRACTIONS) -> tuple[dict, np.ndarray, dict]:
    """(catalogue, uint8 images (N, 3, size, size), attrs), deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    fractions = np.asarray(fractions, dtype=float) / np.sum(fractions)
    counts = np.floor(fractions * n_objects).astype(int)
    counts[0] += n_objects - counts.sum()
    classes = rng.permutation(np.repeat(np.arange(5), counts))
    images = np.zeros((n_objects, 3, size, size), dtype=np.uint8)
    truths = []
    seeds = rng.integers(0, 2**63, n_objects)
    for i, cls in enumerate(classes):
        images[i], truth = render_candidate(np.random.default_rng(seeds[i]), int(cls), size)
        truths.append(truth)
    columns = {"object_id": np.array([f"mock{seed}-{i:05d}" for i in range(n_objects)]),
               "expert_class": classes.astype(np.int64)}
    for key in truths[0]:
        values = [t[key] for t in truths]
        columns[key] = np.asarray(values, dtype=float if key != "kind" else str)
    attrs = {"generator": "astrozoo_clusters.candidates.mock", "version": VERSION, "provenance": "mock", "seed": seed,
             "n_objects": n_objects, "size": size, "field_arcsec": FIELD_ARCSEC,
             "classes": ",".join(SHORT), "channels": "empty,optical,xray"}
    return columns, images, attrs
