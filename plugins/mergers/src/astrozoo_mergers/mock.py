"""Mock HSC i-band images of major-merger sequences and non-mergers (the embedded default data).

What is simulated (docs/tasks/mergers.md gives the relations and references):

* **Major-merger sequences**: a primary (log M* 10–11.2) and a secondary with stellar mass ratio
  1:1 to 1:4 on a decaying orbit — wide approach, a first pericentre 0.6–1.4 Gyr before
  coalescence, 1.5–3 radial periods of a shrinking envelope, coalescence at t = 0. Tidal tails,
  a bridge and lopsided (m = 1) distortions grow after the first pericentre; near t = 0 the
  nuclei are double; afterwards one remnant whose Sérsic index grows, with shells, an offset
  envelope and tails that fade on τ = 0.3–0.8 Gyr. A per-sequence efficiency (orbit geometry,
  gas content) makes some mergers show almost nothing, as in the simulations.
  Each sequence is observed on a snapshot grid (0.15 Gyr) from −1.0 to +0.5 Gyr: images with
  −0.8 ≤ t ≤ 0.3 are mergers (pre −0.8…−0.1, ongoing ±0.1, post 0.1…0.3); the wide pairs
  before and the relaxed remnants after are non-mergers of the same sequence.
* **Non-mergers**: isolated disks (spiral arms, star-forming clumps, mild lopsidedness) and
  spheroids; chance projections (an unrelated galaxy at another redshift within 60 kpc in
  projection); minor mergers (mass ratio 1:4–1:10, weak features; not major, so label 0).
* **Every image**: redshift 0.1–1.0 (Planck15, as TNG): angular sizes from the angular-diameter
  distance, fluxes from the luminosity distance, so surface brightness dims as (1+z)^-4, with
  passive brightening of ``EVOLUTION`` mag per unit z and no K-correction; HSC i-band pixels
  (0.168"), a Gaussian PSF of FWHM 0.6–0.8", sky-limited Gaussian noise for a 5σ point-source
  depth of 25.9–26.5 mag (2" aperture, zero point 27), field galaxies and stars; the paper's
  fields of 320/192/160/128 pixels for z in [0.1,0.31), [0.31,0.52), [0.52,0.76), [0.76,1.0).

Everything is drawn from ``numpy.random.default_rng`` seeded by (seed, sequence or image index),
so the same seed gives identical images whatever the number of worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from astrozoo.data import cosmology
from astrozoo.data.images import convolve_psf, sersic_image
from astrozoo_mergers.conventions import (MERGER_WINDOW, ONGOING, PIXSCALE, STAGES, Z_EDGES,  # noqa: F401
                                          ZERO_POINT, stage_code, z_bin)

VERSION = 4                         # bump when the generator changes: cached files are remade
DEPTH_RANGE = (25.9, 26.5)          # i-band 5σ point-source depth in a 2" aperture (HSC Wide ≈ 26.2)
PSF_FWHM_RANGE = (0.6, 0.8)         # arcsec
EVOLUTION = 1.0                     # passive brightening, mag per unit redshift
M_SUN_I = 4.53                      # absolute AB magnitude of the Sun in i (Willmer 2018)
FIELD_PX = (320, 192, 160, 128)     # Chudy et al.: 160 kpc fields per redshift bin
SNAPSHOT_SPACING = 0.15             # Gyr, about TNG's at 0.1 < z < 1
OBSERVED = (-1.0, 0.5)              # Gyr: snapshots kept around each major merger
KINDS = ("major", "isolated", "projection", "minor")


def field_pixels(z) -> np.ndarray:
    return np.asarray(FIELD_PX)[np.clip(z_bin(z), 0, 3)]


# -- cosmology (Planck15 as in TNG): astrozoo.data.cosmology, tabulated once on Z_GRID ------------
Z_GRID = (0.0, 3.0, 3001)


def kpc_per_arcsec(z):
    return cosmology.tabulated(z, Z_GRID)["kpc_per_arcsec"]


def distance_modulus(z):
    return cosmology.tabulated(z, Z_GRID)["distmod"]


def sky_sigma(depth_5sigma: float) -> float:
    """Per-pixel sky σ (counts) for a 5σ point-source depth in a 2" diameter aperture."""
    aperture_px = np.pi * 1.0**2 / PIXSCALE**2
    return float(10 ** (-0.4 * (depth_5sigma - ZERO_POINT)) / 5.0 / np.sqrt(aperture_px))


