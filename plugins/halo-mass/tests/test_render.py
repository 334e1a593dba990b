"""Tests for the mock gri cutout renderer (astrozoo_halo_mass.render)."""

import numpy as np
import pytest

from astrozoo_halo_mass.render import (DISTANCE_MPC, PIXSCALE, SKY_SIGMA, band_fluxes, render_cutouts)

BOX = 51.7
KPC_PER_PX = PIXSCALE / 206264.806 * DISTANCE_MPC * 1e3


def catalogue(n=10, seed=0, **fixed):
    """A hand-made catalogue with the mock's columns; galaxies spread over the box."""
    rng = np.random.default_rng(seed)
    cols = dict(
        galaxy_id=np.arange(n, dtype=np.int64) * 3 + 100, pos=rng.uniform(0, BOX, (n, 3)),
        log_mstar=rng.uniform(9.6, 11.0, n), re_kpc=rng.uniform(1.5, 5.0, n), sersic_n=rng.uniform(0.8, 4.0, n),
        axis_ratio=rng.uniform(0.4, 1.0, n), position_angle=rng.uniform(0, np.pi, n),
        quenched=rng.random(n) < 0.5, color_gr=rng.uniform(0.4, 0.8, n), clumpiness=rng.uniform(0, 1, n),
        disturbance=rng.uniform(0, 1, n) ** 2)
    for key, value in fixed.items():
        cols[key] = np.broadcast_to(np.asarray(value, dtype=cols[key].dtype), cols[key].shape).copy()
    return cols


def test_shape_dtype_and_noise_level():
    cat = catalogue(3)
    images = render_cutouts(cat, BOX, cat["galaxy_id"], size=96, workers=1)
    assert images.shape == (3, 3, 96, 96) and images.dtype == np.float32
    assert np.isfinite(images).all()
    corner = images[:, :, :12, :12].std(axis=(0, 2, 3))  # sky only, far from the galaxy
    np.testing.assert_allclose(corner, SKY_SIGMA, rtol=0.15)


def test_deterministic_order_free_and_worker_free():
    cat = catalogue(12)
    ids = cat["galaxy_id"]
    one = render_cutouts(cat, BOX, ids, size=64, seed=3, workers=1)
    again = render_cutouts(cat, BOX, ids[::-1], size=64, seed=3, workers=2)[::-1]
    np.testing.assert_array_equal(one, again)
    other_seed = render_cutouts(cat, BOX, ids[:1], size=64, seed=4, workers=1)
    assert not np.array_equal(one[0], other_seed[0])


def test_flux_follows_stellar_mass_and_colour():
    """A smooth isolated galaxy holds its catalogue flux; red galaxies are brighter in i than in g."""
    cat = catalogue(2, quenched=True, clumpiness=0.0, disturbance=0.0, sersic_n=1.0, re_kpc=2.0, log_mstar=10.5)
    cat["pos"][1] = cat["pos"][0] + [20.0, 20.0, 0.0]
    cat["color_gr"][:] = [0.8, 0.3]
    images = render_cutouts(cat, BOX, cat["galaxy_id"], size=224, workers=1)
    expected = band_fluxes(cat["log_mstar"], cat["color_gr"])
    np.testing.assert_allclose(images.sum(axis=(2, 3)), expected, rtol=0.03)
    g, r, i = expected.T
    assert i[0] / g[0] > i[1] / g[1]
    assert 200 < expected[0, 1] < 20000  # 10^10.5 Msun at z=0.05: r ≈ 16 mag ≈ 3000 e-/s


def test_neighbour_across_the_periodic_boundary_is_drawn():
    cat = catalogue(2, quenched=True, clumpiness=0.0, disturbance=0.0, sersic_n=1.0, re_kpc=1.5, log_mstar=10.5)
    cat["pos"][0] = [0.001, 10.0, 5.0]
    cat["pos"][1] = [BOX - 0.005, 10.0, 40.0]  # 6 kpc to the left in projection, far away in z
    images = render_cutouts(cat, BOX, cat["galaxy_id"][:1], size=96, workers=1)[0]
    dx = -0.006e3 / KPC_PER_PX
    x_nb = int(round(47.5 + dx))
    assert images[1, 47:49, x_nb - 1:x_nb + 2].mean() > 20 * SKY_SIGMA[1]
    alone = render_cutouts({k: v[:1] for k, v in cat.items()}, BOX, cat["galaxy_id"][:1], size=96, workers=1)[0]
    assert images[1].sum() > alone[1].sum() * 1.5


def test_clumps_and_disturbance_break_symmetry():
    smooth = catalogue(1, quenched=False, clumpiness=0.0, disturbance=0.0, log_mstar=10.8, re_kpc=3.0)
    rough = catalogue(1, quenched=False, clumpiness=1.0, disturbance=0.9, log_mstar=10.8, re_kpc=3.0)
    a = render_cutouts(smooth, BOX, smooth["galaxy_id"], size=96, workers=1)[0, 1].astype(float)
    b = render_cutouts(rough, BOX, rough["galaxy_id"], size=96, workers=1)[0, 1].astype(float)

    def asym(img):  # rotational asymmetry about the image centre (Conselice 2003, no sky term)
        return np.abs(img - img[::-1, ::-1]).sum() / np.abs(img).sum()
    assert asym(b) > asym(a) + 0.1


def test_unknown_id_is_an_error():
    cat = catalogue(2)
    with pytest.raises(ValueError, match="not in the catalogue"):
        render_cutouts(cat, BOX, [999], workers=1)


def test_progress_is_reported():
    cat = catalogue(10)
    seen = []
    render_cutouts(cat, BOX, cat["galaxy_id"], size=32, workers=1, progress=lambda steps=1: seen.append(steps))
    assert sum(seen) == 10
