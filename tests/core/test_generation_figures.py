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


class _Mixtures:
    """Class mixtures of one component each, at the given means (K, d)."""

    def __init__(self, means: np.ndarray) -> None:
        self.means = means[:, None, :].astype(np.float32)
        self.weights = np.ones((len(means), 1))

    def sample(self, n: int, c: int, rng: np.random.Generator) -> np.ndarray:
        return np.repeat(self.means[c], n, axis=0) + 0.01 * rng.standard_normal((n, 3))


class _Net:
    """Images that show the class input, then z's first value: only z1 moves anything."""

    def decode(self, z: np.ndarray, one_hots: np.ndarray) -> np.ndarray:
        return np.concatenate([one_hots, z[..., :1]], axis=-1)


class _Reader:
    def __init__(self, always: int | None = None) -> None:
        self.always = always

    def predict(self, images: np.ndarray) -> np.ndarray:
        read = np.argmax(images[..., :-1], axis=-1)
        return read if self.always is None else np.full_like(read, self.always)


def test_class_button_figures_read_the_button_pressed_and_find_dead_sliders():
    import class_buttons

    mixtures = _Mixtures(np.arange(12, dtype=np.float32).reshape(4, 3))
    out = class_buttons.class_button_figures(_Net(), mixtures, _Reader(), styles=5)
    assert out["mean_style_swap"] == 1.0 and out["sampled_style_swap"] == 1.0
    assert out["origin_right"] == 4 and out["sampled_styles"] == 20
    assert out["dead_dimensions"] == [1, 2]  # only z1 reaches the image
    stubborn = class_buttons.class_button_figures(_Net(), mixtures, _Reader(always=2), styles=5)
    assert stubborn["mean_style_swap"] == pytest.approx(1 / 4)
    assert stubborn["origin_right"] == 1 and stubborn["origin_read"] == [2, 2, 2, 2]