def counts(log_mstar, mass_to_light, z):
    """i-band counts of a galaxy: M_i from M*/L, apparent via the luminosity distance, brightened
    by EVOLUTION·z mag (no K-correction), at zero point 27."""
    abs_mag = M_SUN_I - 2.5 * (np.asarray(log_mstar) - np.log10(mass_to_light))
    return 10 ** (-0.4 * (abs_mag + distance_modulus(z) - EVOLUTION * np.asarray(z) - ZERO_POINT))


# -- galaxies ------------------------------------------------------------------------------------
@dataclass
class Galaxy:
    """Intrinsic structure; sizes in kpc at the reference epoch, angles in radians."""

    log_mstar: float
    spheroid: bool
    r_eff: float
    n: float
    ellip: float
    theta: float
    mass_to_light: float
    arms: float = 0.0           # spiral-arm amplitude (disks)
    pitch: float = 0.3          # arm pitch angle
    arm_phase: float = 0.0
    clumps: int = 0
    lopsided: float = 0.0       # intrinsic m = 1 amplitude
    lopsided_angle: float = 0.0


def draw_galaxy(rng: np.random.Generator, log_mstar: float, z: float) -> Galaxy:
    """Type from mass; semi-major half-light radius from van der Wel et al. (2014, their Table 1 at
    z = 0.25: early types 4.0 kpc × (M/5·10^10)^0.75, late types 7.2 kpc × (M/5·10^10)^0.25;
    evolving as (1+z)^-1.48 and (1+z)^-0.75) with 0.15 dex scatter; Sérsic index and axis ratio
    by type, arms and clumps for disks."""
    p_spheroid = np.clip(0.2 + 0.35 * (log_mstar - 10.0), 0.1, 0.7)
    spheroid = bool(rng.random() < p_spheroid)
    if spheroid:
        r_eff = 4.0 * 10 ** (0.75 * (log_mstar - 10.7)) * ((1 + z) / 1.25) ** -1.48
        n, q = rng.uniform(3.0, 5.0), rng.uniform(0.55, 1.0)
        ml = rng.uniform(1.4, 2.2)
    else:
        r_eff = 7.2 * 10 ** (0.25 * (log_mstar - 10.7)) * ((1 + z) / 1.25) ** -0.75
        n = rng.uniform(0.7, 1.6)
        cos_i = rng.uniform(0.15, 1.0)  # inclined thin disks, intrinsic thickness 0.2
        q = np.sqrt(cos_i**2 * (1 - 0.2**2) + 0.2**2)
        ml = rng.uniform(0.7, 1.3)
    r_eff *= 10 ** rng.normal(0, 0.15)
    gal = Galaxy(log_mstar, spheroid, float(r_eff), float(n), float(1 - q), rng.uniform(0, np.pi), float(ml))
    if not spheroid:
        gal.arms = float(rng.uniform(0.1, 0.55))
        gal.pitch = float(rng.uniform(0.2, 0.45))
        gal.arm_phase = float(rng.uniform(0, 2 * np.pi))
        gal.clumps = int(rng.integers(0, 7))
    gal.lopsided = float(abs(rng.normal(0, 0.06)))
    gal.lopsided_angle = float(rng.uniform(0, 2 * np.pi))
    return gal


# -- major-merger sequences -----------------------------------------------------------------------
@dataclass
class Sequence:
    """One object observed at several snapshots: a major merger, or a non-merger of some kind."""

    sequence_id: int
    kind: str
    z_ref: float                       # redshift at t = 0 (coalescence, or the middle snapshot)
    primary: Galaxy
    secondary: Galaxy | None = None
    mass_ratio: float = np.nan
    orbit: dict = field(default_factory=dict)
    times: list[float] = field(default_factory=list)


