"""Intracluster-medium physics for the cool-core mocks: profiles, cooling function, cooling time,
projection. Pure functions of numpy arrays; radii in kpc, densities in cm⁻³, kT in keV.

References
- Gas density: Vikhlinin et al. (2006, ApJ 640, 691) eq. 3, a modified double β-model
  n_p n_e = n0² (r/rc)^−α / (1+r²/rc²)^(3β−α/2) / (1+r^γ/rs^γ)^(ε/γ) + n02² / (1+r²/rc2²)^(3β2).
- Temperature: the Vikhlinin et al. (2006) eq. 6 form with the average profile of their eq. 9,
  T/T_X = 1.35 [(x/0.045)^1.9 + τ] / [(x/0.045)^1.9 + 1] / (1 + (x/0.6)²)^0.45, x = r/R500,
  where τ = T_min/T_0 (0.45 in their relaxed sample) is our per-cluster cool-core parameter.
- M500–T: Vikhlinin et al. (2009, ApJ 692, 1033), M500 = 3.02×10¹⁴ h⁻¹ M⊙ (T/5 keV)^1.53 at z ≈ 0.
- Gas fraction: Vikhlinin et al. (2009), f_gas,500 = 0.125 + 0.037 log10(M500 / 10¹⁵ h⁻¹ M⊙).
- Cooling function Λ(T, Z): the fit of Tozzi & Norman (2001, ApJ 546, 63) to the
  Sutherland & Dopita (1993) tables for Z = 0.3 Z⊙,
  Λ = [C1 (kT)^−1.7 + C2 (kT)^0.5 + C3] × 10⁻²² erg cm³ s⁻¹, C1 = 8.6e−3, C2 = 5.8e−2, C3 = 6.3e−2.
  Our approximation for other metallicities: the line-dominated term C1 (kT)^−1.7 scales with
  Z / 0.3 Z⊙; the bremsstrahlung (C2) and continuum (C3) terms are kept.
- Cooling time: t_cool = 3/2 (n_e + n_i) kT / (n_e n_i Λ(T, Z)) (Su et al. 2020 eq. 1), with the
  density and temperature averaged inside 0.012 R500 (Barnes et al. 2018, MNRAS 481, 1809).
- Plasma: fully ionised, hydrogen mass fraction X = 0.716; n_e = 1.2 n_H, n_i = 1.1 n_H, so
  ρ_gas = m_p n_H / X = 1.164 m_p n_e.
"""

from __future__ import annotations

import numpy as np

KEV_ERG = 1.602176634e-9
KPC_CM = 3.085677581e21
M_P_G = 1.67262192e-24
MSUN_G = 1.98847e33
GYR_S = 3.15576e16
NE_PER_NH, NI_PER_NH, X_H = 1.2, 1.1, 0.716
RHO_PER_NE = M_P_G / (X_H * NE_PER_NH)  # g per electron
CORE_RADIUS = 0.012  # central region, in units of R500 (Barnes et al. 2018)
CLASSES = ("CC", "WCC", "NCC")
T_CC, T_NCC = 1.0, 7.7  # Gyr: CC below, NCC above, WCC in between


def cooling_function(kT, Z=0.3):
    """Λ(T, Z) in erg cm³ s⁻¹ (Tozzi & Norman 2001 fit to Sutherland & Dopita 1993; lines ∝ Z)."""
    kT = np.maximum(np.asarray(kT, dtype=float), 0.03)
    return 1e-22 * (8.6e-3 * kT ** -1.7 * (np.asarray(Z) / 0.3) + 5.8e-2 * kT ** 0.5 + 6.3e-2)


def cooling_time(ne, kT, Z=0.3):
    """t_cool = 3/2 (n_e + n_i) kT / (n_e n_i Λ) in Gyr."""
    ne = np.asarray(ne, dtype=float)
    ni = ne * NI_PER_NH / NE_PER_NH
    return 1.5 * (ne + ni) * np.asarray(kT) * KEV_ERG / (ne * ni * cooling_function(kT, Z)) / GYR_S


def cool_core_class(t_cool_gyr):
    """0 = CC (< 1 Gyr), 1 = WCC (1–7.7 Gyr), 2 = NCC (> 7.7 Gyr)."""
    t = np.asarray(t_cool_gyr)
    return np.where(t < T_CC, 0, np.where(t <= T_NCC, 1, 2))


def kT_from_m500(m500, h=0.6774):
    """Mean temperature in keV from M500 [M⊙] (Vikhlinin et al. 2009 M–T, z ≈ 0)."""
    return 5.0 * (np.asarray(m500) * h / 3.02e14) ** (1 / 1.53)


def gas_fraction(m500, h=0.6774):
    """f_gas within R500 (Vikhlinin et al. 2009)."""
    return 0.125 + 0.037 * np.log10(np.asarray(m500) * h / 1e15)


