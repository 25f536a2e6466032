"""KL per latent direction, the linear bases and decoded strips, checked against hand computations."""

import math

import numpy as np
import pytest

from latentlab.core.explore.dimensions import (
    STRIP_VALUES,
    active,
    decode_strips,
    kl_along,
    kl_per_dimension,
    order_by_kl,
    strip_latents,
)
from latentlab.core.explore.projection import dims_basis, pca_basis
from latentlab.core.vae import record as record_module
from latentlab.core.vae.latent_model import VaeModel
from latentlab.core.vae.numpy_net import NumpyVAE

from ..factories import TINY_CVAE, TINY_VAE, open_state, random_record


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


def test_order_by_kl_is_most_informative_first_and_stable_for_ties():
    assert order_by_kl(np.array([0.5, 2.0, 0.5, 3.0])) == [3, 1, 0, 2]
    assert list(active(np.array([0.0, 0.02, 0.005]))) == [False, True, False]


@pytest.fixture
def record():
    return random_record(TINY_CVAE, n_test=200, seed=3)


def test_dims_basis_matches_the_per_dimension_kl(record):
    basis = dims_basis(record.config.latent_dim)
    enc = record.test_encoding
    kl = kl_along(enc.mu, enc.logvar, basis.components)
    assert kl == pytest.approx(kl_per_dimension(enc.mu, enc.logvar))
    assert basis.kind == "dims" and basis.labels == ("z1", "z2", "z3") and len(basis) == 3
    z = np.array([0.3, -1.0, 2.0], np.float32)
    assert basis.project(z) == pytest.approx(z)
    assert basis.latent(z) == pytest.approx(z)
    assert order_by_kl(kl) == list(np.argsort(-kl))


def test_a_dims_plane_is_two_raw_dimensions():
    plane = dims_basis(3).plane(2, 0)
    z = np.array([0.3, -1.0, 2.0], np.float32)
    assert plane.project(z) == pytest.approx([2.0, 0.3])
    assert plane.labels == ("z3", "z1") and plane.titles == ("z3", "z1")
    for i, j in [(1, 1), (0, 3), (-1, 0)]:
        with pytest.raises(ValueError):
            dims_basis(3).plane(i, j)


def _principal_components(mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvectors of the covariance, largest first, each signed so its largest entry is > 0."""
    centred = mu.astype(np.float64) - mu.mean(axis=0)
    values, vectors = np.linalg.eigh(centred.T @ centred)
    order = np.argsort(-values)
    vectors = vectors[:, order].T
    for row in vectors:
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1
    return vectors, values[order] / values.sum()


def test_pca_basis_is_the_principal_components_and_the_scatter_shows_the_first_two(record):
    mu = record.test_encoding.mu
    basis = pca_basis(mu)
    expected, share = _principal_components(mu)
    assert basis.kind == "pca" and basis.labels == ("PC1", "PC2", "PC3")
    assert np.allclose(basis.components, expected, atol=1e-5)
    assert np.allclose(basis.components @ basis.components.T, np.eye(3), atol=1e-5)
    assert basis.mean == pytest.approx(mu.mean(axis=0), abs=1e-6)
    assert basis.plane(0, 1).titles == tuple(
        f"PC{k + 1} ({share[k]:.0%} of variance)" for k in range(2)
    )
    axes = open_state(record).projection  # the scatter's default axes: PC1 and PC2
    assert np.allclose(axes.components, basis.components[:2], atol=1e-6)
    z = np.array([0.5, -0.25, 1.0], np.float32)
    assert basis.project(z)[:2] == pytest.approx(axes.project(z), abs=1e-5)
    assert basis.latent(basis.project(z)) == pytest.approx(z, abs=1e-5)


def test_with_coord_moves_along_one_direction_only(record):
    basis = pca_basis(record.test_encoding.mu)
    z = np.array([0.5, -0.25, 1.0], np.float32)
    moved = basis.with_coord(z, 1, 2.0)
    before, after = basis.project(z), basis.project(moved)
    assert after[1] == pytest.approx(2.0, abs=1e-5)
    assert after[[0, 2]] == pytest.approx(before[[0, 2]], abs=1e-5)


def test_lift_moves_within_the_plane_onto_the_point(record):
    plane = pca_basis(record.test_encoding.mu).plane(0, 2)
    z = np.array([0.5, -0.25, 1.0], np.float32)
    lifted = plane.lift(np.array([1.0, -2.0]), z)
    assert plane.project(lifted) == pytest.approx([1.0, -2.0], abs=1e-5)
    step = lifted - z
    assert np.allclose(step, (step @ plane.components.T) @ plane.components, atol=1e-5)


def test_strips_are_the_single_decodes_batched(record):
    model = VaeModel(record)
    net = NumpyVAE(record.config, record.weights)
    basis = pca_basis(record.test_encoding.mu)
    z = np.array([0.2, 0.1, -0.4], np.float32)
    digit = model.condition(4)
    assert digit == pytest.approx(net.one_hot(4))
    strips = decode_strips(model, basis, z, digit)
    assert strips.shape == (3, len(STRIP_VALUES), 28, 28, 1)
    latents = strip_latents(basis, z)
    for d in range(3):
        for v, value in enumerate(STRIP_VALUES):
            assert basis.project(latents[d, v])[d] == pytest.approx(value, abs=1e-5)
            single = net.decode(latents[d, v], digit).reshape(28, 28, 1)
            assert np.allclose(strips[d, v], single, atol=1e-6)


def test_a_plain_model_strip_needs_no_class():
    record = random_record(TINY_VAE, n_test=30)
    strips = decode_strips(VaeModel(record), dims_basis(2), np.zeros(2, np.float32), None)
    assert strips.shape == (2, 7, 28, 28, 1)


def test_one_image_encoding():
    enc = record_module.TestEncoding(
        mu=np.zeros((1, 2), np.float32),
        logvar=np.zeros((1, 2), np.float32),
        labels=np.zeros(1, np.uint8),
    )
    basis = pca_basis(enc.mu)  # fewer points than dimensions: completed to a full basis
    assert np.allclose(basis.components @ basis.components.T, np.eye(2), atol=1e-6)
    assert kl_along(enc.mu, enc.logvar, basis.components) == pytest.approx([0.0, 0.0])
