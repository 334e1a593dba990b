"""What sets the scale of the residual images: the brightest residual pixel against the faint
structure around the galaxy, in units of the sky noise, per stage (docs/tasks/mergers.md, Data).

Usage: python benchmarks/mergers_residual_stats.py ~/.cache/astrozoo/mergers/mock-hsc-seed0-64px-*.h5
(the file the first `astrozoo run mergers` made; the run prints its path)."""
import sys

import h5py
import numpy as np
from astrozoo_mergers.pipeline import robust_sigma

with h5py.File(sys.argv[1], "r") as f:
    raw, residual = f["images/raw"][:], f["images/residual"][:]
    stage = f["catalogue/stage"][:].astype(str)
sigma = robust_sigma(raw)[:, None, None]  # the sky σ the asinh stretch uses
size = raw.shape[-1]
yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
radius = np.hypot(xx, yy)
flat = (residual / sigma).reshape(len(raw), -1)
peak = flat.max(axis=1)
peak_radius = radius.ravel()[flat.argmax(axis=1)]
ring = (radius.ravel() >= 6) & (radius.ravel() <= 20)
ring_mean = np.abs(flat[:, ring]).mean(axis=1)
print(f"{len(raw)} images of {size} px; residual in units of the raw image's sky σ")
print("stage        n  median peak  peak within 4 px  mean |res| 6-20 px")
for name in ("non-merger", "pre", "ongoing", "post"):
    sel = stage == name
    print(f"{name:<10} {sel.sum():5d}  {np.median(peak[sel]):10.1f}σ  {np.mean(peak_radius[sel] <= 4):15.0%}"
          f"  {np.mean(ring_mean[sel]):17.2f}σ")
