"""What can be measured of any model without its likelihood: reconstruction and latent statistics.

A latentlab VAE reports its ELBO (`core.vae.training`); an imported decoder has no likelihood
to evaluate, but every model with an encoder reconstructs, and every set of encoded points says
how the latent space is used. Both run in chunks, so memory stays bounded by the chunk size
whatever the number of images or points.

The KL per dimension is that of the diagonal Gaussian q(z|x) to the prior N(0, I), averaged over
the points: KL_j = 0.5 (mu_j^2 + var_j - 1 - log var_j). A dimension is *active* when its mean KL
is above `ACTIVE_KL` nats (it carries information about the image; a collapsed dimension has
q(z_j|x) = N(0, 1) for every x and KL 0). The aggregate posterior q(z) = (1/N) sum_n q(z|x_n) has
mean E[mu] and, by the law of total variance, variance Var[mu] + E[var] per dimension.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from .latent_model import LatentModel
from .points import EncodedPoints

ACTIVE_KL = 0.01  # nats: a dimension whose mean KL is above this carries information
CHUNK = 256  # images (or points) per step


@dataclass(frozen=True)
class Reconstruction:
    """Reconstruction error of `count` images, per value (pixel and channel), images in [0, 1]."""

    mse: float  # mean squared error
    mae: float  # mean absolute error
    count: int


@dataclass(frozen=True)
class LatentStatistics:
    """How `count` encoded points use the latent space, per dimension."""

    kl: np.ndarray  # (d,) mean KL(q(z_j|x) || N(0, 1)) in nats
    mean: np.ndarray  # (d,) aggregate posterior mean
    variance: np.ndarray  # (d,) aggregate posterior variance
    count: int

    @property
    def total_kl(self) -> float:
        return float(self.kl.sum())

    @property
    def active(self) -> np.ndarray:
        """(d,) bool: the dimensions whose mean KL is above ACTIVE_KL."""
        return self.kl > ACTIVE_KL

    @property
    def active_units(self) -> int:
        return int(self.active.sum())


def as_float_images(images: np.ndarray) -> np.ndarray:
    """uint8 (0..255) or float images (N, H, W, C) as float32 in [0, 1]."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return np.clip(images.astype(np.float32), 0.0, 1.0)


def reconstruction_error(
    model: LatentModel,
    images: Iterable[np.ndarray] | np.ndarray,
    labels: Iterable[np.ndarray] | np.ndarray | None = None,
    chunk: int = CHUNK,
) -> Reconstruction:
    """Encode each image, decode its mean, and compare with the image.

    `images` is an array (N, H, W, C), uint8 or float in [0, 1], or an iterable of such chunks
    (a data source streaming a large folder). A conditional model decodes with its classifier's
    probabilities where it has one (as the explorer shows a reconstruction), else with the
    one-hot of `labels`.
    """
    if not model.can_encode:
        raise ValueError("the model has no encoder, so it cannot reconstruct images")
    if model.conditional and not model.can_classify and labels is None:
        raise ValueError("a conditional model without a classifier needs the images' labels")
    shape = model.image_spec.shape
    squared = absolute = 0.0
    values = count = 0
    for x, y in _paired_chunks(images, labels, chunk):
        x = as_float_images(x)
        if x.shape[1:] != shape:
            raise ValueError(f"the images are {x.shape[1:]}, the model's {shape}")
        mu, _ = model.encode(x)
        condition = None
        if model.conditional:
            condition = model.classify(x) if model.can_classify else model.condition(y)
        error = model.decode(mu, condition).astype(np.float64) - x
        squared += float(np.square(error).sum())
        absolute += float(np.abs(error).sum())
        values += error.size
        count += len(x)
    if count == 0:
        raise ValueError("there are no images to reconstruct")
    return Reconstruction(mse=squared / values, mae=absolute / values, count=count)


def latent_statistics(points: EncodedPoints, chunk: int = CHUNK) -> LatentStatistics:
    """Mean KL per dimension and the aggregate posterior's moments, over all points."""
    n = len(points)
    if n == 0:
        raise ValueError("there are no encoded points")
    d = points.latent_dim
    kl_sum = np.zeros(d)
    mean = np.zeros(d)  # running mean of mu and sum of squared deviations (Chan et al.)
    m2 = np.zeros(d)
    var_sum = np.zeros(d)
    seen = 0
    for start in range(0, n, chunk):
        mu = points.mu[start : start + chunk].astype(np.float64)
        logvar = points.logvar[start : start + chunk].astype(np.float64)
        var = np.exp(logvar)
        kl_sum += (0.5 * (mu**2 + var - 1.0 - logvar)).sum(axis=0)
        var_sum += var.sum(axis=0)
        k = len(mu)
        chunk_mean = mu.mean(axis=0)
        delta = chunk_mean - mean
        total = seen + k
        m2 += ((mu - chunk_mean) ** 2).sum(axis=0) + delta**2 * seen * k / total
        mean += delta * k / total
        seen = total
    return LatentStatistics(kl=kl_sum / n, mean=mean, variance=m2 / n + var_sum / n, count=n)


def _paired_chunks(
    images: Iterable[np.ndarray] | np.ndarray,
    labels: Iterable[np.ndarray] | np.ndarray | None,
    chunk: int,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """(images, labels) chunks of an array pair, or of two iterables of chunks side by side."""
    if isinstance(images, np.ndarray):
        for start in range(0, len(images), chunk):
            y = None if labels is None else np.asarray(labels)[start : start + chunk]
            yield images[start : start + chunk], y
        return
    label_chunks = iter(labels) if labels is not None else None
    for x in images:
        yield np.asarray(x), None if label_chunks is None else np.asarray(next(label_chunks))
