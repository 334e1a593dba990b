"""Mock Pan-STARRS-like gri cutouts of the mock TNG50 galaxies (MOCK-PHYSICS.md, halo-mass §5).

Each field is centred on one galaxy and shows every catalogue galaxy whose projection along z
(periodic box) lands in or near the field, all placed at one distance. A galaxy is a Sérsic
profile (astropy ``Sersic2D`` through :func:`astrozoo.data.images.sersic_image`) with its
catalogue R_e, n, axis ratio and position angle; star-forming galaxies get two-armed
logarithmic spiral modulation and blue clumps in proportion to ``clumpiness``; ``disturbance``
adds a lopsided (m=1) outer envelope and a one-sided tidal tail. Then each band is convolved
with its Gaussian PSF and Gaussian sky noise is added, as in the paper (seeds/halo-mass-tng50.txt,
following Rodriguez-Gomez et al. 2019, MNRAS 483, 4140).

Fluxes. Band luminosities come from M* and g−r through the colour–M/L relations of Bell et al.
(2003, ApJS 149, 289, Table 7: log M/L_λ = a_λ + b_λ (g−r), the SDSS-band successor of Bell &
de Jong 2001) with solar absolute magnitudes from Willmer (2018, ApJS 236, 47). Image units are
e⁻ s⁻¹ pixel⁻¹ like the paper's sky noise (σ = 1/25, 1/19, 1/15 in g, r, i); a magnitude m
becomes 10^{-0.4 (m − ZP)} with the Pan-STARRS1 zero points ZP of Tonry et al. (2012, ApJ 750,
99) for 1 e⁻/s. The default distance is Planck15 at z = 0.05, close to RG19's z ≈ 0.05, so
0.25"/px is 0.24 kpc/px and R_e of 1.5–10 kpc spans ~6–40 px. No K-correction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.spatial import cKDTree

from astrozoo.data.cosmology import angular_diameter_distance, redshift_at_distance
from astrozoo.data.images import add_sky_noise, convolve_psf, sersic_image
from astrozoo.data.parallel import parallel_map

BANDS = ("g", "r", "i")
PIXSCALE = 0.25                              # arcsec / pixel, Pan-STARRS
PSF_FWHM_ARCSEC = (1.31, 1.21, 1.11)         # g, r, i (paper §2, after RG19)
SKY_SIGMA = (1 / 25, 1 / 19, 1 / 15)         # e-/s/pixel, g, r, i (paper §3.4)
ZERO_POINT = (24.563, 24.750, 24.611)        # AB mag of 1 e-/s, PS1 g, r, i (Tonry et al. 2012)
MSUN_AB = (5.11, 4.65, 4.53)                 # solar absolute AB magnitudes, g, r, i (Willmer 2018)
BELL03_A = (-0.499, -0.306, -0.222)          # log M/L = a + b (g - r), g, r, i (Bell et al. 2003)
BELL03_B = (1.519, 1.097, 0.864)
REDSHIFT = 0.05
DISTANCE_MPC = float(angular_diameter_distance(REDSHIFT))
CLUMP_COLOUR = np.array([1.3, 1.0, 0.8])     # clumps are young: relatively more light in g

# one row per light source in a field: offsets from the field centre in px, then the galaxy
_COLUMNS = ("dx", "dy", "flux_g", "flux_r", "flux_i", "re_px", "n", "q", "theta",
            "clumpiness", "disturbance", "quenched", "galaxy_id")


def band_fluxes(log_mstar: np.ndarray, color_gr: np.ndarray, distance_mpc: float = DISTANCE_MPC) -> np.ndarray:
    """(N, 3) g, r, i fluxes in e⁻/s of galaxies of stellar mass 10^log_mstar Msun and colour g−r.

    log L_λ = log M* − (a_λ + b_λ (g−r)); M_λ = M_sun,λ − 2.5 log L_λ; m = M + 5 log10(D_L / 10 pc),
    D_L = (1+z)² D_A with z the Planck15 redshift of the angular-diameter distance ``distance_mpc``.
    """
    z = redshift_at_distance(distance_mpc, zmax=1.5)
    distance_modulus = 5 * np.log10(distance_mpc * (1 + z) ** 2 * 1e5)  # D_L in units of 10 pc
    log_ml = np.asarray(BELL03_A) + np.outer(color_gr, BELL03_B)
    abs_mag = np.asarray(MSUN_AB) - 2.5 * (np.asarray(log_mstar)[:, None] - log_ml)
    return 10 ** (-0.4 * (abs_mag + distance_modulus - np.asarray(ZERO_POINT)))


def render_cutouts(catalogue: dict, box: float, ids: Sequence[int], size: int = 224,
                   pixscale: float = PIXSCALE, distance_mpc: float = DISTANCE_MPC, seed: int = 0,
                   workers: int | None = None, progress: Callable | None = None) -> np.ndarray:
    """Render (n, 3, size, size) float32 g, r, i cutouts centred on the galaxies ``ids``.

    ``catalogue`` holds the mock columns (``galaxy_id``, ``pos`` in Mpc, ``log_mstar``, ``re_kpc``,
    ``sersic_n``, ``axis_ratio``, ``position_angle``, ``quenched``, ``color_gr``, ``clumpiness``,
    ``disturbance``); ``box`` is the periodic box side in Mpc; projection is along z over the
    whole box. Each cutout depends only on (seed, galaxy ids), not on the order or the number
    of ``workers`` processes (default: the machine's CPUs, :mod:`astrozoo.data.parallel`). ``progress``, if given, is called as ``progress(steps=k)`` as galaxies finish
    (e.g. the ``advance`` of :func:`astrozoo.progress.progress_bar`). For many galaxies use
    :func:`iter_cutouts`, which never holds them all.
    """
    out = np.empty((len(ids), 3, size, size), dtype=np.float32)
    for i, image in enumerate(iter_cutouts(catalogue, box, ids, size, pixscale, distance_mpc, seed, workers,
                                           progress)):
        out[i] = image
    return out


def iter_cutouts(catalogue: dict, box: float, ids: Sequence[int], size: int = 224,
                 pixscale: float = PIXSCALE, distance_mpc: float = DISTANCE_MPC, seed: int = 0,
                 workers: int | None = None, progress: Callable | None = None, keep: str | None = "render"):
    """The cutouts of :func:`render_cutouts` one (3, size, size) array at a time, in the order of ``ids``,
    rendered a few chunks ahead over the workers (finished chunks kept inside a cache build)."""
    return parallel_map(render_field_job, field_jobs(catalogue, box, ids, size, pixscale, distance_mpc, seed),
                        workers=workers, progress=progress, keep=keep, total=len(ids))


def field_jobs(catalogue: dict, box: float, ids: Sequence[int], size: int = 224, pixscale: float = PIXSCALE,
               distance_mpc: float = DISTANCE_MPC, seed: int = 0):
    """One small job per galaxy of ``ids`` (its field's light sources and the render settings), made
    as they are asked for; :func:`render_field_job` renders one. Raises ValueError for unknown ids."""
    gid = np.asarray(catalogue["galaxy_id"])
    ids = np.asarray(ids, dtype=np.int64)
    order = np.argsort(gid)
    where = np.searchsorted(gid, ids, sorter=order)
    if ids.size and (where.max() >= gid.size or np.any(gid[order[np.minimum(where, gid.size - 1)]] != ids)):
        raise ValueError("render_cutouts: some ids are not in the catalogue's galaxy_id column")
    rows = order[where]

    kpc_per_px = pixscale / 206264.806 * distance_mpc * 1e3
    flux = band_fluxes(catalogue["log_mstar"], catalogue["color_gr"], distance_mpc)
    table = np.column_stack([
        flux, np.asarray(catalogue["re_kpc"]) / kpc_per_px, catalogue["sersic_n"], catalogue["axis_ratio"],
        catalogue["position_angle"], catalogue["clumpiness"], catalogue["disturbance"],
        np.asarray(catalogue["quenched"], dtype=float), gid.astype(float)])

    # neighbours in projection: anything within the field's half-diagonal plus 50 kpc
    xy = np.mod(np.asarray(catalogue["pos"], dtype=float)[:, :2], box)
    tree = cKDTree(xy, boxsize=box)
    reach_mpc = (size / np.sqrt(2) * kpc_per_px + 50.0) / 1e3

    def jobs():
        for row in rows:
            near = np.asarray(sorted(tree.query_ball_point(xy[row], reach_mpc)), dtype=int)  # the target is in it
            offset = (xy[near] - xy[row] + box / 2) % box - box / 2
            yield (np.column_stack([offset * 1e3 / kpc_per_px, table[near]]), size, pixscale, kpc_per_px, seed,
                   int(gid[row]))
    return jobs()


def render_field_job(job) -> np.ndarray:
    """The field of one job of :func:`field_jobs`."""
    return render_field(*job)


def render_field(sources: np.ndarray, size: int, pixscale: float, kpc_per_px: float, seed: int,
                 target_id: int) -> np.ndarray:
    """One (3, size, size) float32 field from rows of ``_COLUMNS``: light, PSF per band, sky noise.

    Each galaxy's substructure is seeded by (seed, its own galaxy_id), so a neighbour looks the
    same in every field it appears in; the noise is seeded by (seed, target_id, 1).
    """
    centre = (size - 1) / 2
    light = np.zeros((3, size, size))
    for src in sources:
        params = dict(zip(_COLUMNS, src))
        rng = np.random.default_rng([seed, int(params["galaxy_id"])])
        light += _galaxy_light(params, centre + params["dx"], centre + params["dy"], size, kpc_per_px, rng)
    image = convolve_psf(light, PSF_FWHM_ARCSEC, pixscale)
    image = add_sky_noise(image, SKY_SIGMA, np.random.default_rng([seed, target_id, 1]))
    return image.astype(np.float32)


def _galaxy_light(p: dict, x0: float, y0: float, size: int, kpc_per_px: float,
                  rng: np.random.Generator) -> np.ndarray:
    """(3, size, size) noiseless, unconvolved light of one galaxy in e⁻/s per pixel."""
    flux = np.array([p["flux_g"], p["flux_r"], p["flux_i"]])
    re_px, q, theta = max(p["re_px"], 0.5), float(np.clip(p["q"], 0.05, 1.0)), p["theta"]
    body = sersic_image((size, size), flux=1.0, r_eff_px=re_px, n=p["n"], x0=x0, y0=y0,
                        ellip=1 - q, theta=theta)
    clumpy = 0.0 if p["quenched"] else float(p["clumpiness"])
    disturbed = float(p["disturbance"])
    if clumpy <= 0 and disturbed <= 0:
        return flux[:, None, None] * body

    # disk-plane coordinates of every pixel: radius in units of R_e, azimuth from the major axis
    y, x = np.mgrid[0:size, 0:size].astype(float)
    major = (x - x0) * np.cos(theta) + (y - y0) * np.sin(theta)
    minor = (-(x - x0) * np.sin(theta) + (y - y0) * np.cos(theta)) / q
    radius, phi = np.hypot(major, minor) / re_px, np.arctan2(minor, major)
    clumps, tail = np.zeros((size, size)), np.zeros((size, size))
    clump_frac, tail_frac = np.zeros(3), 0.0
    if clumpy > 0:
        # two-armed logarithmic spiral (pitch 20 deg), fading into a smooth bulge inside ~R_e
        arm_phase = phi - np.log(np.maximum(radius, 1e-3)) / np.tan(np.radians(20)) - rng.uniform(0, np.pi)
        body = body * (1 + 0.8 * clumpy * (1 - np.exp(-radius**2)) * np.cos(2 * arm_phase))
        # star-forming clumps: knots ~0.3 kpc in size on exponential-disk radii, bluer than the disk
        n_clumps = rng.poisson(4 + 16 * clumpy) + 1
        r_c = rng.gamma(2.0, 1 / 1.678, n_clumps) * re_px
        phi_c = rng.uniform(0, 2 * np.pi, n_clumps)
        _deposit(clumps, x0, y0, r_c * np.cos(phi_c), r_c * np.sin(phi_c) * q, theta,
                 rng.exponential(1.0, n_clumps))
        clumps = gaussian_filter(clumps, 0.3 / kpc_per_px, mode="constant")
        clump_frac = np.minimum(0.3 * clumpy * CLUMP_COLOUR, 0.5)
    if disturbed > 0:
        # lopsided (m=1) outer envelope and a one-sided tidal arc from 1.5 to (2 + 4d) R_e
        phi_1 = rng.uniform(0, 2 * np.pi)
        body = body * (1 + 0.6 * disturbed * radius / (1 + radius) * np.cos(phi - phi_1))
        t = np.linspace(0, 1, 40)
        r_t = (1.5 + (0.5 + 4 * disturbed) * t) * re_px
        phi_t = phi_1 + rng.choice([-1, 1]) * 1.5 * t
        _deposit(tail, x0, y0, r_t * np.cos(phi_t), r_t * np.sin(phi_t), theta, 1 - 0.7 * t)
        tail = gaussian_filter(tail, max(0.25 * re_px, 1.0), mode="constant")
        tail_frac = 0.15 * disturbed
    smooth_frac = 1 - clump_frac - tail_frac
    return flux[:, None, None] * (smooth_frac[:, None, None] * body + clump_frac[:, None, None] * clumps
                                  + tail_frac * tail)


def _deposit(image: np.ndarray, x0: float, y0: float, u: np.ndarray, v: np.ndarray, theta: float,
             weights: np.ndarray) -> None:
    """Add points of total weight 1 at galaxy-frame offsets (u along the major axis, v along the minor).

    Weights are shared bilinearly between the four nearest pixels; points off the image are lost.
    """
    weights = np.asarray(weights, dtype=float) / np.sum(weights)
    x = x0 + u * np.cos(theta) - v * np.sin(theta)
    y = y0 + u * np.sin(theta) + v * np.cos(theta)
    ix, iy = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - ix, y - iy
    ny, nx = image.shape
    for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        ok = (ix + dx >= 0) & (ix + dx < nx) & (iy + dy >= 0) & (iy + dy < ny)
        np.add.at(image, (iy[ok] + dy, ix[ok] + dx), (weights * w)[ok])