def draw_orbit(rng: np.random.Generator) -> dict:
    return {
        "r_far": rng.uniform(45, 110),          # kpc at t = −0.8 Gyr
        "ecc": rng.uniform(0.45, 0.85),         # depth of the pericentre dips
        # first pericentre, Gyr: of the order of 1 Gyr before coalescence in disc-merger
        # simulations (Lotz et al. 2008), so most pre-merger snapshots follow it
        "t_peri": rng.uniform(-1.4, -0.6),
        "passages": rng.uniform(1.5, 3.0),      # radial periods between it and coalescence
        "cos_i": rng.uniform(-1, 1), "node": rng.uniform(0, 2 * np.pi), "phase0": rng.uniform(0, 2 * np.pi),
        "efficiency": float(np.exp(rng.uniform(np.log(0.3), np.log(1.6)))),  # how visible its features get
        # Gyr, e-folding of the features' light after coalescence: remnants stay asymmetric for
        # 0.3 to over 1 Gyr depending on gas fraction (Lotz et al. 2010) and their tidal features
        # stay above 25 mag/arcsec² for about twice the coalescence time (Ji et al. 2014)
        "tau_fade": rng.uniform(0.3, 0.8),
        "tail_length": rng.uniform(30, 80),     # kpc, longest the tails get
        "tail_curl": rng.uniform(0.6, 1.6) * rng.choice([-1, 1]),
        "n_final": rng.uniform(2.5, 4.5), "ellip_remnant": rng.uniform(0.1, 0.55),
        "shell_axis": rng.uniform(0, np.pi),
    }


def radial_period(orbit: dict) -> float:
    """Gyr between pericentres after the first one."""
    return -orbit["t_peri"] / orbit["passages"]


def separation(orbit: dict, t):
    """3-D separation (kpc) before coalescence: an envelope shrinking to 0 at t = 0, with dips at
    the first pericentre and every radial period after it."""
    t = np.minimum(np.asarray(t, dtype=float), 0.0)
    envelope = orbit["r_far"] * (np.abs(t) / 0.8) ** 0.9
    period = radial_period(orbit)
    phase = 2 * np.pi * (t - orbit["t_peri"]) / period
    dip = orbit["ecc"] * (1 + np.cos(phase)) / 2
    approach = t >= orbit["t_peri"] - period / 2
    return np.maximum(envelope * np.where(approach, 1 - dip, 1.0), 1.0)


def tidal_strength(orbit: dict, t) -> np.ndarray:
    """0..~1.6: weak before the first pericentre, growing after it, fading after coalescence."""
    t = np.asarray(t, dtype=float)
    before = 0.08 * np.clip(25.0 / separation(orbit, t), 0, 1)
    after_peri = 1 - np.exp(-np.clip(t - orbit["t_peri"], 0, None) / 0.12)
    pre = np.where(t < orbit["t_peri"], before, np.maximum(before, after_peri))
    post = np.exp(-np.clip(t, 0, None) / orbit["tau_fade"])
    return orbit["efficiency"] * np.where(t < 0, pre, post)


def _snapshot_times(rng, window, keep) -> list[float]:
    start = window[0] + rng.uniform(0, SNAPSHOT_SPACING)
    grid = np.arange(start, window[1], SNAPSHOT_SPACING)
    kept = grid[rng.random(grid.size) < keep]
    if kept.size == 0:
        kept = rng.choice(grid, 1)
    return [float(t) for t in kept]