def density_shape(r, rc, alpha, beta, rs, eps, amp2, rc2, beta2, gamma=3.0):
    """The Vikhlinin et al. (2006) n_p n_e profile divided by n0² (dimensionless); r in kpc."""
    r = np.maximum(np.asarray(r, dtype=float), 1e-3)
    x = r / rc
    main = x ** -alpha / (1 + x * x) ** (3 * beta - alpha / 2) / (1 + (r / rs) ** gamma) ** (eps / gamma)
    return main + amp2 / (1 + (r / rc2) ** 2) ** (3 * beta2)


def temperature(r, r500, kT_mean, tau):
    """kT(r) in keV: Vikhlinin et al. (2006) eq. 9 with T_min/T_0 = tau."""
    x = np.asarray(r, dtype=float) / r500
    cool = (x / 0.045) ** 1.9
    return kT_mean * 1.35 * (cool + tau) / (cool + 1) / (1 + (x / 0.6) ** 2) ** 0.45


def metallicity(r, r500, z_centre, z_out=0.3):
    """Z(r) in solar units: a central abundance peak of width 0.05 R500 on a flat z_out."""
    x = np.asarray(r, dtype=float) / (0.05 * r500)
    return z_out + (z_centre - z_out) / (1 + x * x)


class ClusterModel:
    """One spherical cluster: n_e(r), kT(r), Z(r) and everything derived from them.

    The density normalisation is fixed by the gas mass inside R500 (= f_gas M500).
    """

    def __init__(self, m500, r500, kT_mean, tau, z_centre, shape: dict, f_gas):
        self.m500, self.r500, self.kT_mean, self.tau, self.z_centre = m500, r500, kT_mean, tau, z_centre
        self.shape = shape
        r = np.geomspace(1e-3 * r500, r500, 2000)
        ne_unit = np.sqrt(NE_PER_NH * density_shape(r, **shape))  # n_e for n0 = 1 (n_p = n_H = n_e / 1.2)
        m_unit = np.trapezoid(4 * np.pi * r**2 * ne_unit, r) * KPC_CM**3 * RHO_PER_NE / MSUN_G
        self.n0 = f_gas * m500 / m_unit  # scale: n_e(r) = n0 · ne_unit(r)

    def ne(self, r):
        return self.n0 * np.sqrt(NE_PER_NH * density_shape(r, **self.shape))

    def kT(self, r):
        return temperature(r, self.r500, self.kT_mean, self.tau)

    def Z(self, r):
        return metallicity(r, self.r500, self.z_centre)

    def emissivity(self, r):
        """n_e n_i Λ(T, Z) in erg s⁻¹ cm⁻³."""
        ne = self.ne(r)
        return ne * ne * NI_PER_NH / NE_PER_NH * cooling_function(self.kT(r), self.Z(r))

    def central(self) -> dict:
        """Volume-averaged n_e, and gas-mass-weighted kT and Z, inside 0.012 R500; t_cool from them."""
        r0 = CORE_RADIUS * self.r500
        r = np.geomspace(1e-4 * r0, r0, 400)
        w = r**2
        ne = self.ne(r)
        ne_mean = np.trapezoid(ne * w, r) / np.trapezoid(w, r)
        kT = np.trapezoid(ne * self.kT(r) * w, r) / np.trapezoid(ne * w, r)
        Z = np.trapezoid(ne * self.Z(r) * w, r) / np.trapezoid(ne * w, r)
        return {"ne0": ne_mean, "kT0": kT, "Z0": Z, "tcool": float(cooling_time(ne_mean, kT, Z))}


def project(emissivity, R, l_max):
    """Surface brightness Σ(R) = 2 ∫₀^l_max ε(√(R² + l²)) dl in erg s⁻¹ cm⁻² (R, l in kpc)."""
    R = np.asarray(R, dtype=float)
    l = np.concatenate([[0.0], np.geomspace(1e-2, l_max, 300)])
    r = np.sqrt(R[:, None] ** 2 + l[None, :] ** 2)
    return 2 * np.trapezoid(emissivity(r), l, axis=1) * KPC_CM


def aperture_fraction(size: int, centre: tuple[float, float], radius_px: float, oversample: int = 8) -> np.ndarray:
    """Fraction of each pixel of a (size, size) grid inside a circle (sub-pixel sampling)."""
    sub = (np.arange(size * oversample) + 0.5) / oversample - 0.5
    dy = sub[:, None] - centre[1]
    dx = sub[None, :] - centre[0]
    inside = (dx * dx + dy * dy <= radius_px**2).astype(float)
    return inside.reshape(size, oversample, size, oversample).mean(axis=(1, 3))
