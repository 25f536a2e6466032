"""The bundled MNIST models are the ones models/README.md describes, and meet the issue's bar."""

from __future__ import annotations

import numpy as np
import pytest

from latentlab.core.bundled import default_model_path, models_dir
from latentlab.core.vae.checkpoint import load_model
from latentlab.core.vae.config import DEFAULT_PRESET, get_preset

DEFAULT = default_model_path()
VAE_2D = models_dir() / "mnist-vae-2d.safetensors"


def test_the_default_preset_is_the_sharp_stop_gradient_recipe():
    config = get_preset(DEFAULT_PRESET).config
    assert DEFAULT_PRESET == "sharp-cvae"
    assert config.conditional and config.classifier_stop_gradient
    assert config.kl_weight > 1.0 and config.lr_schedule == "cosine"


@pytest.mark.skipif(not DEFAULT.is_file(), reason=f"bundled model {DEFAULT} not present")
def test_the_bundled_default_is_trained_by_the_default_preset_and_reads_digits_right():
    record = load_model(DEFAULT)
    preset = get_preset(DEFAULT_PRESET).config
    assert record.config.replace(seed=preset.seed) == preset
    assert record.config.dataset == "mnist"
    assert record.metrics["test_accuracy"] >= 0.98
    encoding = record.test_encoding
    assert encoding is not None and len(encoding) == 10_000
    accuracy = float(np.mean(encoding.predicted == encoding.labels))
    assert accuracy == pytest.approx(record.metrics["test_accuracy"], abs=1e-3)
    assert DEFAULT.stat().st_size < 10_000_000


@pytest.mark.skipif(not VAE_2D.is_file(), reason=f"bundled model {VAE_2D} not present")
def test_the_bundled_2d_model_is_a_plain_vae_with_a_2d_plane():
    record = load_model(VAE_2D)
    preset = get_preset("vae-2d").config
    assert record.config.replace(seed=preset.seed) == preset
    assert not record.config.conditional and record.config.latent_dim == 2
    encoding = record.test_encoding
    assert encoding is not None and encoding.mu.shape == (10_000, 2)
    assert VAE_2D.stat().st_size < 5_000_000
