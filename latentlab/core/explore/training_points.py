"""The model's training images, encoded: a second layer of points beside the stored test set.

A model file keeps only its encoded test set (10,000 points for MNIST); the training set
(60,000) is read by the caller's `load` (the GUI: `core.data.train_split` from the data folder)
and encoded on demand, in chunks, as a job (each yield a
progress report and a cancel point). The result is kept apart from the document's
`EncodedPoints`: every feature that indexes the test points (selection, neighbours, maps,
colourings) keeps its meaning, and the training points are only drawn and clicked.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np

from latentlab.core.jobs import Cancel, Progress, check_cancelled

from .latent_model import LatentModel

CHUNK = 2000  # images per encoder call: a progress step, and a cancel point


@dataclass(frozen=True)
class TrainingPoints:
    """Means of q(z|x) of a data set's training images, and their labels."""

    dataset: str
    mu: np.ndarray  # (N, d) float32
    labels: np.ndarray  # (N,) uint8
    images: np.ndarray | None = None  # (N, H, W, C) uint8: what a hover shows (47 MB for MNIST)

    def __len__(self) -> int:
        return len(self.labels)


def encode_training_job(
    model: LatentModel,
    dataset: str,
    load: Callable[[], tuple[np.ndarray, np.ndarray]],
    cancel: Cancel = None,
    chunk: int = CHUNK,
) -> Generator[Progress, None, TrainingPoints]:
    """Read the training images with `load`, then encode them chunk by chunk."""
    yield Progress(0, 0, "reading the training images")
    images, labels = load()
    n = len(images)
    if n != len(labels):
        raise ValueError(f"{dataset}: {n} training images but {len(labels)} labels")
    spec = model.image_spec.shape
    if tuple(images.shape[1:]) != tuple(spec):
        raise ValueError(
            f"{dataset}: training images are {tuple(images.shape[1:])}, the model reads {spec}"
        )
    mu = np.empty((n, model.latent_dim), np.float32)
    for start in range(0, n, chunk):
        check_cancelled(cancel)
        stop = min(n, start + chunk)
        x = np.multiply(images[start:stop], np.float32(1 / 255), dtype=np.float32)
        mean, _variance = model.encode(x)
        mu[start:stop] = mean
        yield Progress(stop, n, "encoding the training images")
    if not np.isfinite(mu).all():
        raise ValueError(f"{dataset}: the encoder gave NaN or infinite values")
    return TrainingPoints(dataset, mu, labels, images)
