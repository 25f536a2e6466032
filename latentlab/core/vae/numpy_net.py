"""The model's networks in numpy, for exploring without torch.

A single latent vector decodes in microseconds here (faster than torch's per-call overhead), and
numpy imports in a fraction of torch's time, so the explorer starts fast and stays fluid.
"""

from __future__ import annotations

import numpy as np

from latentlab.core.vae.config import Config
from latentlab.core.vae.layout import (
    KERNEL,
    PADDING,
    STRIDE,
    conv_names,
    conv_side,
    layer_names,
    mlp_dims,
)

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


def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """torch's Conv2d(kernel 4, stride 2, padding 1) by im2col: x (N, C, H, W), w (O, C, 4, 4)."""
    n, c = x.shape[:2]
    xp = np.pad(x, ((0, 0), (0, 0), (PADDING, PADDING), (PADDING, PADDING)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (KERNEL, KERNEL), axis=(2, 3))
    windows = windows[:, :, ::STRIDE, ::STRIDE]  # (N, C, H/2, W/2, 4, 4)
    ho, wo = windows.shape[2:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * KERNEL * KERNEL)
    out = cols @ w.reshape(len(w), -1).T + b  # (N * H/2 * W/2, O)
    return np.ascontiguousarray(out.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2))


class ConvTranspose:
    """torch's ConvTranspose2d(kernel 4, stride 2, padding 1): one product, then 16 strided adds.

    Each input pixel's contribution to every (output channel, kernel offset) is one matrix
    product (N H W, C) @ (C, O 4 4); the adds place the 4 x 4 offsets, two pixels apart, on a
    (2H + 2)-sided canvas whose one-pixel border (the padding) is cut off.
    """

    def __init__(self, w: np.ndarray, b: np.ndarray) -> None:
        self.c_in, self.c_out = w.shape[:2]
        self.w = np.ascontiguousarray(w.reshape(self.c_in, -1), dtype=np.float32)
        self.b = np.asarray(b, np.float32)[None, :, None, None]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n, c, h, width = x.shape
        cols = x.transpose(0, 2, 3, 1).reshape(n * h * width, c) @ self.w
        cols = cols.reshape(n, h, width, self.c_out, KERNEL, KERNEL)
        full = np.zeros((n, self.c_out, STRIDE * h + 2, STRIDE * width + 2), np.float32)
        for ki in range(KERNEL):
            for kj in range(KERNEL):
                full[:, :, ki : ki + STRIDE * h : STRIDE, kj : kj + STRIDE * width : STRIDE] += (
                    cols[..., ki, kj].transpose(0, 3, 1, 2)
                )
        out = full[:, :, PADDING:-PADDING, PADDING:-PADDING]
        out += self.b
        return out


class NumpyConvEncoder:
    """`model.ConvEncoder` in numpy: images (N, 784) -> (mean, raw variance) (N, 2d)."""

    def __init__(self, config: Config, weights: dict[str, np.ndarray]) -> None:
        self.convs = [
            (np.asarray(weights[w], np.float32), np.asarray(weights[b], np.float32))
            for w, b in conv_names(config, "convs")
        ]
        self.act = _ACTIVATIONS[config.activation]
        self.dense = NumpyMLP(
            [(weights[w], weights[b]) for w, b in layer_names(config, "encoder")],
            config.activation,
        )

    def __call__(self, x: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """`condition`: the class vector (..., K) the dense layers read after the features."""
        lead = x.shape[:-1]
        h = x.reshape(-1, 1, 28, 28)
        for w, b in self.convs:
            h = self.act(conv2d(h, w, b))
        h = h.reshape(len(h), -1)
        if condition is not None:
            h = np.concatenate([h, condition.reshape(len(h), -1).astype(np.float32)], axis=-1)
        return self.dense(h).reshape(*lead, -1)


class NumpyConvDecoder:
    """`model.ConvDecoder` in numpy: (N, d [+ K]) -> pixel logits (N, 784)."""

    def __init__(self, config: Config, weights: dict[str, np.ndarray]) -> None:
        side = conv_side(config)
        self.shape = (config.conv_channels[-1], side, side)
        self.act = _ACTIVATIONS[config.activation]
        self.dense = NumpyMLP(
            [(weights[w], weights[b]) for w, b in layer_names(config, "decoder")],
            config.activation,
        )
        self.deconvs = [
            ConvTranspose(weights[w], weights[b]) for w, b in conv_names(config, "deconvs")
        ]

    def __call__(self, z: np.ndarray) -> np.ndarray:
        lead = z.shape[:-1]
        h = self.act(self.dense(z.reshape(-1, z.shape[-1]))).reshape(-1, *self.shape)
        last = len(self.deconvs) - 1
        for i, deconv in enumerate(self.deconvs):
            h = deconv(h)
            if i < last:
                h = self.act(h)
        return h.reshape(*lead, -1)


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
        if config.architecture == "conv":
            self.nets["encoder"] = NumpyConvEncoder(config, weights)
            self.nets["decoder"] = NumpyConvDecoder(config, weights)

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of q(z|x) for images flattened to (..., 784) in [0, 1]; with
        `encoder_condition` "label" the encoder also reads the classifier's softmax of x."""
        x = np.asarray(x, dtype=np.float32)
        if self.config.encoder_condition == "label":
            probs = self.classify(x)
            if self.config.architecture == "conv":
                h = self.nets["encoder"](x, probs)
            else:
                h = self.nets["encoder"](np.concatenate([x, probs], axis=-1))
        else:
            h = self.nets["encoder"](x)
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
