"""The loss against values computed by hand on tiny inputs, and the numpy twin against torch."""

import math

import numpy as np
import pytest
import torch

from latentlab.core.vae.config import Config
from latentlab.core.vae.model import (
    VAE,
    VARIANCE_FLOOR,
    Forward,
    kl_to_standard_normal,
    loss_parts,
    reconstruction_nll,
)
from latentlab.core.vae.numpy_net import NumpyVAE

from ..factories import TINY_CVAE, TINY_VAE


def test_bernoulli_reconstruction_is_summed_binary_cross_entropy():
    config = Config(input_dim=2, likelihood="bernoulli")
    logits = torch.tensor([[0.0, 2.0]])
    x = torch.tensor([[1.0, 0.0]])
    p = 1 / (1 + math.exp(-2.0))
    expected = -math.log(0.5) - math.log(1 - p)
    assert reconstruction_nll(logits, x, config).item() == pytest.approx(expected, rel=1e-6)


def test_gaussian_reconstruction_is_the_full_negative_log_likelihood():
    config = Config(input_dim=2, likelihood="gaussian", decoder_std=0.5)
    logits = torch.tensor([[0.0, 0.0]])  # mean 0.5 for both pixels
    x = torch.tensor([[1.0, 0.5]])
    per_pixel_const = math.log(0.5) + 0.5 * math.log(2 * math.pi)
    expected = 0.5 * (0.5 / 0.5) ** 2 + 2 * per_pixel_const
    assert reconstruction_nll(logits, x, config).item() == pytest.approx(expected, rel=1e-6)


def test_kl_matches_the_closed_form():
    mu = torch.tensor([[1.0, 0.0]])
    var = torch.tensor([[1.0, 0.25]])
    expected = 0.5 * (1 + 1 - 1 - 0) + 0.5 * (0.25 + 0 - 1 - math.log(0.25))
    assert kl_to_standard_normal(mu, var).item() == pytest.approx(expected, rel=1e-6)


def test_total_loss_weights_kl_and_classifier_terms():
    config = Config(
        input_dim=2,
        latent_dim=1,
        num_classes=2,
        likelihood="bernoulli",
        kl_weight=3.0,
        classification_weight=10.0,
    )
    out = Forward(
        mu=torch.tensor([[1.0]]),
        var=torch.tensor([[1.0]]),
        z=torch.tensor([[1.0]]),
        class_logits=torch.tensor([[0.0, 0.0]]),
        recon_logits=torch.tensor([[0.0, 0.0]]),
    )
    parts = loss_parts(out, torch.tensor([[1.0, 0.0]]), torch.tensor([1]), config)
    recon, kl, ce = 2 * math.log(2), 0.5, math.log(2)
    assert parts.recon.item() == pytest.approx(recon, rel=1e-6)
    assert parts.kl.item() == pytest.approx(kl, rel=1e-6)
    assert parts.classifier.item() == pytest.approx(ce, rel=1e-6)
    assert parts.total.item() == pytest.approx(recon + 3 * kl + 10 * ce, rel=1e-6)


def test_encoder_variance_has_the_floor():
    model = VAE(TINY_CVAE)
    with torch.no_grad():
        for p in model.encoder.parameters():
            p.fill_(0.0)
        model.encoder.layers[-1].bias[TINY_CVAE.latent_dim :] = -100.0
    _, var = model.encode(torch.zeros(1, 784))
    assert torch.allclose(var, torch.full_like(var, VARIANCE_FLOOR))


def test_stop_gradient_keeps_reconstruction_gradients_out_of_the_classifier():
    def classifier_grad(stop: bool) -> float:
        config = TINY_CVAE.replace(classifier_stop_gradient=stop, classification_weight=0.0)
        torch.manual_seed(0)
        model = VAE(config)
        x = torch.rand(4, 784)
        loss_parts(model(x), x, torch.tensor([0, 1, 2, 3]), config).total.backward()
        return sum(float(p.grad.abs().sum()) for p in model.classifier.parameters())

    assert classifier_grad(stop=False) > 0
    assert classifier_grad(stop=True) == 0


