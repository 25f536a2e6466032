"""The encoded data set the explorer shows: one latent Gaussian per image, with labels if known.

Stored with a model (its test set) or made by encoding a user's images; the scatter, the
neighbours, the slider ranges and the KL figures all read it, without the images themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass
class EncodedPoints:
    """q(z|x) of N images, their true labels and (with a classifier) the predicted probabilities."""

    mu: np.ndarray  # (N, latent_dim) float32: means of q(z|x)
    logvar: np.ndarray  # (N, latent_dim) float32: log variances of q(z|x)
    labels: np.ndarray  # (N,) uint8: true classes (all 0 for unlabelled data)
    probs: np.ndarray | None = None  # (N, num_classes) float32: the classifier's output

    @cached_property
    def predicted(self) -> np.ndarray:
        """Predicted class per point (the true label where the model has no classifier).

        Computed once: a click asks for one point's class, and the argmax over every point
        would cost a click 0.15 ms each time.
        """
        if self.probs is None:
            return self.labels
        return self.probs.argmax(axis=1).astype(np.uint8)

    @property
    def latent_dim(self) -> int:
        return int(self.mu.shape[1])

    def __len__(self) -> int:
        return len(self.labels)


def images_match(points: EncodedPoints, labels: np.ndarray) -> bool:
    """Whether a data set's images are the ones these points encode (same count, same labels)."""
    labels = np.asarray(labels)
    return len(labels) == len(points) and bool(np.array_equal(labels, points.labels))
