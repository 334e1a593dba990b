"""Small TNG files in the real layouts, for the end-to-end tests: a Subfind group catalogue in two chunks
(one group's subhalos straddle the boundary), an RG19-like statmorph file with only the three features the
forests use plus the flags, and SKIRT-like FITS cubes. Units as in TNG: ckpc/h and 1e10 Msun/h."""

from __future__ import annotations

import h5py
import numpy as np

H = 0.6774
BOX = 35000.0  # ckpc/h: TNG50
MSUN = 1e10 / H
MORPH_FEATURES = ("rpetro_circ", "smoothness", "asymmetry")


def catalogue(n_groups=170, seed=0, box=BOX):
    """Group and subhalo arrays of one snapshot (catalogue units), ordered as Subfind writes them."""
    rng = np.random.default_rng(seed)
    log_m200 = rng.uniform(11.0, 13.6, n_groups)
    log_m200.sort()
    log_m200 = log_m200[::-1]  # Subfind orders groups by mass
    r200 = 200.0 * 10 ** ((log_m200 - 12.0) / 3.0) * H  # ckpc/h, roughly
    gpos = rng.uniform(0, box, (n_groups, 3))
    nsubs = 1 + np.minimum(rng.poisson(np.maximum(log_m200 - 11.5, 0) * 2.0), 6)
    nsubs[0] = max(nsubs[0], 3)
    first = np.r_[0, np.cumsum(nsubs)[:-1]]
    grnr = np.repeat(np.arange(n_groups), nsubs)
    central = np.zeros(len(grnr), bool)
    central[first] = True
    n = len(grnr)
    offset = rng.normal(0, 1, (n, 3))
    offset *= (rng.uniform(0.05, 1.0, n) * r200[grnr] / np.linalg.norm(offset, axis=1))[:, None]
    pos = np.mod(gpos[grnr] + np.where(central[:, None], 0.0, offset), box)
    log_macc = np.where(central, log_m200[grnr], log_m200[grnr] - rng.uniform(0.5, 2.0, n))
    log_mstar = 10.2 + 0.9 * (log_macc - 12.0) + rng.normal(0, 0.2, n)
    log_mdm = np.where(central, log_m200[grnr] - 0.05, log_macc - rng.uniform(0.2, 1.2, n))
    mass_type = np.zeros((n, 6), np.float32)
    mass_type[:, 1] = 10 ** log_mdm / MSUN
    mass_type[:, 4] = 10 ** log_mstar / MSUN
    flag = (rng.random(n) > 0.03).astype(np.uint8)
    sub = dict(SubhaloMassType=mass_type, SubhaloGrNr=grnr.astype(np.int32), SubhaloPos=pos.astype(np.float32),
               SubhaloFlag=flag)
    grp = dict(GroupFirstSub=first.astype(np.int32), GroupNsubs=nsubs.astype(np.int32),
               Group_M_Crit200=(10 ** log_m200 / MSUN).astype(np.float32), GroupPos=gpos.astype(np.float32),
               Group_R_Crit200=r200.astype(np.float32))
    return grp, sub


