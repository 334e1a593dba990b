"""A physically motivated mock of the TNG50 galaxy catalogue used by the halo-mass task.

Real TNG50 cannot be downloaded here, so :func:`generate_universe` builds a z = 0 periodic box
of galaxies whose halo masses relate to stellar mass, environment and morphology for the same
physical reasons as in a simulation. All masses are in Msun (not Msun/h) and all lengths in Mpc
(positions, distances) or kpc (galaxy sizes); halo masses are M200c (mean density 200 times the
critical density, like TNG's ``Group_M_Crit200``) throughout. Cosmology: Planck 2015 as in TNG
(colossus ``planck15``).

The recipe (references in ``REFERENCES``; parameters in ``PARAMETERS``):

1. **Host halos.** Masses are Poisson-sampled from the Tinker et al. (2008) mass function
   above ``log_mhost_min``. Positions: a lognormal density field rho = exp(delta_G -
   sigma_G^2/2) (Coles & Jones 1991) on an FFT grid whose correlation function is the linear
   one (Eisenstein & Hu 1998 transfer function, via colossus) smoothed with a Gaussian of
   ``smooth_mpc`` (the Gaussian field's spectrum comes from xi_G = ln(1 + xi), Agrawal et al.
   2017). A halo of Tinker et al. (2010) bias b picks its cell with probability proportional
   to max(0, 1 + b (rho - 1)), so massive halos sit in dense regions, and a uniform position
   inside it.
2. **Satellites.** Per host, accreted (peak) subhalo masses follow the unevolved subhalo mass
   function of Jiang & van den Bosch (2016, all orders) above ``log_macc_min``; radii follow an
   NFW profile (concentration: Diemer & Joyce 2019) inside R200c, directions are isotropic.
   Present bound mass = accreted mass x stripping factor f with
   log10 f = log10 f_vir + slope log10(r / R200c) + N(0, sigma): stripping is stronger deeper in
   the host. A subhalo no longer exists as a satellite if it has been tidally dissolved
   (f < ``f_disrupt``) or has sunk to the centre by dynamical friction: infall lookback times
   are uniform over the last ``infall_window_gyr`` and the merging time is that of
   Boylan-Kolchin, Ma & Quataert (2008). Satellites keep most of their stars:
   M*_now = M*_acc f^``stellar_strip_power``. The central galaxy's halo is the whole host: its
   target mass is the host M200c (the few per cent of mass in surviving subhalos is not
   subtracted), and its peak mass equals it.
3. **Stellar mass.** Moster, Naab & White (2013) stellar-to-halo mass relation at z = 0 on the
   peak halo mass (host mass for centrals, accreted mass for satellites) with log-normal
   scatter ``smhm_scatter``; only galaxies with log10 M* > ``log_mstar_min`` are kept.
4. **Morphology latents.** R_e = 0.015 R200c(peak mass) (Kravtsov 2013) with 0.2 dex scatter
   (spin). Quenched probability rises with host mass for centrals and is boosted for
   satellites, more so deeper in the host. Quenched: Sersic n ~ 3-5, round, red g-r, smooth.
   Star-forming: n ~ 1, randomly inclined thin disks (flatter), blue, clumpy. Disturbance grows
   as the 3-D distance to the nearest more massive galaxy shrinks (tidal encounters).

The signal a model can learn: at fixed M*, a satellite sits in a dense group and has lost most
of its dark matter (lower halo mass), while a central in a dense region tends to own a more
massive halo; environment (Delta_G) and morphology (quenching, which tracks being a satellite
and host mass) both carry part of that information; the latent truth carries nearly all of it.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import fft, special
from scipy.integrate import cumulative_trapezoid
from scipy.spatial import cKDTree
from astrozoo.data import cosmology
from astrozoo_halo_mass.conventions import CATALOGUE_UNITS

__all__ = ["BOXES", "COLUMN_UNITS", "PARAMETERS", "REFERENCES", "generate_universe",
           "smhm_moster13", "nfw_radius"]

BOXES = {"tng50": 51.7, "tng100": 110.7, "tng300": 302.6}  # comoving Mpc, periodic, z = 0
COSMOLOGY = "planck15"  # recorded in attrs; the Planck15 of astrozoo.data.cosmology (astropy and colossus)
MDEF = "200c"

COLUMN_UNITS = {
    **CATALOGUE_UNITS,  # the columns real catalogues have too; then the mock's latent truth
    "log_macc": "log10(Msun)",
    "strip_factor": "",
    "re_kpc": "kpc",
    "sersic_n": "",
    "axis_ratio": "",
    "position_angle": "rad",
    "quenched": "",
    "color_gr": "mag",
    "clumpiness": "",
    "disturbance": "",
}

PARAMETERS = {
    # host halos
    "log_mhost_min": 10.8,          # log10 Msun, M200c; lowest host mass drawn
    "hmf_model": "tinker08",
    "bias_model": "tinker10",
    "cell_mpc": 0.8,                # target FFT cell size
    "max_grid": 256,                # cap on cells per side (memory: ~0.5 GB at 256^3)
    "smooth_mpc": 3.0,              # Gaussian smoothing of the linear field
    # satellites
    "log_macc_min": 10.8,           # log10 Msun, lowest accreted subhalo mass drawn
    "shmf_jvdb16": [0.22, -0.91, 6.0, 3.0],   # (gamma, alpha, beta, omega), all orders
    "concentration_model": "diemer19",
    "log_fstrip_vir": -0.6,         # mean log10 f at r = R200c
    "fstrip_slope": 1.0,            # d log10 f / d log10(r/R200c)
    "fstrip_scatter": 0.25,         # dex
    "f_disrupt": 0.08,              # f below which a subhalo has tidally dissolved
    "infall_window_gyr": 13.0,      # infall lookback times uniform in [0, this]
    "df_circularity": 0.5,          # orbital circularity eta in the merging time
    "stellar_strip_power": 0.1,     # M*_now / M*_acc = f ** power
    # stellar mass (Moster et al. 2013, z = 0, Table 1)
    "smhm_log_m1": 11.59,
    "smhm_n": 0.0351,
    "smhm_beta": 1.376,
    "smhm_gamma": 0.608,
    "smhm_scatter": 0.2,            # dex (Moster et al. find 0.15)
    # morphology
    "re_over_r200": 0.015,          # Kravtsov (2013)
    "re_scatter": 0.2,              # dex
    "quench_log_mhost_mid": 12.2,   # centrals: logistic in log10 M_host
    "quench_width": 0.3,
    "quench_sat_centre": 0.8,       # extra satellite quenching at r = 0 ...
    "quench_sat_vir": 0.2,          # ... and at r = R200c (linear in r/R200c in between)
    "disturb_scale_mpc": 0.07,      # e-folding distance for a perturber of equal mass
}

REFERENCES = [
    "Tinker et al. 2008, ApJ 688, 709 (halo mass function)",
    "Tinker et al. 2010, ApJ 724, 878 (halo bias)",
    "Coles & Jones 1991, MNRAS 248, 1 (lognormal density field)",
    "Agrawal et al. 2017, JCAP 10, 003 (lognormal mocks: xi_G = ln(1 + xi))",
    "Eisenstein & Hu 1998, ApJ 496, 605 (transfer function, colossus default)",
    "Planck Collaboration 2016, A&A 594, A13 (cosmology, as in IllustrisTNG)",
    "Jiang & van den Bosch 2016, MNRAS 458, 2848 (unevolved subhalo mass function)",
    "Boylan-Kolchin, Ma & Quataert 2008, MNRAS 383, 93 (dynamical-friction merging time)",
    "Navarro, Frenk & White 1997, ApJ 490, 493 (NFW profile)",
    "Diemer & Joyce 2019, ApJ 871, 168 (concentration-mass relation)",
    "Moster, Naab & White 2013, MNRAS 428, 3121 (stellar-to-halo mass relation)",
    "Kravtsov 2013, ApJ 764, L31 (R_e = 0.015 R200)",
    "Diemer 2018, ApJS 239, 35 (colossus)",
]


def smhm_moster13(log_mhalo, p=PARAMETERS) -> np.ndarray:
    """Mean log10 M* for halo mass log10 M (Msun): m/M = 2N [(M/M1)^-beta + (M/M1)^gamma]^-1
    (Moster, Naab & White 2013, Eq. 2, z = 0 values of their Table 1)."""
    x = 10.0 ** (np.asarray(log_mhalo, dtype=np.float64) - p["smhm_log_m1"])
    ratio = 2.0 * p["smhm_n"] / (x ** -p["smhm_beta"] + x ** p["smhm_gamma"])
    return np.log10(ratio) + log_mhalo


def nfw_radius(u, c) -> np.ndarray:
    """r / R_vir of an NFW tracer at enclosed-mass quantile ``u`` for concentration ``c``.

    Inverts M(<y) ∝ m(y) = ln(1+y) - y/(1+y) (y = r/r_s) exactly with the Lambert W function:
    y = -1 / W0(-exp(-1 - u m(c))) - 1.
    """
    c = np.asarray(c, dtype=np.float64)
    mu = np.asarray(u) * (np.log1p(c) - c / (1.0 + c))
    y = -1.0 / np.real(special.lambertw(-np.exp(-1.0 - mu), 0)) - 1.0
    return y / c


def _host_masses(rng, volume, p):
    """Host M200c [Msun] drawn from the Tinker et al. (2008) mass function in ``volume`` Mpc^3
    (:func:`astrozoo.data.cosmology.sample_halo_masses`, colossus in Planck15)."""
    return cosmology.sample_halo_masses(rng, volume, p["log_mhost_min"], 16.0, z=0.0, mdef=MDEF,
                                        model=p["hmf_model"], n_grid=521)


def _gaussian_field(rng, box, p):
    """Gaussian field delta_G on an n^3 grid (float32) whose lognormal transform has the
    smoothed linear power spectrum, and the cell size [Mpc].

    Following Coles & Jones (1991) and Agrawal et al. (2017): the target correlation function
    xi (FFT of P(k) W^2(k), Gaussian window of ``smooth_mpc``) is mapped to the Gaussian one,
    xi_G = ln(1 + xi), whose power spectrum colours unit white noise. Then
    rho = exp(delta_G - sigma_G^2 / 2) has mean 1 and correlation function xi.
    """
    n = int(min(p["max_grid"], max(16, 2 * round(box / p["cell_mpc"] / 2))))
    cell = box / n
    kx = 2.0 * np.pi * fft.fftfreq(n, d=cell).astype(np.float32)
    kz = 2.0 * np.pi * fft.rfftfreq(n, d=cell).astype(np.float32)
    k = np.sqrt(kx[:, None, None] ** 2 + kx[None, :, None] ** 2 + kz[None, None, :] ** 2)
    # tabulate P(k) [Mpc^3] once
    ktab = np.logspace(np.log10(kz[1]) - 0.1, np.log10(k.max()) + 0.1, 400)
    ptab = cosmology.linear_power(ktab, 0.0)
    with np.errstate(divide="ignore"):
        pk = np.exp(np.interp(np.log(k), np.log(ktab), np.log(ptab))).astype(np.float32)
    pk *= np.exp(-(k * p["smooth_mpc"]) ** 2)
    pk[0, 0, 0] = 0.0
    del k
    xi = fft.irfftn(pk, s=(n, n, n), workers=-1) / cell ** 3      # xi on the grid lags
    pk_g = fft.rfftn(np.log1p(xi), workers=-1).real * cell ** 3  # its Gaussian counterpart
    del xi
    # unit white noise has power cell^3 per mode, hence sqrt(P_G / cell^3)
    amp = np.sqrt(np.clip(pk_g, 0.0, None) / cell ** 3).astype(np.float32)
    amp[0, 0, 0] = 0.0
    del pk, pk_g
    white = rng.standard_normal((n, n, n), dtype=np.float32)
    delta = fft.irfftn(fft.rfftn(white, workers=-1) * amp, s=white.shape, workers=-1)
    return delta.astype(np.float32), cell


def _place_hosts(rng, delta, cell, bias):
    """Cell for each halo with probability ∝ max(0, 1 + b (rho - 1)), uniform inside the cell.

    rho = exp(delta_G - sigma_G^2 / 2) is the lognormal density of Coles & Jones (1991) (mean
    1), and b the Tinker et al. (2010) bias: linear bias of the lognormal field, clipped at zero
    so that rare massive halos (b > 1) avoid underdense cells. (The pure exponential weight
    exp(b delta_G - b^2 sigma_G^2 / 2) gives xi_hh = exp(b^2 xi_G) - 1, which explodes for
    cluster-mass halos with b ~ 3-7 and piles them into a handful of cells.) Halos are grouped
    in bins of 0.1 in ln b so that one cumulative weight table serves a bin.
    """
    flat = delta.ravel().astype(np.float64)
    rho = np.exp(flat - 0.5 * flat.var())
    n = delta.shape[0]
    cells = np.empty(len(bias), dtype=np.int64)
    key = np.round(np.log(bias) / 0.1).astype(np.int64)
    for k in np.unique(key):
        members = np.flatnonzero(key == k)
        cdf = np.cumsum(np.maximum(0.0, 1.0 + np.exp(0.1 * k) * (rho - 1.0)))
        cells[members] = np.searchsorted(cdf, rng.random(len(members)) * cdf[-1], side="right")
    cells = np.minimum(cells, n ** 3 - 1)
    ijk = np.stack(np.unravel_index(cells, delta.shape), axis=1)
    return (ijk + rng.random(ijk.shape)) * cell


def _subhalos(rng, log_mhost, p):
    """Unevolved subhalo population (Jiang & van den Bosch 2016, all orders) of every host.

    dN/dln(psi) = gamma psi^alpha exp(-beta psi^omega), psi = m_acc / M_host. Returns the host
    index and log10 m_acc of each subhalo with m_acc > 10^log_macc_min.
    """
    gamma, alpha, beta, omega = p["shmf_jvdb16"]
    lnpsi = np.linspace(np.log(1e-9), 0.0, 4000)
    psi = np.exp(lnpsi)
    dn = gamma * psi ** alpha * np.exp(-beta * psi ** omega)
    cum = cumulative_trapezoid(dn, lnpsi, initial=0.0)
    n_above = cum[-1] - cum  # N(> psi), decreasing
    lnpsi_min = (p["log_macc_min"] - log_mhost) * np.log(10.0)
    mean = np.interp(lnpsi_min, lnpsi, n_above)
    host = np.repeat(np.arange(len(log_mhost)), rng.poisson(mean))
    target = rng.random(len(host)) * mean[host]
    lnpsi_sub = np.interp(target, n_above[::-1], lnpsi[::-1])
    return host, log_mhost[host] + lnpsi_sub / np.log(10.0)


def _tabulated(fn, log_m, lo=10.0, hi=16.0, n=121):
    """Evaluate a smooth function of log10 M on a grid and interpolate (colossus is slow
    element by element)."""
    grid = np.linspace(lo, hi, n)
    return np.interp(log_m, grid, fn(grid))


def _nearest_more_massive(pos, log_mstar, box, k=16):
    """3-D (periodic) distance [Mpc] to and log10 M* of the nearest more massive galaxy
    (inf and nan where none is among the k nearest)."""
    n = len(pos)
    k = min(k, n)
    dist, idx = cKDTree(pos, boxsize=box).query(pos, k=k, workers=-1)
    dist, idx = dist.reshape(n, k), idx.reshape(n, k)
    heavier = log_mstar[idx] > log_mstar[:, None]
    first = np.argmax(heavier, axis=1)
    found = heavier[np.arange(n), first]
    d = np.where(found, dist[np.arange(n), first], np.inf)
    m = np.where(found, log_mstar[idx[np.arange(n), first]], np.nan)
    return d, m


def generate_universe(box: str = "tng50", seed: int = 0, log_mstar_min: float = 9.5,
                      progress=None, params: dict | None = None
                      ) -> tuple[dict[str, np.ndarray], dict]:
    """Generate a mock z = 0 galaxy catalogue in a periodic box.

    Parameters
    ----------
    box : one of ``BOXES`` (side 51.7, 110.7 or 302.6 Mpc).
    seed : the same seed gives bit-identical arrays (numpy ``Generator``, one independent
        stream per stage spawned from ``SeedSequence(seed)``).
    log_mstar_min : keep galaxies with log10(M*/Msun) > this.
    progress : optional callable receiving a short message after each stage.
    params : optional overrides of ``PARAMETERS`` (recorded in ``attrs['parameters']``).

    Returns
    -------
    columns : dict of arrays, one row per galaxy, rows ordered by host (host_id 0 = most
        massive host), central first, then by decreasing M*. Units in ``COLUMN_UNITS``:

        galaxy_id (int64, 0..N-1); pos (N, 3) Mpc in [0, box); log_mstar log10 Msun;
        log_mhalo log10 Msun, present bound halo mass (the target; host M200c for centrals,
        m_acc x strip_factor for satellites); is_central (bool); host_id (int64);
        log_mhost log10 Msun host M200c; r_host Mpc from the host centre (0 for centrals);
        r_over_rvir r_host / R200c (0 for centrals); log_macc log10 Msun peak mass (equals
        log_mhalo for centrals); strip_factor m_now / m_acc (1 for centrals); re_kpc
        effective radius in kpc; sersic_n; axis_ratio b/a; position_angle rad in [0, pi);
        quenched (bool); color_gr g-r in mag; clumpiness 0..1; disturbance 0..1.
    attrs : dict (JSON-serialisable) with every parameter, the seed, box name and size,
        cosmology, mass definition, grid, references and ``provenance = 'mock'``.
    """
    if box not in BOXES:
        raise ValueError(f"unknown box {box!r}; choose one of {sorted(BOXES)}")
    unknown = set(params or {}) - set(PARAMETERS)
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)}; see PARAMETERS")
    p = {**PARAMETERS, **(params or {})}
    size = BOXES[box]
    say = progress or (lambda message: None)
    clock = time.perf_counter()

    def stage(message):
        say(f"[{time.perf_counter() - clock:6.1f} s] {message}")

    rng_mass, rng_field, rng_place, rng_sub, rng_star, rng_morph = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6))

    # 1. host halo masses
    m_host = _host_masses(rng_mass, size ** 3, p)
    log_mhost = np.log10(m_host)
    stage(f"{len(m_host)} host halos above 10^{p['log_mhost_min']} Msun")

    # 2. subhalos: accreted masses, NFW radii, stripping, disruption
    sub_host, sub_log_macc = _subhalos(rng_sub, log_mhost, p)
    conc = _tabulated(lambda lm: cosmology.concentration(10.0 ** lm, 0.0, MDEF, p["concentration_model"]),
                      log_mhost[sub_host])
    x_sub = nfw_radius(rng_sub.random(len(sub_host)), conc)
    log_f = (p["log_fstrip_vir"] + p["fstrip_slope"] * np.log10(x_sub)
             + p["fstrip_scatter"] * rng_sub.standard_normal(len(sub_host)))
    log_f = np.minimum(log_f, 0.0)
    direction = rng_sub.standard_normal((len(sub_host), 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    # dynamical friction: merged with the central if accreted longer ago than the
    # Boylan-Kolchin et al. (2008) merging time (tau_dyn = R200c / V200c = 0.1 / H0)
    t_dyn = 0.1 * cosmology.hubble_time("Gyr")
    ratio = 10.0 ** (log_mhost[sub_host] - sub_log_macc)
    t_merge = (t_dyn * 0.216 * ratio ** 1.3 / np.log1p(ratio)
               * np.exp(1.9 * p["df_circularity"]))
    t_infall = rng_sub.uniform(0.0, p["infall_window_gyr"], len(sub_host))
    survive = (log_f > np.log10(p["f_disrupt"])) & (t_infall < t_merge)
    stage(f"{len(sub_host)} subhalos accreted, {survive.sum()} survive")

    # 3. stellar masses (peak halo mass -> M*), then keep galaxies above the cut
    scatter = p["smhm_scatter"]
    cen_lms = smhm_moster13(log_mhost, p) + scatter * rng_star.standard_normal(len(log_mhost))
    sub_lms = (smhm_moster13(sub_log_macc, p) + scatter * rng_star.standard_normal(len(sub_host))
               + p["stellar_strip_power"] * log_f)
    cen_keep = cen_lms > log_mstar_min
    sub_keep = survive & (sub_lms > log_mstar_min)

    # host positions from the biased lognormal field, only for hosts that carry a galaxy
    used = np.zeros(len(m_host), bool)
    used[cen_keep] = True
    used[sub_host[sub_keep]] = True
    used_idx = np.flatnonzero(used)
    delta, cell = _gaussian_field(rng_field, size, p)
    sigma_g = float(delta.std())
    b = _tabulated(lambda lm: cosmology.halo_bias(10.0 ** lm, 0.0, MDEF, p["bias_model"]), log_mhost[used_idx])
    host_pos = np.zeros((len(m_host), 3))
    host_pos[used_idx] = _place_hosts(rng_place, delta, cell, b)
    del delta
    stage(f"lognormal field {round(size / cell)}^3 cells of {cell:.2f} Mpc "
          f"(sigma_G = {sigma_g:.2f}); {len(used_idx)} hosts placed")

    # assemble the galaxy table (centrals then satellites; reordered below)
    r200_host_mpc = _tabulated(lambda lm: cosmology.halo_radius(10.0 ** lm, 0.0, MDEF), log_mhost) / 1e3
    si = np.flatnonzero(sub_keep)
    hi = sub_host[si]
    r_sat = x_sub[si] * r200_host_mpc[hi]
    n_cen, n_sat = int(cen_keep.sum()), len(si)
    is_central = np.r_[np.ones(n_cen, bool), np.zeros(n_sat, bool)]
    host = np.r_[np.flatnonzero(cen_keep), hi]
    pos = np.r_[host_pos[cen_keep], host_pos[hi] + r_sat[:, None] * direction[si]]
    log_mstar = np.r_[cen_lms[cen_keep], sub_lms[si]]
    log_macc = np.r_[log_mhost[cen_keep], sub_log_macc[si]]
    log_strip = np.r_[np.zeros(n_cen), log_f[si]]
    r_host = np.r_[np.zeros(n_cen), r_sat]
    r_over_rvir = np.r_[np.zeros(n_cen), x_sub[si]]

    # order: hosts by decreasing mass (host_id 0 = most massive), central first, then M*
    host_rank = np.full(len(m_host), -1, np.int64)
    by_mass = used_idx[np.argsort(-log_mhost[used_idx], kind="stable")]
    host_rank[by_mass] = np.arange(len(by_mass))
    host_id = host_rank[host]
    order = np.lexsort((-log_mstar, ~is_central, host_id))

    cols = {
        "galaxy_id": np.arange(len(order), dtype=np.int64),
        "pos": np.mod(pos[order], size),
        "log_mstar": log_mstar[order],
        "log_mhalo": (log_macc + log_strip)[order],
        "is_central": is_central[order],
        "host_id": host_id[order],
        "log_mhost": log_mhost[host][order],
        "r_host": r_host[order],
        "r_over_rvir": r_over_rvir[order],
        "log_macc": log_macc[order],
        "strip_factor": 10.0 ** log_strip[order],
    }
    cols["pos"] = np.where(cols["pos"] >= size, cols["pos"] - size, cols["pos"])
    n = len(order)
    stage(f"{n} galaxies above 10^{log_mstar_min} Msun ({n_sat / max(n, 1):.1%} satellites)")

    # 4. morphology latents
    r = rng_morph
    re_kpc = (p["re_over_r200"] * _tabulated(lambda lm: cosmology.halo_radius(10.0 ** lm, 0.0, MDEF),
                                               cols["log_macc"])
              * 10.0 ** (p["re_scatter"] * r.standard_normal(n)))
    p_cen = 1.0 / (1.0 + np.exp(-(cols["log_mhost"] - p["quench_log_mhost_mid"])
                                / p["quench_width"]))
    p_cen_own = 1.0 / (1.0 + np.exp(-(cols["log_macc"] - p["quench_log_mhost_mid"])
                                    / p["quench_width"]))
    x = np.clip(cols["r_over_rvir"], 0.0, 1.0)
    p_env = p["quench_sat_centre"] + (p["quench_sat_vir"] - p["quench_sat_centre"]) * x
    p_q = np.where(cols["is_central"], p_cen, 1.0 - (1.0 - p_cen_own) * (1.0 - p_env))
    quenched = r.random(n) < p_q

    lms = cols["log_mstar"]
    n_red = 10.0 ** (np.log10(4.0) + 0.07 * r.standard_normal(n))
    n_blue = 10.0 ** (0.1 * (lms - 10.0) + 0.12 * r.standard_normal(n))
    sersic_n = np.clip(np.where(quenched, n_red, n_blue), 0.5, 8.0)
    # disks: intrinsically thin (q0 ~ 0.2), random inclination (Hubble 1926); spheroids round
    cos_i = r.random(n)
    q0 = np.clip(0.2 + 0.05 * r.standard_normal(n), 0.05, 0.5)
    q_disk = np.sqrt(cos_i ** 2 + q0 ** 2 * (1.0 - cos_i ** 2))
    q_sph = 0.75 + 0.12 * r.standard_normal(n)
    axis_ratio = np.clip(np.where(quenched, q_sph, q_disk), 0.05, 1.0)
    position_angle = r.uniform(0.0, np.pi, n)
    gr_red = 0.75 + 0.04 * (lms - 10.5) + 0.03 * r.standard_normal(n)
    gr_blue = 0.45 + 0.10 * (lms - 10.0) + 0.07 * r.standard_normal(n)
    color_gr = np.where(quenched, gr_red, gr_blue)
    clumpiness = np.where(quenched, r.beta(1.0, 30.0, n), r.beta(2.0, 5.0, n))
    # tidal disturbance: e-folding distance grows as (M*_perturber / M*)^(1/3) (tidal radius)
    d_nb, lms_nb = _nearest_more_massive(cols["pos"], lms, size)
    scale = p["disturb_scale_mpc"] * 10.0 ** ((np.nan_to_num(lms_nb, nan=0.0) - lms) / 3.0)
    disturbance = np.where(np.isfinite(d_nb), np.exp(-d_nb / scale), 0.0)
    disturbance = np.clip(disturbance + 0.03 * r.standard_normal(n), 0.0, 1.0)

    cols.update(re_kpc=re_kpc, sersic_n=sersic_n, axis_ratio=axis_ratio,
                position_angle=position_angle, quenched=quenched, color_gr=color_gr,
                clumpiness=clumpiness, disturbance=disturbance)
    stage("morphology latents done")

    attrs = {
        "provenance": "mock",
        "generator": "astrozoo_halo_mass.mock.generate_universe",
        "seed": int(seed),
        "box": box,
        "box_size_mpc": float(size),
        "redshift": 0.0,
        "cosmology": COSMOLOGY,
        "hubble_h": float(cosmology.colossus_cosmology().h),
        "mass_definition": "M200c (Msun, not Msun/h)",
        "log_mstar_min": float(log_mstar_min),
        "grid_cells_per_side": int(round(size / cell)),
        "sigma_gaussian_field": round(sigma_g, 6),
        "n_galaxies": int(n),
        "n_satellites": int(n_sat),
        "parameters": p,
        "references": REFERENCES,
        "column_units": COLUMN_UNITS,
    }
    return cols, attrs
