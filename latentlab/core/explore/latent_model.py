"""What the explorer needs of a model: the one seam every model kind plugs into.

The exploring maths, the explorer state and the GUI talk to a `LatentModel` only, so a new model
kind (an ONNX graph, a live PyTorch module, a convolutional family) is one adapter file beside
`latentlab.core.vae`, and nothing here assumes an image size, a channel count or ten classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class ImageSpec:
    """The size of a model's images: height, width and channels (1 grey, 3 RGB)."""

    height: int
    width: int
    channels: int = 1

    def __post_init__(self) -> None:
        if min(self.height, self.width) < 1 or self.channels not in (1, 3):
            raise ValueError(f"an image is H x W with 1 or 3 channels, not {self.shape}")

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, self.channels)

    @property
    def values(self) -> int:
        """Numbers per image (pixels times channels)."""
        return self.height * self.width * self.channels


@runtime_checkable
class LatentModel(Protocol):
    """A decoder (and optionally an encoder and a classifier) over a latent space.

    Images are float32 (N, H, W, C) in [0, 1]. A conditional model decodes z together with a
    condition vector per image (a one-hot class, or a mixture of them while morphing).
    """

    @property
    def latent_dim(self) -> int: ...

    @property
    def image_spec(self) -> ImageSpec: ...

    @property
    def class_names(self) -> tuple[str, ...]:
        """One name per class; empty for a model whose data has no labels."""
        ...

    @property
    def conditional(self) -> bool:
        """Whether `decode` needs a condition (a class input)."""
        ...

    @property
    def can_encode(self) -> bool: ...

    @property
    def can_classify(self) -> bool: ...

    def condition(self, classes: int | np.ndarray) -> np.ndarray:
        """The decoder's condition for class index (or indices): (K,) or (N, K) float32."""
        ...

    def decode(self, z: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """Images (N, H, W, C) float32 in [0, 1] for latents (N, d)."""
        ...

    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of q(z|x), each (N, d), for images (N, H, W, C) in [0, 1]."""
        ...

    def classify(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (N, K) for images (N, H, W, C) in [0, 1]."""
        ...


def decode_one(model: LatentModel, z: np.ndarray, condition: np.ndarray | None) -> np.ndarray:
    """One image (H, W, C) for one latent point (the slider path: no batch bookkeeping)."""
    z = np.asarray(z, dtype=np.float32).reshape(1, -1)
    cond = None if condition is None else np.asarray(condition, np.float32).reshape(1, -1)
    return model.decode(z, cond)[0]


def decode_batch(model: LatentModel, z: np.ndarray, condition: np.ndarray | None) -> np.ndarray:
    """Images (*batch, H, W, C) for latents (*batch, d), with one condition shared by all."""
    z = np.asarray(z, dtype=np.float32)
    batch = z.shape[:-1]
    flat = z.reshape(-1, z.shape[-1])
    cond = None
    if condition is not None:
        condition = np.asarray(condition, np.float32)
        cond = np.broadcast_to(
            condition.reshape(-1, condition.shape[-1]), (len(flat), condition.shape[-1])
        )
    return model.decode(flat, cond).reshape(*batch, *model.image_spec.shape)
