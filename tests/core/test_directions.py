"""Named directions: a planted direction is found, noise is scored as noise, classes, selections,
moving along a direction from the state, and the clear errors for data that cannot give one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from latentlab.core.errors import LatentlabError
from latentlab.core.explore.colouring import ColourChoice
from latentlab.core.explore.dimensions import STRIP_VALUES
from latentlab.core.explore.directions import (
    Direction,
    attribute_choices,
    attribute_direction,
    attribute_values_job,
    class_direction,
    decode_strips,
    selection_direction,
    strip_latents,
)

from ..factories import TINY_CVAE, open_state, random_record


def planted(n: int = 400, d: int = 6, noise: float = 0.1, seed: int = 0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    return z, w, z @ w + noise * rng.standard_normal(n)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_regression_recovers_a_planted_direction_with_a_high_held_out_r2():
    z, w, values = planted()
    d = attribute_direction(z, values, "slant", seed=3)
    assert cosine(d.unit, w) > 0.99
    assert d.score > 0.95 and d.score_name == "R²" and d.kind == "regression"
    assert (d.low, d.high) == ("left", "right")  # slant's ends
    assert abs(float(np.linalg.norm(d.unit)) - 1) < 1e-6
    assert d.extra["held_out"] == 80  # 20 % of 400


def test_the_direction_points_towards_larger_values():
    z, w, values = planted()
    assert cosine(attribute_direction(z, -values, "x").unit, w) < -0.99


def test_pure_noise_scores_near_zero_or_below():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((300, 6))
    d = attribute_direction(z, rng.standard_normal(300), "noise")
    assert d.score < 0.1


def test_scale_and_centre_make_the_data_span_about_three_units():
    z, _w, values = planted()
    z = z * 2.0 + 5.0
    d = attribute_direction(z, values, "x")
    coords = np.array([d.coordinate(p) for p in z])
    assert abs(coords.mean()) < 1e-6 and abs(coords.std() - 1) < 1e-6


def test_nan_values_are_left_out_and_too_few_points_is_a_clear_error():
    z, w, values = planted(n=200)
    values[::3] = np.nan
    d = attribute_direction(z, values, "x")
    assert d.extra["points"] == 200 - len(values[::3])
    assert cosine(d.unit, w) > 0.99
    few = np.full(200, np.nan)
    few[:5] = 1.0, 2.0, 3.0, 4.0, 5.0
    with pytest.raises(LatentlabError, match="only 5 points have a value"):
        attribute_direction(z, few, "x")


def test_constant_values_and_a_length_mismatch_are_clear_errors():
    z, _w, _v = planted(n=50)
    with pytest.raises(LatentlabError, match="same value \\(2\\) for every point"):
        attribute_direction(z, np.full(50, 2.0), "thickness")
    with pytest.raises(LatentlabError, match="49 values for 50 points"):
        attribute_direction(z, np.ones(49), "x")


def test_too_few_points_for_the_dimensions_is_an_error_not_an_exact_fit():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((12, 12))
    with pytest.raises(LatentlabError, match="too few"):
        attribute_direction(z, rng.standard_normal(12), "x")


def blobs(n: int = 150, d: int = 5, gap: float = 3.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    axis = rng.standard_normal(d)
    axis /= np.linalg.norm(axis)
    labels = np.repeat([4, 9], n)
    z = rng.standard_normal((2 * n, d)) + gap * axis * (labels == 9)[:, None]
    return z, labels, axis


@pytest.mark.parametrize("method", ["mean-difference", "logistic"])
def test_class_direction_between_two_gaussian_blobs(method):
    z, labels, axis = blobs()
    names = tuple(str(i) for i in range(10))
    d = class_direction(z, labels, 4, 9, names=names, method=method)
    assert cosine(d.unit, axis) > 0.9
    assert d.score > 0.85 and d.score_name == "accuracy"
    assert d.kind == ("logistic" if method == "logistic" else "mean-difference")
    assert (d.name, d.low, d.high, d.source) == ("4 → 9", "4", "9", "classes 4 → 9")
    # Overlapping blobs are told apart less well: the score measures, it is not a constant.
    z2, labels2, _ = blobs(gap=0.3)
    assert class_direction(z2, labels2, 4, 9, method=method).score < d.score


def test_class_direction_needs_two_present_classes():
    z, labels, _ = blobs()
    with pytest.raises(LatentlabError, match="class 3 has 0 points"):
        class_direction(z, labels, 3, 9)
    with pytest.raises(LatentlabError, match="two different classes"):
        class_direction(z, labels, 4, 4)


def test_selection_direction_is_the_difference_of_means():
    z, labels, axis = blobs()
    a, b = np.flatnonzero(labels == 4)[:40], np.flatnonzero(labels == 9)[:30]
    d = selection_direction(z, a, b, "mine")
    assert d.kind == "mean-difference" and d.name == "mine"
    assert cosine(d.unit, axis) > 0.85
    with pytest.raises(LatentlabError, match="share 1 points"):
        selection_direction(z, a, [a[0], *b], "x")
    with pytest.raises(LatentlabError, match="outside"):
        selection_direction(z, a, [10_000], "x")


def test_moving_along_changes_only_the_coordinate_along_the_unit():
    z, _w, values = planted(d=3)
    d = attribute_direction(z, values, "x")
    z0 = np.array([0.3, -0.2, 0.1], np.float32)
    moved = d.at(z0, 1.5)
    assert d.coordinate(moved) == pytest.approx(1.5, abs=1e-5)
    step = moved - z0
    assert abs(cosine(step, d.unit)) > 0.9999  # parallel to the unit: nothing else moved
    np.testing.assert_allclose(d.along(z0, 2.0) - z0, 2.0 * d.scale * d.unit, atol=1e-6)


def test_state_move_along_from_where_a_drag_began():
    state = open_state(random_record(TINY_CVAE, n_test=60))
    d = Direction("x", np.array([0.6, 0.8, 0.0]), "mean-difference", "", scale=0.5, centre=0.1)
    start = state.z
    for value in (0.5, 1.0, 1.5):  # a drag: every step from the same start
        state.move_along(d, value, start)
    assert d.coordinate(state.z) == pytest.approx(1.5, abs=1e-5)
    np.testing.assert_allclose(state.z, d.at(start, 1.5), atol=1e-6)
    state.move_along(d, -1.0)  # from the current point
    assert d.coordinate(state.z) == pytest.approx(-1.0, abs=1e-5)
    assert state.z[2] == pytest.approx(start[2])


def test_strips_decode_along_each_direction():
    state = open_state(random_record(TINY_CVAE, n_test=60))
    d1 = Direction("a", np.array([1.0, 0, 0]), "regression", "", scale=2.0)
    d2 = Direction("b", np.array([0, 0, 1.0]), "regression", "")
    latents = strip_latents([d1, d2], state.z)
    assert latents.shape == (2, len(STRIP_VALUES), 3)
    np.testing.assert_allclose(latents[0, :, 0], 2.0 * STRIP_VALUES, atol=1e-6)
    images = decode_strips(state.model, [d1, d2], state.z, state.condition())
    assert images.shape == (2, len(STRIP_VALUES), 28, 28, 1)
    assert not np.allclose(images[0, 0], images[0, -1])


def test_a_direction_refuses_a_bad_vector():
    with pytest.raises(ValueError, match="length 1"):
        Direction("x", np.array([1.0, 1.0]), "regression", "")
    with pytest.raises(ValueError, match="finite"):
        Direction("x", np.array([math.nan, 1.0]), "regression", "")
    with pytest.raises(ValueError, match="kind"):
        Direction("x", np.array([1.0]), "pca", "")


def test_attribute_values_come_from_columns_and_the_reconstruction_error():
    state = open_state(random_record(TINY_CVAE, n_test=30))
    points = state.points
    column = np.arange(30.0)
    choices = attribute_choices(points, has_images=False, columns={"age": column})
    assert choices == [ColourChoice("column", name="age")]
    with_images = attribute_choices(points, has_images=True)
    assert ColourChoice("recon_error") in with_images
    assert ColourChoice("stroke", name="slant") in with_images
    job = attribute_values_job(choices[0], state.model, points, None, {"age": column})
    with pytest.raises(StopIteration) as end:
        next(job)
    np.testing.assert_array_equal(end.value.value[choices[0]], column)
    images = np.random.default_rng(0).integers(0, 256, (30, 28, 28, 1), dtype=np.uint8)
    job = attribute_values_job(ColourChoice("recon_error"), state.model, points, images)
    while True:
        try:
            next(job)
        except StopIteration as done:
            errors = done.value[ColourChoice("recon_error")]
            break
    assert errors.shape == (30,) and np.isfinite(errors).all() and errors.min() > 0
    with pytest.raises(LatentlabError, match="needs the points' images"):
        next(attribute_values_job(ColourChoice("stroke", name="slant"), state.model, points, None))
