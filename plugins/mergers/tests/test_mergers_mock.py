"""The mock's labels, geometry, cosmology and seeding."""

import numpy as np
import pytest

from astrozoo_mergers import mock


def test_stages_and_labels_follow_the_paper():
    t = np.array([-1.0, -0.8, -0.5, -0.1, 0.0, 0.1, 0.2, 0.3, 0.31, np.nan])
    assert mock.stage_code(t).tolist() == [0, 1, 1, 2, 2, 2, 3, 3, 0, 0]
    assert [mock.STAGES[c] for c in mock.stage_code([-0.5, 0.05, 0.2, 0.6])] == ["pre", "ongoing", "post", "non-merger"]


def test_redshift_bins_give_the_papers_field_sizes():
    z = [0.1, 0.3, 0.31, 0.51, 0.52, 0.75, 0.76, 0.99]
    assert mock.z_bin(z).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert mock.field_pixels(z).tolist() == [320, 320, 192, 192, 160, 160, 128, 128]
    assert mock.z_bin([0.05, 1.0]).tolist() == [-1, -1]


def test_surface_brightness_dims_as_one_plus_z_to_the_fourth(monkeypatch):
    monkeypatch.setattr(mock, "EVOLUTION", 0.0)
    r_kpc = 5.0
    sb = [mock.counts(10.5, 1.0, z) / (np.pi * (r_kpc / mock.kpc_per_arcsec(z)) ** 2) for z in (0.2, 0.9)]
    assert sb[1] / sb[0] == pytest.approx(((1 + 0.2) / (1 + 0.9)) ** 4, rel=1e-3)
    # angular size from the Planck15 angular-diameter distance
    assert mock.kpc_per_arcsec(0.5) == pytest.approx(6.288, rel=1e-3)


def test_sky_noise_matches_the_depth():
    sigma = mock.sky_sigma(26.2)
    aperture = np.pi / mock.PIXSCALE**2
    assert 5 * sigma * np.sqrt(aperture) == pytest.approx(10 ** (-0.4 * (26.2 - 27.0)))


def test_orbit_and_features_evolve_as_intended():
    orbit = mock.draw_orbit(np.random.default_rng(0))
    orbit.update(efficiency=1.0, t_peri=-0.5, passages=1.7, tau_fade=0.15)
    t = np.array([-0.95, -0.8, -0.3, -0.05, 0.0])
    r = mock.separation(orbit, t)
    assert r[0] > r[1] > r[-1] and r[-1] <= 1.0 + 1e-9
    s = mock.tidal_strength(orbit, np.array([-0.7, -0.2, 0.0, 0.15, 0.3, 0.5]))
    assert s[0] < 0.1 < s[1]  # features appear after the first pericentre
    assert s[2] > s[3] > s[4] > s[5]  # and fade after coalescence


def test_sequences_and_images_are_seeded():
    a = mock.draw_sequences(2, 2, keep=0.5, seed=7)
    b = mock.draw_sequences(2, 2, keep=0.5, seed=7)
    assert [s.times for s in a] == [s.times for s in b]
    obs = mock.observations(a)
    first, row = mock.observe(obs[0], seed=7)
    again, _ = mock.observe(mock.observations(b)[0], seed=7)
    other, _ = mock.observe(obs[0], seed=8)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.shape == (row["field_px"],) * 2
    assert row["label"] == int(row["stage_code"] > 0)
    kinds = {s.kind for s in mock.draw_sequences(0, 40, seed=1)}
    assert kinds == {"isolated", "projection", "minor"}


def test_rendered_pair_shows_both_galaxies_and_the_noise():
    rng = np.random.default_rng(0)
    seq = mock.draw_sequences(1, 0, seed=2)[0]
    scene = mock.scene_of(seq, -0.3, 0.5, rng)
    assert len(scene.sersics) == 2 and scene.truth["separation_kpc"] > 1
    image = mock.render(scene, 160, 0.7, 0.04, rng)
    assert image.shape == (160, 160)
    assert np.std(image[:10, :10]) == pytest.approx(0.04, rel=0.3)  # a corner: mostly sky
    assert image[79:81, 79:81].mean() > 20 * 0.04  # the primary at the centre
