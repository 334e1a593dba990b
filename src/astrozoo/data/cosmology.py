"""Cosmology and cluster physics shared by the tasks, on astropy and colossus (Planck 2015).

Units: masses in Msun (no h), lengths in Mpc unless a function says otherwise, angles in
arcsec. colossus works in Msun/h and Mpc/h; the conversions happen here, once.

- :func:`critical_density`, :func:`overdensity_radius` (R500c, R200c, any Δ), :func:`r500`, :func:`r200`,
  and :func:`halo_radius` (the same radius with colossus's ρ_c, for the halo-mass mock);
- :func:`angular_diameter_distance`, :func:`redshift_at_distance` (its inverse), :func:`hubble_time`,
  :func:`kpc_per_arcsec`, :func:`arcsec_per_mpc`, :func:`distance_modulus`, :func:`age`, and
  :func:`tabulated` (the same quantities interpolated on a redshift grid, for per-object loops),
  :func:`redshift_at` (the redshift a time before or after another, on that grid);
- :func:`mag_to_flux` / :func:`flux_to_mag` with an explicit zero point (22.5: SDSS/unWISE
  nanomaggies; 25, 27, ...: each survey's own);
- :func:`mass_function` (Tinker et al. 2008 by default), :func:`sample_halo_masses` (a Poisson
  number of halos in a volume) and :func:`sample_masses_at` (one mass per given redshift);
- :func:`concentration`, :func:`halo_bias` and :func:`linear_power` (colossus, for the halo-mass mock).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from astropy import units as u
from astropy.cosmology import Planck15 as PLANCK15
from scipy.integrate import cumulative_trapezoid


# -- distances, densities, radii -----------------------------------------------------------------
def critical_density(z=0.0, unit: str = "Msun / Mpc3"):
    """ρ_c(z) of Planck15 in ``unit``."""
    return PLANCK15.critical_density(z).to(unit).value


def overdensity_radius(mass, z=0.0, delta: float = 500.0, unit: str = "Mpc", rho_c=None):
    """R_Δc: the radius inside which the mean density is Δ ρ_c(z), M = (4π/3) Δ ρ_c R³.
    ``rho_c`` [Msun/unit³], when already known (e.g. from :func:`tabulated`), replaces ρ_c(z)."""
    rho_c = critical_density(z, f"Msun / {unit}3") if rho_c is None else rho_c
    return (3 * np.asarray(mass, float) / (4 * np.pi * delta * rho_c)) ** (1 / 3)


def r500(mass, z=0.0, unit: str = "Mpc", rho_c=None):
    """R500c of M500c [Msun]."""
    return overdensity_radius(mass, z, 500.0, unit, rho_c)


def r200(mass, z=0.0, unit: str = "Mpc", rho_c=None):
    """R200c of M200c [Msun]."""
    return overdensity_radius(mass, z, 200.0, unit, rho_c)


def halo_radius(mass, z=0.0, mdef: str = "200c"):
    """R_mdef [kpc] of M_mdef [Msun] from colossus (``mass_so.M_to_R``, h converted).

    Two backends on purpose: colossus's ρ_c differs from astropy's (:func:`critical_density`) by
    ~4e-13, so this radius and :func:`overdensity_radius` differ in the last digits. The halo-mass
    mock (satellite radii, R_e) was made with this one and keeps its bits; the cluster tasks use
    :func:`overdensity_radius`, :func:`r500` and :func:`r200`."""
    from colossus.halo import mass_so

    h = colossus_cosmology().h
    return mass_so.M_to_R(np.asarray(mass, float) * h, z, mdef) / h


def angular_diameter_distance(z, unit: str = "Mpc"):
    """D_A(z) of Planck15 in ``unit``."""
    return PLANCK15.angular_diameter_distance(z).to_value(unit)


def redshift_at_distance(distance_mpc, zmax: float = 1.5):
    """The Planck15 redshift below ``zmax`` whose angular-diameter distance is ``distance_mpc``."""
    from astropy.cosmology import z_at_value

    return z_at_value(PLANCK15.angular_diameter_distance, distance_mpc * u.Mpc, zmax=zmax).value


def hubble_time(unit: str = "Gyr") -> float:
    """1 / H0 of Planck15 in ``unit``."""
    return PLANCK15.hubble_time.to_value(unit)


def kpc_per_arcsec(z):
    """Proper kpc per arcsec at redshift z (angular-diameter distance)."""
    return PLANCK15.kpc_proper_per_arcmin(z).value / 60.0


def arcsec_per_mpc(z):
    """Arcsec subtended by 1 proper Mpc at redshift z."""
    return (1 * u.Mpc / PLANCK15.angular_diameter_distance(z) * u.rad).to(u.arcsec).value


def distance_modulus(z):
    """5 log10(D_L / 10 pc) at redshift z."""
    return PLANCK15.distmod(z).value


def age(z):
    """Age of the universe [Gyr] at redshift z."""
    return PLANCK15.age(z).value


@cache
def _table(lo: float, hi: float, n: int) -> dict[str, np.ndarray]:
    z = np.linspace(lo, hi, n)
    z = z[z > 0]  # z = 0 has no distance modulus
    return {"z": z, "kpc_per_arcsec": kpc_per_arcsec(z),
            "dl_cm": PLANCK15.luminosity_distance(z).to("cm").value,
            "distmod": distance_modulus(z), "efunc": PLANCK15.efunc(z),
            "rho_c": critical_density(z, "Msun / kpc3"), "age": age(z)}


def tabulated(z: float, grid=(0.01, 1.5, 300)) -> dict[str, float]:
    """``kpc_per_arcsec``, ``dl_cm``, ``distmod``, ``efunc``, ``rho_c`` (Msun/kpc³) and ``age``
    (Gyr) at ``z``, linearly interpolated on ``np.linspace(*grid)`` without z = 0 (computed
    once): fast in per-object loops. Outside the grid, the value at its nearest end."""
    table = _table(*grid)
    return {k: float(np.interp(z, table["z"], v)) for k, v in table.items() if k != "z"}


def redshift_at(z_ref, dt_gyr, grid=(0.01, 1.5, 300)):
    """Redshift ``dt_gyr`` Gyr after (positive) or before the epoch of ``z_ref``: the age at
    ``z_ref`` plus ``dt_gyr``, inverted, both interpolated on the grid of :func:`tabulated`."""
    table = _table(*grid)
    later = np.interp(z_ref, table["z"], table["age"]) + dt_gyr
    return np.interp(later, table["age"][::-1], table["z"][::-1])


# -- magnitudes ------------------------------------------------------------------------------------
def mag_to_flux(mag, zero_point: float):
    """Flux in the units whose magnitude zero point is ``zero_point``: 10^(−0.4 (m − ZP))."""
    return 10 ** (-0.4 * (np.asarray(mag, float) - zero_point))


def flux_to_mag(flux, zero_point: float):
    """m = ZP − 2.5 log10(flux); the inverse of :func:`mag_to_flux`."""
    return zero_point - 2.5 * np.log10(np.asarray(flux, float))


# -- halo mass functions (colossus) ----------------------------------------------------------------
@cache
def _colossus(name: str):
    from colossus.cosmology import cosmology

    return cosmology.setCosmology(name, persistence="")


def colossus_cosmology(name: str = "planck15"):
    """colossus's cosmology ``name`` (made once, not written to its disk cache), set as its
    current one on every call: colossus's functions read a global "current" cosmology, which
    other code in the process may have changed."""
    from colossus.cosmology import cosmology

    cosmo = _colossus(name)
    cosmology.setCurrent(cosmo)
    return cosmo


def mass_function(mass, z=0.0, mdef: str = "500c", model: str = "tinker08"):
    """dn/dlnM [Mpc⁻³] at ``mass`` [Msun] (colossus ``massFunction``, h converted)."""
    from colossus.lss import mass_function as mf

    h = colossus_cosmology().h
    return mf.massFunction(np.asarray(mass, float) * h, z, mdef=mdef, model=model, q_out="dndlnM") * h**3


def concentration(mass, z=0.0, mdef: str = "200c", model: str = "diemer19"):
    """Concentration c_mdef of halos of mass M_mdef [Msun] (colossus ``concentration``)."""
    from colossus.halo import concentration as colossus_concentration

    return colossus_concentration.concentration(np.asarray(mass, float) * colossus_cosmology().h, mdef, z,
                                                model=model)


def halo_bias(mass, z=0.0, mdef: str = "200c", model: str = "tinker10"):
    """Linear bias of halos of mass M_mdef [Msun] (colossus ``haloBias``)."""
    from colossus.lss import bias

    return bias.haloBias(np.asarray(mass, float) * colossus_cosmology().h, z=z, mdef=mdef, model=model)


def linear_power(k, z=0.0):
    """Linear matter power spectrum P(k) [Mpc³] at k [1/Mpc] (colossus ``matterPowerSpectrum``,
    Eisenstein & Hu 1998 transfer function, h converted). k is divided by h in its own dtype:
    the halo-mass mock's density fields were made with float32 k."""
    cosmo = colossus_cosmology()
    return cosmo.matterPowerSpectrum(np.asarray(k) / cosmo.h, z) / cosmo.h ** 3


