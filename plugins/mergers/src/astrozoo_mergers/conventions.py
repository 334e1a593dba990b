"""What the mock and the real loader share: the label vocabulary (merger stages and the time
window that makes a merger), the paper's redshift bins and the HSC instrument constants."""

from __future__ import annotations

import numpy as np

PIXSCALE = 0.168                    # arcsec / pixel, HSC
ZERO_POINT = 27.0                   # AB magnitude of one count (HSC coadds)
Z_EDGES = (0.1, 0.31, 0.52, 0.76, 1.0)
MERGER_WINDOW = (-0.8, 0.3)         # Gyr around coalescence: the merger label
ONGOING = 0.1                       # |t| < 0.1 Gyr: ongoing
STAGES = ("non-merger", "pre", "ongoing", "post")  # codes 0..3, the merger challenge's merger_type


def stage_code(t) -> np.ndarray:
    """0 non-merger, 1 pre (−0.8 ≤ t < −0.1), 2 ongoing (|t| ≤ 0.1), 3 post (0.1 < t ≤ 0.3);
    NaN times (no major merger) are non-mergers."""
    t = np.asarray(t, dtype=float)
    code = np.zeros(t.shape, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        code[(t >= MERGER_WINDOW[0]) & (t < -ONGOING)] = 1
        code[(t >= -ONGOING) & (t <= ONGOING)] = 2
        code[(t > ONGOING) & (t <= MERGER_WINDOW[1])] = 3
    return code


def z_bin(z) -> np.ndarray:
    """Index of the paper's redshift bin (0..3); −1 outside [0.1, 1.0)."""
    z = np.asarray(z, dtype=float)
    index = np.searchsorted(Z_EDGES, z, side="right") - 1
    return np.where((z >= Z_EDGES[0]) & (z < Z_EDGES[-1]), index, -1)
