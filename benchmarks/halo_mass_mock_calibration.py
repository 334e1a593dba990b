"""The halo-mass mock's environment signal and abundance, the numbers docs/tasks/halo-mass-mock.md compares with
published ones: satellite vs central halo mass at fixed M*, the satellites' bound dark-matter fraction
against depth in the host, and the stellar mass function against TNG50's count (1,666 galaxies above
10^9.5 Msun, the paper) and GAMA (Baldry et al. 2012, double Schechter fit).

    python benchmarks/halo_mass_mock_calibration.py [--seeds 5] [--strip -0.6 -0.9 -0.3]
"""

import argparse

import numpy as np

from astrozoo_halo_mass.mock import BOXES, PARAMETERS, generate_universe

# Baldry et al. 2012 (MNRAS 421, 621), GAMA z < 0.06, H0 = 70: M* = 10^10.66 Msun,
# phi1* = 3.96e-3, alpha1 = -0.35, phi2* = 0.79e-3, alpha2 = -1.47 (Mpc^-3)
GAMA = dict(log_mstar=10.66, phi1=3.96e-3, alpha1=-0.35, phi2=0.79e-3, alpha2=-1.47, h=0.70)
TNG50_COUNT = 1666  # log M* > 9.5 in TNG50-1 at z = 0, the paper's parent sample
BINS = np.arange(9.5, 12.01, 0.25)


def gama_per_dex(log_m, h=0.6774):
    """Baldry et al. 2012 phi(M*) per dex per Mpc^3, masses and volumes rescaled from h = 0.7 to ``h``."""
    g = GAMA
    log_m = log_m + 2 * np.log10(g["h"] / h)  # M* ∝ h^-2 (luminosity distance squared)
    x = 10 ** (log_m - g["log_mstar"])
    phi = np.log(10) * np.exp(-x) * (g["phi1"] * x ** (g["alpha1"] + 1) + g["phi2"] * x ** (g["alpha2"] + 1))
    return phi * (h / g["h"]) ** 3  # Mpc^-3 ∝ h^3


def gama_count_above(log_min, volume):
    grid = np.linspace(log_min, 12.5, 2001)
    return np.trapezoid(gama_per_dex(grid), grid) * volume


def signal(c):
    """Median log M_halo of satellites minus centrals in M* bins, and the satellites' bound fraction by depth."""
    lines = []
    cen, lms, lmh = c["is_central"], c["log_mstar"], c["log_mhalo"]
    for lo, hi in ((9.5, 10.0), (10.0, 10.5), (10.5, 11.0)):
        b = (lms > lo) & (lms <= hi)
        if (b & cen).sum() > 5 and (b & ~cen).sum() > 5:
            dc, ds = np.median(lmh[b & cen]), np.median(lmh[b & ~cen])
            lines.append(f"  M* 10^{lo}-10^{hi}: centrals {dc:.2f}, satellites {ds:.2f} "
                         f"(n = {(b & cen).sum()}/{(b & ~cen).sum()}), satellite - central = {ds - dc:+.2f} dex")
    sat = ~cen
    f = c["strip_factor"][sat]
    x = c["r_over_rvir"][sat]
    for lo, hi in ((0, 0.3), (0.3, 0.6), (0.6, 1.0)):
        b = (x >= lo) & (x < hi)
        if b.any():
            lines.append(f"  r/R200c {lo}-{hi}: median bound DM fraction m/m_acc = {np.median(f[b]):.2f} "
                         f"(n = {b.sum()})")
    lines.append(f"  all satellites: median m/m_acc = {np.median(f):.2f}, i.e. {1 - np.median(f):.0%} of the "
                 f"accreted dark matter lost; mean {np.mean(f):.2f}")
    return lines


def smf(c, volume):
    counts, _ = np.histogram(c["log_mstar"], BINS)
    centres = 0.5 * (BINS[1:] + BINS[:-1])
    phi = counts / volume / np.diff(BINS)
    return [f"  log M* {lo:.2f}-{hi:.2f}: mock {p:.2e}  GAMA {gama_per_dex(m):.2e}  ratio {p / gama_per_dex(m):.2f}"
            f"  (n = {n})" for lo, hi, m, p, n in zip(BINS[:-1], BINS[1:], centres, phi, counts) if n]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--strip", type=float, nargs="*", default=[PARAMETERS["log_fstrip_vir"]])
    args = parser.parse_args()
    volume = BOXES["tng50"] ** 3
    print(f"TNG50 box {BOXES['tng50']} Mpc, volume {volume:.0f} Mpc^3; mock parameters: log_fstrip_vir "
          f"{PARAMETERS['log_fstrip_vir']}, slope {PARAMETERS['fstrip_slope']}, scatter "
          f"{PARAMETERS['fstrip_scatter']}, f_disrupt {PARAMETERS['f_disrupt']}")
    counts = []
    for seed in range(args.seeds):
        c, _ = generate_universe("tng50", seed=seed)
        counts.append(len(c["galaxy_id"]))
    print(f"galaxies above 10^9.5 Msun, seeds 0-{args.seeds - 1}: {counts}; mean {np.mean(counts):.0f} = "
          f"{np.mean(counts) / TNG50_COUNT:.2f} x TNG50-1's {TNG50_COUNT}; GAMA (Baldry+2012) in the same volume: "
          f"{gama_count_above(9.5, volume):.0f}")
    c, _ = generate_universe("tng100", seed=0)
    volume100 = BOXES["tng100"] ** 3
    print(f"tng100 mock (seed 0, {volume100:.0f} Mpc^3): {len(c['galaxy_id'])} galaxies = "
          f"{len(c['galaxy_id']) * volume / volume100:.0f} per TNG50 volume")
    print("stellar mass function, tng100 mock seed 0, per dex per Mpc^3:")
    print("\n".join(smf(c, volume100)))
    for strip in args.strip:
        params = {} if strip == PARAMETERS["log_fstrip_vir"] else {"log_fstrip_vir": strip}
        c, _ = generate_universe("tng50", seed=0, params=params)
        print(f"environment signal, tng50 seed 0, log_fstrip_vir = {strip} ({len(c['galaxy_id'])} galaxies, "
              f"{1 - c['is_central'].mean():.1%} satellites):")
        print("\n".join(signal(c)))


if __name__ == "__main__":
    main()
