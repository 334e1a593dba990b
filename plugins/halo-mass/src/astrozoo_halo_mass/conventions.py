"""Names, units and the one morphology quality rule shared by the mock and the real-TNG loaders."""

from __future__ import annotations

import numpy as np

# statmorph quantities of the paper's morphology catalogue (Rodriguez-Gomez et al. 2019), statmorph names
FEATURES = ("r20", "r50", "r80", "rpetro_circ", "sersic_rhalf", "sersic_n", "rhalf_circ", "gini", "m20",
            "concentration", "asymmetry", "smoothness", "multimode", "intensity", "deviation")
QUALITY = ("flag", "flag_sersic", "sn_per_pixel")
MIN_SN_PER_PIXEL = 2.5

QUALITY_RULE = "flag == 0 and flag_sersic == 0 and sn_per_pixel > 2.5"
"""The documented cut (statmorph's flags; its docs distrust S/N per pixel < 2.5). The paper only says it
removed 117 of 1,666 galaxies "based on a flag in the catalog" without naming it, so this rule is ours."""

# columns of a galaxy catalogue, mock or real (the mock adds its latent truth)
CATALOGUE_UNITS = {
    "galaxy_id": "", "pos": "Mpc (comoving)", "log_mstar": "log10(Msun)", "log_mhalo": "log10(Msun)",
    "is_central": "", "host_id": "", "log_mhost": "log10(Msun)", "r_host": "Mpc", "r_over_rvir": "",
}

# expected BoxSize (ckpc/h) of the simulations a user may name, by the name's prefix
BOX_CKPC_H = {"TNG50": 35000.0, "TNG100": 75000.0, "TNG300": 205000.0, "Illustris": 75000.0}


def quality_mask(morphology) -> np.ndarray:
    """True where the morphology passes :data:`QUALITY_RULE` (for measured and loaded tables alike)."""
    sn = np.asarray(morphology["sn_per_pixel"], dtype=float)
    with np.errstate(invalid="ignore"):
        return ((np.asarray(morphology["flag"]) == 0) & (np.asarray(morphology["flag_sersic"]) == 0)
                & (sn > MIN_SN_PER_PIXEL))


def unusable(flag) -> np.ndarray:
    """Rows whose statmorph values are not kept at all (NaN): flag > 1 ('bad' or 'catastrophic')."""
    return np.asarray(flag) > 1


def expected_box(simulation: str) -> float | None:
    """BoxSize in ckpc/h for a simulation name like 'TNG100-1' (None when unknown)."""
    prefix = simulation.split("-")[0]
    return BOX_CKPC_H.get(prefix)
