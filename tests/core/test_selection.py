"""Lasso hit tests, selection summaries and the direction between two selections."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core.explore.points import EncodedPoints
from latentlab.core.explore.selection import (
    Selection,
    direction_between,
    inside_polygon,
    save_indices,
)


def test_a_square_holds_exactly_the_points_inside_it():
    xy = np.array([[0.5, 0.5], [1.5, 0.5], [0.1, 0.9], [-0.1, 0.5], [0.5, 1.01]])
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    np.testing.assert_array_equal(inside_polygon(xy, square), [True, False, True, False, False])


def test_a_concave_lasso_leaves_out_its_notch():
    # A "U": the points in the notch between the arms are outside.
    u = np.array([[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3]], np.float32)
    xy = np.array([[0.5, 2.5], [2.5, 2.5], [1.5, 2.0], [1.5, 0.5]])
    np.testing.assert_array_equal(inside_polygon(xy, u), [True, True, False, True])


def test_the_lasso_agrees_with_a_circle_on_random_points():
    rng = np.random.default_rng(0)
    xy = rng.uniform(-1.5, 1.5, size=(20_000, 2))
    t = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    circle = np.stack([np.cos(t), np.sin(t)], axis=1)
    r = np.hypot(xy[:, 0], xy[:, 1])
    got = inside_polygon(xy, circle)
    clear = np.abs(r - 1) > 1e-3  # the 400-gon differs from the circle only in a thin ring
    np.testing.assert_array_equal(got[clear], r[clear] < 1)


def test_too_few_vertices_select_nothing():
    assert not inside_polygon(np.zeros((3, 2)), np.array([[0, 0], [1, 1]])).any()


def _points() -> EncodedPoints:
    mu = np.array([[0, 0], [0, 2], [4, 0], [4, 2]], np.float32)
    return EncodedPoints(mu, np.zeros_like(mu), np.array([0, 0, 1, 1], np.uint8))


def test_the_direction_runs_from_one_mean_to_the_other():
    points = _points()
    a, b = Selection([1, 0, 0], "left"), Selection([2, 3], "right")
    np.testing.assert_array_equal(a.indices, [0, 1])  # sorted, unique
    np.testing.assert_allclose(a.mean_latent(points), [0, 1])
    unit, distance = direction_between(points, a, b)
    np.testing.assert_allclose(unit, [1, 0])
    assert distance == pytest.approx(4.0)
    np.testing.assert_array_equal(b.class_counts(points.labels, 3), [0, 2, 0])


def test_no_direction_between_selections_with_one_mean():
    points = _points()
    with pytest.raises(ValueError, match="same mean"):
        direction_between(points, Selection([0, 3]), Selection([1, 2]))
    with pytest.raises(ValueError, match="need points"):
        direction_between(points, Selection([]), Selection([1]))


def test_indices_are_saved_one_per_line(tmp_path):
    path = save_indices(Selection([5, 2, 9]), tmp_path / "sel.txt")
    assert path.read_text() == "2\n5\n9\n"
    np.testing.assert_array_equal(np.loadtxt(path, dtype=int), [2, 5, 9])
