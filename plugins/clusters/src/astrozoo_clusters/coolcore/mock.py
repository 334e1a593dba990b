"""Mock cluster sample and Chandra-like images for the cool-core task (Su et al. 2020).

1. **Sample**: M500 from the Tinker et al. (2008) mass function (colossus, Planck15, z = 0) above
   10^13.75 M⊙ in a TNG300-sized box (302.6 Mpc; Poisson numbers, ≈ 420 expected where TNG300
   has 318 FoF groups).
2. **Dynamical state**: a disturbance d ∈ [0, 1] (recent major merger) and a core state
   c ∈ [0, 1] anti-correlated with it (mergers disrupt cool cores), both latent and stored.
   c sets the density profile's core radius, cusp and compact second component (Vikhlinin et al.
   2006), the central temperature drop T_min/T_0 and the central abundance peak.
3. **Label**: the central cooling time from n_e, kT and Z averaged inside 0.012 R500 (see
   :mod:`physics`): CC < 1 Gyr, WCC 1–7.7 Gyr, NCC > 7.7 Gyr. The density baseline reads the
   same central n_e; nothing else about the label is stored where a model could see it.
4. **Image**: surface brightness = projected n_e n_i Λ(T, Z) of the (elliptical) main cluster
   plus, for disturbed clusters, an infalling subcluster (mass ratio 1:10–1:2, 150–450 kpc away)
   and a wider ellipticity; counts = flux × effective area × exposure / mean photon energy, plus
   a flat background, Poisson-sampled. Field: the central 1 Mpc at 3.9″/px for 256 px (which
   puts the cluster at z ≈ 0.05 in Planck15); a smaller ``size`` keeps the 1 Mpc field with
   proportionally larger pixels. Chandra's PSF (≈0.5″) is far below a pixel and is ignored.

Instrument constants (Chandra ACIS-I-like, order-of-magnitude): effective area 400 cm², 60 % of
the bolometric flux in the 0.5–7 keV band, mean photon energy 2 keV, quiescent background
4×10⁻⁷ counts s⁻¹ arcsec⁻² (cf. Markevitch et al. 2003).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy.special import expit

from astrozoo.data import cosmology

from astrozoo_clusters.coolcore.physics import (ClusterModel, cool_core_class, gas_fraction, kT_from_m500,
                                                project)

BOX_TNG300_MPC = 302.6
PIXSCALE_256 = 3.9  # arcsec per pixel at 256 px (Su et al. 2020)
FIELD_KPC = 1000.0
A_EFF_CM2, BAND_FRACTION, E_MEAN_KEV = 400.0, 0.6, 2.0
BACKGROUND = 4e-7  # counts / s / arcsec²
POINT_FRACTION = 0.4  # clusters with a central corona or AGN
VERSION = 1  # bump when the generator changes: cached files carry it in their names
COLUMN_UNITS = {"log_m500": "log10 Msun", "r500": "kpc", "kT": "keV", "ne0": "cm-3", "kT0": "keV",
                "Z0": "Zsun", "tcool": "Gyr", "rc": "kpc", "sub_distance": "kpc"}


@cache
def field_redshift() -> float:
    """z at which 1 Mpc spans 256 × 3.9″ (Planck15 angular-diameter distance, interpolated)."""
    z = np.linspace(0.005, 0.3, 600)
    return float(np.interp(FIELD_KPC / (256 * PIXSCALE_256), cosmology.kpc_per_arcsec(z), z))


def sample_masses(rng: np.random.Generator, box_mpc: float, log_m_min: float) -> np.ndarray:
    """M500 [M⊙] of the halos above 10^log_m_min in a box (Tinker et al. 2008 via colossus)."""
    return cosmology.sample_halo_masses(rng, box_mpc**3, log_m_min, 15.8, n_grid=400)


def r500_kpc(m500):
    return cosmology.r500(m500, 0.0, unit="kpc")


def draw_clusters(rng: np.random.Generator, m500: np.ndarray) -> dict[str, np.ndarray]:
    """Latent state and profile parameters per cluster (see the module docstring)."""
    n = len(m500)
    d = rng.beta(0.9, 1.4, n)  # disturbance: 0 relaxed … 1 ongoing major merger
    c = expit(1.2 - 4.0 * d + rng.normal(0, 0.9, n))  # core state, anti-correlated with d
    r500 = r500_kpc(m500)
    return {
        "disturbance": d, "coreness": c, "r500": r500,
        "kT": kT_from_m500(m500) * 10 ** rng.normal(0, 0.04, n),
        "f_gas": gas_fraction(m500) * 10 ** rng.normal(0, 0.04, n),
        "rc": r500 * 0.25 * 10 ** (-0.5 * c + rng.normal(0, 0.18, n)),
        "alpha": 0.8 * c * rng.uniform(0.3, 1.7, n),
        "beta": rng.normal(0.65, 0.06, n),
        "rs": r500 * rng.uniform(0.8, 1.6, n),
        "eps": rng.uniform(2.0, 4.0, n),
        "amp2": c**2 * 10 ** rng.uniform(0.0, 2.0, n),
        "rc2": r500 * 10 ** rng.uniform(-2, -1.4, n),
        "tau": np.clip(1.0 - 0.6 * c + rng.normal(0, 0.08, n), 0.3, 1.05),
        "z_centre": 0.3 + 0.5 * c + rng.normal(0, 0.05, n),
        "ellipticity": np.clip(0.05 + 0.35 * d * rng.uniform(0.3, 1.0, n) + rng.normal(0, 0.03, n), 0, 0.6),
        "position_angle": rng.uniform(0, np.pi, n),
        "has_sub": rng.random(n) < np.clip((d - 0.3) / 0.5, 0, 1),
        "sub_ratio": rng.uniform(0.1, 0.5, n),
        "sub_distance": rng.uniform(150, 450, n),
        "sub_angle": rng.uniform(0, 2 * np.pi, n),
        # a compact central source — a BCG corona or an AGN — in any kind of core
        "log_l_point": np.where(rng.random(n) < POINT_FRACTION, rng.uniform(41.5, 43.0, n), -np.inf),
        "point_offset": rng.uniform(0, 3.0, n),  # kpc from the centre
        "point_angle": rng.uniform(0, 2 * np.pi, n),
    }


def cluster_model(m500, p: dict, i: int) -> ClusterModel:
    shape = {k: float(p[k][i]) for k in ("rc", "alpha", "beta", "rs", "eps", "amp2", "rc2")}
    shape["beta2"] = 1.0
    return ClusterModel(float(m500[i]), float(p["r500"][i]), float(p["kT"][i]), float(p["tau"][i]),
                        float(p["z_centre"][i]), shape, float(p["f_gas"][i]))


def subcluster_model(m_sub: float) -> ClusterModel:
    """An infalling group: a flat-cored, non-cool-core β-model of its own mass."""
    r500 = float(r500_kpc(m_sub))
    shape = {"rc": 0.15 * r500, "alpha": 0.0, "beta": 0.6, "rs": r500, "eps": 3.0, "amp2": 0.0,
             "rc2": 1.0, "beta2": 1.0}
    return ClusterModel(m_sub, r500, float(kT_from_m500(m_sub)), 1.0, 0.3, shape, float(gas_fraction(m_sub)))


def surface_brightness_image(models_and_offsets, size: int, ellipticity: float, angle: float) -> np.ndarray:
    """Σ (erg s⁻¹ cm⁻² per projected cm²) summed over components, averaged over sub-pixels.

    ``models_and_offsets``: [(ClusterModel, (dx_kpc, dy_kpc), elliptical?)]. Pixels are sampled on
    a sub-grid ≤ 2 kpc so that a cuspy cool core is integrated, not point-sampled.
    """
    pix = FIELD_KPC / size
    sub = int(min(8, max(1, np.ceil(pix / 2.0))))
    coords = ((np.arange(size * sub) + 0.5) / sub - size / 2) * pix  # kpc, centre of the field at 0
    X, Y = np.meshgrid(coords, coords)
    R = np.geomspace(0.05, 3000, 200)
    total = np.zeros_like(X)
    for model, (dx, dy), elliptical in models_and_offsets:
        sigma = project(model.emissivity, R, l_max=5 * model.r500)
        x, y = X - dx, Y - dy
        if elliptical and ellipticity > 0:
            q = 1 - ellipticity
            xr = x * np.cos(angle) + y * np.sin(angle)
            yr = -x * np.sin(angle) + y * np.cos(angle)
            r = np.sqrt(xr**2 * q + yr**2 / q)  # area-preserving ellipse
        else:
            r = np.sqrt(x**2 + y**2)
        total += np.exp(np.interp(np.log(np.maximum(r, R[0])), np.log(R), np.log(sigma)))
    return total.reshape(size, sub, size, sub).mean(axis=(1, 3))


def counts_per_sb(size: int, exposure_ks: float, z: float) -> float:
    """Expected counts per pixel for a surface brightness of 1 erg s⁻¹ cm⁻² (per projected cm²)."""
    from astrozoo_clusters.coolcore.physics import KEV_ERG, KPC_CM

    d_l = cosmology.PLANCK15.luminosity_distance(z).to("cm").value
    area = (FIELD_KPC / size * KPC_CM) ** 2
    return area / (4 * np.pi * d_l**2) * A_EFF_CM2 * BAND_FRACTION / (E_MEAN_KEV * KEV_ERG) * exposure_ks * 1e3


def counts_per_luminosity(exposure_ks: float, z: float) -> float:
    """Expected counts of a point source per erg/s of (band) luminosity."""
    from astrozoo_clusters.coolcore.physics import KEV_ERG

    d_l = cosmology.PLANCK15.luminosity_distance(z).to("cm").value
    return A_EFF_CM2 / (E_MEAN_KEV * KEV_ERG) / (4 * np.pi * d_l**2) * exposure_ks * 1e3


def point_source(size: int, counts: float, offset_kpc: float, angle: float) -> np.ndarray:
    """An unresolved source (Chandra's PSF ≪ a pixel) shared bilinearly among its pixels."""
    pix = FIELD_KPC / size
    x = (size - 1) / 2 + offset_kpc * np.cos(angle) / pix
    y = (size - 1) / 2 + offset_kpc * np.sin(angle) / pix
    image = np.zeros((size, size))
    j, i = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - j, y - i
    for di, wy in ((0, 1 - fy), (1, fy)):
        for dj, wx in ((0, 1 - fx), (1, fx)):
            image[i + di, j + dj] += counts * wy * wx
    return image


def background_per_pixel(size: int, exposure_ks: float) -> float:
    pixscale = PIXSCALE_256 * 256 / size
    return BACKGROUND * pixscale**2 * exposure_ks * 1e3


def generate(seed: int = 0, box_mpc: float = BOX_TNG300_MPC, log_m_min: float = 13.75, size: int = 256,
             exposure_ks: float = 50.0) -> tuple[dict, np.ndarray, dict]:
    """(catalogue columns, counts images (N, size, size) int32, attrs) — deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    m500 = np.sort(sample_masses(rng, box_mpc, log_m_min))[::-1]
    p = draw_clusters(rng, m500)
    z = field_redshift()
    to_counts = counts_per_sb(size, exposure_ks, z)
    point_counts = counts_per_luminosity(exposure_ks, z)
    bkg = background_per_pixel(size, exposure_ks)
    n = len(m500)
    central = {k: np.zeros(n) for k in ("ne0", "kT0", "Z0", "tcool")}
    images = np.zeros((n, size, size), dtype=np.int32)
    for i in range(n):
        main = cluster_model(m500, p, i)
        for key, value in main.central().items():
            central[key][i] = value
        parts = [(main, (0.0, 0.0), True)]
        if p["has_sub"][i]:
            dist, ang = p["sub_distance"][i], p["sub_angle"][i]
            offset = (dist * np.cos(ang), dist * np.sin(ang))
            parts.append((subcluster_model(p["sub_ratio"][i] * m500[i]), offset, False))
        expected = surface_brightness_image(parts, size, p["ellipticity"][i], p["position_angle"][i]) * to_counts
        if np.isfinite(p["log_l_point"][i]):
            expected += point_source(size, 10 ** p["log_l_point"][i] * point_counts, p["point_offset"][i],
                                     p["point_angle"][i])
        images[i] = rng.poisson(expected + bkg)
    columns = {"cluster_id": np.arange(n, dtype=np.int64), "log_m500": np.log10(m500),
               **{k: np.asarray(v, dtype=float) for k, v in p.items() if k != "has_sub"},
               "has_sub": p["has_sub"].astype(np.int8), **central,
               "label": cool_core_class(central["tcool"]).astype(np.int64)}
    attrs = {"generator": "astrozoo_clusters.coolcore.mock", "version": VERSION, "provenance": "mock", "seed": seed,
             "box_mpc": box_mpc, "log_m_min": log_m_min, "size": size, "exposure_ks": exposure_ks,
             "redshift": z, "pixel_kpc": FIELD_KPC / size, "pixel_arcsec": PIXSCALE_256 * 256 / size,
             "background_per_pixel": bkg, "classes": "CC,WCC,NCC"}
    return columns, images, attrs
