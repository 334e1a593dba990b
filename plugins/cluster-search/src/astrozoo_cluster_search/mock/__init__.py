"""The mock catalogues and cutouts: one object per cutout, a third each of clusters, sources and
random fields, in either band; and larger sky fields for the probability maps.

Since version 2 every cutout is drawn at its own place in a survey that is not uniform (the
things that make the real sky hard; docs/tasks/cluster-search.md, "The harder sky"): its depth
(noise), its star density and a bright foreground star anywhere in the cutout (IR), AGN among
the cluster members and in the BCG (IR) or a radio source in the cluster (microwave), a
projected galaxy group in some random fields, sources below the catalogue limit (microwave).

The cluster list (redshift, mass) is drawn from ``seed`` alone, so the IR and microwave datasets
of one seed hold the same clusters; sources and backgrounds are drawn per band. Every object is
rendered from its own random stream (seed, band, object id), so a cutout does not depend on
which others are generated with it.
"""

from __future__ import annotations

import numpy as np

from astrozoo_cluster_search.mock import physics as ph
from astrozoo_cluster_search.mock.sky import (CLASSES, IR_SOURCE_KINDS, MW_SOURCE_KINDS, cluster_members,
                                         ir_source, microwave_source, render_ir, render_microwave)

VERSION = 2  # bump when the generator writes other cutouts: the cache key carries it
# v1: uniform depth, clean random fields, z uniform over z_range, m_min 1.5e14
# v2: the harder sky (SURVEY below), a mass-limited cluster sample from m_min = 1e14
BANDS = {"ir": 1, "microwave": 2}
IR_KIND_P = (0.4, 0.35, 0.25)   # galaxy, star, agn among IR sources
MW_KIND_P = (0.7, 0.3)          # radio, dusty among microwave sources
CENTRE_SCATTER = {"ir": (3.0, 1.0), "microwave": (1.0, 0.5)}  # px: cluster, source position errors

COLUMN_UNITS = {"z": "", "m500": "Msun", "theta500": "arcmin", "w1": "mag (Vega)", "s150": "mJy",
                "dx": "px", "dy": "px", "noise_scale": "", "group_m500": "Msun", "star_w1": "mag (Vega)"}

# How the survey varies from cutout to cutout (each drawn per object; docs give the sources):
SURVEY = {
    # depth: IR σ ∝ 1/√N_exp with the WISE coverage N_exp log-uniform over 12–60 exposures
    # (reference 24; Cutri et al. 2013; Meisner et al. 2017); ACT white noise ×0.6–2.5 of
    # the nominal 25/20 μK-arcmin, log-uniform (DR5 depth 10–60 μK-arcmin, Naess et al. 2020)
    "ir_coverage": (12.0, 60.0, 24.0), "mw_noise": (0.6, 2.5),
    # stars: density ×lognormal(σ_ln 0.6) (Galactic latitude); a bright foreground star
    # (W1 7–12) at a random place in 25% of IR cutouts of every class
    "star_density_sigma": 0.6, "bright_star": (0.25, 7.0, 12.0),
    # 15% of clusters host an IR-bright AGN in the BCG (W1 12–16, W1−W2 0.8–1.5), 30% a radio
    # source (S150 2–30 mJy, α −0.7): Best et al. 2007; Lin & Mohr 2007; Gupta et al. 2017
    "central_agn": 0.15, "cluster_radio": (0.3, 2.0, 30.0),
    # 30% of random fields hold a projected group, M500 10^13.5–10^14, 0.1 < z < 1, within a
    # quarter of the cutout of its centre (chance alignments; the false positives of IR searches)
    "group": (0.3, 13.5, 14.0, 0.1, 1.0, 0.25),
}


def survey_conditions(band: str, rng: np.random.Generator) -> dict:
    """This cutout's place in the survey: noise scale and (IR) star density."""
    if band == "ir":
        lo, hi, ref = SURVEY["ir_coverage"]
        n_exp = np.exp(rng.uniform(np.log(lo), np.log(hi)))
        return {"noise_scale": float(np.sqrt(ref / n_exp)),
                "star_density": float(np.exp(rng.normal(0, SURVEY["star_density_sigma"])))}
    lo, hi = SURVEY["mw_noise"]
    return {"noise_scale": float(np.exp(rng.uniform(np.log(lo), np.log(hi))))}


def _group(rng: np.random.Generator, size: int) -> tuple[float, float, float, float]:
    """(z, m500, x, y) of a projected group near the centre of a random field."""
    _, lo, hi, z_lo, z_hi, reach = SURVEY["group"]
    c = (size - 1) / 2
    x, y = c + rng.uniform(-reach, reach, 2) * size
    return float(rng.uniform(z_lo, z_hi)), float(10 ** rng.uniform(lo, hi)), float(x), float(y)