def write_chunks(folder, grp, sub, snap=99, box=BOX):
    """Two chunks; the group at the boundary keeps its central in chunk 0 and its satellites in chunk 1."""
    folder.mkdir(parents=True, exist_ok=True)
    n_groups, n_subs = len(grp["GroupFirstSub"]), len(sub["SubhaloGrNr"])
    kept = set(galaxies(sub).tolist())
    k = next(g for g in range(n_groups // 2, n_groups)  # a group with a central and a satellite galaxy
             if {int(grp["GroupFirstSub"][g]), int(grp["GroupFirstSub"][g]) + 1} <= kept)
    g_cut, s_cut = k + 1, int(grp["GroupFirstSub"][k]) + 1  # group k: central in chunk 0, satellites in 1
    parts = [((slice(0, g_cut), slice(0, s_cut))), ((slice(g_cut, n_groups), slice(s_cut, n_subs)))]
    paths = []
    for i, (gs, ss) in enumerate(parts):
        path = folder / f"fof_subhalo_tab_{snap:03d}.{i}.hdf5"
        with h5py.File(path, "w") as f:
            f.create_group("Header").attrs.update(dict(
                Ngroups_ThisFile=np.int32(len(range(n_groups)[gs])), Ngroups_Total=np.int32(n_groups),
                Nsubgroups_ThisFile=np.int32(len(range(n_subs)[ss])), Nsubgroups_Total=np.int32(n_subs),
                NumFiles=np.int32(2), Time=1.0, Redshift=2.2e-16, HubbleParam=H, BoxSize=box,
                Omega0=0.3089, OmegaLambda=0.6911, FlagDoubleprecision=np.int32(0)))
            g, s = f.create_group("Group"), f.create_group("Subhalo")
            for key, values in grp.items():
                g[key] = values[gs]
            for key, values in sub.items():
                s[key] = values[ss]
        paths.append(path)
    return paths, (k, s_cut)


def galaxies(sub, grp=None):
    """Subfind ids of the galaxies astrozoo keeps: SubhaloFlag == 1, log M* > 9.5, some dark matter."""
    mass = sub["SubhaloMassType"].astype(float) * MSUN
    return np.flatnonzero((sub["SubhaloFlag"] == 1) & (np.log10(mass[:, 4]) > 9.5) & (mass[:, 1] > 0))


def write_morphs(folder, ids, seed=0, id_dataset=False, features=MORPH_FEATURES):
    """morphs_i.hdf5 with ``features`` + flag, flag_sersic, sn_per_pixel, rows in a shuffled order."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = rng.permutation(np.asarray(ids))
    n = len(ids)
    table = {"rpetro_circ": rng.uniform(5, 40, n), "smoothness": rng.uniform(0, 0.1, n),
             "asymmetry": rng.uniform(0, 0.3, n)}
    flag = rng.choice([0, 0, 0, 0, 0, 0, 1, 2], n)
    flag_sersic = rng.choice([0, 0, 0, 0, 0, 1], n)
    sn = rng.uniform(1.5, 30, n)
    with h5py.File(folder / "morphs_i.hdf5", "w") as f:
        for name in features:
            values = table[name].copy()
            values[flag == 4] = -99
            f[name] = values
        f["flag"], f["flag_sersic"], f["sn_per_pixel"] = flag, flag_sersic, sn
        if id_dataset:
            f["subfind_id"] = ids
    if not id_dataset:
        np.savetxt(folder / "subfind_ids.txt", ids, fmt="%d")
    return {int(i): (int(a), int(b), float(c)) for i, a, b, c in zip(ids, flag, flag_sersic, sn)}


def write_cutouts(folder, ids, size=40, seed=0):
    from astropy.io import fits

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in ids:
        fits.PrimaryHDU(rng.random((4, size, size)).astype(np.float32)).writeto(folder / f"broadband_{i}.fits")


def official_tree(root, images=False, seed=0, snap=99, box=BOX, **morph):
    """``root/output/groups_099/`` + ``root/postprocessing/skirt_images/sdss/snapnum_099/``."""
    grp, sub = catalogue(seed=seed, box=box)
    paths, straddle = write_chunks(root / "output" / f"groups_{snap:03d}", grp, sub, snap=snap, box=box)
    skirt = root / "postprocessing" / "skirt_images" / "sdss" / f"snapnum_{snap:03d}"
    keep = galaxies(sub)
    in_rg19 = keep[np.arange(len(keep)) % 10 != 3]  # RG19 lacks a tenth of them
    flags = write_morphs(skirt, in_rg19, seed=seed, **morph)
    if images:
        write_cutouts(skirt, keep, seed=seed)
    return dict(grp=grp, sub=sub, chunks=paths, straddle=straddle, skirt=skirt, galaxies=keep, flags=flags)


def flat_folder(folder, images=False, seed=0, **morph):
    """Everything in one folder: the chunks, morphs_i.hdf5 (ids in a ``subfind_id`` dataset), the FITS."""
    grp, sub = catalogue(seed=seed)
    paths, straddle = write_chunks(folder, grp, sub)
    keep = galaxies(sub)
    flags = write_morphs(folder, keep, seed=seed, id_dataset=True, **morph)
    if images:
        write_cutouts(folder, keep, seed=seed)
    return dict(grp=grp, sub=sub, chunks=paths, straddle=straddle, skirt=folder, galaxies=keep, flags=flags)


def passes_rule(flags: dict, galaxy_id: int) -> bool:
    """The documented cut, written out literally: flag == 0, flag_sersic == 0, S/N per pixel > 2.5."""
    if galaxy_id not in flags:
        return False  # not in the morphology catalogue: no measurement
    flag, flag_sersic, sn = flags[galaxy_id]
    return flag == 0 and flag_sersic == 0 and sn > 2.5
