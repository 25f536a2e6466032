"""The LatentModel seam holds for a model that is not a 28 x 28 grey latentlab VAE.

`RgbModel` is written here from the protocol alone (pure numpy, 5 x 7 RGB images, 3 classes,
conditional) and checks the shapes every caller hands it, so the explorer state, the strips, the
manifold, the morphs, the sample grid and the pictures are shown to assume nothing else.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from latentlab.core.explore import imaging
from latentlab.core.explore.dimensions import STRIP_VALUES, decode_strips, strip_latents
from latentlab.core.explore.document import Document
from latentlab.core.explore.drawing import read_image
from latentlab.core.explore.latent_model import ImageSpec, LatentModel
from latentlab.core.explore.manifold import decode_manifold
from latentlab.core.explore.morph import end_at_point, morph, save_morph
from latentlab.core.explore.points import EncodedPoints
from latentlab.core.explore.sampling import COLUMNS_PLAIN, grid_picture, sample_grid, save_grid_png
from latentlab.core.explore.state import ExplorerState

H, W, C, D, K = 5, 7, 3, 4, 3


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class RgbModel:
    """A conditional linear decoder (and encoder, classifier) of 5 x 7 RGB images."""

    latent_dim = D
    image_spec = ImageSpec(H, W, C)
    class_names = ("red", "green", "blue")
    conditional = True
    can_encode = True
    can_classify = True

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        values = self.image_spec.values
        self.w_z = rng.standard_normal((D, values)).astype(np.float32)
        self.w_c = (rng.standard_normal((K, values)) * 3).astype(np.float32)
        self.w_enc = (rng.standard_normal((values, D)) * 0.2).astype(np.float32)
        self.w_cls = rng.standard_normal((values, K)).astype(np.float32)
        self.decoded = 0  # images decoded so far, to see batching

    def condition(self, classes: int | np.ndarray) -> np.ndarray:
        return np.eye(K, dtype=np.float32)[classes]

    def decode(self, z: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        z = np.asarray(z)
        assert z.ndim == 2 and z.shape[1] == D, z.shape
        assert condition is not None and np.asarray(condition).shape == (len(z), K)
        self.decoded += len(z)
        logits = z.astype(np.float32) @ self.w_z + np.asarray(condition, np.float32) @ self.w_c
        return _sigmoid(logits).reshape(len(z), H, W, C).astype(np.float32)

    def _flat(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, np.float32)
        assert images.ndim == 4 and images.shape[1:] == (H, W, C), images.shape
        return images.reshape(len(images), -1)

    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu = (self._flat(images) - 0.5) @ self.w_enc
        return mu.astype(np.float32), np.full_like(mu, 0.25, dtype=np.float32)

    def classify(self, images: np.ndarray) -> np.ndarray:
        logits = self._flat(images) @ self.w_cls
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


class FlatGreyModel:
    """A plain model whose every image is one grey value: the picture conventions by hand."""

    latent_dim = 2
    image_spec = ImageSpec(3, 4, 1)
    class_names = ()
    conditional = False
    can_encode = False
    can_classify = False

    def __init__(self, value: float) -> None:
        self.value = value

    def condition(self, classes):
        raise ValueError("no classes")

    def decode(self, z, condition=None):
        assert condition is None
        return np.full((len(z), *self.image_spec.shape), self.value, np.float32)

    def encode(self, images):
        raise ValueError("no encoder")

    def classify(self, images):
        raise ValueError("no classifier")


@pytest.fixture
def model() -> RgbModel:
    return RgbModel()


@pytest.fixture
def points() -> EncodedPoints:
    rng = np.random.default_rng(1)
    n = 40
    return EncodedPoints(
        mu=rng.standard_normal((n, D)).astype(np.float32),
        logvar=(rng.standard_normal((n, D)) * 0.1 - 1).astype(np.float32),
        labels=rng.integers(0, K, n).astype(np.uint8),
        probs=rng.dirichlet(np.ones(K), n).astype(np.float32),
    )


@pytest.fixture
def state(model, points) -> ExplorerState:
    state = ExplorerState()
    state.open(Document(model, points))
    return state


def _in_unit_range(images: np.ndarray) -> bool:
    return images.dtype == np.float32 and images.min() >= 0.0 and images.max() <= 1.0


def test_the_fake_satisfies_the_protocol(model):
    assert isinstance(model, LatentModel) and isinstance(FlatGreyModel(0.5), LatentModel)


def test_the_explorer_state_drives_an_rgb_model(state, model, points):
    image = state.decode()
    assert image.shape == (H, W, C) and _in_unit_range(image)
    assert state.projection.kind == "pca" and state.available_kinds() == ("dims", "pca")
    assert state.class_names == ("red", "green", "blue") and state.conditional
    state.select(3)
    assert state.class_index == int(points.predicted[3])
    np.testing.assert_allclose(
        state.image(), model.decode(points.mu[3][None], points.probs[3][None])[0], atol=1e-6
    )
    state.set_class(0)
    red = state.decode()
    state.set_class(2)
    assert not np.allclose(red, state.decode())
    with pytest.raises(ValueError):
        state.set_class(K)
    best, prob = state.classify(state.decode())
    assert 0 <= best < K and 0.0 < prob <= 1.0
    state.set_slider_kind("pca")
    state.set_slider(1, 1.5)
    assert state.slider_values()[1] == pytest.approx(1.5, abs=1e-5)
    state.move_to(0.75, -0.25)
    np.testing.assert_allclose(state.current_point(), [0.75, -0.25], atol=1e-5)
    assert state.slider_kl().shape == (D,)


def test_strips_of_an_rgb_model(state, model):
    state.set_z(np.array([0.2, -0.4, 0.1, 0.3], np.float32))
    state.set_class(1)
    strips = decode_strips(model, state.slider_basis, state.z, state.condition())
    assert strips.shape == (D, len(STRIP_VALUES), H, W, C) and _in_unit_range(strips)
    latents = strip_latents(state.slider_basis, state.z)
    single = model.decode(latents[2, 5][None], model.condition(1)[None])[0]
    np.testing.assert_allclose(strips[2, 5], single, atol=1e-6)


def test_a_manifold_of_an_rgb_model(state, model):
    model.decoded = 0
    grid = decode_manifold(model, state.projection, state.z, state.condition(), size=3)
    assert grid.images.shape == (3, 3, H, W, C) and _in_unit_range(grid.images)
    assert model.decoded == 9  # one batched call
    picture = grid.picture()
    assert picture.shape == (3 * H, 3 * W, 3) and picture.dtype == np.uint8
    np.testing.assert_array_equal(picture[:H, :W], imaging.colour_uint8(grid.images[0, 0]))


def test_a_morph_of_an_rgb_model(model, points, tmp_path):
    a, b = end_at_point(model, points, 0), end_at_point(model, points, 1)
    assert a.label == f"test #0 ({model.class_names[a.digit]})"
    result = morph(model, a, b, 4, "slerp")
    assert result.frames.shape == (4, H, W, C) and _in_unit_range(result.frames)
    assert result.class_probs.shape == (4, K)
    np.testing.assert_allclose(result.class_probs[0], model.condition(a.digit))
    assert save_morph(result.frames, tmp_path / "m.png", scale=1) == "png"
    with Image.open(tmp_path / "m.png") as strip:
        assert strip.mode == "RGB" and strip.size == (4 * (W + 2) + 2, H + 4)
    assert save_morph(result.frames, tmp_path / "m.gif", scale=2) == "gif"
    with Image.open(tmp_path / "m.gif") as gif:
        assert gif.n_frames == 4 and gif.size == (2 * W, 2 * H)


def test_a_sample_grid_of_an_rgb_model(model, tmp_path):
    grid = sample_grid(model, rows=2, seed=5)
    assert grid.shape == (2, K, H, W, C) and _in_unit_range(grid)
    np.testing.assert_array_equal(grid, sample_grid(model, rows=2, seed=5))
    assert not np.allclose(grid[0, 0], grid[0, 1])  # one style, another class
    picture = grid_picture(grid, scale=2, pad=2)
    assert picture.shape == ((2 * (H + 2) + 2) * 2, (K * (W + 2) + 2) * 2, 3)
    save_grid_png(grid, tmp_path / "grid.png")
    with Image.open(tmp_path / "grid.png") as image:
        assert image.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(image), picture)


def test_tile_keeps_the_colours_of_an_rgb_grid(model):
    grid = sample_grid(model, rows=2, seed=0)
    picture = imaging.tile(grid, pad=1)
    assert picture.shape == (2 * (H + 1) + 1, K * (W + 1) + 1, 3)
    for r in range(2):
        for c in range(K):
            y, x = 1 + r * (H + 1), 1 + c * (W + 1)
            expected = np.round(grid[r, c] * 255).astype(np.uint8)
            np.testing.assert_array_equal(picture[y : y + H, x : x + W], expected)
    assert (picture[0] == imaging.GAP_GREY).all() and (picture[:, 0] == imaging.GAP_GREY).all()


def test_read_image_of_an_rgb_model(model):
    image = np.random.default_rng(2).random((H, W, C)).astype(np.float32)
    reading = read_image(model, image)
    assert reading.image.shape == reading.reconstruction.shape == (H, W, C)
    assert reading.mu.shape == reading.var.shape == (D,) and reading.probs.shape == (K,)
    expected = model.decode(reading.mu[None], reading.probs[None])[0]
    np.testing.assert_allclose(reading.reconstruction, expected, atol=1e-6)


@pytest.mark.parametrize(("value", "grey"), [(0.0, imaging.PAPER), (1.0, imaging.INK)])
def test_a_grey_sample_grid_is_dark_ink_on_white_paper(value, grey):
    model = FlatGreyModel(value)
    grid = sample_grid(model, rows=2)
    assert grid.shape == (2, COLUMNS_PLAIN, 3, 4, 1)
    picture = grid_picture(grid, scale=1, pad=2)
    assert picture.shape == (2 * 5 + 2, COLUMNS_PLAIN * 6 + 2)  # grey: one channel, no C axis
    cells = np.zeros(picture.shape, bool)
    for r in range(2):
        for c in range(COLUMNS_PLAIN):
            cells[2 + r * 5 : 2 + r * 5 + 3, 2 + c * 6 : 2 + c * 6 + 4] = True
    assert (picture[cells] == grey).all()  # empty paper is white, full ink is near black
    assert (picture[~cells] == imaging.GAP_GREY).all()
    assert imaging.PAPER == 255 and imaging.INK < 32


def test_the_state_keeps_a_decoder_only_model_open():
    state = ExplorerState()
    state.open(Document(FlatGreyModel(0.5), None))
    assert state.decode().shape == (3, 4, 1) and state.slider_kl() is None
    assert state.classify(state.decode()) is None and state.condition() is None
    assert state.slider_range == 3.5 and state.available_kinds() == ("dims",)
    with pytest.raises(RuntimeError):
        state.select(0)
