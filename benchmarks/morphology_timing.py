"""CPU time per galaxy (process_time, single process) and wall time with 2 workers."""
import os, time
import numpy as np
from astrozoo_halo_mass.mock import generate_universe
from astrozoo_halo_mass.render import render_cutouts
from astrozoo_halo_mass.morphology import measure_morphology

cols, attrs = generate_universe("tng50", seed=0)
ids = np.random.default_rng(1).choice(cols["galaxy_id"], 64, replace=False)
render_cutouts(cols, attrs["box_size_mpc"], ids[:2], workers=1)          # warm-up (imports)
c, w = time.process_time(), time.perf_counter()
images = render_cutouts(cols, attrs["box_size_mpc"], ids, workers=1)
print(f"render   1 worker : {(time.process_time() - c) / len(ids) * 1e3:.0f} ms CPU, "
      f"{(time.perf_counter() - w) / len(ids) * 1e3:.0f} ms wall per galaxy")
w = time.perf_counter()
render_cutouts(cols, attrs["box_size_mpc"], ids, workers=2)
print(f"render   2 workers: {(time.perf_counter() - w) / len(ids) * 1e3:.0f} ms wall per galaxy")
measure_morphology(images[:2], workers=1)                                  # warm-up (statmorph import)
c, w = time.process_time(), time.perf_counter()
measure_morphology(images[:32], workers=1)
print(f"statmorph 1 worker : {(time.process_time() - c) / 32:.2f} s CPU, {(time.perf_counter() - w) / 32:.2f} s wall per galaxy")
w = time.perf_counter()
measure_morphology(images[:32], workers=2)
print(f"statmorph 2 workers: {(time.perf_counter() - w) / 32:.2f} s wall per galaxy")
print("load average:", os.getloadavg())
