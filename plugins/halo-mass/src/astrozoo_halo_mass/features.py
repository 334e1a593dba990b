"""Feature tables for the tabular models: catalogue columns, Δ_G and statmorph morphology."""

from __future__ import annotations

import numpy as np

from astrozoo.errors import AstrozooError
from astrozoo.interfaces import Split

# statmorph quantities the paper's morphology catalogue provides
MORPHOLOGY = ("r20", "r50", "r80", "rpetro_circ", "sersic_rhalf", "sersic_n", "rhalf_circ", "gini",
              "m20", "concentration", "asymmetry", "smoothness", "multimode", "intensity", "deviation")


def feature_matrix(split: Split, names) -> np.ndarray:
    """(N, len(names)) float matrix; morphology columns are measured (once) only if asked for."""
    columns = split.data["columns"]
    morphology = split.data["morphology"]() if any(n in MORPHOLOGY for n in names) else {}
    out = []
    for name in names:
        if name in columns:
            out.append(np.asarray(columns[name], dtype=float))
        elif name in morphology:
            out.append(np.asarray(morphology[name], dtype=float))
        else:
            known = sorted(set(columns) | set(MORPHOLOGY))
            raise AstrozooError(f"unknown feature {name!r}; known: {', '.join(known)}")
    return np.column_stack(out)
