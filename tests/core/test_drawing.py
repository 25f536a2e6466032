"""Reading one image with the numpy nets, and the q(z|x) ellipse projected on the scatter axes."""

import numpy as np
import pytest

from latentlab.core.explore.drawing import ellipse, projected_covariance, read_image
from latentlab.core.explore.projection import LinearBasis, dims_basis, pca_basis
from latentlab.core.vae.latent_model import VaeModel
from latentlab.core.vae.numpy_net import NumpyVAE

from ..factories import TINY_CVAE, TINY_VAE, random_record


def test_read_image_matches_the_nets():
    record = random_record(TINY_CVAE)
    net = NumpyVAE(record.config, record.weights)
    image = np.random.default_rng(0).random((28, 28, 1)).astype(np.float32)
    reading = read_image(VaeModel(record), image)
    assert reading.image.shape == (28, 28, 1) and reading.image == pytest.approx(image)
    mu, var = net.encode(image.reshape(1, -1))
    probs = net.classify(image.reshape(1, -1))[0]
    assert reading.mu == pytest.approx(mu[0]) and reading.var == pytest.approx(var[0])
    assert reading.predicted == int(np.argmax(probs))
    assert reading.confidence == pytest.approx(float(probs.max()))
    expected = net.decode(mu, probs[None]).reshape(28, 28, 1)
    assert reading.reconstruction.shape == (28, 28, 1)
    assert np.allclose(reading.reconstruction, expected)


def test_a_plain_model_has_no_reading():
    record = random_record(TINY_VAE)
    net = NumpyVAE(record.config, record.weights)
    reading = read_image(VaeModel(record), np.zeros((28, 28, 1)))
    assert reading.probs is None and reading.predicted is None and reading.confidence is None
    assert reading.reconstruction.shape == (28, 28, 1)
    mu, _ = net.encode(np.zeros((1, 784), np.float32))
    assert np.allclose(reading.reconstruction, net.decode(mu).reshape(28, 28, 1))


def test_an_image_of_another_size_is_refused():
    record = random_record(TINY_VAE)
    with pytest.raises(ValueError):
        read_image(VaeModel(record), np.zeros((14, 14, 1)))


def test_ellipse_on_raw_axes_is_axis_aligned():
    axes = dims_basis(3).plane(0, 2)
    mu = np.array([1.0, 5.0, -2.0])
    var = np.array([4.0, 100.0, 0.25])
    outline = ellipse(mu, var, axes, n_sigma=2.0)
    assert outline.shape == (73, 2)
    assert np.allclose(outline[0], outline[-1])  # closed
    assert outline[:, 0].min() == pytest.approx(1.0 - 4.0, abs=1e-4)  # 2 sigma of std 2
    assert outline[:, 0].max() == pytest.approx(1.0 + 4.0, abs=1e-4)
    assert outline[:, 1].max() == pytest.approx(-2.0 + 1.0, abs=1e-2)  # 2 sigma of std 0.5


def test_ellipse_on_pca_axes_uses_the_projected_covariance():
    rng = np.random.default_rng(1)
    axes = pca_basis(rng.standard_normal((100, 4)).astype(np.float32)).plane(0, 1)
    var = np.array([0.5, 2.0, 1.0, 0.1])
    cov = projected_covariance(var, axes)
    p = axes.components.astype(np.float64)
    assert cov == pytest.approx(p @ np.diag(var) @ p.T)
    mu = np.zeros(4)
    outline = ellipse(mu, var, axes, n_sigma=1.0, points=720)
    centre = axes.project(mu)
    # Every outline point is at Mahalanobis distance 1 under the projected covariance.
    d = outline - centre
    m = np.einsum("ij,jk,ik->i", d, np.linalg.inv(cov), d)
    assert m == pytest.approx(np.ones(len(d)), abs=1e-4)


def test_ellipse_handles_a_custom_axes_object():
    axes = LinearBasis(
        "pca", np.array([[1, 0], [0, 1]], np.float32), np.array([1, 1], np.float32), ("a", "b")
    )
    outline = ellipse(np.array([1.0, 1.0]), np.array([1.0, 1.0]), axes)
    assert np.allclose(np.hypot(outline[:, 0], outline[:, 1]), 1.0, atol=1e-5)
