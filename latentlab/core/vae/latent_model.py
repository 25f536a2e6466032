"""latentlab's own VAEs as a `LatentModel`: the numpy networks behind the explorer's one seam.

The explorer, the CLI's pictures and every dock see a model file through this adapter only; it
is the one place that knows these models read and write 28 x 28 grey images flattened to 784.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentlab.core.explore.document import Document
from latentlab.core.explore.latent_model import ImageSpec
from latentlab.core.vae.numpy_net import NumpyVAE
from latentlab.core.vae.record import ModelRecord

IMAGE_SPEC = ImageSpec(28, 28, 1)  # every latentlab VAE is an MLP over 28 x 28 grey images
SOURCES = ("auto", "mixture", "prior")  # where `sample_latents` draws from; auto: mixture if fitted


class VaeModel:
    """A `LatentModel` over a `ModelRecord`'s weights, decoding in numpy (no torch)."""

    def __init__(self, record: ModelRecord) -> None:
        if record.config.input_dim != IMAGE_SPEC.values:
            raise ValueError(f"a latentlab VAE reads {IMAGE_SPEC.values} pixels")
        self.record = record
        self.net = NumpyVAE(record.config, record.weights)
        self._classes = np.eye(record.config.num_classes, dtype=np.float32)
        self.sample_source = "auto"

    @property
    def sample_source(self) -> str:
        """ "mixture" (the class density stored in the file) or "prior" (N(0, I))."""
        return self._source

    @sample_source.setter
    def sample_source(self, source: str) -> None:
        if source not in SOURCES:
            raise ValueError(f"sample source must be one of {', '.join(SOURCES)}, got {source!r}")
        if source == "mixture" and self.record.density is None:
            raise ValueError("this model file has no class density; run latentlab fit-density")
        has = self.record.density is not None
        self._source = ("mixture" if has else "prior") if source == "auto" else source

    @property
    def sampling_description(self) -> str:
        """What random styles are drawn from, in words the app and the CLI show."""
        density = self.record.density
        if self._source == "mixture" and density is not None:
            per = "per class " if self.conditional else ""
            return f"the model's {per}Gaussian mixture of its encoded training set"
        return "the prior N(0, I)"

    def sample_latents(
        self, count: int, class_index: int | None, rng: np.random.Generator
    ) -> np.ndarray:
        """float32 (count, d) styles for class `class_index` (None: any class, or a plain VAE)."""
        density = self.record.density
        if self._source == "mixture" and density is not None:
            return density.sample(count, class_index if self.conditional else 0, rng)
        return rng.standard_normal((count, self.latent_dim)).astype(np.float32)

    @property
    def latent_dim(self) -> int:
        return self.record.config.latent_dim

    @property
    def image_spec(self) -> ImageSpec:
        return IMAGE_SPEC

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, C), for scripts (`latentlab.load`)."""
        return IMAGE_SPEC.shape

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.record.class_names

    @property
    def conditional(self) -> bool:
        return self.record.config.conditional

    @property
    def can_encode(self) -> bool:
        return True

    @property
    def can_classify(self) -> bool:
        return self.record.config.conditional

    def condition(self, classes: int | np.ndarray) -> np.ndarray:
        return self._classes[classes]

    def decode(self, z: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        pixels = self.net.decode(z, condition)
        return pixels.reshape(*pixels.shape[:-1], *IMAGE_SPEC.shape)

    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.net.encode(_flat(images))

    def classify(self, images: np.ndarray) -> np.ndarray:
        if not self.can_classify:
            raise ValueError("a plain VAE has no classifier")
        return self.net.classify(_flat(images))


def _flat(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    return images.reshape(-1, IMAGE_SPEC.values)


def vae_document(record: ModelRecord, path: Path | None = None, unsaved: bool = False) -> Document:
    """A model record opened for exploring (its stored test encoding as the points)."""
    points = record.test_encoding
    if points is None or len(points) == 0:  # decoder-only exploring is not wired to the GUI yet
        raise ValueError("the model has no encoded test set to explore")
    return Document(VaeModel(record), points, record, path, unsaved, record.config.dataset)
