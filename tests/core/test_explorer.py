"""The headless explorer state the window shows: decoding, selection, axes and hit testing."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core.explorer import SLIDER_RANGE, Explorer, dims_axes
from latentlab.core.vae.numpy_net import NumpyVAE

from ..factories import TINY_CVAE, TINY_VAE, random_record


@pytest.fixture
def cvae() -> Explorer:
    return Explorer(random_record(TINY_CVAE, n_test=60, seed=3))


@pytest.fixture
def vae() -> Explorer:
    return Explorer(random_record(TINY_VAE, n_test=40, seed=4))


def test_decode_is_a_contiguous_float_image_in_the_unit_range(cvae):
    image = cvae.decode()
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.flags.c_contiguous
    assert image.min() >= 0.0 and image.max() <= 1.0


def test_the_class_input_changes_a_conditional_decode(cvae):
    three = (cvae.set_digit(3), cvae.decode())[1]
    eight = (cvae.set_digit(8), cvae.decode())[1]
    assert not np.allclose(three, eight)
    with pytest.raises(ValueError):
        cvae.set_digit(10)


def test_decode_matches_the_network_on_the_current_state(cvae):
    cvae.set_z(np.linspace(-1, 1, cvae.latent_dim))
    cvae.set_digit(6)
    net = NumpyVAE(cvae.config, cvae.record.weights)
    expected = net.decode(cvae.z, np.eye(10, dtype=np.float32)[6]).reshape(28, 28)
    np.testing.assert_allclose(cvae.decode(), expected, atol=1e-6)


def test_select_moves_to_a_test_point_and_its_predicted_class(cvae):
    cvae.select(17)
    np.testing.assert_array_equal(cvae.z, cvae.encoding.mu[17])
    assert cvae.digit == int(cvae.predicted[17])
    np.testing.assert_allclose(cvae.current_point(), cvae.points()[17], atol=1e-6)
    cvae.z[0] += 1  # the explorer's z is a copy, not a view into the encoding
    assert cvae.encoding.mu[17, 0] != cvae.z[0]


def test_reconstruction_decodes_the_mean_with_the_class_probabilities(cvae):
    net = NumpyVAE(cvae.config, cvae.record.weights)
    enc = cvae.encoding
    expected = net.decode(enc.mu[5], enc.probs[5]).reshape(28, 28)
    np.testing.assert_allclose(cvae.reconstruction(5), expected, atol=1e-6)


def test_move_to_point_changes_z_only_along_the_axes(cvae):
    cvae.set_z(np.full(cvae.latent_dim, 0.2, np.float32))
    before = cvae.z.copy()
    target = cvae.current_point() + np.array([0.5, -0.3], np.float32)
    cvae.move_to_point(*target)
    np.testing.assert_allclose(cvae.current_point(), target, atol=1e-5)
    step = cvae.z - before
    comps = cvae.axes.components
    np.testing.assert_allclose(step, (step @ comps.T) @ comps, atol=1e-5)


def test_move_to_point_stays_inside_the_slider_range(cvae):
    cvae.move_to_point(100.0, -100.0)
    assert np.all(np.abs(cvae.z) <= SLIDER_RANGE)


def test_dims_axes_show_two_raw_dimensions(cvae):
    cvae.set_axes(dims_axes(cvae.latent_dim, 2, 0))
    np.testing.assert_allclose(cvae.points(), cvae.encoding.mu[:, [2, 0]], atol=1e-6)
    assert cvae.axes.labels == ("z3", "z1")
    with pytest.raises(ValueError):
        dims_axes(cvae.latent_dim, 1, 1)
    with pytest.raises(ValueError):
        dims_axes(cvae.latent_dim, 0, cvae.latent_dim)


def test_pca_axes_are_orthonormal_and_the_default(cvae):
    comps = cvae.axes.components
    assert cvae.axes.kind == "pca" and cvae.pca() is cvae.axes
    np.testing.assert_allclose(comps @ comps.T, np.eye(2), atol=1e-5)


def test_a_2d_model_shows_its_own_plane(vae):
    assert vae.axes.kind == "dims" and vae.axes.labels == ("z1", "z2")
    np.testing.assert_allclose(vae.points(), vae.encoding.mu, atol=1e-6)
    assert vae.classify(vae.decode()) is None and vae.class_input() is None
    vae.select(3)
    assert vae.digit == 0  # a plain model has no class to change


def test_nearest_finds_the_point_itself(cvae):
    for index in (0, 9, 33):
        x, y = cvae.points()[index]
        assert cvae.nearest(x + 1e-4, y - 1e-4) == index


def test_randomize_draws_inside_the_range_reproducibly(cvae):
    cvae.randomize(np.random.default_rng(1))
    first = cvae.z.copy()
    cvae.randomize(np.random.default_rng(1))
    np.testing.assert_array_equal(first, cvae.z)
    assert np.all(np.abs(first) <= SLIDER_RANGE) and np.any(first != 0)
    cvae.reset()
    assert not cvae.z.any()


def test_classify_reads_a_probability(cvae):
    reading = cvae.classify(cvae.decode())
    assert reading is not None
    digit, prob = reading
    assert 0 <= digit < 10 and 0.0 < prob <= 1.0
