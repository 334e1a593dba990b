"""Render and measure the default TNG50 mock; print timings, flag counts and quality-cut statistics."""
import time
import numpy as np
from astrozoo_halo_mass.mock import generate_universe
from astrozoo_halo_mass.render import render_cutouts, DISTANCE_MPC, PIXSCALE
from astrozoo_halo_mass.morphology import measure_morphology, morphology_quality_mask

cols, attrs = generate_universe("tng50", seed=0)
n = len(cols["galaxy_id"])
t = time.perf_counter()
images = render_cutouts(cols, attrs["box_size_mpc"], cols["galaxy_id"], workers=2)
print(f"render: {n} galaxies, {time.perf_counter() - t:.0f} s wall with 2 workers", flush=True)
t = time.perf_counter()
m = measure_morphology(images, workers=2)
print(f"statmorph: {n} galaxies, {time.perf_counter() - t:.0f} s wall with 2 workers", flush=True)
re_px = cols["re_kpc"] / (PIXSCALE / 206264.806 * DISTANCE_MPC * 1e3)
good = morphology_quality_mask(m)
print("R_e px 5/50/95/max:", np.percentile(re_px, [5, 50, 95, 100]).round(1))
print("flag:", np.bincount(m["flag"], minlength=5), "flag_sersic:", np.bincount(m["flag_sersic"], minlength=5),
      "sn<=2.5:", int((m["sn_per_pixel"] <= 2.5).sum()), "S/N 5/50/95:", np.nanpercentile(m["sn_per_pixel"], [5, 50, 95]).round(1))
print(f"quality cut removes {(~good).sum()} of {n} ({(~good).mean():.1%}); satellites {(~cols['is_central'][~good]).sum()}, "
      f"quenched {cols['quenched'][~good].sum()}; R_e > 25 px: {(~good[re_px > 25]).sum()} of {(re_px > 25).sum()}")