def sample_halo_masses(rng: np.random.Generator, volume: float, log_m_min: float, log_m_max: float = 16.0,
                       z=0.0, mdef: str = "500c", model: str = "tinker08", n_grid: int = 521) -> np.ndarray:
    """Halo masses [Msun] above 10^log_m_min in ``volume`` Mpc³: a Poisson number with the mean
    of the mass function, masses by inverse transform of its cumulative integral."""
    log_m = np.linspace(log_m_min, log_m_max, n_grid)
    cumulative = cumulative_trapezoid(mass_function(10.0**log_m, z, mdef, model), log_m * np.log(10.0),
                                      initial=0.0) * volume
    n = rng.poisson(cumulative[-1])
    return 10.0 ** np.interp(rng.random(n) * cumulative[-1], cumulative, log_m)


def sample_masses_at(rng: np.random.Generator, z, m_min: float, m_max: float, z_range=None,
                     mdef: str = "500c", model: str = "tinker08", n_z: int = 15, n_grid: int = 200) -> np.ndarray:
    """One mass [Msun] per redshift in ``z``, between ``m_min`` and ``m_max``, from the mass
    function's shape at the nearest of ``n_z`` redshifts spanning ``z_range`` (default: z's)."""
    z = np.asarray(z, float)
    z_grid = np.linspace(*(z_range or (z.min(), z.max())), n_z)
    ln_m = np.linspace(np.log(m_min), np.log(m_max), n_grid)
    cdfs = []
    for zg in z_grid:
        cdf = cumulative_trapezoid(mass_function(np.exp(ln_m), zg, mdef, model), ln_m, initial=0.0)
        cdfs.append(cdf / cdf[-1])
    nearest = np.abs(z[:, None] - z_grid[None]).argmin(1)
    return np.exp(np.array([np.interp(rng.random(), cdfs[k], ln_m) for k in nearest]))
