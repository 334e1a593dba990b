"""Tests of astrozoo.data.graphs: radius/kNN graphs, neighbour counts and edge cosines."""

from __future__ import annotations

import time

import numpy as np
import pytest

from astrozoo.data.graphs import (count_neighbours, edge_cosines, knn_graph, minimum_image,
                                  radius_graph)


def brute_distances(pos, box=None):
    d = pos[:, None, :] - pos[None, :, :]
    if box is not None:
        d -= box * np.round(d / box)
    return np.linalg.norm(d, axis=-1)


def edge_set(edge_index):
    return set(map(tuple, edge_index.T.tolist()))


def test_two_points_across_periodic_boundary():
    pos = np.array([[0.5, 10.0, 10.0], [51.2, 10.0, 10.0]])
    edges, dist = radius_graph(pos, 3.0, box=51.7)
    assert edge_set(edges) == {(0, 1), (1, 0)}
    np.testing.assert_allclose(dist, [1.0, 1.0])
    edges, _ = radius_graph(pos, 3.0)  # no box: 50.7 Mpc apart
    assert edges.shape == (2, 0)
    np.testing.assert_array_equal(count_neighbours(pos, 3.0, box=51.7), [1, 1])
    np.testing.assert_array_equal(count_neighbours(pos, 3.0), [0, 0])


def test_corner_minimum_image_and_wrapping():
    # across three faces at once: (0.1,0.1,0.1) and (9.9,9.9,9.9) in a 10 box are 0.2*sqrt(3)
    pos = np.array([[0.1, 0.1, 0.1], [9.9, 9.9, 9.9], [5.0, 5.0, 5.0]])
    edges, dist = radius_graph(pos, 1.0, box=10.0)
    assert edge_set(edges) == {(0, 1), (1, 0)}
    np.testing.assert_allclose(dist, 0.2 * np.sqrt(3.0))
    # positions outside [0, box) are wrapped first
    shifted = pos + np.array([10.0, -10.0, 20.0])
    edges2, dist2 = radius_graph(shifted, 1.0, box=10.0)
    np.testing.assert_array_equal(edges, edges2)
    np.testing.assert_allclose(dist, dist2)
    np.testing.assert_allclose(minimum_image(np.array([9.0, -9.0, 4.0]), 10.0), [-1.0, 1.0, 4.0])


def test_radius_is_strict():
    pos = np.array([[0.0, 0, 0], [3.0, 0, 0]])
    assert radius_graph(pos, 3.0)[0].shape[1] == 0
    assert count_neighbours(pos, 3.0).tolist() == [0, 0]
    assert radius_graph(pos, 3.0 + 1e-9)[0].shape[1] == 2


@pytest.mark.parametrize("box", [None, 20.0])
def test_radius_graph_matches_brute_force(box):
    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 20.0, (300, 3))
    edges, dist = radius_graph(pos, 2.5, box=box)
    full = brute_distances(pos, box)
    i, j = np.nonzero((full < 2.5) & ~np.eye(len(pos), dtype=bool))
    assert edge_set(edges) == set(zip(i.tolist(), j.tolist()))
    assert edges.dtype == np.int64 and edges.shape == (2, len(dist))
    assert not np.any(edges[0] == edges[1])
    np.testing.assert_allclose(dist, full[edges[0], edges[1]])
    # undirected: every edge appears in both directions
    assert edge_set(edges) == edge_set(edges[::-1])
    counts = count_neighbours(pos, 2.5, box=box)
    np.testing.assert_array_equal(counts, np.bincount(edges[0], minlength=len(pos)))
    np.testing.assert_array_equal(counts, (full < 2.5).sum(axis=1) - 1)


@pytest.mark.parametrize("box", [None, 10.0])
def test_knn_graph_symmetric_and_contains_k_nearest(box):
    rng = np.random.default_rng(1)
    pos = rng.uniform(0, 10.0, (200, 3))
    k = 5
    edges, dist = knn_graph(pos, k, box=box)
    full = brute_distances(pos, box)
    np.fill_diagonal(full, np.inf)
    nearest = np.argsort(full, axis=1)[:, :k]
    es = edge_set(edges)
    for i in range(len(pos)):
        for j in nearest[i]:
            assert (i, int(j)) in es and (int(j), i) in es
    assert es == edge_set(edges[::-1])
    assert not np.any(edges[0] == edges[1])
    assert len(es) == edges.shape[1]  # no duplicates
    np.testing.assert_allclose(dist, full[edges[0], edges[1]])
    assert np.all(np.bincount(edges[0], minlength=len(pos)) >= k)


def test_knn_tiny_inputs():
    edges, dist = knn_graph(np.array([[0.0, 0, 0], [1.0, 0, 0]]), 4)
    assert edge_set(edges) == {(0, 1), (1, 0)}
    assert knn_graph(np.zeros((1, 3)), 3)[0].shape == (2, 0)
    assert radius_graph(np.zeros((1, 3)), 3.0)[0].shape == (2, 0)


def test_edge_cosines_hand_case_and_invariance():
    # centroid at the origin; edge 0 -> 1 along x
    pos = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0]])
    edges = np.array([[0, 1, 0], [1, 0, 2]])
    cos = edge_cosines(pos, edges)
    assert cos.shape == (3, 2)
    np.testing.assert_allclose(cos[0], [-1.0, 1.0])   # s0.s1 = -1 ; s0 . (x0 - x1) = +1
    np.testing.assert_allclose(cos[1], [-1.0, 1.0])   # s1.s0 = -1 ; s1 . (x1 - x0) = +1
    np.testing.assert_allclose(cos[2], [0.0, np.sqrt(0.5)], atol=1e-12)
    # rotation and translation invariance
    rng = np.random.default_rng(2)
    cloud = rng.normal(size=(50, 3))
    e, _ = radius_graph(cloud, 1.0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    np.testing.assert_allclose(edge_cosines(cloud @ q.T + 5.0, e), edge_cosines(cloud, e),
                               atol=1e-10)
    assert np.all(np.abs(edge_cosines(cloud, e)) <= 1 + 1e-12)


def test_edge_cosines_periodic_cluster_across_boundary():
    # a cluster straddling the boundary behaves like the same cluster in the middle of the box
    rng = np.random.default_rng(4)
    cloud = rng.normal(scale=1.0, size=(40, 3))
    inside = cloud + 25.0
    wrapped = np.mod(cloud, 50.0)
    e, _ = radius_graph(inside, 1.5, box=50.0)
    e2, _ = radius_graph(wrapped, 1.5, box=50.0)
    np.testing.assert_array_equal(e, e2)
    np.testing.assert_allclose(edge_cosines(wrapped, e, box=50.0), edge_cosines(inside, e),
                               atol=1e-9)


def test_scales_to_large_catalogues():
    rng = np.random.default_rng(5)
    pos = rng.uniform(0, 302.6, (300_000, 3))
    start = time.perf_counter()
    edges, dist = radius_graph(pos, 3.0, box=302.6)
    counts = count_neighbours(pos, 3.0, box=302.6)
    assert time.perf_counter() - start < 30
    assert edges.shape[1] == counts.sum()
    # expected mean count for a Poisson field: n (4/3) pi r^3
    assert counts.mean() == pytest.approx(len(pos) / 302.6 ** 3 * 4 / 3 * np.pi * 27, rel=0.05)
