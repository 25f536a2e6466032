"""core.explore.evaluation: reconstruction error and latent statistics, for any LatentModel."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core.explore.evaluation import (
    ACTIVE_KL,
    latent_statistics,
    reconstruction_error,
)
from latentlab.core.explore.latent_model import ImageSpec
from latentlab.core.explore.points import EncodedPoints

from .test_latent_model_seam import RgbModel


class HalfModel:
    """Encodes anything to zeros and decodes every latent to a flat 0.5 RGB image."""

    latent_dim = 2
    image_spec = ImageSpec(3, 4, 3)
    class_names = ()
    conditional = False
    can_encode = True
    can_classify = False

    def __init__(self) -> None:
        self.batches: list[int] = []

    def encode(self, images):
        self.batches.append(len(images))
        return np.zeros((len(images), 2), np.float32), np.ones((len(images), 2), np.float32)

    def decode(self, z, condition=None):
        assert condition is None
        return np.full((len(z), 3, 4, 3), 0.5, np.float32)


class ClassShadeModel(HalfModel):
    """A conditional model without a classifier: class k decodes to a flat k / 2 image."""

    class_names = ("black", "grey", "white")
    conditional = True

    def condition(self, classes):
        return np.eye(3, dtype=np.float32)[classes]

    def decode(self, z, condition=None):
        shade = np.asarray(condition) @ np.array([0.0, 0.5, 1.0], np.float32)
        return np.broadcast_to(shade[:, None, None, None], (len(z), 3, 4, 3)).astype(np.float32)


@pytest.fixture
def images():
    return np.random.default_rng(3).integers(0, 256, (23, 3, 4, 3), dtype=np.uint8)


@pytest.mark.parametrize("chunk", [1, 5, 256])
def test_reconstruction_error_is_the_mean_error_per_value_in_any_chunking(images, chunk):
    model = HalfModel()
    result = reconstruction_error(model, images, chunk=chunk)
    x = images / 255.0
    assert result.count == 23
    assert result.mse == pytest.approx(np.mean((x - 0.5) ** 2), rel=1e-6)
    assert result.mae == pytest.approx(np.mean(np.abs(x - 0.5)), rel=1e-6)
    assert max(model.batches) == min(chunk, 23)  # memory bounded by the chunk


def test_chunks_streamed_from_a_source_give_the_same_figures(images):
    whole = reconstruction_error(HalfModel(), images)
    streamed = reconstruction_error(HalfModel(), iter([images[:10], images[10:]]))
    assert streamed.count == whole.count
    assert (streamed.mse, streamed.mae) == pytest.approx((whole.mse, whole.mae), rel=1e-12)
    as_float = reconstruction_error(HalfModel(), images.astype(np.float32) / 255)
    assert as_float.mse == pytest.approx(whole.mse, rel=1e-5)


def test_a_conditional_model_without_classifier_decodes_with_the_labels(images):
    labels = np.arange(23) % 3
    result = reconstruction_error(ClassShadeModel(), images, labels, chunk=4)
    target = (labels / 2.0)[:, None, None, None]
    assert result.mse == pytest.approx(np.mean((images / 255.0 - target) ** 2), rel=1e-6)
    with pytest.raises(ValueError, match="needs the images' labels"):
        reconstruction_error(ClassShadeModel(), images)


def test_a_model_with_a_classifier_decodes_with_its_reading():
    model = RgbModel()
    x = np.random.default_rng(0).random((6, 5, 7, 3)).astype(np.float32)
    mu, _ = model.encode(x)
    expected = np.mean((model.decode(mu, model.classify(x)) - x) ** 2)
    assert reconstruction_error(model, x, chunk=4).mse == pytest.approx(expected, rel=1e-5)


def test_reconstruction_refuses_the_wrong_image_size_and_no_encoder(images):
    with pytest.raises(ValueError, match=r"the images are \(4, 3, 3\), the model's \(3, 4, 3\)"):
        reconstruction_error(HalfModel(), images.transpose(0, 2, 1, 3))
    model = HalfModel()
    model.can_encode = False
    with pytest.raises(ValueError, match="no encoder"):
        reconstruction_error(model, images)
    with pytest.raises(ValueError, match="no images"):
        reconstruction_error(HalfModel(), images[:0])


def _points(n=50, d=4, seed=0):
    rng = np.random.default_rng(seed)
    mu = rng.standard_normal((n, d)).astype(np.float32) * np.array([2.0, 0.5, 0.0, 1.0], np.float32)
    logvar = (rng.standard_normal((n, d)) * 0.3 - 1).astype(np.float32)
    mu[:, 2], logvar[:, 2] = 0.0, 0.0  # a collapsed dimension: q(z_2|x) = N(0, 1) for every x
    return EncodedPoints(mu=mu, logvar=logvar, labels=np.zeros(n, np.uint8))


@pytest.mark.parametrize("chunk", [1, 7, 256])
def test_latent_statistics_match_the_formulas_over_all_points(chunk):
    points = _points()
    stats = latent_statistics(points, chunk=chunk)
    mu, logvar = points.mu.astype(np.float64), points.logvar.astype(np.float64)
    kl = (0.5 * (mu**2 + np.exp(logvar) - 1 - logvar)).mean(axis=0)
    np.testing.assert_allclose(stats.kl, kl, rtol=1e-9)
    np.testing.assert_allclose(stats.mean, mu.mean(axis=0), rtol=1e-9, atol=1e-12)
    # law of total variance for the mixture of Gaussians
    np.testing.assert_allclose(stats.variance, mu.var(axis=0) + np.exp(logvar).mean(axis=0))
    assert stats.kl[2] == 0 and stats.active.tolist() == [True, True, False, True]
    assert stats.active_units == 3 and stats.count == 50
    assert stats.total_kl == pytest.approx(kl.sum())


def test_kl_by_hand_and_the_active_threshold():
    # mu = 1, var = 1: KL = 0.5 * (1 + 1 - 1 - 0) = 0.5; mu = 0.1, var = 1: 0.005 < 0.01
    points = EncodedPoints(
        mu=np.array([[1.0, 0.1]], np.float32),
        logvar=np.zeros((1, 2), np.float32),
        labels=np.zeros(1, np.uint8),
    )
    stats = latent_statistics(points)
    np.testing.assert_allclose(stats.kl, [0.5, 0.005], rtol=1e-6)
    assert stats.kl[1] < ACTIVE_KL < stats.kl[0] and stats.active_units == 1


def test_the_aggregate_variance_is_that_of_samples_from_the_posteriors():
    points = _points(n=40, seed=5)
    stats = latent_statistics(points)
    rng = np.random.default_rng(1)
    draws = points.mu + np.exp(0.5 * points.logvar) * rng.standard_normal((2000, *points.mu.shape))
    np.testing.assert_allclose(draws.reshape(-1, 4).var(axis=0), stats.variance, rtol=0.03)
    with pytest.raises(ValueError, match="no encoded points"):
        latent_statistics(EncodedPoints(points.mu[:0], points.logvar[:0], points.labels[:0]))
