"""The mock catalogues and cutouts: one object per cutout, a third each of clusters, sources and
random fields, in either band; and larger sky fields for the probability maps.

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

VERSION = 1  # bump when the generator writes other cutouts: the cache key carries it
BANDS = {"ir": 1, "microwave": 2}
IR_KIND_P = (0.4, 0.35, 0.25)   # galaxy, star, agn among IR sources
MW_KIND_P = (0.7, 0.3)          # radio, dusty among microwave sources
CENTRE_SCATTER = {"ir": (3.0, 1.0), "microwave": (1.0, 0.5)}  # px: cluster, source position errors

COLUMN_UNITS = {"z": "", "m500": "Msun", "theta500": "arcmin", "w1": "mag (Vega)", "s150": "mJy",
                "dx": "px", "dy": "px"}


def catalogue(band: str, n_per_class: int, seed: int, z_range=(0.1, 1.5), m_min: float = 1.5e14) -> dict:
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
    facts = {"w1": np.nan, "s150": np.nan, "alpha": np.nan, "n_bright_members": -1}
    if band == "ir":
        points, extended = [], []
        if kind == "cluster":
            members, bcg = cluster_members(row["z"], row["m500"], x0, y0, rng)
            points.append(members)
            extended.append(bcg)
            seen = ((np.abs(members["x"] - c) < size / 2) & (np.abs(members["y"] - c) < size / 2)
                    & (members["w1"] < ph.IR.depth5[0]))
            facts.update(w1=bcg["w1"], n_bright_members=int(seen.sum()))
        elif kind in IR_SOURCE_KINDS:
            pts, ext = ir_source(kind, x0, y0, rng)
            points.append(pts)
            if ext:
                extended.append(ext)
            facts["w1"] = float(ext["w1"] if ext else pts["w1"][0])
        return render_ir((size, size), points, extended, rng), facts
    clusters, sources = [], []
    if kind == "cluster":
        clusters.append({"x": x0, "y": y0, "z": row["z"], "m500": row["m500"]})
    elif kind in MW_SOURCE_KINDS:
        s150, alpha = microwave_source(kind, rng)
        sources.append({"x": x0, "y": y0, "s150": s150, "alpha": alpha})
        facts.update(s150=s150, alpha=alpha)
    return render_microwave((size, size), clusters, sources, rng), facts


def generate(band: str, n_per_class: int = 1000, image_size: int = 64, seed: int = 0,
             z_range=(0.1, 1.5), m_min: float = 1.5e14, echo=None) -> tuple[dict, np.ndarray, dict]:
    """The whole dataset of one band → (catalogue columns, images (N, 2, S, S) float32, attrs)."""
    cols = catalogue(band, n_per_class, seed, z_range, m_min)
    n = len(cols["id"])
    images = np.empty((n, 2, image_size, image_size), np.float32)
    facts = {k: np.empty(n) for k in ("w1", "s150", "alpha")}
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
             "unit": spec.unit, "noise_sigma": [float(s) for s in spec.noise_sigma()]}
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
