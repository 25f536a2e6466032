"""What the model makes of one image: q(z|x), the classifier's reading, the reconstruction.

Used by the draw panel on every stroke, so it runs in numpy (a single 784-pixel image encodes,
classifies and decodes in well under a millisecond). `ellipse` projects q(z|x) onto the scatter's
two axes so the panel can show where, and how vaguely, a drawing lands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentlab.core.explorer import Axes
from latentlab.core.vae.numpy_net import NumpyVAE


@dataclass(frozen=True)
class Reading:
    """The model's view of one image (all float32)."""

    image: np.ndarray  # (28, 28) the image that was read, in [0, 1]
    mu: np.ndarray  # (latent_dim,) mean of q(z|x)
    var: np.ndarray  # (latent_dim,) variance of q(z|x) (diagonal)
    probs: np.ndarray | None  # (num_classes,) classifier output; None for a plain VAE
    reconstruction: np.ndarray  # (28, 28) decoded mean, with the classifier's probs if conditional

    @property
    def predicted(self) -> int | None:
        return None if self.probs is None else int(np.argmax(self.probs))

    @property
    def confidence(self) -> float | None:
        return None if self.probs is None else float(np.max(self.probs))


def read_image(net: NumpyVAE, image: np.ndarray) -> Reading:
    """Encode, classify and reconstruct a (28, 28) image in [0, 1]."""
    image = np.asarray(image, dtype=np.float32).reshape(28, 28)
    flat = image.reshape(1, -1)
    mu, var = net.encode(flat)
    probs = net.classify(flat)[0] if net.config.conditional else None
    recon = net.decode(mu, None if probs is None else probs[None, :])
    return Reading(image, mu[0], var[0], probs, recon.reshape(28, 28))


def projected_covariance(var: np.ndarray, axes: Axes) -> np.ndarray:
    """The 2x2 covariance of q(z|x) = N(mu, diag(var)) seen on `axes`: P diag(var) P^T."""
    p = np.asarray(axes.components, dtype=np.float64)
    return (p * np.asarray(var, dtype=np.float64)) @ p.T


def ellipse(
    mu: np.ndarray, var: np.ndarray, axes: Axes, n_sigma: float = 1.0, points: int = 72
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
