"""Nearest test points in latent space."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core.explore.neighbours import nearest


def brute_force(mu, z, k, only=None):
    d = np.linalg.norm(mu - z, axis=1)
    allowed = np.arange(len(mu)) if only is None else np.flatnonzero(only)
    order = allowed[np.argsort(d[allowed], kind="stable")]
    return order[:k], d[order[:k]]


@pytest.mark.parametrize("k", [1, 5, 50])
def test_nearest_agrees_with_a_full_sort(k):
    rng = np.random.default_rng(k)
    mu = rng.standard_normal((50, 4)).astype(np.float32)
    z = rng.standard_normal(4).astype(np.float32)
    idx, dist = nearest(mu, z, k)
    want_idx, want_dist = brute_force(mu, z, k)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_allclose(dist, want_dist, rtol=1e-5)
    assert np.all(np.diff(dist) >= 0)


def test_a_point_of_the_set_is_its_own_nearest():
    mu = np.random.default_rng(1).standard_normal((30, 3)).astype(np.float32)
    idx, dist = nearest(mu, mu[17], 3)
    assert idx[0] == 17 and dist[0] == 0


def test_ties_come_lowest_index_first():
    mu = np.array([[1, 0], [0, 1], [-1, 0], [5, 5]], np.float32)
    idx, _ = nearest(mu, np.zeros(2), 3)
    np.testing.assert_array_equal(idx, [0, 1, 2])


def test_a_mask_restricts_the_search_and_may_return_fewer():
    rng = np.random.default_rng(2)
    mu = rng.standard_normal((40, 2)).astype(np.float32)
    only = np.arange(40) % 4 == 1
    idx, _ = nearest(mu, np.zeros(2), 5, only)
    want, _ = brute_force(mu, np.zeros(2), 5, only)
    np.testing.assert_array_equal(idx, want)
    assert len(nearest(mu, np.zeros(2), 20, only)[0]) == 10
    assert len(nearest(mu, np.zeros(2), 3, np.zeros(40, bool))[0]) == 0


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        nearest(np.zeros((5, 3)), np.zeros(2), 1)
    with pytest.raises(ValueError):
        nearest(np.zeros((5, 3)), np.zeros(3), 0)
