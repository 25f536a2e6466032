"""Counterfactual search and the decision map, on small models whose answers are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core.explore.counterfactual import (
    CLASS_INPUT_MOVE,
    REFINE_STEPS,
    SCAN_STEPS,
    NoCounterfactual,
    find_counterfactual,
)
from latentlab.core.explore.decision_map import cell_centres, decision_map, decision_rgba
from latentlab.core.explore.latent_model import ImageSpec, LatentModel
from latentlab.core.explore.points import EncodedPoints
from latentlab.core.explore.projection import dims_basis
from latentlab.core.jobs import CancelToken, JobCancelled

from ..factories import softmax as _softmax


class HalfPlaneModel:
    """Decodes z to a 1x2 image (sigmoid of z); the classifier reads class 1 where z1 > 0."""

    latent_dim = 2
    image_spec = ImageSpec(1, 2, 1)
    class_names = ("left", "right")
    conditional = False
    can_encode = False
    can_classify = True

    def __init__(self) -> None:
        self.classified = 0

    def condition(self, classes):
        raise AssertionError("a plain model has no condition")

    def decode(self, z, condition=None):
        z = np.asarray(z, np.float32)
        return (1 / (1 + np.exp(-z))).reshape(-1, 1, 2, 1).astype(np.float32)

    def encode(self, images):
        raise NotImplementedError

    def classify(self, images):
        self.classified += len(images)
        x = np.asarray(images, np.float32).reshape(len(images), -1)[:, 0]
        logit = 8.0 * (x - 0.5)
        return _softmax(np.stack([-logit, logit], axis=1))


class ClassInputModel:
    """A conditional model whose image is its class input: z changes nothing the classifier sees."""

    latent_dim = 2
    image_spec = ImageSpec(1, 3, 1)
    class_names = ("a", "b", "c")
    conditional = True
    can_encode = False
    can_classify = True

    def condition(self, classes):
        return np.eye(3, dtype=np.float32)[classes]

    def decode(self, z, condition=None):
        c = np.broadcast_to(np.asarray(condition, np.float32), (len(z), 3))
        return c.reshape(-1, 1, 3, 1).copy()

    def encode(self, images):
        raise NotImplementedError

    def classify(self, images):
        return _softmax(10.0 * np.asarray(images, np.float32).reshape(len(images), 3))


def _points(mu: np.ndarray, model: LatentModel) -> EncodedPoints:
    mu = np.asarray(mu, np.float32)
    probs = model.classify(model.decode(mu))
    return EncodedPoints(mu, np.zeros_like(mu), probs.argmax(1).astype(np.uint8), probs)


def test_fakes_satisfy_the_protocol():
    assert isinstance(HalfPlaneModel(), LatentModel)
    assert isinstance(ClassInputModel(), LatentModel)


def test_the_shortest_flip_is_the_distance_to_the_boundary():
    model = HalfPlaneModel()
    rng = np.random.default_rng(0)
    mu = rng.uniform(-3, 3, size=(200, 2)).astype(np.float32)
    start = np.array([-1.0, 0.3], np.float32)
    found = find_counterfactual(model, _points(mu, model), start, None, target=1)
    # Every point reading as "right" has z1 > 0, so no flip is nearer than 1 (the boundary).
    assert found.distance >= 1.0 - 1e-5
    # The class-mean ray runs nearly straight across, so the search finds nearly the shortest.
    assert found.distance < 1.15
    assert found.end[0] > 0
    assert found.start_class == 0 and found.target == 1
    assert found.probability > 0.5
    read = model.classify(model.decode(found.end[None])).argmax(1)[0]
    assert read == 1


def test_bisection_lands_next_to_the_boundary():
    model = HalfPlaneModel()
    mu = np.array([[2.0, 0.0], [-2.0, 0.0]], np.float32)
    found = find_counterfactual(model, _points(mu, model), np.array([-2.0, 0.0]), None, 1)
    # The ray toward (2, 0) crosses at z1 = 0: 2 units along a 4-unit ray.
    resolution = 4.0 / SCAN_STEPS / 2**REFINE_STEPS
    assert 2.0 <= found.distance <= 2.0 + 2 * resolution
    z, c = found.path(5)
    assert c is None
    np.testing.assert_allclose(z[0], [-2.0, 0.0])
    np.testing.assert_allclose(z[-1], found.end)


def test_the_limit_keeps_the_scan_inside_the_box():
    model = HalfPlaneModel()
    mu = np.array([[2.0, 0.0], [-2.0, 0.0]], np.float32)

    def wall(z: np.ndarray) -> np.ndarray:  # the box ends before the boundary
        return np.minimum(z, -0.5)

    with pytest.raises(NoCounterfactual, match="within the sliders' box"):
        find_counterfactual(model, _points(mu, model), np.array([-2.0, 0.0]), None, 1, limit=wall)


def test_a_point_already_read_as_the_target_is_said_so():
    model = HalfPlaneModel()
    mu = np.array([[2.0, 0.0], [-2.0, 0.0]], np.float32)
    with pytest.raises(NoCounterfactual, match="already reads this point as right"):
        find_counterfactual(model, _points(mu, model), np.array([1.0, 0.0]), None, 1)


def test_no_point_of_the_target_class_to_aim_at():
    model = HalfPlaneModel()
    mu = np.array([[-2.0, 0.0], [-1.0, 0.0]], np.float32)
    with pytest.raises(NoCounterfactual, match="no encoded point is read as right"):
        find_counterfactual(model, _points(mu, model), np.array([-1.5, 0.0]), None, 1)


def test_the_search_can_be_cancelled():
    model = HalfPlaneModel()
    mu = np.array([[2.0, 0.0], [-2.0, 0.0]], np.float32)
    token = CancelToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        find_counterfactual(model, _points(mu, model), np.array([-2.0, 0.0]), None, 1, token=token)


def test_a_conditional_model_flips_halfway_along_its_class_input():
    model = ClassInputModel()
    z = np.zeros(2, np.float32)
    found = find_counterfactual(
        model, None, z, model.condition(0), 2, move=CLASS_INPUT_MOVE, class_index=0
    )
    # The image is (1 - t, 0, t): class c wins once t > 1/2, a tie going to the first class.
    assert 0.5 < found.distance <= 0.5 + 1.0 / SCAN_STEPS / 2**REFINE_STEPS + 1e-6
    np.testing.assert_allclose(found.end_condition, [1 - found.distance, 0, found.distance])
    np.testing.assert_array_equal(found.end, z)
    _, c_path = found.path(3)
    np.testing.assert_allclose(c_path[0], [1, 0, 0])
    np.testing.assert_allclose(c_path[-1], found.end_condition)


def test_moving_z_of_a_class_input_model_never_flips_and_says_why():
    model = ClassInputModel()
    mu = np.random.default_rng(1).normal(size=(30, 2)).astype(np.float32)
    probs = np.tile(np.eye(3, dtype=np.float32), (10, 1))  # each class read somewhere
    points = EncodedPoints(mu, np.zeros_like(mu), probs.argmax(1).astype(np.uint8), probs)
    with pytest.raises(NoCounterfactual, match="class input"):
        find_counterfactual(model, points, np.zeros(2), model.condition(0), 2)


def test_a_model_without_a_classifier_is_refused():
    model = HalfPlaneModel()
    model.can_classify = False
    with pytest.raises(NoCounterfactual, match="no classifier"):
        find_counterfactual(model, None, np.zeros(2), None, 1)


def test_cell_centres_split_the_range_evenly():
    np.testing.assert_allclose(cell_centres(-2, 2, 4), [-1.5, -0.5, 0.5, 1.5])


def test_the_decision_map_follows_the_classifier_over_the_view():
    model = HalfPlaneModel()
    axes = dims_basis(2).plane(0, 1)
    found = decision_map(model, axes, np.zeros(2), None, (-2.0, 2.0), (-1.0, 1.0), cells=4)
    assert found.shape == (4, 4)
    # Columns at x = -1.5, -0.5 read "left", x = 0.5, 1.5 read "right", on every row.
    np.testing.assert_array_equal(found.classes, np.tile([0, 0, 1, 1], (4, 1)))
    # Confidence is symmetric about the boundary and grows away from it.
    np.testing.assert_allclose(found.confidence[:, 0], found.confidence[:, 3], rtol=1e-5)
    assert (found.confidence[:, 0] > found.confidence[:, 1]).all()
    assert found.x_range == (-2.0, 2.0) and found.y_range == (-1.0, 1.0)


def test_the_decision_map_is_read_in_chunks_and_cancels():
    model = HalfPlaneModel()
    axes = dims_basis(2).plane(0, 1)
    decision_map(model, axes, np.zeros(2), None, (-1.0, 1.0), (-1.0, 1.0), cells=30)
    assert model.classified == 900
    token = CancelToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        decision_map(model, axes, np.zeros(2), None, (-1.0, 1.0), (-1.0, 1.0), token=token)


@pytest.mark.parametrize(
    ("x_range", "y_range", "cells"),
    [((1.0, 1.0), (0.0, 1.0), 4), ((0.0, 1.0), (0.0, np.nan), 4), ((0.0, 1.0), (0.0, 1.0), 1)],
)
def test_a_bad_view_is_refused(x_range, y_range, cells):
    axes = dims_basis(2).plane(0, 1)
    with pytest.raises(ValueError):
        decision_map(HalfPlaneModel(), axes, np.zeros(2), None, x_range, y_range, cells=cells)


def test_decision_colours_fade_to_clear_at_chance():
    model = HalfPlaneModel()
    axes = dims_basis(2).plane(0, 1)
    found = decision_map(model, axes, np.zeros(2), None, (-3.0, 3.0), (-1.0, 1.0), cells=6)
    colours = np.array([[255, 0, 0], [0, 0, 255]], np.uint8)
    rgba = decision_rgba(found, colours, max_alpha=100)
    assert rgba.shape == (6, 6, 4)
    np.testing.assert_array_equal(rgba[0, 0, :3], [255, 0, 0])
    np.testing.assert_array_equal(rgba[0, 5, :3], [0, 0, 255])
    sure = (found.confidence - 0.5) / 0.5
    np.testing.assert_array_equal(rgba[..., 3], np.round(sure * 100).astype(np.uint8))
    assert rgba[0, 0, 3] > rgba[0, 2, 3]