def catalogue(band: str, n_per_class: int, seed: int, z_range=(0.1, 1.5), m_min: float = 1e14) -> dict:
    """Columns of the objects: id, label (0 cluster, 1 source, 2 random), kind, z and m500 (NaN
    except clusters), theta500, the source brightness (w1 for IR, s150 and alpha for microwave)
    and the offset (dx, dy) of the object from the cutout centre."""
    if band not in BANDS:
        raise ValueError(f"unknown band {band!r}: choose {', '.join(BANDS)}")
    n = n_per_class
    z, m500 = ph.sample_clusters(n, np.random.default_rng([seed, 0]), z_range, m_min)
    rng = np.random.default_rng([seed, BANDS[band], 1])
    kinds_src = (rng.choice(IR_SOURCE_KINDS, n, p=IR_KIND_P) if band == "ir"
                 else rng.choice(MW_SOURCE_KINDS, n, p=MW_KIND_P))
    label = np.repeat([0, 1, 2], n)
    nan = np.full(n, np.nan)
    cols = {"id": np.arange(3 * n, dtype=np.int64), "label": label,
            "kind": np.concatenate([np.full(n, "cluster"), kinds_src, np.full(n, "random")]).astype("U8"),
            "z": np.concatenate([z, nan, nan]), "m500": np.concatenate([m500, nan, nan]),
            "theta500": np.concatenate([ph.theta500_arcmin(m500, z), nan, nan])}
    s_cl, s_src = CENTRE_SCATTER[band]
    scatter = np.concatenate([np.full(n, s_cl), np.full(n, s_src), np.zeros(n)])
    cols["dx"] = rng.normal(0, 1, 3 * n) * scatter
    cols["dy"] = rng.normal(0, 1, 3 * n) * scatter
    return cols


def render_object(band: str, row: dict, size: int, seed: int) -> tuple[np.ndarray, dict]:
    """The cutout of one catalogue row → ((2, size, size) image, facts measured while drawing)."""
    rng = np.random.default_rng([seed, BANDS[band], 2, int(row["id"])])
    c = (size - 1) / 2
    x0, y0 = c + row["dx"], c + row["dy"]
    kind = row["kind"]
    where = survey_conditions(band, rng)
    facts = {"w1": np.nan, "s150": np.nan, "alpha": np.nan, "n_bright_members": -1,
             "noise_scale": where["noise_scale"], "group_m500": np.nan, "star_w1": np.nan}
    group = _group(rng, size) if kind == "random" and rng.random() < SURVEY["group"][0] else None
    if group:
        facts["group_m500"] = group[1]
    if band == "ir":
        points, extended = [], []
        if kind == "cluster":
            members, bcg = cluster_members(row["z"], row["m500"], x0, y0, rng)
            points.append(members)
            extended.append(bcg)
            if rng.random() < SURVEY["central_agn"]:
                points.append(ir_source("agn", x0, y0, rng)[0])
            seen = ((np.abs(members["x"] - c) < size / 2) & (np.abs(members["y"] - c) < size / 2)
                    & (members["w1"] < ph.IR.depth5[0]))
            facts.update(w1=bcg["w1"], n_bright_members=int(seen.sum()))
        elif kind in IR_SOURCE_KINDS:
            pts, ext = ir_source(kind, x0, y0, rng)
            points.append(pts)
            if ext:
                extended.append(ext)
            facts["w1"] = float(ext["w1"] if ext else pts["w1"][0])
        if group:
            members, bcg = cluster_members(group[0], group[1], group[2], group[3], rng)
            points.append(members)
            extended.append(bcg)
        p_star, lo, hi = SURVEY["bright_star"]
        if rng.random() < p_star:
            facts["star_w1"] = float(rng.uniform(lo, hi))
            points.append({"x": [rng.uniform(0, size - 1)], "y": [rng.uniform(0, size - 1)],
                           "w1": [facts["star_w1"]], "w1w2": [rng.normal(0, 0.05)]})
        image = render_ir((size, size), points, extended, rng, noise_scale=where["noise_scale"],
                          star_density=where["star_density"])
        return image, facts
    clusters, sources = [], []
    if kind == "cluster":
        clusters.append({"x": x0, "y": y0, "z": row["z"], "m500": row["m500"]})
        p_radio, lo, hi = SURVEY["cluster_radio"]
        if rng.random() < p_radio:
            r = rng.normal(0, 1.0, 2)  # within a beam of the centre
            sources.append({"x": x0 + r[0], "y": y0 + r[1], "s150": float(lo * (hi / lo) ** rng.random()),
                            "alpha": rng.normal(-0.7, 0.3)})
    elif kind in MW_SOURCE_KINDS:
        s150, alpha = microwave_source(kind, rng)
        sources.append({"x": x0, "y": y0, "s150": s150, "alpha": alpha})
        facts.update(s150=s150, alpha=alpha)
    if group:
        clusters.append({"x": group[2], "y": group[3], "z": group[0], "m500": group[1]})
    image = render_microwave((size, size), clusters, sources, rng, noise_scale=where["noise_scale"],
                             faint_sources=True)
    return image, facts


