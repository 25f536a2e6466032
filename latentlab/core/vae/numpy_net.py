"""The model's networks in numpy, for exploring without torch.

A single latent vector decodes in microseconds here (faster than torch's per-call overhead), and
numpy imports in a fraction of torch's time, so the explorer starts fast and stays fluid.
"""

from __future__ import annotations

import numpy as np

from latentlab.core.vae.config import Config
from latentlab.core.vae.layout import layer_names, mlp_dims

VARIANCE_FLOOR = 1e-5


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # tanh form: no overflow warnings for large |x|, same values as 1 / (1 + exp(-x)).
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


_ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0, out=x),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "elu": _elu,
}


class NumpyMLP:
    """Forward pass of `latentlab.core.vae.model.MLP` with weights stored (in, out), C-contiguous."""

    def __init__(self, layers: list[tuple[np.ndarray, np.ndarray]], activation: str) -> None:
        self.layers = [
            (np.ascontiguousarray(w.T, dtype=np.float32), np.asarray(b, dtype=np.float32))
            for w, b in layers
        ]
        self.act = _ACTIVATIONS[activation]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        last = len(self.layers) - 1
        for i, (w, b) in enumerate(self.layers):
            x = x @ w
            x += b
            if i < last:
                x = self.act(x)
        return x


class NumpyVAE:
    """Encode, classify and decode with a model's weights, no torch needed."""

    def __init__(self, config: Config, weights: dict[str, np.ndarray]) -> None:
        self.config = config
        self.nets = {
            net: NumpyMLP(
                [(weights[w], weights[b]) for w, b in layer_names(config, net)], config.activation
            )
            for net in mlp_dims(config)
        }

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of q(z|x) for images flattened to (..., 784) in [0, 1]."""
        h = self.nets["encoder"](np.asarray(x, dtype=np.float32))
        d = self.config.latent_dim
        return h[..., :d], VARIANCE_FLOOR + np.exp(h[..., d:])

    def classify(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities for images flattened to (..., 784)."""
        logits = self.nets["classifier"](np.asarray(x, dtype=np.float32))
        logits -= logits.max(axis=-1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=-1, keepdims=True)

    def decode(self, z: np.ndarray, class_probs: np.ndarray | None = None) -> np.ndarray:
        """Pixel means in [0, 1], shape (..., 784), for latents (..., latent_dim)."""
        z = np.asarray(z, dtype=np.float32)
        if self.config.conditional:
            if class_probs is None:
                raise ValueError("a conditional model needs class probabilities to decode")
            z = np.concatenate([z, np.asarray(class_probs, dtype=np.float32)], axis=-1)
        return _sigmoid(self.nets["decoder"](z)).astype(np.float32, copy=False)

    def one_hot(self, classes: np.ndarray | int) -> np.ndarray:
        return np.eye(self.config.num_classes, dtype=np.float32)[classes]