def draw_sequences(n_major: int, n_nonmerger: int, *, keep: float = 1.0, seed: int = 0,
                   z_range=(0.1, 1.0), frac_projection: float = 0.35, frac_minor: float = 0.2,
                   nonmerger_snapshots=(1, 4)) -> list[Sequence]:
    """The sequences of the mock, each with its own generator (seed, index)."""
    sequences = []
    for i in range(n_major + n_nonmerger):
        rng = np.random.default_rng([seed, 1, i])
        z_ref = rng.uniform(*z_range)
        log_m1 = rng.uniform(10.0, 11.2)
        primary = draw_galaxy(rng, log_m1, z_ref)
        if i < n_major:
            mu = rng.uniform(0.25, 1.0)
            seq = Sequence(i, "major", z_ref, primary, draw_galaxy(rng, log_m1 + np.log10(mu), z_ref), mu,
                           draw_orbit(rng), _snapshot_times(rng, OBSERVED, keep))
        else:
            u = rng.random()
            kind = "projection" if u < frac_projection else "minor" if u < frac_projection + frac_minor else "isolated"
            n_snap = int(rng.integers(nonmerger_snapshots[0], nonmerger_snapshots[1] + 1))
            times = [float(t) for t in (np.arange(n_snap) - (n_snap - 1) / 2) * SNAPSHOT_SPACING]
            seq = Sequence(i, kind, z_ref, primary, times=times)
            if kind == "minor":  # a minor merger in progress: features, but not a major merger
                mu = rng.uniform(0.1, 0.25)
                seq.secondary, seq.mass_ratio = draw_galaxy(rng, log_m1 + np.log10(mu), z_ref), mu
                seq.orbit = draw_orbit(rng)
                seq.orbit["efficiency"] *= 0.5 * mu / 0.25
                grid = np.arange(MERGER_WINDOW[0], MERGER_WINDOW[1], SNAPSHOT_SPACING)
                seq.times = sorted(float(t) for t in rng.choice(grid, min(n_snap, grid.size), replace=False))
            elif kind == "projection":
                z_bg = z_ref
                while abs(z_bg - z_ref) < 0.1:
                    z_bg = rng.uniform(0.05, 2.0)
                flux_ratio = np.exp(rng.uniform(np.log(0.1), np.log(1.3)))
                ml = rng.uniform(0.7, 2.0)
                # the unrelated galaxy's mass follows from its flux at its own redshift
                log_m = (np.log10(flux_ratio * counts(log_m1, primary.mass_to_light, z_ref)
                                  / counts(0.0, ml, z_bg)))
                companion = draw_galaxy(rng, float(np.clip(log_m, 8.5, 12.0)), z_bg)
                companion.mass_to_light = ml
                r = np.sqrt(rng.uniform(1.5**2, 60.0**2))
                angle = rng.uniform(0, 2 * np.pi)
                seq.secondary = companion
                seq.orbit = {"z_bg": z_bg, "offset_kpc": (r * np.cos(angle), r * np.sin(angle))}
        sequences.append(seq)
    return sequences


# -- scenes: what is in one image ------------------------------------------------------------------
@dataclass
class Scene:
    """Everything rendered in one image; positions in kpc from the field centre (x right, y up)."""

    z: float
    sersics: list[dict] = field(default_factory=list)   # x, y, flux, r_eff, n, ellip, theta [+ arms etc.]
    blobs: list[np.ndarray] = field(default_factory=list)  # (k, 4) arrays: x, y, sigma (kpc), flux
    points: list[tuple[float, float, float]] = field(default_factory=list)  # stars: x, y, flux
    truth: dict = field(default_factory=dict)


def _project(orbit: dict, x, y):
    """Orbital-plane (x, y) → sky (x, y): incline by arccos(cos_i), rotate by the node angle."""
    y = y * orbit["cos_i"]
    c, s = np.cos(orbit["node"]), np.sin(orbit["node"])
    return c * x - s * y, s * x + c * y


def _galaxy_component(gal: Galaxy, x, y, z, flux=None, **changes) -> dict:
    comp = {"x": x, "y": y, "flux": counts(gal.log_mstar, gal.mass_to_light, z) if flux is None else flux,
            "r_eff": gal.r_eff, "n": gal.n, "ellip": gal.ellip, "theta": gal.theta, "arms": gal.arms,
            "pitch": gal.pitch, "arm_phase": gal.arm_phase, "clumps": gal.clumps, "lopsided": gal.lopsided,
            "lopsided_angle": gal.lopsided_angle}
    comp.update(changes)
    return comp


def _tail(rng, orbit, x0, y0, start_angle, length, flux, curl, k=28) -> np.ndarray:
    """A tidal tail: a curved chain of Gaussian blobs in the orbital plane, projected, widening
    and fading along its length."""
    s = np.linspace(0.05, 1.0, k)
    radius = 2.0 + s * length
    angle = start_angle + curl * s
    px, py = _project(orbit, radius * np.cos(angle), radius * np.sin(angle))
    weights = np.exp(-2.0 * s)
    return np.column_stack([x0 + px, y0 + py, 1.0 + 3.0 * s, flux * weights / weights.sum()])