def generate(band: str, n_per_class: int = 1000, image_size: int = 64, seed: int = 0,
             z_range=(0.1, 1.5), m_min: float = 1e14, echo=None) -> tuple[dict, np.ndarray, dict]:
    """The whole dataset of one band → (catalogue columns, images (N, 2, S, S) float32, attrs)."""
    cols = catalogue(band, n_per_class, seed, z_range, m_min)
    n = len(cols["id"])
    images = np.empty((n, 2, image_size, image_size), np.float32)
    facts = {k: np.empty(n) for k in ("w1", "s150", "alpha", "noise_scale", "group_m500", "star_w1")}
    facts["n_bright_members"] = np.empty(n, np.int64)
    for i in range(n):
        row = {k: v[i] for k, v in cols.items()}
        images[i], got = render_object(band, row, image_size, seed)
        for key, value in got.items():
            facts[key][i] = value
        if echo and (i + 1) % 500 == 0:
            echo(f"  rendered {i + 1}/{n} {band} cutouts")
    cols.update(facts)
    spec = ph.IR if band == "ir" else ph.MICROWAVE
    attrs = {"provenance": "mock", "seed": seed, "band": band, "generator": "astrozoo_cluster_search.mock",
             "n_per_class": n_per_class, "image_size": image_size, "z_range": list(z_range), "m_min": m_min,
             "classes": list(CLASSES), "channels": list(spec.channels), "pixscale": spec.pixscale,
             "pixscale_unit": "arcsec" if band == "ir" else "arcmin", "fwhm": list(spec.fwhm),
             "unit": spec.unit, "noise_sigma": [float(s) for s in spec.noise_sigma()], "version": VERSION}
    return cols, images, attrs


def sky_field(band: str, size: int = 256, seed: int = 0, n_clusters: int = 4, n_sources: int = 4,
              cutout: int = 64) -> tuple[np.ndarray, dict]:
    """A larger mock field with a few clusters (redshifts spread over 0.2–1.2, M500 2–5e14) and
    catalogue sources at separated positions → ((2, size, size) image, object table)."""
    rng = np.random.default_rng([seed, BANDS[band], 3])
    n = n_clusters + n_sources
    margin, positions = cutout // 2, []
    for _ in range(2000):
        if len(positions) == n:
            break
        p = rng.uniform(margin, size - margin, 2)
        if all(np.hypot(*(p - q)) > 0.6 * cutout for q in positions):
            positions.append(p)
    positions = np.array(positions)
    n = len(positions)
    n_cl = min(n_clusters, n)
    z = np.linspace(0.2, 1.2, n_cl) if n_cl > 1 else np.array([0.5])
    m500 = 10 ** rng.uniform(np.log10(2e14), np.log10(5e14), n_cl)
    kinds = list(np.full(n_cl, "cluster")) + list(rng.choice(IR_SOURCE_KINDS if band == "ir" else MW_SOURCE_KINDS,
                                                          n - n_cl))
    table = {"x": positions[:, 0], "y": positions[:, 1], "kind": np.array(kinds, "U8"),
             "z": np.concatenate([z, np.full(n - n_cl, np.nan)]),
             "m500": np.concatenate([m500, np.full(n - n_cl, np.nan)])}
    if band == "ir":
        points, extended = [], []
        for (x, y), kind, zi, mi in zip(positions, kinds, table["z"], table["m500"]):
            if kind == "cluster":
                members, bcg = cluster_members(zi, mi, x, y, rng)
                points.append(members)
                extended.append(bcg)
            else:
                pts, ext = ir_source(kind, x, y, rng)
                points.append(pts)
                if ext:
                    extended.append(ext)
        return render_ir((size, size), points, extended, rng), table
    clusters = [{"x": x, "y": y, "z": zi, "m500": mi}
                for (x, y), kind, zi, mi in zip(positions, kinds, table["z"], table["m500"]) if kind == "cluster"]
    sources = []
    for (x, y), kind in zip(positions, kinds):
        if kind != "cluster":
            s150, alpha = microwave_source(kind, rng)
            sources.append({"x": x, "y": y, "s150": s150, "alpha": alpha})
    return render_microwave((size, size), clusters, sources, rng), table
