"""KL per latent dimension, slider bases and decoded strips, checked against hand computations."""

import math

import numpy as np
import pytest

from latentlab.core.explore.dimensions import (
    STRIP_VALUES,
    active,
    decode_strips,
    dims_basis,
    kl_along,
    kl_per_dimension,
    pca_basis,
    strip_latents,
)
from latentlab.core.explorer import pca_axes
from latentlab.core.vae import record as record_module
from latentlab.core.vae.numpy_net import NumpyVAE

from ..factories import TINY_CVAE, random_record


def test_kl_per_dimension_by_hand():
    mu = np.array([[1.0, 0.0], [0.0, 0.0]])
    logvar = np.array([[0.0, math.log(2.0)], [0.0, 0.0]])
    # image 1: dim 0 -> 0.5 (1 + 1 - 1 - 0) = 0.5, dim 1 -> 0.5 (2 + 0 - 1 - log 2)
    # image 2: the prior itself, 0 in both
    expected = [0.25, 0.25 * (1 - math.log(2.0))]
    assert kl_per_dimension(mu, logvar) == pytest.approx(expected)


def test_a_collapsed_unit_has_zero_kl_and_is_inactive():
    rng = np.random.default_rng(0)
    mu = np.column_stack([rng.standard_normal(500) * 2, np.zeros(500)])
    logvar = np.column_stack([np.full(500, -3.0), np.zeros(500)])
    kl = kl_per_dimension(mu, logvar)
    assert kl[1] == pytest.approx(0.0, abs=1e-12)
    assert list(active(kl)) == [True, False]


def test_kl_along_a_rotated_direction():
    # Unit variances: the KL of the projection c.z is 0.5 (c.mu)^2.
    mu = np.array([[3.0, 4.0], [0.0, 2.0]])
    c = np.array([[0.6, 0.8], [-0.8, 0.6]])
    expected = [0.5 * np.mean((mu @ c[0]) ** 2), 0.5 * np.mean((mu @ c[1]) ** 2)]
    assert kl_along(mu, np.zeros_like(mu), c) == pytest.approx(expected)


@pytest.fixture
def record():
    return random_record(TINY_CVAE, n_test=200, seed=3)


def test_dims_basis_matches_the_per_dimension_kl(record):
    basis = dims_basis(record.test_encoding)
    enc = record.test_encoding
    assert basis.kl == pytest.approx(kl_per_dimension(enc.mu, enc.logvar))
    assert basis.labels == ("z1", "z2", "z3")
    z = np.array([0.3, -1.0, 2.0], np.float32)
    assert basis.coords(z) == pytest.approx(z)
    assert basis.order_by_kl() == list(np.argsort(-basis.kl))


def test_pca_basis_extends_the_scatter_axes(record):
    basis = pca_basis(record.test_encoding)
    axes = pca_axes(record.test_encoding.mu)
    assert np.allclose(basis.components[:2], axes.components, atol=1e-5)
    assert np.allclose(basis.components @ basis.components.T, np.eye(3), atol=1e-5)
    z = np.array([0.5, -0.25, 1.0], np.float32)
    assert basis.coords(z)[:2] == pytest.approx(axes.project(z), abs=1e-5)
    assert basis.latent(basis.coords(z)) == pytest.approx(z, abs=1e-5)


def test_with_coord_moves_along_one_direction_only(record):
    basis = pca_basis(record.test_encoding)
    z = np.array([0.5, -0.25, 1.0], np.float32)
    moved = basis.with_coord(z, 1, 2.0)
    before, after = basis.coords(z), basis.coords(moved)
    assert after[1] == pytest.approx(2.0, abs=1e-5)
    assert after[[0, 2]] == pytest.approx(before[[0, 2]], abs=1e-5)


def test_strips_are_the_single_decodes_batched(record):
    net = NumpyVAE(record.config, record.weights)
    basis = pca_basis(record.test_encoding)
    z = np.array([0.2, 0.1, -0.4], np.float32)
    digit = net.one_hot(4)
    strips = decode_strips(net, basis, z, digit)
    assert strips.shape == (3, len(STRIP_VALUES), 28, 28)
    latents = strip_latents(basis, z)
    for d in range(3):
        for v, value in enumerate(STRIP_VALUES):
            assert basis.coords(latents[d, v])[d] == pytest.approx(value, abs=1e-5)
            single = net.decode(latents[d, v], digit).reshape(28, 28)
            assert np.allclose(strips[d, v], single, atol=1e-6)


def test_a_plain_model_strip_needs_no_class():
    from ..factories import TINY_VAE

    record = random_record(TINY_VAE, n_test=30)
    net = NumpyVAE(record.config, record.weights)
    strips = decode_strips(net, dims_basis(record.test_encoding), np.zeros(2, np.float32), None)
    assert strips.shape == (2, 7, 28, 28)


def test_one_image_encoding():
    enc = record_module.TestEncoding(
        mu=np.zeros((1, 2), np.float32),
        logvar=np.zeros((1, 2), np.float32),
        labels=np.zeros(1, np.uint8),
    )
    assert pca_basis(enc).kl == pytest.approx([0.0, 0.0])