def _shells(rng, x0, y0, r_eff, axis, flux, t, k=3) -> list[np.ndarray]:
    """Interleaved shells of a radial merger on alternate sides of ``axis``, moving outwards
    with time; each is an arc of blobs of width 0.08 r."""
    arcs = []
    for j in range(k):
        r = r_eff * (1.8 + 1.3 * j) * (1 + 1.5 * max(t, 0.0))
        side = axis + (np.pi if j % 2 else 0.0)
        half = rng.uniform(0.9, 1.3)
        phi = np.linspace(side - half, side + half, 24)
        weights = np.cos((phi - side) / half * np.pi / 2) ** 2 + 0.05
        arcs.append(np.column_stack([x0 + r * np.cos(phi), y0 + r * np.sin(phi), np.full(phi.size, 0.08 * r + 0.5),
                                     flux / k * weights / weights.sum()]))
    return arcs


def scene_of(seq: Sequence, t: float, z: float, rng: np.random.Generator) -> Scene:
    """The galaxies, tails, bridges and shells of ``seq`` at time ``t`` (Gyr from coalescence)."""
    scene = Scene(z)
    p, s, orbit = seq.primary, seq.secondary, seq.orbit
    wander = {"arm_phase": p.arm_phase + 2.0 * t, "clump_seed": int(rng.integers(1 << 30))}
    if seq.kind in ("isolated", "projection"):
        scene.sersics.append(_galaxy_component(p, 0.0, 0.0, z, **wander))
        if seq.kind == "projection":
            dx, dy = orbit["offset_kpc"]
            z_bg = orbit["z_bg"]
            # the background galaxy's size in the primary's kpc: same angle, other distance
            scale = kpc_per_arcsec(z) / kpc_per_arcsec(z_bg)
            scene.sersics.append(_galaxy_component(s, dx, dy, z, flux=counts(s.log_mstar, s.mass_to_light, z_bg),
                                                   r_eff=s.r_eff * scale, clump_seed=int(rng.integers(1 << 30))))
        scene.truth = {"separation_kpc": np.hypot(*orbit["offset_kpc"]) if seq.kind == "projection" else np.nan,
                       "tidal_strength": 0.0}
        return scene

    strength = float(tidal_strength(orbit, t))
    f1, f2 = counts(p.log_mstar, p.mass_to_light, z), counts(s.log_mstar, s.mass_to_light, z)
    if t < 0:  # two galaxies on the orbit; the primary stays at the field centre
        r = float(separation(orbit, t))
        phase = orbit["phase0"] + np.pi * (t - orbit["t_peri"]) / radial_period(orbit)
        ox, oy = r * np.cos(phase), r * np.sin(phase)
        sx, sy = _project(orbit, ox, oy)
        toward = np.arctan2(sy, sx)
        # tidal stretching: lopsided towards the companion, stronger when close
        proximity = float(np.clip(12.0 / r, 0.15, 1.0))
        lop = 0.6 * strength * proximity
        scene.sersics.append(_galaxy_component(p, 0.0, 0.0, z, flux=f1, lopsided=p.lopsided + lop,
                                               lopsided_angle=toward, **wander))
        scene.sersics.append(_galaxy_component(s, sx, sy, z, flux=f2, lopsided=s.lopsided + lop * 1.3,
                                               lopsided_angle=toward + np.pi, arm_phase=s.arm_phase + 2.0 * t,
                                               clump_seed=int(rng.integers(1 << 30))))
        if t > orbit["t_peri"] or r < 20:
            grown = float(np.clip((t - orbit["t_peri"]) * 150.0 + 5.0, 5.0, orbit["tail_length"]))
            plane_angle = np.arctan2(oy, ox)
            wet = (not p.spheroid) + (not s.spheroid)
            tail_frac = 0.06 * strength * (0.4 + 0.3 * wet)
            for (gx, gy), gflux, sign in (((0.0, 0.0), f1, 1.0), ((sx, sy), f2, -1.0)):
                counter = plane_angle + (np.pi if sign > 0 else 0.0)
                scene.blobs.append(_tail(rng, orbit, gx, gy, counter, grown, tail_frac * gflux, orbit["tail_curl"]))
                scene.blobs.append(_tail(rng, orbit, gx, gy, counter + np.pi, 0.5 * grown, 0.5 * tail_frac * gflux,
                                         orbit["tail_curl"]))
            if r < 45:  # a bridge between them
                k = 16
                u = np.linspace(0.15, 0.85, k)
                bend = 0.15 * r * np.sin(np.pi * u) * np.sign(orbit["tail_curl"])
                bx = u * sx - bend * np.sin(toward)
                by = u * sy + bend * np.cos(toward)
                scene.blobs.append(np.column_stack([bx, by, np.full(k, 1.5), np.full(k, 0.03 * strength * min(f1, f2) / k)]))
        scene.truth = {"separation_kpc": r, "projected_kpc": float(np.hypot(sx, sy)), "tidal_strength": strength}
        return scene

    # t >= 0: one remnant that relaxes; a second nucleus for the first 0.1 Gyr
    rem_reff = 0.9 * max(p.r_eff, s.r_eff) * (1 + 0.3 * min(s.log_mstar - p.log_mstar + 1, 1))
    n_now = 1.6 + (orbit["n_final"] - 1.6) * (1 - np.exp(-t / 0.15))
    axis = orbit["shell_axis"]
    scene.sersics.append({"x": 0.0, "y": 0.0, "flux": (f1 + f2) * (1 - 0.1 * strength), "r_eff": rem_reff, "n": n_now,
                          "ellip": orbit["ellip_remnant"], "theta": axis, "arms": 0.0, "pitch": 0.3, "arm_phase": 0.0,
                          "clumps": int(3 * strength * (not p.spheroid)), "clump_seed": int(rng.integers(1 << 30)),
                          "lopsided": 0.5 * strength + p.lopsided, "lopsided_angle": axis + 0.7})
    # an offset, diffuse envelope: the asymmetric outskirts of a young remnant
    scene.sersics.append({"x": 0.6 * rem_reff * np.cos(axis + 0.7), "y": 0.6 * rem_reff * np.sin(axis + 0.7),
                          "flux": 0.1 * strength * (f1 + f2), "r_eff": 3.0 * rem_reff, "n": 1.0, "ellip": 0.3,
                          "theta": axis + 0.7, "arms": 0.0, "pitch": 0.3, "arm_phase": 0.0, "clumps": 0,
                          "lopsided": 0.0, "lopsided_angle": 0.0})
    if t < ONGOING:
        off = 1.0 + 2.5 * (1 - t / ONGOING)
        scene.sersics.append({"x": off * np.cos(axis), "y": off * np.sin(axis), "flux": 0.12 * f2 * (1 - t / ONGOING),
                              "r_eff": 0.6, "n": 2.5, "ellip": 0.1, "theta": 0.0, "arms": 0.0, "pitch": 0.3,
                              "arm_phase": 0.0, "clumps": 0, "lopsided": 0.0, "lopsided_angle": 0.0})
    dry = p.spheroid and s.spheroid
    shell_frac = 0.06 * strength * (1.5 if dry else 0.7) * float(t > 0.02)
    if shell_frac > 0:
        scene.blobs.extend(_shells(rng, 0.0, 0.0, rem_reff, axis, shell_frac * (f1 + f2), t))
    tail_frac = 0.04 * strength * (0.5 if dry else 1.0)
    length = float(orbit["tail_length"] * (1 + t))
    for angle in (axis + np.pi / 2, axis - np.pi / 2):
        scene.blobs.append(_tail(rng, orbit, 0.0, 0.0, angle, length, tail_frac * (f1 + f2) / 2, orbit["tail_curl"]))
    scene.truth = {"separation_kpc": 0.0, "projected_kpc": 0.0, "tidal_strength": strength}
    return scene


