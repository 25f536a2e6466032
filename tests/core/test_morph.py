"""Morphs: the interpolation maths, the class input's path, and the GIF / PNG files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from latentlab.core.explore import morph as m
from latentlab.core.explore.imaging import ink_uint8
from latentlab.core.vae.latent_model import VaeModel
from latentlab.core.vae.numpy_net import NumpyVAE

from ..factories import TINY_CVAE, TINY_VAE, random_record


@pytest.fixture
def cvae():
    record = random_record(TINY_CVAE, n_test=40, seed=11)
    return record, VaeModel(record)


def test_lerp_and_slerp_start_and_end_at_the_ends():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(6), rng.standard_normal(6)
    for kind in m.KINDS:
        p = m.path(a, b, 7, kind)
        assert p.shape == (7, 6) and p.dtype == np.float32
        np.testing.assert_allclose(p[0], a, atol=1e-6)
        np.testing.assert_allclose(p[-1], b, atol=1e-6)


def test_lerp_steps_are_equal():
    a, b = np.array([0.0, 1.0]), np.array([4.0, -3.0])
    steps = np.diff(m.path(a, b, 5, "linear"), axis=0)
    np.testing.assert_allclose(steps, np.tile((b - a) / 4, (4, 1)), atol=1e-6)


def test_slerp_keeps_the_norm_of_equal_norm_ends_and_turns_at_constant_speed():
    a = np.array([3.0, 0.0, 0.0])
    b = np.array([0.0, 3.0, 0.0])
    p = m.path(a, b, 9, "slerp").astype(np.float64)
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 3.0, atol=1e-5)
    angles = np.arctan2(p[:, 1], p[:, 0])
    np.testing.assert_allclose(np.diff(angles), np.pi / 2 / 8, atol=1e-5)
    # A straight line between the same ends dips inside the sphere.
    assert np.linalg.norm(m.path(a, b, 9, "linear")[4]) < 2.5


@pytest.mark.parametrize(
    ("a", "b"),
    [([0.0, 0.0], [1.0, 2.0]), ([1.0, 1.0], [2.0, 2.0]), ([1.0, 0.0], [-2.0, 0.0])],
    ids=["zero end", "parallel", "opposite"],
)
def test_slerp_falls_back_to_a_line_when_no_great_circle_is_defined(a, b):
    np.testing.assert_allclose(m.path(a, b, 5, "slerp"), m.path(a, b, 5, "linear"), atol=1e-6)


def test_path_rejects_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        m.path(np.zeros(2), np.ones(2), 1)
    with pytest.raises(ValueError, match="interpolation"):
        m.path(np.zeros(2), np.ones(2), 5, "cubic")


def test_a_conditional_morph_moves_the_class_input_from_one_hot_to_one_hot(cvae):
    record, model = cvae
    net = NumpyVAE(record.config, record.weights)
    a = m.MorphEnd(np.zeros(3, np.float32), 3, "A")
    b = m.MorphEnd(np.ones(3, np.float32), 8, "B")
    result = m.morph(model, a, b, 5, "linear")
    assert result.frames.shape == (5, 28, 28, 1) and len(result) == 5
    np.testing.assert_allclose(result.class_probs[0], net.one_hot(3))
    np.testing.assert_allclose(result.class_probs[-1], net.one_hot(8))
    np.testing.assert_allclose(result.class_probs[2][[3, 8]], [0.5, 0.5])
    np.testing.assert_allclose(result.class_probs.sum(axis=1), 1.0, atol=1e-6)
    # Every frame is the network's decode of that frame's latent and class input.
    for i in range(5):
        expected = net.decode(result.z[i], result.class_probs[i]).reshape(28, 28, 1)
        np.testing.assert_allclose(result.frames[i], expected, atol=1e-6)
    # Same style at both ends: the class input alone changes the picture.
    same = m.morph(model, a, m.MorphEnd(a.z, 8, "B"), 3)
    assert not np.allclose(same.frames[0], same.frames[-1])
    with pytest.raises(ValueError, match="class"):
        m.morph(model, a, m.MorphEnd(a.z, None, "B"), 3)


def test_a_plain_morph_has_no_class_input():
    record = random_record(TINY_VAE, n_test=10, seed=2)
    model, points = VaeModel(record), record.test_encoding
    a, b = m.end_at_point(model, points, 0), m.end_at_point(model, points, 1)
    assert a.digit is None and a.label == "test #0"
    result = m.morph(model, a, b, 4)
    assert result.class_probs is None and result.frames.shape == (4, 28, 28, 1)
    np.testing.assert_allclose(result.z[0], record.test_encoding.mu[0])


def test_test_point_ends_use_the_latent_mean_and_the_predicted_class(cvae):
    record, model = cvae
    points = record.test_encoding
    end = m.end_at_point(model, points, 5)
    np.testing.assert_array_equal(end.z, points.mu[5])
    assert end.digit == int(points.predicted[5])
    assert end.label == f"test #5 ({end.digit})"
    end.z[0] += 1  # the end holds its own copy of the mean
    assert points.mu[5, 0] != end.z[0]
    with pytest.raises(IndexError):
        m.end_at_point(model, points, 40)
    with pytest.raises(ValueError):
        m.end_at_point(model, None, 0)


def test_gif_has_one_frame_per_step_and_png_strip_is_one_row(cvae, tmp_path):
    record, model = cvae
    points = record.test_encoding
    result = m.morph(model, m.end_at_point(model, points, 0), m.end_at_point(model, points, 1), 6)
    assert m.save_morph(result.frames, tmp_path / "walk.gif", frame_ms=80) == "gif"
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.n_frames == 6
        assert gif.size == (28 * 4, 28 * 4)
        assert gif.info["duration"] == 80
        gif.seek(5)
        last = np.asarray(gif.convert("L"))[::4, ::4]
    np.testing.assert_array_equal(last, ink_uint8(result.frames[-1, ..., 0]))
    assert m.save_morph(result.frames, tmp_path / "strip.png", scale=1) == "png"
    with Image.open(tmp_path / "strip.png") as strip:
        assert strip.size == (6 * 30 + 2, 32)
    with pytest.raises(ValueError, match=r"\.gif or \.png"):
        m.save_morph(result.frames, tmp_path / "walk.jpg")
