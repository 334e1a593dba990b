import numpy as np
import pytest

from astrozoo.data import morphology
from astrozoo.data.images import convolve_psf, gaussian_psf_kernel, sersic_image

PIXSCALE, FWHM, SIGMA = 0.168, 0.7, 0.05


@pytest.fixture(scope="module")
def pair():
    """Two PSF-convolved Sérsic galaxies (a central n=2.5 one and an n=1 companion) with sky noise."""
    n = 96
    truth = sersic_image((n, n), flux=400.0, r_eff_px=6.0, n=2.5, ellip=0.3, theta=0.5)
    truth += sersic_image((n, n), flux=150.0, r_eff_px=4.0, n=1.0, x0=70.0, y0=30.0, ellip=0.5, theta=1.5)
    truth = convolve_psf(truth, FWHM, PIXSCALE)
    noisy = truth + np.random.default_rng(0).normal(0, SIGMA, truth.shape)
    return truth, noisy, gaussian_psf_kernel(FWHM, PIXSCALE).array


def test_fit_image_recovers_both_galaxies_and_the_model(pair):
    truth, noisy, psf = pair
    fit = morphology.fit_image(noisy, SIGMA, psf)
    assert fit.ok and fit.status == "ok" and fit.n_failed() == 0
    assert len(fit.sources) == 2 and not fit.skipped
    central = fit.central_fit.params
    assert central["sersic_n"] == pytest.approx(2.5, rel=0.15)
    assert central["sersic_rhalf"] == pytest.approx(6.0, rel=0.1)
    assert central["sersic_ellip"] == pytest.approx(0.3, abs=0.05)
    assert (central["sersic_xc"], central["sersic_yc"]) == pytest.approx((47.5, 47.5), abs=0.3)
    other = next(s for s in fit.sources if s.label != fit.central).params
    assert other["sersic_n"] == pytest.approx(1.0, rel=0.15)
    assert (other["sersic_xc"], other["sersic_yc"]) == pytest.approx((70, 30), abs=0.3)
    # the model is the noiseless image to a small fraction of the sky noise; the residual is noise
    assert np.std(fit.model - truth) < 0.2 * SIGMA
    assert np.std(fit.residual) == pytest.approx(SIGMA, rel=0.05)
    np.testing.assert_allclose(fit.residual, noisy - fit.model)


def test_fast_and_full_statmorph_agree(pair):
    _, noisy, psf = pair
    segmap = morphology.segment(noisy, SIGMA)
    label = morphology.central_label(segmap)
    fast, = morphology.fit_sources(noisy, segmap, [label], sky_sigma=SIGMA, psf=psf)
    full, = morphology.fit_sources(noisy, segmap, [label], sky_sigma=SIGMA, psf=psf, full=True)
    for name in morphology.SERSIC_PARAMS:
        assert fast.params[name] == pytest.approx(full.params[name], rel=1e-3, abs=1e-3), name
    assert fast.flag_sersic == full.flag_sersic == 0


def test_max_sources_keeps_the_central_and_the_brightest(pair):
    _, noisy, psf = pair
    fit = morphology.fit_image(noisy, SIGMA, psf, max_sources=1)
    assert [s.label for s in fit.sources] == [fit.central]
    assert len(fit.skipped) == 1
    assert fit.residual[30, 70] > 5 * SIGMA  # the unfitted companion stays in the residual


def test_sersic_model_matches_astropy_without_psf():
    from astropy.modeling.models import Sersic2D

    params = dict(zip(morphology.SERSIC_PARAMS, (2.0, 5.0, 1.5, 20.0, 22.0, 0.2, 0.7)))
    y, x = np.mgrid[0:40, 0:44]
    np.testing.assert_allclose(morphology.sersic_model((40, 44), params),
                               Sersic2D(2.0, 5.0, 1.5, 20.0, 22.0, 0.2, 0.7)(x, y))


def test_bad_images_give_a_status_never_an_exception(pair):
    _, noisy, psf = pair
    rng = np.random.default_rng(1)
    assert morphology.fit_image(rng.normal(0, SIGMA, (64, 64)), SIGMA, psf).status == "no source detected"
    nan = noisy.copy()
    nan[3, 3] = np.nan
    assert "NaN" in morphology.fit_image(nan, SIGMA, psf).status
    assert not morphology.fit_image(noisy, 0.0, psf).ok
    # a source off the centre only: found, but there is no central galaxy
    off = sersic_image((64, 64), flux=200.0, r_eff_px=3.0, n=1.0, x0=8.0, y0=8.0) + rng.normal(0, SIGMA, (64, 64))
    result = morphology.fit_image(off, SIGMA)
    assert result.status == "no central source" and result.central == 0
    with pytest.raises(ValueError, match="2-D"):
        morphology.fit_image(np.zeros((2, 8, 8)), SIGMA)


def test_a_source_statmorph_cannot_fit_is_flagged(pair, monkeypatch):
    _, noisy, psf = pair
    segmap = morphology.segment(noisy, SIGMA)
    label = morphology.central_label(segmap)
    # a segment whose flux is negative: statmorph aborts (its flag 4)
    negative, = morphology.fit_sources(-noisy, segmap, [label], sky_sigma=SIGMA, psf=psf)
    assert negative.flag_sersic == 4 and not negative.usable() and "flux" in negative.error
    # statmorph raising inside is caught and reported
    cls = morphology._sersic_only_class()
    monkeypatch.setattr(cls, "_calculate_morphology", lambda self: (_ for _ in ()).throw(RuntimeError("boom")))
    broken = morphology.fit_image(noisy, SIGMA, psf)
    assert not broken.ok and "boom" in broken.status
    assert broken.n_failed() == 2 and not broken.model.any()
    missing, = morphology.fit_sources(noisy, segmap, [99], sky_sigma=SIGMA)
    assert missing.flag == 4 and "not in the segmentation map" in missing.error


def test_sky_stats_measures_a_background():
    rng = np.random.default_rng(2)
    image = 3.0 + rng.normal(0, 0.2, (200, 200))
    image[90:110, 90:110] += 50
    median, sigma = morphology.sky_stats(image)
    assert median == pytest.approx(3.0, abs=0.01) and sigma == pytest.approx(0.2, rel=0.05)


def test_statmorph_arguments_reach_every_source_unchanged(pair):
    _, noisy, psf = pair
    args = {"sersic_model_args": {"bounds": {"n": (0.2, 2.0), "r_eff": (0.5, None)}},
            "sersic_fitting_args": {"maxiter": 800}}
    fit = morphology.fit_image(noisy, SIGMA, psf, statmorph_kwargs=args)
    assert args == {"sersic_model_args": {"bounds": {"n": (0.2, 2.0), "r_eff": (0.5, None)}},
                    "sersic_fitting_args": {"maxiter": 800}}  # statmorph writes its guesses into a copy
    central = fit.central_fit
    assert central.params["sersic_n"] == pytest.approx(2.0)  # the true n = 2.5 is past the bound:
    assert central.flag_sersic == 1 and central.usable()  # "suspect", still usable
    companion = next(s for s in fit.sources if s.label != fit.central)
    assert companion.params["sersic_n"] == pytest.approx(1.0, rel=0.15)  # its own guesses, not the central's
