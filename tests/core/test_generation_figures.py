"""The generation benchmark's new figures: Frechet distance, solid-ink share, mixture styles."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from latentlab.core.vae.checkpoint import load_model, save_model
from latentlab.core.vae.density import LatentDensity

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import generation_quality  # noqa: E402

from ..factories import TINY_CVAE, random_record  # noqa: E402


def test_frechet_distance_of_gaussians_is_the_closed_form():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20000, 3))
    assert generation_quality.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # N(0, I) against N(m, 4 I): |m|^2 + 3 (1 + 4 - 2 * 2) = |m|^2 + 3
    b = 2 * rng.standard_normal((20000, 3)) + [1.0, 2.0, 0.0]
    assert generation_quality.frechet_distance(a, b) == pytest.approx(5.0 + 3.0, rel=0.05)


def test_solid_ink_share_counts_solid_pixels_among_inked_ones():
    images = np.array([[0.0, 0.05, 0.5, 0.95, 1.0, 0.2]])
    assert generation_quality.solid_ink_share(images) == pytest.approx(2 / 4)
    assert generation_quality.solid_ink_share(np.zeros((2, 3))) == 0.0


def test_mixture_styles_are_drawn_per_class(tmp_path):
    record = random_record(TINY_CVAE)
    d = TINY_CVAE.latent_dim
    means = np.arange(10, dtype=np.float32)[:, None, None].repeat(d, 2) / 5
    record.density = LatentDensity(
        weights=np.ones((10, 1), np.float32),
        means=means,
        scale_tril=np.broadcast_to(1e-3 * np.eye(d), (10, 1, d, d)).astype(np.float32),
        components=(1,) * 10,
        covariance=("diag",) * 10,
        heldout_gain=0.0,
    )
    path = save_model(record, tmp_path / "m.safetensors")
    images = generation_quality.generate(load_model(path), 3, seed=0, styles="mixture")
    assert images.shape == (10, 3, 28, 28)
    np.testing.assert_allclose(images[:, 0], images[:, 1], atol=1e-3)  # one narrow blob each
    with pytest.raises(Exception, match="no class density"):
        generation_quality.generate(random_record(TINY_CVAE), 3, styles="mixture")
