"""What the model makes of one image: q(z|x), the classifier's reading, the reconstruction.

Used by the draw panel on every stroke, so it must be fast (a latentlab model encodes, classifies
and decodes one image in numpy in well under a millisecond). `ellipse` projects q(z|x) onto the scatter's
two axes so the panel can show where, and how vaguely, a drawing lands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .latent_model import LatentModel
from .projection import LinearBasis


@dataclass(frozen=True)
class Reading:
    """The model's view of one image (all float32)."""

    image: np.ndarray  # (H, W, C) the image that was read, in [0, 1]
    mu: np.ndarray  # (latent_dim,) mean of q(z|x)
    var: np.ndarray  # (latent_dim,) variance of q(z|x) (diagonal)
    probs: np.ndarray | None  # (num_classes,) classifier output; None for a plain VAE
    reconstruction: np.ndarray  # (H, W, C) decoded mean, with the classifier's probs as class

    @property
    def predicted(self) -> int | None:
        return None if self.probs is None else int(np.argmax(self.probs))

    @property
    def confidence(self) -> float | None:
        return None if self.probs is None else float(np.max(self.probs))


def read_image(model: LatentModel, image: np.ndarray) -> Reading:
    """Encode, classify and reconstruct one image in [0, 1] of the model's size."""
    if not model.can_encode:
        raise ValueError("this model has no encoder to read an image with")
    image = np.asarray(image, dtype=np.float32).reshape(model.image_spec.shape)
    batch = image[None]
    mu, var = model.encode(batch)
    probs = model.classify(batch)[0] if model.can_classify else None
    condition = None
    if model.conditional:
        condition = probs[None, :] if probs is not None else model.condition(0)[None, :]
    recon = model.decode(mu, condition)[0]
    return Reading(image, mu[0], var[0], probs, recon)


def projected_covariance(var: np.ndarray, axes: LinearBasis) -> np.ndarray:
    """The 2x2 covariance of q(z|x) = N(mu, diag(var)) seen on `axes`: P diag(var) P^T."""
    p = np.asarray(axes.components, dtype=np.float64)
    return (p * np.asarray(var, dtype=np.float64)) @ p.T


def ellipse(
    mu: np.ndarray, var: np.ndarray, axes: LinearBasis, n_sigma: float = 1.0, points: int = 72
) -> np.ndarray:
    """(points + 1, 2) closed outline of the `n_sigma` contour of q(z|x) on `axes`.

    For the raw-dimension axes this is the axis-aligned ellipse with half-widths n * sqrt(var_i);
    for PCA axes the rotated one of the projected covariance.
    """
    centre = axes.project(mu).astype(np.float64)
    cov = projected_covariance(var, axes)
    values, vectors = np.linalg.eigh(cov)
    radii = n_sigma * np.sqrt(np.clip(values, 0.0, None))
    t = np.linspace(0.0, 2 * np.pi, points + 1)
    circle = np.stack([np.cos(t), np.sin(t)], axis=1)
    return (centre + (circle * radii) @ vectors.T).astype(np.float32)