def add_field(scene: Scene, rng: np.random.Generator, half_width_kpc: float) -> None:
    """Unrelated field galaxies (≈ 20 arcmin⁻² to i = 25, dN/dm ∝ 10^{0.3m}) and stars (≈ 0.7 arcmin⁻²)."""
    scale = kpc_per_arcsec(scene.z)
    area_arcmin2 = (2 * half_width_kpc / scale / 60.0) ** 2
    for _ in range(rng.poisson(20.0 * area_arcmin2)):
        u = rng.random()  # inverse CDF of dN/dm ∝ 10^{0.3 m} on [19.5, 25]
        lo, hi = 10 ** (0.3 * 19.5), 10 ** (0.3 * 25.0)
        mag = np.log10(lo + u * (hi - lo)) / 0.3
        size_arcsec = 10 ** rng.normal(-0.05 - 0.12 * (mag - 22), 0.15)
        scene.sersics.append({"x": rng.uniform(-1, 1) * half_width_kpc, "y": rng.uniform(-1, 1) * half_width_kpc,
                              "flux": 10 ** (-0.4 * (mag - ZERO_POINT)), "r_eff": size_arcsec * scale,
                              "n": rng.uniform(0.6, 2.5), "ellip": rng.uniform(0.0, 0.6), "theta": rng.uniform(0, np.pi),
                              "arms": 0.0, "pitch": 0.3, "arm_phase": 0.0, "clumps": 0, "lopsided": 0.0,
                              "lopsided_angle": 0.0})
    for _ in range(rng.poisson(0.7 * area_arcmin2)):
        mag = rng.uniform(17.0, 24.0)
        scene.points.append((rng.uniform(-1, 1) * half_width_kpc, rng.uniform(-1, 1) * half_width_kpc,
                             10 ** (-0.4 * (mag - ZERO_POINT))))


