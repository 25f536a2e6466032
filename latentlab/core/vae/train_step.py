"""One training step with its gradients written out: the maths of `model.loss_parts`, by hand.

Why by hand: at these sizes (batches of 128 through layers of a few hundred units) autograd's
bookkeeping and autocast's casts cost more than the matrix products themselves once those run
in bfloat16 (docs/benchmarks.md has the profile). Written out, a step is the matrix products, a
few elementwise kernels and no graph: 1.35x faster in bfloat16, 1.1x in float32, with the same
numbers as autograd in float32 (`tests/core/test_train_step.py` checks every gradient against
autograd on every kind of model). `model.py` stays the definition; evaluation uses it.

The products run in `dtype` (float32 or bfloat16); everything elementwise (the latent sample,
the losses and their gradients) and every parameter gradient is float32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from latentlab.core.vae.config import Config
from latentlab.core.vae.model import (
    MLP,
    VAE,
    VARIANCE_FLOOR,
    LossParts,
    kl_to_standard_normal,
    reconstruction_nll,
)

Activation = Callable[[torch.Tensor], torch.Tensor]


def _activation_grad(
    name: str,
) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
    """d(loss)/d(pre-activation) from (pre-activation, activation output, d(loss)/d(output))."""
    if name == "relu":
        return lambda pre, out, d: d * (pre > 0)
    if name == "sigmoid":
        return lambda pre, out, d: d * out * (1 - out)
    if name == "tanh":
        return lambda pre, out, d: d * (1 - out * out)
    if name == "elu":  # alpha 1: the derivative is 1 above zero, elu(x) + 1 below
        return lambda pre, out, d: d * torch.where(pre > 0, 1.0, out + 1)
    raise ValueError(f"no gradient written for activation {name!r}")


@dataclass
class _Layers:
    """One MLP's forward values, kept for its backward pass."""

    inputs: list[torch.Tensor]  # each layer's input, in the products' dtype
    weights: list[torch.Tensor]  # each layer's weight, in the products' dtype
    pre: list[torch.Tensor]  # each hidden layer's pre-activation (float32)
    out: list[torch.Tensor]  # each hidden layer's activation output (float32)


