"""The convolutional family: shapes, gradients, numpy == torch, files, training, presets."""

import numpy as np
import pytest
import torch

from latentlab.core.vae.checkpoint import load_model, save_model
from latentlab.core.vae.config import PRESETS, Config, ConfigError
from latentlab.core.vae.layout import parameter_shapes
from latentlab.core.vae.model import VAE, loss_parts
from latentlab.core.vae.numpy_net import ConvTranspose, NumpyVAE, conv2d
from latentlab.core.vae.training import run_training

from ..factories import open_state, random_record, tiny_dataset

TINY_CONV = Config(
    architecture="conv",
    conv_channels=(4, 8),
    encoder_hidden=(16,),
    decoder_hidden=(16,),
    classifier_hidden=(16,),
    activation="relu",
    latent_dim=3,
    likelihood="bernoulli",
    classification_weight=1.0,
    classifier_stop_gradient=True,
    batch_size=50,
    epochs=1,
)
CONFIGS = {
    "conditional, two convs": TINY_CONV,
    "plain, one conv": TINY_CONV.replace(
        conditional=False, classifier_hidden=(), conv_channels=(5,), encoder_hidden=()
    ),
    "elu, no dense hidden": TINY_CONV.replace(activation="elu", decoder_hidden=()),
    "encoder reads the class": TINY_CONV.replace(encoder_condition="label"),
    "encoder reads the class, no dense hidden": TINY_CONV.replace(
        encoder_condition="label", encoder_hidden=()
    ),
}


def _model(config: Config, seed: int = 0) -> VAE:
    torch.manual_seed(seed)
    return VAE(config).eval()


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_parameter_shapes_are_torch_s_own(config):
    state = _model(config).state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == parameter_shapes(config)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_forward_shapes_and_every_parameter_gets_a_gradient(config):
    model = _model(config).train()
    x = torch.rand(6, 784)
    y = torch.randint(0, 10, (6,))
    out = model(x, torch.Generator().manual_seed(0))
    assert out.mu.shape == out.var.shape == (6, config.latent_dim)
    assert out.recon_logits.shape == (6, 784)
    loss_parts(out, x, y if config.conditional else None, config).total.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        if not name.startswith("classifier"):  # the classifier learns only from its labels
            assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_numpy_decode_and_encode_equal_torch(config):
    model = _model(config, seed=3)
    net = NumpyVAE(config, {k: v.numpy() for k, v in model.state_dict().items()})
    rng = np.random.default_rng(0)
    z = rng.standard_normal((7, config.latent_dim)).astype(np.float32)
    cond = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 7)] if config.conditional else None
    with torch.no_grad():
        expected = model.decode(
            torch.from_numpy(z), None if cond is None else torch.from_numpy(cond)
        ).numpy()
        x = rng.random((4, 784)).astype(np.float32)
        mu, var = model.encode(torch.from_numpy(x))
    np.testing.assert_allclose(net.decode(z, cond), expected, atol=1e-5)
    np.testing.assert_allclose(
        net.decode(z[0], None if cond is None else cond[0]), expected[0], atol=1e-5
    )
    got_mu, got_var = net.encode(x)
    np.testing.assert_allclose(got_mu, mu.numpy(), atol=1e-5)
    np.testing.assert_allclose(got_var, var.numpy(), rtol=1e-4, atol=1e-6)


def test_numpy_convolutions_match_torch_on_odd_sizes():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 6, 10)).astype(np.float32)
    conv = torch.nn.Conv2d(3, 5, 4, 2, 1)
    deconv = torch.nn.ConvTranspose2d(3, 5, 4, 2, 1)
    with torch.no_grad():
        want_conv = conv(torch.from_numpy(x)).numpy()
        want_deconv = deconv(torch.from_numpy(x)).numpy()
    got = conv2d(x, conv.weight.detach().numpy(), conv.bias.detach().numpy())
    np.testing.assert_allclose(got, want_conv, atol=1e-5)
    got = ConvTranspose(deconv.weight.detach().numpy(), deconv.bias.detach().numpy())(x)
    np.testing.assert_allclose(got, want_deconv, atol=1e-5)


def test_a_conv_model_file_round_trips_and_explores(tmp_path):
    record = random_record(TINY_CONV)
    loaded = load_model(save_model(record, tmp_path / "conv.safetensors"))
    assert loaded.config == TINY_CONV
    state = open_state(loaded)
    state.set_class(4)
    image = state.decode()
    assert image.shape == (28, 28, 1) and image.min() >= 0 and image.max() <= 1


def test_training_a_conv_model_lowers_its_loss_and_saves_it(tmp_path):
    data = tiny_dataset(n_train=200, n_test=40)
    events = list(run_training(TINY_CONV.replace(epochs=2), data, device="cpu"))
    record = events[-1].record
    losses = [h["train"]["recon"] + h["train"]["kl"] for h in record.history]
    assert losses[-1] < losses[0]
    assert record.density is not None and record.test_encoding.mu.shape == (40, 3)
    loaded = load_model(save_model(record, tmp_path / "c.safetensors"))
    assert loaded.config.architecture == "conv"


def test_conv_presets_and_invalid_conv_configs():
    assert PRESETS["conv-cvae"].config.architecture == "conv"
    assert PRESETS["conv-cvae"].config.latent_dim == 16
    again = Config.from_json(PRESETS["conv-cvae"].config.to_json())
    assert again == PRESETS["conv-cvae"].config
    with pytest.raises(ConfigError, match="1 or 2 conv_channels"):
        TINY_CONV.replace(conv_channels=(4, 8, 16))
    with pytest.raises(ConfigError, match="1 or 2 conv_channels"):
        TINY_CONV.replace(conv_channels=())
    with pytest.raises(ConfigError, match="for architecture 'conv'"):
        Config(conv_channels=(8,))
    with pytest.raises(ConfigError, match="architecture must be"):
        Config(architecture="transformer")
