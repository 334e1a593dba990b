"""What statmorph costs per galaxy on the halo-mass mock, and what skipping its Sérsic fit saves.

For a seeded sample of mock-tng50 galaxies (224 px cutouts, i band, one process): CPU time of
rendering, of our segmentation (photutils detection + deblending), of the full statmorph run
(``measure_one``) and of statmorph without the Sérsic fit (``sersic=False``), then the agreement
of every value between the two runs. ``python benchmarks/morphology_cost.py [N]`` (default 24).
"""
import os
import sys
import time
import warnings

import numpy as np

from astrozoo_halo_mass.mock import generate_universe
from astrozoo_halo_mass.morphology import SERSIC, _psf, central_segmap, measure_one
from astrozoo_halo_mass.render import PSF_FWHM_ARCSEC, SKY_SIGMA, render_cutouts
from astrozoo_halo_mass.conventions import FEATURES

warnings.simplefilter("ignore")
n = int(sys.argv[1]) if len(sys.argv) > 1 else 24
cols, attrs = generate_universe("tng50", seed=0)
ids = np.random.default_rng(1).choice(cols["galaxy_id"], n, replace=False)
render_cutouts(cols, attrs["box_size_mpc"], ids[:1], workers=1)  # imports
t = time.process_time()
images = render_cutouts(cols, attrs["box_size_mpc"], ids, workers=1)[:, 2].astype(float)
render = (time.process_time() - t) / n
psf, sigma = _psf(PSF_FWHM_ARCSEC[2], 0.25).copy(), SKY_SIGMA[2]
measure_one(images[0], psf, sigma)  # imports


def timed(fn):
    t = time.process_time()
    out = [fn(image) for image in images]
    return out, (time.process_time() - t) / n


_, segment = timed(lambda im: central_segmap(im, psf, sigma))
full, t_full = timed(lambda im: measure_one(im, psf, sigma))
cheap, t_cheap = timed(lambda im: measure_one(im, psf, sigma, sersic=False))
print(f"{n} mock-tng50 galaxies, 224 px, i band, CPU s per galaxy (one process):")
print(f"  render {render:.3f} | segmentation {segment:.3f} | statmorph full (incl. segmentation) {t_full:.3f} | "
      f"without the Sérsic fit {t_cheap:.3f} ({100 * (1 - t_cheap / t_full):.0f}% less)")
same = [name for name in set(FEATURES) - set(SERSIC) | {"sn_per_pixel", "flag"}
        if np.array_equal([r[name] for r in full], [r[name] for r in cheap], equal_nan=True)]
print(f"  values identical in both runs: {len(same)} of {len(FEATURES) - len(SERSIC) + 2} "
      f"(every feature but {', '.join(SERSIC)}, plus sn_per_pixel and flag)")
print(f"  flags of the full run: {np.bincount([r['flag'] for r in full], minlength=5).tolist()} (0..4); "
      f"load average {os.getloadavg()[0]:.2f}")