class TrainStep:
    """`step(x, y, generator)`: the loss parts of a batch; every parameter's `.grad` is set.

    The optimizer then steps as after `loss.backward()`. There is no `zero_grad`: each step
    assigns fresh gradients.
    """

    def __init__(self, model: VAE, config: Config, dtype: torch.dtype = torch.float32) -> None:
        self.model, self.config, self.dtype = model, config, dtype
        self.act: Activation = model.encoder.act
        self.act_grad = _activation_grad(config.activation)

    # --- MLPs ------------------------------------------------------------------------------
    def _forward(self, net: MLP, h: torch.Tensor) -> tuple[torch.Tensor, _Layers]:
        layers = _Layers([], [], [], [])
        last = len(net.layers) - 1
        for i, layer in enumerate(net.layers):
            h = h.to(self.dtype)
            layers.inputs.append(h)
            w = layer.weight.to(self.dtype)
            layers.weights.append(w)
            pre = torch.addmm(layer.bias.to(self.dtype), h, w.t()).float()
            if i == last:
                return pre, layers
            h = self.act(pre)
            layers.pre.append(pre)
            layers.out.append(h)
        raise AssertionError("an MLP has at least one layer")

    def _backward(
        self, net: MLP, layers: _Layers, d: torch.Tensor, input_grad: bool
    ) -> torch.Tensor | None:
        """Set the MLP's gradients from d(loss)/d(output); d(loss)/d(input) if asked for."""
        last = len(net.layers) - 1
        for i in range(last, -1, -1):
            layer = net.layers[i]
            if i < last:
                d = self.act_grad(layers.pre[i], layers.out[i], d)
            dd = d.to(self.dtype)
            layer.weight.grad = (dd.t() @ layers.inputs[i]).float()
            layer.bias.grad = d.sum(0)
            if i == 0 and not input_grad:
                return None
            d = (dd @ layers.weights[i]).float()
        return d

    # --- the step --------------------------------------------------------------------------
    @torch.no_grad()
    def __call__(
        self, x: torch.Tensor, y: torch.Tensor | None, generator: torch.Generator | None
    ) -> LossParts:
        model, cfg = self.model, self.config
        n, beta = len(x), cfg.kl_weight
        d_latent = cfg.latent_dim

        xc = x.to(self.dtype)  # once, for the encoder and the classifier
        probs = cls = None
        if model.classifier is not None:
            logits, cls = self._forward(model.classifier, xc)
            probs = torch.softmax(logits, dim=-1)
        enc_in = xc
        if cfg.encoder_condition == "label":  # beside x: the label, or the softmax (no gradient)
            assert probs is not None
            enc_class = probs if y is None else F.one_hot(y, cfg.num_classes).to(probs.dtype)
            enc_in = torch.cat([xc, enc_class.to(self.dtype)], dim=-1)
        enc_out, enc = self._forward(model.encoder, enc_in)
        mu, raw = enc_out[:, :d_latent], enc_out[:, d_latent:]
        e = torch.exp(raw)
        var = e + VARIANCE_FLOOR
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        sd = var.sqrt()
        z = mu + eps * sd

        dec_in = z
        if probs is not None:
            condition = probs
            if cfg.decoder_condition == "label" and y is not None:
                condition = F.one_hot(y, cfg.num_classes).to(probs.dtype)
            dec_in = torch.cat([z, condition], dim=-1)
        recon_logits, dec = self._forward(model.decoder, dec_in)

        # The loss (batch means), as loss_parts computes it, and its gradient at the decoder.
        recon = reconstruction_nll(recon_logits, x, cfg).mean()
        kl = kl_to_standard_normal(mu, var).mean()
        total = recon + beta * kl
        if cfg.likelihood == "bernoulli":
            d_logits = (torch.sigmoid(recon_logits) - x) / n
        else:
            mean = torch.sigmoid(recon_logits)
            d_logits = (mean - x) * (mean * (1 - mean) / (cfg.decoder_std**2 * n))

        d_in = self._backward(model.decoder, dec, d_logits, input_grad=True)
        assert d_in is not None
        d_z = d_in[:, :d_latent]
        d_mu = d_z + beta * mu / n
        d_var = d_z * eps * 0.5 / sd + beta * 0.5 * (1 - 1 / var) / n
        self._backward(model.encoder, enc, torch.cat([d_mu, d_var * e], dim=-1), input_grad=False)

        if cls is None or probs is None:  # a plain VAE: no classifier
            zero = torch.zeros((), device=x.device)
            correct = torch.zeros((), device=x.device, dtype=torch.long)
            return LossParts(total, recon, kl, zero, correct)
        ce = F.cross_entropy(logits, y)
        correct = (logits.argmax(-1) == y).sum()
        total = total + cfg.classification_weight * ce
        d_cls = (probs - F.one_hot(y, cfg.num_classes).to(probs.dtype)) * (
            cfg.classification_weight / n
        )
        if not cfg.classifier_stop_gradient:  # the decoder's gradient through the softmax
            d_probs = d_in[:, d_latent:]
            d_cls = d_cls + probs * (d_probs - (probs * d_probs).sum(-1, keepdim=True))
        self._backward(model.classifier, cls, d_cls, input_grad=False)
        return LossParts(total, recon, kl, ce, correct)


class AutogradStep:
    """The same call as `TrainStep` for models it has no written-out gradients for (conv):
    `model.loss_parts` and autograd; bfloat16 products through autocast where asked for."""

    def __init__(self, model: VAE, config: Config, dtype: torch.dtype = torch.float32) -> None:
        self.model, self.config, self.dtype = model, config, dtype

    def __call__(
        self, x: torch.Tensor, y: torch.Tensor | None, generator: torch.Generator | None
    ) -> LossParts:
        from latentlab.core.vae.model import loss_parts

        for p in self.model.parameters():
            p.grad = None
        device = x.device.type
        with torch.autocast(device, self.dtype, enabled=self.dtype != torch.float32):
            out = self.model(x, generator, labels=y)
        out.mu, out.var, out.recon_logits = (
            out.mu.float(),
            out.var.float(),
            out.recon_logits.float(),
        )
        if out.class_logits is not None:
            out.class_logits = out.class_logits.float()
        parts = loss_parts(out, x, y, self.config)
        parts.total.backward()
        return LossParts(
            parts.total.detach(),
            parts.recon.detach(),
            parts.kl.detach(),
            parts.classifier.detach(),
            parts.correct,
        )


def make_step(model: VAE, config: Config, dtype: torch.dtype = torch.float32):
    """The written-out step for MLP models, autograd for conv ones."""
    if config.architecture == "conv":
        return AutogradStep(model, config, dtype)
    return TrainStep(model, config, dtype)
