"""The VAE modules and their loss, in torch.

The conditional model follows the design of Kingma et al., "Semi-Supervised Learning with Deep
Generative Models" (2014), M2-style: q(z|x) and a separate classifier q(y|x); the decoder
p(x|z, y) reads z beside the classifier's softmax, so at generation time a one-hot y picks the digit.
The plain VAE is Kingma & Welling, "Auto-Encoding Variational Bayes" (2013). The conv family
swaps the encoder's and decoder's first and last layers for strided (transposed) convolutions,
as in DCGAN (Radford et al. 2015); the classifier stays an MLP and still feeds the decoder.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from latentlab.core.vae.config import Config
from latentlab.core.vae.layout import (
    KERNEL,
    PADDING,
    STRIDE,
    conv_channels,
    conv_side,
    deconv_pairs,
    mlp_dims,
)

VARIANCE_FLOOR = 1e-5  # q(z|x) variance = floor + exp(encoder output): never exactly zero

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
}


class MLP(nn.Module):
    """Linear layers with one activation after each hidden layer, none after the last."""

    def __init__(self, dims: list[int], activation: str) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(dims))
        self.act = _ACTIVATIONS[activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < last:
                x = self.act(x)
        return x


class ConvEncoder(nn.Module):
    """Stride-2 4x4 convolutions (28 -> 14 [-> 7]), then dense layers to (mean, raw variance)."""

    def __init__(self, config: Config, dims: list[int]) -> None:
        super().__init__()
        chans = conv_channels(config)
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, KERNEL, STRIDE, PADDING) for a, b in itertools.pairwise(chans)
        )
        self.dense = MLP(dims, config.activation)
        self.act = self.dense.act

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        """`condition`: the class vector the dense layers read after the features, if any."""
        h = x.reshape(-1, 1, 28, 28)
        for conv in self.convs:
            h = self.act(conv(h))
        h = h.flatten(1)
        if condition is not None:
            h = torch.cat([h, condition.to(h.dtype)], dim=-1)
        return self.dense(h)


class ConvDecoder(nn.Module):
    """Dense layers to channels x side x side, then stride-2 4x4 transposed convolutions to
    28 x 28 pixel logits (flattened to 784, as the MLP decoder's)."""

    def __init__(self, config: Config, dims: list[int]) -> None:
        super().__init__()
        self.shape = (config.conv_channels[-1], conv_side(config), conv_side(config))
        self.dense = MLP(dims, config.activation)
        self.act = self.dense.act
        self.deconvs = nn.ModuleList(
            nn.ConvTranspose2d(a, b, KERNEL, STRIDE, PADDING) for a, b in deconv_pairs(config)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.act(self.dense(z)).reshape(-1, *self.shape)
        last = len(self.deconvs) - 1
        for i, deconv in enumerate(self.deconvs):
            h = deconv(h)
            if i < last:
                h = self.act(h)
        return h.flatten(1)


@dataclass
class Forward:
    """Everything one forward pass computes; the loss needs all of it."""

    mu: torch.Tensor
    var: torch.Tensor
    z: torch.Tensor
    class_logits: torch.Tensor | None
    recon_logits: torch.Tensor


@dataclass
class LossParts:
    """Batch means. `total` is what is optimised; `recon + kl` is the negative ELBO."""

    total: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor
    classifier: torch.Tensor
    correct: torch.Tensor  # number of correctly classified images in the batch (0 if plain)


class VAE(nn.Module):
    """Plain or conditional VAE, built from a Config."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        dims = mlp_dims(config)
        if config.architecture == "conv":
            self.encoder: nn.Module = ConvEncoder(config, dims["encoder"])
            self.decoder: nn.Module = ConvDecoder(config, dims["decoder"])
        else:
            self.encoder = MLP(dims["encoder"], config.activation)
            self.decoder = MLP(dims["decoder"], config.activation)
        self.classifier = MLP(dims["classifier"], config.activation) if config.conditional else None

    def encoder_class_input(
        self, x: torch.Tensor, class_logits: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        """The class vector q(z|x) reads beside x when not training on labels: the classifier's
        softmax, without its gradient (the classifier trains by its own loss); None unless the
        config's `encoder_condition` is "label"."""
        if self.config.encoder_condition != "label":
            return None
        assert self.classifier is not None  # the config allows "label" only for a cVAE
        if class_logits is None:
            class_logits = self.classifier(x)
        return torch.softmax(class_logits, dim=-1).detach()

    def encode(
        self, x: torch.Tensor, class_input: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance of q(z|x). With `encoder_condition` "label" the encoder also reads
        `class_input` (by default the classifier's softmax of x, see `encoder_class_input`)."""
        if self.config.encoder_condition == "label":
            if class_input is None:
                class_input = self.encoder_class_input(x)
            assert class_input is not None
            if self.config.architecture == "conv":
                h = self.encoder(x, class_input)
            else:
                h = self.encoder(torch.cat([x, class_input.to(x.dtype)], dim=-1))
        else:
            h = self.encoder(x)
        mu, raw = h.chunk(2, dim=-1)
        return mu, VARIANCE_FLOOR + torch.exp(raw)

    @staticmethod
    def reparameterize(
        mu: torch.Tensor, var: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + eps * var.sqrt()

    def decode_logits(
        self, z: torch.Tensor, class_probs: torch.Tensor | None = None
    ) -> torch.Tensor:
        if self.config.conditional:
            if class_probs is None:
                raise ValueError("a conditional model needs class probabilities to decode")
            z = torch.cat([z, class_probs], dim=-1)
        return self.decoder(z)

    def decode(self, z: torch.Tensor, class_probs: torch.Tensor | None = None) -> torch.Tensor:
        """Pixel means in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z, class_probs))

    def forward(
        self,
        x: torch.Tensor,
        generator: torch.Generator | None = None,
        labels: torch.Tensor | None = None,
    ) -> Forward:
        """`labels` are the training batch's; the decoder reads them one-hot only where the
        config's `decoder_condition` is "label", and the classifier's softmax otherwise. The
        encoder reads them one-hot where `encoder_condition` is "label" (without labels, the
        classifier's detached softmax)."""
        logits = self.classifier(x) if self.classifier is not None else None
        class_input = None
        if self.config.encoder_condition == "label":
            if labels is not None:
                assert logits is not None
                class_input = F.one_hot(labels, self.config.num_classes).to(logits.dtype)
            else:
                class_input = self.encoder_class_input(x, logits)
        mu, var = self.encode(x, class_input)
        z = self.reparameterize(mu, var, generator)
        probs = None
        if logits is not None:
            if self.config.decoder_condition == "label" and labels is not None:
                probs = F.one_hot(labels, self.config.num_classes).to(logits.dtype)
            else:
                probs = torch.softmax(logits, dim=-1)
            if self.config.classifier_stop_gradient:
                probs = probs.detach()
        return Forward(mu, var, z, logits, self.decode_logits(z, probs))


def reconstruction_nll(recon_logits: torch.Tensor, x: torch.Tensor, config: Config) -> torch.Tensor:
    """-log p(x|z) per image, in nats, summed over pixels."""
    if config.likelihood == "bernoulli":
        # BCE with logits: the same maths as BCE(sigmoid(l), x), stable and one fused kernel.
        return F.binary_cross_entropy_with_logits(recon_logits, x, reduction="none").sum(-1)
    sigma = config.decoder_std
    mean = torch.sigmoid(recon_logits)
    const = x.shape[-1] * (math.log(sigma) + 0.5 * math.log(2 * math.pi))
    return 0.5 * ((x - mean) / sigma).pow(2).sum(-1) + const


def kl_to_standard_normal(mu: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, var) || N(0, I)) per image, in nats."""
    return 0.5 * (var + mu.pow(2) - 1.0 - var.log()).sum(-1)


def loss_parts(
    out: Forward, x: torch.Tensor, labels: torch.Tensor | None, config: Config
) -> LossParts:
    """Loss = mean(recon + beta * KL) + classification_weight * mean cross-entropy."""
    recon = reconstruction_nll(out.recon_logits, x, config).mean()
    kl = kl_to_standard_normal(out.mu, out.var).mean()
    total = recon + config.kl_weight * kl
    if out.class_logits is not None and labels is not None:
        ce = F.cross_entropy(out.class_logits, labels)
        correct = (out.class_logits.argmax(-1) == labels).sum()
        total = total + config.classification_weight * ce
    else:
        ce = torch.zeros((), device=x.device)
        correct = torch.zeros((), device=x.device, dtype=torch.long)
    return LossParts(total, recon, kl, ce, correct)
