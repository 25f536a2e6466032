"""A known data set's training images, for the explorer's training-points layer."""

from __future__ import annotations

import os

import numpy as np

from .datasets import load_dataset


def load_training_split(
    dataset: str, data_dir: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The training images (N, H, W, C) uint8 and labels of a known data set (no download)."""
    data = load_dataset(dataset, data_dir)
    images = np.asarray(data.train_images)
    if images.ndim == 3:
        images = images[..., None]
    return images, np.asarray(data.train_labels, np.uint8)
