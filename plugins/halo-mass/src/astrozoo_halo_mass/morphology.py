"""statmorph morphology of rendered cutouts: the paper's 15 features plus statmorph's quality flags.

Procedure per galaxy, following Rodriguez-Gomez et al. (2019, MNRAS 483, 4140, §4) in spirit:
1. take one band (default i, the band of RG19's ``morphs_i.hdf5``);
2. segment the whole image (:func:`astrozoo.data.morphology.segment`): filter with the band's PSF,
   keep pixels 1.5 σ (of the filtered sky) above zero in ≥ 10 connected pixels (photutils
   ``detect_sources``), split blends with ``deblend_sources`` (32 levels, contrast 0.001); the
   source under the central pixel (else the nearest within 5 px) is the galaxy, the others are masked;
3. ``statmorph.source_morphology(image, segmap, weightmap=σ_sky, mask=…, psf=…)`` on the central
   ``stamp``×``stamp`` crop (default 128 px) with the band's Gaussian PSF, so the Sérsic fit is
   PSF-convolved (statmorph ``ConvolvedSersic2D``). The noise of the mock images is pure Gaussian
   sky noise, so a constant weight map of σ_sky is exact.

Why a 128-px stamp: statmorph cuts its own stamp of 2.5× the segment's bounding box, so on the
full 224 px image high-S/N galaxies get ~200 px stamps and take ~2.5× longer with almost the same
values (median |Δ| 0.004 in n, 0.001 in Gini for R_e < 20 px). Large galaxies whose segment
reaches past the crop are measured again on the whole image when the crop result is flagged;
without that, a quarter of the galaxies with R_e > 25 px were flagged (mostly flag 2).

Without the Sérsic fit. ``sersic=False`` runs statmorph with every quantity but the single Sérsic
fit (the ``sersic_*`` values): the morphological and combined forests use R_petro, S and A, and
statmorph's ``flag`` is set by the non-parametric measurements only (the fit sets
``flag_sersic``), so every other value and ``flag`` are the very same numbers; ``sersic_rhalf``,
``sersic_n`` are NaN and ``flag_sersic`` is -1 (not measured). It saves the fit's share of the
time, about 10% here (benchmarks/morphology_cost.py, docs/benchmarks.md): most of statmorph's
time goes to the asymmetry centre, the MID statistics, the sky box and our deblending.

Failures never raise: a galaxy without a detected central source, or any exception inside
statmorph, gives flag = flag_sersic = 4 and NaN features (statmorph's own −99 values become NaN).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from astrozoo.data.images import crop_or_pad, gaussian_psf_kernel
from astrozoo.data.parallel import parallel_map
from astrozoo.data.morphology import central_label, segment

from .render import BANDS, PIXSCALE, PSF_FWHM_ARCSEC, SKY_SIGMA, field_jobs, render_field
from .conventions import FEATURES, QUALITY, quality_mask


def measure_morphology(images, band: str = "i", stamp: int = 128, pixscale: float = PIXSCALE,
                       psf_fwhm_arcsec: float | None = None, sky_sigma: float | None = None,
                       workers: int | None = None, progress: Callable | None = None,
                       sersic: bool = True) -> dict[str, np.ndarray]:
    """Measure statmorph morphology on band ``band`` of (n, 3, H, W) g, r, i images (see module doc).

    ``images`` is an array or a sequence of (3, H, W) images read as the work goes (e.g. a
    :class:`astrozoo.data.store.LazyRows`). Returns a dict of length-n arrays: the 15 ``FEATURES``
    (float, pixels for radii), ``flag`` and ``flag_sersic`` (int; 4 = failed, features NaN; -1 = not
    measured, ``sersic=False``) and ``sn_per_pixel``. PSF FWHM and sky σ default to the renderer's
    values for that band. ``progress`` is called as ``progress(steps=k)``.
    """
    if isinstance(images, np.ndarray) and (images.ndim != 4 or images.shape[1] != len(BANDS)):
        raise ValueError(f"measure_morphology: expected (n, 3, H, W) g, r, i images, got shape {images.shape}")
    settings = _settings(band, stamp, pixscale, psf_fwhm_arcsec, sky_sigma, sersic)
    b = settings[0]
    return _measure((((np.asarray(image)[b], None), settings) for image in images), len(images), workers, progress)


def measure_rendered(catalogue: dict, box: float, ids, size: int = 224, seed: int = 0, band: str = "i",
                     stamp: int = 128, workers: int | None = None, progress: Callable | None = None,
                     sersic: bool = True) -> dict[str, np.ndarray]:
    """:func:`measure_morphology` of the mock cutouts of galaxies ``ids`` (:func:`astrozoo_halo_mass.render.field_jobs`
    arguments), each rendered by the worker that measures it: no image is stored or held beyond its
    own measurement. The same numbers as rendering, storing and then measuring (the renderer is
    deterministic per galaxy, and stored images are the same float32 arrays)."""
    jobs = field_jobs(catalogue, box, ids, size=size, seed=seed)
    settings = _settings(band, stamp, PIXSCALE, None, None, sersic)
    return _measure((((None, job), settings) for job in jobs), len(ids), workers, progress)


def _settings(band, stamp, pixscale, psf_fwhm_arcsec, sky_sigma, sersic) -> tuple:
    b = BANDS.index(band)
    fwhm = PSF_FWHM_ARCSEC[b] if psf_fwhm_arcsec is None else psf_fwhm_arcsec
    sigma = SKY_SIGMA[b] if sky_sigma is None else sky_sigma
    return b, fwhm, pixscale, sigma, stamp, sersic


def _measure(items, n: int, workers, progress) -> dict[str, np.ndarray]:
    # chunks of 8 over the machine's cores (or Dask workers); inside a cache build, finished chunks
    # are kept, so an interrupted measurement continues where it stopped (astrozoo.data.parallel)
    out = {name: np.full(n, np.nan) for name in FEATURES + ("sn_per_pixel",)}
    out |= {"flag": np.full(n, 4, dtype=np.int64), "flag_sersic": np.full(n, 4, dtype=np.int64)}
    for i, row in enumerate(parallel_map(_measure_item, items, workers=workers, chunk=8, progress=progress,
                                         keep="statmorph", total=n)):
        for name, column in out.items():
            column[i] = row[name]
    return out


morphology_quality_mask = quality_mask  # the one rule, kept under its old name


def _measure_item(args) -> dict:
    (image, job), (b, fwhm, pixscale, sigma, stamp, sersic) = args
    image = render_field(*job)[b] if image is None else image
    return measure_one(image, _psf(fwhm, pixscale).copy(), sigma, stamp, sersic=sersic)


@lru_cache(maxsize=8)
def _psf(fwhm: float, pixscale: float) -> np.ndarray:
    return gaussian_psf_kernel(fwhm, pixscale).array


def central_segmap(image: np.ndarray, psf: np.ndarray, sky_sigma: float, nsigma: float = 1.5,
                   npixels: int = 10) -> tuple[np.ndarray, np.ndarray] | None:
    """(segmap of the central source as 0/1 ints, mask of all other sources), or None if none is found.

    Uses :func:`astrozoo.data.morphology.segment` with the PSF as filter; the threshold is
    ``nsigma`` × the σ of the *filtered* sky, σ_sky √(Σ psf²).
    """
    segmap = segment(image, sky_sigma * np.sqrt(np.sum(psf**2)), nsigma=nsigma, npixels=npixels, kernel=psf,
                     contrast=0.001)
    label = central_label(segmap, max_distance=5) if segmap is not None else 0
    if not label:
        return None
    return (segmap == label).astype(np.int32), (segmap > 0) & (segmap != label)


def measure_one(image: np.ndarray, psf: np.ndarray, sky_sigma: float, stamp: int | None = 128,
                sersic: bool = True) -> dict:
    """statmorph on one background-subtracted 2-D image; flag 4 and NaNs when it cannot be measured.

    Segmentation uses the whole image; statmorph runs on the central ``stamp``×``stamp`` crop. If the
    galaxy's segment reaches past the crop and statmorph flags the result (flag or flag_sersic ≥ 1),
    it runs again on the whole image and that result is kept, so large galaxies are not clipped.
    ``sersic=False`` skips the Sérsic fit (module doc).
    """
    failed = {name: np.nan for name in FEATURES + ("sn_per_pixel",)} | {"flag": 4, "flag_sersic": 4}
    image = np.asarray(image, dtype=float)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = central_segmap(image, psf, sky_sigma)
            if found is None:
                return failed
            segmap, mask = found
            if not stamp or stamp >= min(image.shape):
                return _statmorph(image, segmap, mask, psf, sky_sigma, sersic)
            row = _statmorph(*(crop_or_pad(a, stamp) for a in (image, segmap, mask)), psf, sky_sigma, sersic)
            if (row["flag"] or row["flag_sersic"] > 0) and not _fits_in_stamp(segmap, stamp, margin=4):
                row = _statmorph(image, segmap, mask, psf, sky_sigma, sersic)
            return row
    except Exception:  # statmorph or photutils gave up on this image: report it as catastrophic
        return failed


def _statmorph(image, segmap, mask, psf, sky_sigma, sersic: bool = True) -> dict:
    import statmorph
    from photutils.segmentation import SegmentationImage

    # statmorph.source_morphology makes one SourceMorphology per label; the segmap has one (1)
    cls = statmorph.SourceMorphology if sersic else _without_sersic()
    morph = cls(image, SegmentationImage(segmap), 1, mask=mask, psf=psf,
                weightmap=np.full(image.shape, float(sky_sigma)))
    if morph.flag == 4:
        return {name: np.nan for name in FEATURES + ("sn_per_pixel",)} | {"flag": 4, "flag_sersic": 4}
    names = FEATURES if sersic else tuple(n for n in FEATURES if n not in SERSIC)
    row = {name: np.nan for name in FEATURES} | {name: float(morph[name]) for name in names + ("sn_per_pixel",)}
    for name, value in row.items():
        if value == -99.0 or not np.isfinite(value):
            row[name] = np.nan
    return row | {"flag": int(morph.flag), "flag_sersic": int(morph.flag_sersic) if sersic else -1}


SERSIC = ("sersic_rhalf", "sersic_n")  # the FEATURES that come from statmorph's Sérsic fit


@lru_cache(maxsize=1)
def _without_sersic():
    """statmorph's SourceMorphology measuring every quantity but the Sérsic fit (module doc)."""
    import statmorph
    from statmorph.statmorph import _quantity_names

    class WithoutSersic(statmorph.SourceMorphology):
        def _calculate_morphology(self):
            for name in _quantity_names:
                if not name.startswith("sersic_"):
                    _ = self[name]

    return WithoutSersic


def _fits_in_stamp(segmap: np.ndarray, stamp: int, margin: int) -> bool:
    """Whether the nonzero pixels of ``segmap`` lie inside its central ``stamp`` crop, ``margin`` px from its edge."""
    y, x = np.nonzero(segmap)
    (ny, nx), lo = segmap.shape, stamp // 2 - margin
    return bool(y.size) and y.min() >= ny // 2 - lo and y.max() < ny // 2 + lo and \
        x.min() >= nx // 2 - lo and x.max() < nx // 2 + lo
