"""A `LatentModel` over foreign networks: ONNX graphs or live Python callables, one class for both.

A backend supplies a runner per network (named float32 inputs in, named outputs out) and the
specs that say what the names mean (`specs`); this class does the rest: layouts to and from the
explorer's (N, H, W, C), the pixel scale, one-hot conditions, probabilities. So ONNX
(`onnx_model`) and live PyTorch (`live`) models behave the same in every view and command.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from latentlab.core.explore.latent_model import ImageSpec
from latentlab.core.imported.layout import (
    ImageLayout,
    condition_vectors,
    softmax_rows,
    to_unit_range,
)
from latentlab.core.imported.specs import ClassifierSpec, DecoderSpec, EncoderSpec

Runner = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
LOGVAR_LIMIT = 30.0  # exp(30) is already an absurd variance; keeps exp() finite in float32


class NetworkModel:
    """Decoder (and optional encoder and classifier) runners as a `LatentModel`."""

    def __init__(
        self,
        decoder: Runner,
        decoder_spec: DecoderSpec,
        *,
        encoder: Runner | None = None,
        encoder_spec: EncoderSpec | None = None,
        classifier: Runner | None = None,
        classifier_spec: ClassifierSpec | None = None,
        class_names: tuple[str, ...] = (),
    ) -> None:
        self._decoder, self.decoder_spec = decoder, decoder_spec
        self._encoder, self.encoder_spec = encoder, encoder_spec
        self._classifier, self.classifier_spec = classifier, classifier_spec
        self._layout = decoder_spec.image_layout
        self._class_names = class_names

    # --- the LatentModel members --------------------------------------------------------------
    @property
    def latent_dim(self) -> int:
        return self.decoder_spec.latent_dim

    @property
    def image_spec(self) -> ImageSpec:
        return self._layout.spec

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, C), for scripts (`latentlab.load`)."""
        return self._layout.spec.shape

    @property
    def class_names(self) -> tuple[str, ...]:
        return self._class_names

    @property
    def conditional(self) -> bool:
        return self.decoder_spec.condition_input is not None

    @property
    def can_encode(self) -> bool:
        return self._encoder is not None

    @property
    def can_classify(self) -> bool:
        return self._classifier is not None

    @property
    def has_variance(self) -> bool:
        """Whether the encoder gives a variance (False: a plain autoencoder, unit variance shown)."""
        spec = self.encoder_spec
        return spec is not None and (spec.split or spec.logvar is not None)

    def condition(self, classes: int | np.ndarray) -> np.ndarray:
        return condition_vectors(classes, max(self.decoder_spec.classes, len(self._class_names), 1))

    def decode(self, z: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        spec = self.decoder_spec
        feeds = {spec.z_input: np.asarray(z, dtype=np.float32).reshape(-1, spec.latent_dim)}
        if spec.condition_input is not None:
            if condition is None:
                raise ValueError("this decoder is conditional: it needs a class")
            feeds[spec.condition_input] = np.asarray(condition, dtype=np.float32).reshape(
                -1, spec.classes
            )
        raw = self._decoder(feeds)[spec.output]
        images = to_unit_range(self._layout.to_explorer(np.asarray(raw)), spec.output_range)
        return np.ascontiguousarray(images, dtype=np.float32)

    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        spec = self.encoder_spec
        if self._encoder is None or spec is None:
            raise ValueError("this model has no encoder")
        out = self._encoder({spec.input: self._input(images, spec.layout)})
        d = self.latent_dim
        if spec.split:
            both = np.asarray(out[spec.mean], dtype=np.float32).reshape(len(images), 2 * d)
            mean, logvar = both[:, :d], both[:, d:]
        else:
            mean = np.asarray(out[spec.mean], dtype=np.float32).reshape(len(images), d)
            logvar = (
                np.zeros_like(mean)
                if spec.logvar is None
                else np.asarray(out[spec.logvar], dtype=np.float32).reshape(len(images), d)
            )
        variance = np.exp(np.clip(logvar, -LOGVAR_LIMIT, LOGVAR_LIMIT))
        return np.ascontiguousarray(mean), variance.astype(np.float32)

    def classify(self, images: np.ndarray) -> np.ndarray:
        spec = self.classifier_spec
        if self._classifier is None or spec is None:
            raise ValueError("this model has no classifier")
        out = self._classifier({spec.input: self._input(images, spec.layout)})[spec.output]
        return softmax_rows(np.asarray(out).reshape(len(images), spec.classes))

    # --- internals ----------------------------------------------------------------------------
    def _input(self, images: np.ndarray, layout: str) -> np.ndarray:
        images = np.asarray(images, dtype=np.float32)
        if images.shape[1:] != self.image_spec.shape:
            h, w, c = self.image_spec.shape
            raise ValueError(f"images are {images.shape[1:]}, the model reads ({h}, {w}, {c})")
        return ImageLayout(layout, self.image_spec).from_explorer(images)
