"""One shape for every image collection the explorer reads: images (N, H, W, C) uint8, labels,
class names and numeric attributes per image.

MNIST-style IDX splits, and the image folders and arrays users bring, all become an `ImageSet`,
so what consumes images (the image pane, neighbours, encoding a data set) never asks where they
came from, how big they are or how many channels they have.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class ImageDataset(Protocol):
    """What the explorer needs of a data set."""

    name: str
    class_names: tuple[str, ...]  # empty for unlabelled images

    @property
    def images(self) -> np.ndarray:
        """(N, H, W, C) uint8, C 1 (grey) or 3 (RGB)."""
        ...

    @property
    def labels(self) -> np.ndarray | None:
        """(N,) class indices into `class_names`, or None for unlabelled images."""
        ...

    @property
    def attributes(self) -> Mapping[str, np.ndarray]:
        """Per-image numbers by name, each (N,) float (stroke thickness, a user's column…)."""
        ...


@dataclass(frozen=True)
class ImageSet:
    """An `ImageDataset` held in memory, validated on construction."""

    name: str
    images: np.ndarray
    labels: np.ndarray | None = None
    class_names: tuple[str, ...] = ()
    attributes: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        images = np.asarray(self.images)
        if images.ndim == 3:  # grey images without a channel axis
            images = images[..., None]
        if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.dtype != np.uint8:
            raise ValueError(
                f"{self.name}: images must be uint8 (N, H, W[, 1 or 3]), "
                f"got {images.dtype} {images.shape}"
            )
        object.__setattr__(self, "images", images)
        n = len(images)
        if self.labels is not None:
            labels = np.asarray(self.labels)
            if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
                raise ValueError(f"{self.name}: need {n} integer labels, got {labels.shape}")
            if (
                n
                and self.class_names
                and (labels.min() < 0 or labels.max() >= len(self.class_names))
            ):
                raise ValueError(f"{self.name}: labels must be below {len(self.class_names)}")
        for key, values in self.attributes.items():
            if np.shape(values) != (n,):
                raise ValueError(f"{self.name}: attribute {key!r} needs {n} values")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, C) of every image."""
        return tuple(int(s) for s in self.images.shape[1:])  # type: ignore[return-value]

    def image(self, index: int) -> np.ndarray:
        """Image `index` as float32 (H, W, C) in [0, 1], as models read and views show it."""
        return self.images[index].astype(np.float32) / 255.0


def as_image_set(data: object, name: str = "images", class_names: tuple[str, ...] = ()) -> ImageSet:
    """An `ImageSet` from one, or from an (images, labels) pair of arrays."""
    if isinstance(data, ImageSet):
        return data
    images, labels = data  # type: ignore[misc]
    return ImageSet(
        name, np.asarray(images), None if labels is None else np.asarray(labels), class_names
    )
