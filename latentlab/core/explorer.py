"""Headless explorer state: the current latent point and class, decoding, and the scatter's axes.

The GUI only shows this state and forwards user actions to it, so everything a user can do is
testable without a display. Decoding runs in numpy (no torch import): a slider move costs a few
tens of microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentlab.core.vae.numpy_net import NumpyVAE
from latentlab.core.vae.record import ModelRecord

SLIDER_RANGE = 3.5  # the sliders span [-3.5, 3.5]: 99.95% of the N(0, 1) prior


@dataclass(frozen=True)
class Axes:
    """How the scatter's two axes map onto latent space: p = components @ (z - mean)."""

    kind: str  # "pca" or "dims"
    components: np.ndarray  # (2, latent_dim), orthonormal rows
    mean: np.ndarray  # (latent_dim,)
    labels: tuple[str, str]  # axis titles

    def project(self, z: np.ndarray) -> np.ndarray:
        return (np.asarray(z, dtype=np.float32) - self.mean) @ self.components.T


def pca_axes(mu: np.ndarray) -> Axes:
    """First two principal components of the test latent means."""
    mean = mu.mean(axis=0).astype(np.float32)
    centred = (mu - mean).astype(np.float64)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    total = float((s**2).sum()) or 1.0
    share = (s**2) / total
    components = vt[:2].astype(np.float32)
    # Fix the arbitrary sign of each component so the view is stable from run to run.
    for row in components:
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1
    labels = (f"PC1 ({share[0]:.0%} of variance)", f"PC2 ({share[1]:.0%} of variance)")
    return Axes("pca", components, mean, labels)


def dims_axes(latent_dim: int, i: int, j: int) -> Axes:
    """Two raw latent dimensions as the axes."""
    if not (0 <= i < latent_dim and 0 <= j < latent_dim) or i == j:
        raise ValueError(f"need two different dimensions below {latent_dim}, got {i} and {j}")
    components = np.zeros((2, latent_dim), dtype=np.float32)
    components[0, i] = components[1, j] = 1.0
    return Axes("dims", components, np.zeros(latent_dim, np.float32), (f"z{i + 1}", f"z{j + 1}"))


class Explorer:
    """The state behind the explorer window, for one model."""

    def __init__(self, record: ModelRecord) -> None:
        if record.test_encoding is None:
            raise ValueError("the model has no encoded test set to explore")
        self.record = record
        self.config = record.config
        self.net = NumpyVAE(record.config, record.weights)
        self.encoding = record.test_encoding
        self.predicted = self.encoding.predicted
        self.z = np.zeros(self.config.latent_dim, dtype=np.float32)
        self.digit = 0
        self._pca: Axes | None = None
        self.axes = self.default_axes()
        self._points = self.axes.project(self.encoding.mu)

    # --- model facts -----------------------------------------------------------------
    @property
    def conditional(self) -> bool:
        return self.config.conditional

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.record.class_names

    # --- state changes ------------------------------------------------------------------
    def set_latent(self, index: int, value: float) -> None:
        self.z[index] = value

    def set_z(self, z: np.ndarray) -> None:
        z = np.asarray(z, dtype=np.float32).reshape(-1)
        if z.shape != self.z.shape:
            raise ValueError(f"expected {self.latent_dim} latent values, got {z.size}")
        self.z = z.copy()

    def set_digit(self, digit: int) -> None:
        if not 0 <= digit < self.config.num_classes:
            raise ValueError(f"class must be in 0..{self.config.num_classes - 1}")
        self.digit = int(digit)

    def reset(self) -> None:
        self.z = np.zeros_like(self.z)

    def randomize(self, rng: np.random.Generator) -> None:
        """A style drawn from the prior N(0, I), kept inside the sliders' range."""
        z = rng.standard_normal(self.latent_dim).astype(np.float32)
        self.z = np.clip(z, -SLIDER_RANGE, SLIDER_RANGE)

    def select(self, index: int) -> None:
        """Move to test point `index`: its latent mean, and its predicted class."""
        self.z = self.encoding.mu[index].astype(np.float32).copy()
        if self.conditional:
            self.digit = int(self.predicted[index])

    # --- what is shown --------------------------------------------------------------------
    def class_input(self) -> np.ndarray | None:
        return self.net.one_hot(self.digit) if self.conditional else None

    def decode(self) -> np.ndarray:
        """The image of the current state: float32 (28, 28) in [0, 1], C-contiguous."""
        return self.net.decode(self.z, self.class_input()).reshape(28, 28)

    def reconstruction(self, index: int) -> np.ndarray:
        """The model's reconstruction of test image `index`: its mean decoded with its class probs."""
        probs = self.encoding.probs[index] if self.encoding.probs is not None else None
        return self.net.decode(self.encoding.mu[index], probs).reshape(28, 28)

    def classify(self, image: np.ndarray) -> tuple[int, float] | None:
        """What the model's own classifier reads in an image: (class, probability)."""
        if not self.conditional:
            return None
        probs = self.net.classify(np.asarray(image, dtype=np.float32).reshape(-1))
        best = int(np.argmax(probs))
        return best, float(probs[best])

    # --- scatter axes -------------------------------------------------------------------
    def default_axes(self) -> Axes:
        if self.latent_dim == 1:
            raise ValueError("a 1-D latent space cannot be shown on a plane")
        if self.latent_dim == 2:
            return dims_axes(2, 0, 1)
        return self.pca()

    def pca(self) -> Axes:
        if self._pca is None:
            self._pca = pca_axes(self.encoding.mu)
        return self._pca

    def set_axes(self, axes: Axes) -> None:
        self.axes = axes
        self._points = axes.project(self.encoding.mu)

    def points(self) -> np.ndarray:
        """(N, 2) float32 positions of the test points on the current axes."""
        return self._points

    def current_point(self) -> np.ndarray:
        return self.axes.project(self.z)

    def move_to_point(self, x: float, y: float) -> None:
        """Move z so that it projects to (x, y), changing it only along the two axis directions."""
        delta = np.array([x, y], dtype=np.float32) - self.current_point()
        z = self.z + delta @ self.axes.components
        self.z = np.clip(z, -SLIDER_RANGE, SLIDER_RANGE).astype(np.float32)

    def nearest(self, x: float, y: float) -> int:
        """Index of the test point nearest to (x, y) on the current axes."""
        d = self._points - np.array([x, y], dtype=np.float32)
        return int(np.argmin(np.einsum("ij,ij->i", d, d)))
