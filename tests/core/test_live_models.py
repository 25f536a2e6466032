"""Live Python models (torch modules, numpy callables) as latentlab models, and `latentlab.export`
writing the same one file `latentlab import` makes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import latentlab
from latentlab.core.errors import LatentlabError
from latentlab.core.imported.live import array_source, live_model
from latentlab.core.model_files import open_document


class ConvDecoder(nn.Module):
    """z (N, d) [+ one-hot (N, K)] -> (N, 3, 16, 12) in [0, 1]."""

    def __init__(self, d: int = 3, classes: int = 0) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(d + classes, 8 * 4 * 3)
        self.up = nn.Sequential(
            nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1),
            nn.Sigmoid(),
        )
        self.classes = classes

    def forward(self, z, c=None):
        if self.classes:
            z = torch.cat([z, c], dim=1)
        return self.up(self.fc(z).view(-1, 8, 4, 3))


class CondDecoder(ConvDecoder):
    def forward(self, z, c):
        return super().forward(z, c)


class ConvEncoder(nn.Module):
    """(N, 3, 16, 12) -> (mean, log-variance), each (N, d)."""

    def __init__(self, d: int = 3) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.net = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten())
        self.mu = nn.Linear(4 * 8 * 6, d)
        self.logvar = nn.Linear(4 * 8 * 6, d)

    def forward(self, x):
        h = self.net(x)
        return self.mu(h), self.logvar(h)


def _images(n: int = 20) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, 16, 12, 3), dtype=np.uint8)


def test_a_torch_decoder_decodes_at_its_size_in_colour():
    decoder = ConvDecoder()
    model = live_model(decoder, latent_dim=3)
    z = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    images = model.decode(z)
    with torch.no_grad():
        expected = decoder(torch.from_numpy(z)).numpy().transpose(0, 2, 3, 1)
    assert images.shape == (4, 16, 12, 3) and model.image_shape == (16, 12, 3)
    np.testing.assert_allclose(images, expected, atol=1e-6)


def test_the_latent_size_comes_from_the_first_linear_layer():
    assert live_model(ConvDecoder(5)).latent_dim == 5


def test_a_numpy_callable_works_as_a_decoder_in_nhwc():
    weights = np.random.default_rng(0).standard_normal((2, 4 * 4 * 3)).astype(np.float32)

    def decoder(z):
        return 1 / (1 + np.exp(-(z @ weights))).reshape(-1, 4, 4, 3)

    model = live_model(decoder, latent_dim=2)
    assert model.image_spec.shape == (4, 4, 3) and model.decoder_spec.layout == "nhwc"


def test_a_conditional_decoder_needs_its_classes_and_gets_one_hots():
    with pytest.raises(LatentlabError, match="pass classes="):
        live_model(CondDecoder(3, 2), latent_dim=3)
    model = live_model(CondDecoder(3, 2), latent_dim=3, class_names=("a", "b"))
    assert model.conditional and model.class_names == ("a", "b")
    z = np.zeros((2, 3), np.float32)
    a, b = model.decode(z, model.condition(np.array([0, 1])))
    assert not np.allclose(a, b)


def test_an_encoder_is_wired_in_the_decoders_layout():
    model = live_model(ConvDecoder(), ConvEncoder(), latent_dim=3)
    assert model.encoder_spec.layout == "nchw" and model.has_variance
    x = _images(5).astype(np.float32) / 255
    mean, var = model.encode(x)
    with torch.no_grad():
        mu, logvar = ConvEncoder()(torch.from_numpy(x.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(mean, mu.numpy(), atol=1e-5)
    np.testing.assert_allclose(var, np.exp(logvar.numpy()), rtol=1e-4)


def test_an_encoder_of_the_wrong_latent_size_is_refused():
    with pytest.raises(LatentlabError, match="encoder takes none of the image layouts"):
        live_model(ConvDecoder(3), ConvEncoder(4), latent_dim=3)


def test_images_must_match_the_model_and_labels_name_their_classes():
    model = live_model(ConvDecoder(), latent_dim=3)
    with pytest.raises(
        LatentlabError, match=r"images are \[3, 8, 8, 3\], the model makes 16 x 12 x 3"
    ):
        array_source(np.zeros((3, 8, 8, 3), np.uint8), None, None, model.image_spec)
    source = array_source(
        torch.rand(6, 3, 16, 12), np.array([5, 7, 5, 9, 7, 5]), None, model.image_spec
    )
    assert source.class_names == ("5", "7", "9") and list(source.labels) == [0, 1, 0, 2, 1, 0]
    assert source.images.shape == (6, 16, 12, 3) and source.images.dtype == np.uint8


def test_export_writes_a_file_that_opens_and_decodes_like_the_module(tmp_path):
    decoder, encoder = ConvDecoder(), ConvEncoder()
    images, labels = _images(30), np.arange(30) % 3
    out = latentlab.export(
        tmp_path / "vae.latentlab",
        decoder,
        encoder,
        images=images,
        labels=labels,
        class_names=["red", "green", "blue"],
        latent_dim=3,
    )
    document = open_document(out)
    assert document.source == "onnx" and len(document.points) == 30
    assert document.model.class_names == ("red", "green", "blue")
    np.testing.assert_array_equal(document.points.labels, labels)
    z = np.random.default_rng(2).standard_normal((3, 3)).astype(np.float32)
    with torch.no_grad():
        expected = decoder(torch.from_numpy(z)).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(document.model.decode(z), expected, atol=1e-5)
    with torch.no_grad():
        mu, _ = encoder(torch.from_numpy(images.astype(np.float32).transpose(0, 3, 1, 2) / 255))
    np.testing.assert_allclose(document.points.mu, mu.numpy(), atol=1e-4)
    loaded = latentlab.load(out)
    assert loaded.latent_dim == 3 and loaded.image_shape == (16, 12, 3)