@pytest.mark.parametrize(
    "config",
    [
        TINY_CVAE,
        TINY_VAE,
        TINY_CVAE.replace(activation="sigmoid"),
        TINY_CVAE.replace(activation="tanh"),
        TINY_CVAE.replace(activation="elu"),
        TINY_CVAE.replace(encoder_condition="label"),  # the encoder reads the softmax too
    ],
)
def test_numpy_networks_match_torch(config):
    torch.manual_seed(1)
    model = VAE(config).eval()
    weights = {k: v.numpy() for k, v in model.state_dict().items()}
    net = NumpyVAE(config, weights)
    x = torch.rand(5, 784)
    z = torch.randn(5, config.latent_dim)
    with torch.no_grad():
        mu, var = model.encode(x)
        probs = torch.softmax(model.classifier(x), -1) if config.conditional else None
        pixels = model.decode(z, probs)
    np_mu, np_var = net.encode(x.numpy())
    np.testing.assert_allclose(np_mu, mu.numpy(), atol=1e-5)
    np.testing.assert_allclose(np_var, var.numpy(), rtol=1e-4)
    np_probs = net.classify(x.numpy()) if config.conditional else None
    if config.conditional:
        np.testing.assert_allclose(np_probs, probs.numpy(), atol=1e-5)
    np.testing.assert_allclose(net.decode(z.numpy(), np_probs), pixels.numpy(), atol=1e-5)


def test_a_label_conditioned_decoder_reads_the_label_in_training_and_the_softmax_otherwise():
    """decoder_condition "label": the training forward feeds the one-hot label, so a wrong
    classifier does not change the reconstruction; without labels it is the classifier's."""
    import torch

    from latentlab.core.vae.config import Config
    from latentlab.core.vae.model import VAE

    config = Config(
        encoder_hidden=(8,),
        decoder_hidden=(8,),
        classifier_hidden=(),
        latent_dim=2,
        classifier_stop_gradient=True,
        decoder_condition="label",
    )
    torch.manual_seed(0)
    model = VAE(config)
    x = torch.rand(4, config.input_dim)
    y = torch.tensor([0, 3, 3, 9])
    gen = lambda: torch.Generator().manual_seed(1)  # noqa: E731 - the same noise each pass
    with torch.no_grad():
        by_label = model(x, gen(), labels=y)
        by_softmax = model(x, gen())
        z = by_label.z
        one_hot = torch.nn.functional.one_hot(y, config.num_classes).float()
        softmax = torch.softmax(by_label.class_logits, dim=-1)
        torch.testing.assert_close(by_label.recon_logits, model.decode_logits(z, one_hot))
        torch.testing.assert_close(by_softmax.recon_logits, model.decode_logits(z, softmax))
        assert not torch.allclose(by_label.recon_logits, by_softmax.recon_logits)


LABEL_ENCODER = TINY_CVAE.replace(classifier_stop_gradient=True, encoder_condition="label")


def test_a_label_conditioned_encoder_reads_x_and_a_class_vector():
    """encoder_condition "label": q(z|x) reads x and the one-hot label while training, and
    the classifier's softmax wherever it encodes without labels (encode keeps its signature)."""
    torch.manual_seed(0)
    model = VAE(LABEL_ENCODER)
    assert model.encoder.layers[0].weight.shape == (32, 784 + 10)
    x = torch.rand(4, 784)
    y = torch.tensor([0, 3, 3, 9])
    with torch.no_grad():
        by_label = model(x, torch.Generator().manual_seed(1), labels=y)
        by_softmax = model(x, torch.Generator().manual_seed(1))
        one_hot = torch.nn.functional.one_hot(y, 10).float()
        softmax = torch.softmax(model.classifier(x), -1)
        mu, var = model.encode(x)
        mu_label, _ = model.encode(x, one_hot)
        h = model.encoder(torch.cat([x, softmax], -1))
    assert mu.shape == var.shape == (4, LABEL_ENCODER.latent_dim)
    torch.testing.assert_close(mu, h[:, : LABEL_ENCODER.latent_dim])
    torch.testing.assert_close(by_softmax.mu, mu)
    torch.testing.assert_close(by_label.mu, mu_label)
    assert not torch.allclose(by_label.mu, by_softmax.mu)


@pytest.mark.parametrize("stop", [True, False])
def test_the_encoders_class_input_sends_no_gradient_to_the_classifier(stop):
    """The softmax into the encoder is detached: with the classifier's own loss off (and the
    decoder reading the label, or stop-gradient on), nothing reaches the classifier."""
    config = LABEL_ENCODER.replace(
        classification_weight=0.0,
        classifier_stop_gradient=stop,
        decoder_condition="label" if stop else "softmax",
    )
    torch.manual_seed(0)
    model = VAE(config)
    x = torch.rand(4, 784)
    y = torch.tensor([0, 1, 2, 3])
    out = model(x)  # no labels: the encoder reads the softmax
    if not stop:  # cut the decoder's path, so only the encoder's is left
        out.recon_logits = model.decode_logits(out.z, torch.softmax(out.class_logits, -1).detach())
    loss_parts(out, x, y, config).total.backward()
    assert sum(float(p.grad.abs().sum()) for p in model.encoder.parameters()) > 0
    assert all(p.grad is None or not p.grad.any() for p in model.classifier.parameters())