# -- rendering -------------------------------------------------------------------------------------
def _render_sersic(image: np.ndarray, comp: dict, kpc_per_px: float) -> None:
    ny, nx = image.shape
    cx, cy = (nx - 1) / 2 + comp["x"] / kpc_per_px, (ny - 1) / 2 + comp["y"] / kpc_per_px
    r_eff_px = max(comp["r_eff"] / kpc_per_px, 0.3)
    reach = int(np.ceil(min(12 * r_eff_px + 10, 2 * max(nx, ny))))
    x_lo, x_hi = max(int(cx) - reach, 0), min(int(cx) + reach + 1, nx)
    y_lo, y_hi = max(int(cy) - reach, 0), min(int(cy) + reach + 1, ny)
    if x_lo >= x_hi or y_lo >= y_hi:
        return
    shape = (y_hi - y_lo, x_hi - x_lo)
    x0, y0 = cx - x_lo, cy - y_lo
    light = sersic_image(shape, flux=comp["flux"], r_eff_px=r_eff_px, n=comp["n"], x0=x0, y0=y0,
                         ellip=min(comp["ellip"], 0.85), theta=comp["theta"])
    if comp["arms"] or comp["lopsided"] or comp["clumps"]:
        y, x = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
        dx, dy = x - x0, y - y0
        c, s = np.cos(comp["theta"]), np.sin(comp["theta"])
        major, minor = c * dx + s * dy, (-s * dx + c * dy) / max(1 - min(comp["ellip"], 0.85), 0.15)
        radius = np.hypot(major, minor) / r_eff_px
        phi = np.arctan2(minor, major)
        modulation = np.ones(shape)
        if comp["arms"]:  # a two-armed logarithmic spiral, fading inside 0.5 r_e
            spiral = np.cos(2 * (phi - np.log(radius + 1e-3) / np.tan(comp["pitch"])) - comp["arm_phase"])
            modulation += comp["arms"] * spiral * (1 - np.exp(-(radius / 0.5) ** 2))
        if comp["lopsided"]:  # m = 1: more light on one side, growing outwards
            modulation += comp["lopsided"] * radius / (1 + radius) * np.cos(np.arctan2(dy, dx) - comp["lopsided_angle"])
        light *= np.clip(modulation, 0, None)
        if comp["clumps"]:
            rng = np.random.default_rng(comp.get("clump_seed", 0))
            for _ in range(comp["clumps"]):
                rr, aa = rng.uniform(0.4, 2.0) * r_eff_px, rng.uniform(0, 2 * np.pi)
                qx = x0 + rr * np.cos(aa) * c - rr * np.sin(aa) * s * (1 - comp["ellip"])
                qy = y0 + rr * np.cos(aa) * s + rr * np.sin(aa) * c * (1 - comp["ellip"])
                width = max(0.25 * r_eff_px * rng.uniform(0.3, 0.8), 0.5)
                light += comp["flux"] * rng.uniform(0.005, 0.03) * np.exp(
                    -((x - qx) ** 2 + (y - qy) ** 2) / (2 * width**2)) / (2 * np.pi * width**2)
    image[y_lo:y_hi, x_lo:x_hi] += light


def _render_blobs(image: np.ndarray, blobs: np.ndarray, kpc_per_px: float) -> None:
    ny, nx = image.shape
    for bx, by, sigma, flux in blobs:
        cx, cy, sp = (nx - 1) / 2 + bx / kpc_per_px, (ny - 1) / 2 + by / kpc_per_px, max(sigma / kpc_per_px, 0.5)
        reach = int(np.ceil(4 * sp))
        x_lo, x_hi = max(int(cx) - reach, 0), min(int(cx) + reach + 2, nx)
        y_lo, y_hi = max(int(cy) - reach, 0), min(int(cy) + reach + 2, ny)
        if x_lo >= x_hi or y_lo >= y_hi:
            continue
        x = np.arange(x_lo, x_hi) - cx
        y = np.arange(y_lo, y_hi) - cy
        image[y_lo:y_hi, x_lo:x_hi] += flux * np.outer(np.exp(-y**2 / (2 * sp**2)), np.exp(-x**2 / (2 * sp**2))) / (2 * np.pi * sp**2)


def render(scene: Scene, npx: int, psf_fwhm: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Counts image: components on the pixel grid, convolved with the PSF, plus sky noise."""
    kpc_per_px = float(kpc_per_arcsec(scene.z)) * PIXSCALE
    image = np.zeros((npx, npx))
    for comp in scene.sersics:
        _render_sersic(image, comp, kpc_per_px)
    for blobs in scene.blobs:
        _render_blobs(image, blobs, kpc_per_px)
    for x, y, flux in scene.points:
        px, py = (npx - 1) / 2 + x / kpc_per_px, (npx - 1) / 2 + y / kpc_per_px
        ix, iy = int(np.floor(px)), int(np.floor(py))
        fx, fy = px - ix, py - iy
        for ddx, ddy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
            if 0 <= ix + ddx < npx and 0 <= iy + ddy < npx:
                image[iy + ddy, ix + ddx] += flux * w
    image = convolve_psf(image, psf_fwhm, PIXSCALE)
    return image + rng.normal(0.0, sigma, image.shape)


@dataclass
class Observation:
    """One image to make: which sequence, when, and the generator seed of its own randomness."""

    image_id: int
    sequence: Sequence
    t: float
    z: float


def observations(sequences: list[Sequence], z_range=(0.1, 1.0)) -> list[Observation]:
    """Every snapshot of every sequence whose redshift lies in ``z_range``."""
    out = []
    for seq in sequences:
        for t in seq.times:  # t: Gyr from the reference epoch (coalescence for mergers)
            z = float(cosmology.redshift_at(seq.z_ref, t, Z_GRID))
            if z_range[0] <= z < z_range[1]:
                out.append(Observation(len(out), seq, t, z))
    return out


def observe(obs: Observation, seed: int) -> tuple[np.ndarray, dict]:
    """Render one observation → (counts image, catalogue row)."""
    rng = np.random.default_rng([seed, 2, obs.image_id])
    seq = obs.sequence
    npx = int(field_pixels(obs.z))
    kpc_per_px = float(kpc_per_arcsec(obs.z)) * PIXSCALE
    scene = scene_of(seq, obs.t, obs.z, rng)
    add_field(scene, rng, npx / 2 * kpc_per_px)
    psf_fwhm = float(rng.uniform(*PSF_FWHM_RANGE))
    depth = float(rng.uniform(*DEPTH_RANGE))
    sigma = sky_sigma(depth)
    image = render(scene, npx, psf_fwhm, sigma, rng)
    t_merge = obs.t if seq.kind == "major" else np.nan
    code = int(stage_code(t_merge))
    row = {"image_id": obs.image_id, "sequence_id": seq.sequence_id, "kind": seq.kind, "t_merge": t_merge,
           "stage_code": code, "stage": STAGES[code], "label": int(code > 0), "redshift": obs.z,
           "z_bin": int(z_bin(obs.z)), "field_px": npx, "kpc_per_px": kpc_per_px, "psf_fwhm": psf_fwhm,
           "depth": depth, "sky_sigma": sigma, "mass_ratio": seq.mass_ratio, "log_mstar": seq.primary.log_mstar,
           "separation_kpc": float(scene.truth.get("separation_kpc", np.nan)),
           "projected_kpc": float(scene.truth.get("projected_kpc", scene.truth.get("separation_kpc", np.nan))),
           "tidal_strength": float(scene.truth.get("tidal_strength", 0.0))}
    return image, row
