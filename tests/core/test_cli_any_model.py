"""Every model command on models that are not latentlab's own: RGB, any size, decoder-only.

`model_files.open_document` is the CLI's one door to a model file, so these tests put a fake
imported document behind it: `RgbModel` (5 x 7 RGB, 3 classes, conditional, with encoder and
classifier, stored images) and a decoder-only 4 x 6 RGB model (no encoder, no classes).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from latentlab.cli import main
from latentlab.core import model_files
from latentlab.core.explore.document import Document
from latentlab.core.explore.evaluation import latent_statistics, reconstruction_error
from latentlab.core.explore.imaging import colour_uint8, tile, upscale
from latentlab.core.explore.latent_model import ImageSpec, decode_one
from latentlab.core.explore.morph import MorphEnd, end_at_point, morph
from latentlab.core.explore.points import EncodedPoints
from latentlab.core.explore.sampling import sample_grid

from .test_latent_model_seam import D, H, K, RgbModel, W


class DecoderOnly:
    """An unconditional, unlabelled decoder of 4 x 6 RGB images, with no encoder."""

    latent_dim = 3
    image_spec = ImageSpec(4, 6, 3)
    class_names = ()
    conditional = False
    can_encode = False
    can_classify = False

    def __init__(self) -> None:
        self.w = np.random.default_rng(2).standard_normal((3, 4 * 6 * 3)).astype(np.float32)

    def condition(self, classes):
        raise ValueError("no classes")

    def decode(self, z, condition=None):
        assert condition is None and np.asarray(z).shape[1:] == (3,)
        return (1 / (1 + np.exp(-(np.asarray(z) @ self.w)))).reshape(-1, 4, 6, 3).astype(np.float32)

    def encode(self, images):
        raise ValueError("no encoder")

    def classify(self, images):
        raise ValueError("no classifier")


N = 12


@pytest.fixture
def rgb(tmp_path, monkeypatch):
    """An imported-looking document over RgbModel, with its encoded stored images."""
    model = RgbModel()
    rng = np.random.default_rng(4)
    stored = rng.integers(0, 256, (N, H, W, 3), dtype=np.uint8)
    labels = rng.integers(0, K, N).astype(np.uint8)
    mu, var = model.encode(stored / 255.0)
    points = EncodedPoints(mu, np.log(var), labels, model.classify(stored / 255.0))
    images = SimpleNamespace(images=stored, labels=labels, class_names=model.class_names)
    path = tmp_path / "rgb.latentlab"
    path.write_bytes(b"stand-in")
    document = Document(model, points, payload=object(), path=path, images=images, source="onnx")
    monkeypatch.setattr(model_files, "open_document", lambda p: document)
    return document


@pytest.fixture
def decoder_only(tmp_path, monkeypatch):
    path = tmp_path / "dec.latentlab"
    path.write_bytes(b"stand-in")
    document = Document(DecoderOnly(), None, payload=object(), path=path, source="onnx")
    monkeypatch.setattr(model_files, "open_document", lambda p: document)
    return document


def _read(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB") if image.mode == "P" else image)


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("latentlab: error: "), err
    return err.removeprefix("latentlab: error: ").rstrip("\n")


# --- info -----------------------------------------------------------------------------------


def test_info_json_has_the_keys_of_every_model_kind(rgb, decoder_only, capsys):
    assert main(["info", "whatever.file", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["file"] == "whatever.file" and data["source"] == "onnx"
    assert data["latent_dim"] == 3 and data["image_shape"] == [4, 6, 3]
    assert data["class_names"] is None and data["points"] == 0
    assert "config" not in data and "history" not in data  # native-only keys


def test_info_json_and_text_of_a_labelled_rgb_model(rgb, capsys):
    assert main(["info", "m", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["latent_dim"] == D and data["image_shape"] == [H, W, 3]
    assert data["class_names"] == ["red", "green", "blue"] and data["points"] == N
    assert main(["info", "m"]) == 0
    out = capsys.readouterr().out
    assert (
        "source onnx; latent_dim 4; image_shape 5 x 7 x 3 (RGB); 3 classes: red, green, blue" in out
    )
    assert f"conditional decoder, encoder, classifier, {N} encoded points, {N} stored images" in out


# --- decode ---------------------------------------------------------------------------------


def test_decode_npy_is_the_models_float_image(rgb, tmp_path, capsys):
    out = tmp_path / "x.npy"
    assert main(["decode", "m", "--z=-1,0.5,2,0", "--class", "blue", "--out", str(out)]) == 0
    image = np.load(out)
    z = np.array([-1, 0.5, 2, 0], np.float32)
    assert image.shape == (H, W, 3) and image.dtype == np.float32
    np.testing.assert_array_equal(image, decode_one(rgb.model, z, rgb.model.condition(2)))
    assert "one 5 x 7 RGB image of class blue" in capsys.readouterr().out


def test_decode_png_in_colour_at_the_models_size_or_scaled(rgb, tmp_path):
    z = np.array([0.3, -2, 1, 1], np.float32)
    expected = colour_uint8(decode_one(rgb.model, z, rgb.model.condition(1)))
    out = tmp_path / "x.png"
    assert main(["decode", "m", "--z", "0.3,-2,1,1", "--class", "1", "--out", str(out)]) == 0
    np.testing.assert_array_equal(_read(out), expected)
    assert (
        main(["decode", "m", "--z", "0.3,-2,1,1", "--class=1", "--out", str(out), "--scale", "3"])
        == 0
    )
    shown = _read(out)
    assert shown.shape == (3 * H, 3 * W, 3)
    np.testing.assert_array_equal(shown, upscale(expected, 3))  # crisp blocks, no smoothing


def test_a_vector_starting_with_a_minus_parses_in_both_forms(decoder_only, tmp_path):
    first, second = tmp_path / "a.npy", tmp_path / "b.npy"
    assert main(["decode", "m", "--z", "-1,2,-3", "--out", str(first)]) == 0
    assert main(["decode", "m", "--z=-1, 2, -3", "--out", str(second)]) == 0
    np.testing.assert_array_equal(np.load(first), np.load(second))
    expected = decode_one(decoder_only.model, np.array([-1, 2, -3], np.float32), None)
    np.testing.assert_array_equal(np.load(first), expected)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--z=1,2"], "--z has 2 values; the model's latent space has 3 dimensions"),
        (["--z=1,2,3,4"], "--z has 4 values; the model's latent space has 3 dimensions"),
        (["--z=1,x,3"], "--z: 'x' is not a number"),
        (["--z=1,inf,3"], "--z: inf is not a finite number"),
        (["--z=1,2,3", "--class", "0"], "--class needs a conditional model; this one decodes without a class"),
        (["--z=1,2,3", "--scale", "0"], "--scale must be in 1..64, got 0"),
    ],
)  # fmt: skip
def test_decode_errors_are_one_line(decoder_only, tmp_path, capsys, extra, message):
    assert main(["decode", "m", "--out", str(tmp_path / "x.png"), *extra]) == 1
    assert _error(capsys) == message
    assert not (tmp_path / "x.png").exists()


def test_decode_class_errors_name_the_classes(rgb, tmp_path, capsys):
    out = str(tmp_path / "x.npy")
    assert main(["decode", "m", "--z=0,0,0,0", "--class", "purple", "--out", out]) == 1
    assert _error(capsys) == (
        "--class 'purple': no class of that name; the classes are red, green, blue "
        "(or give an index 0..2)"
    )
    assert main(["decode", "m", "--z=0,0,0,0", "--class", "3", "--out", out]) == 1
    assert _error(capsys).startswith("--class 3: the class index must be in 0..2")
    assert main(["decode", "m", "--z=0,0,0,0", "--class", "GREEN", "--out", out]) == 0  # any case


# --- sample, manifold, morph ----------------------------------------------------------------


def test_sample_npy_and_png_are_in_colour_at_the_models_size(rgb, tmp_path):
    npy, png = tmp_path / "s.npy", tmp_path / "s.png"
    assert main(["sample", "m", "--out", str(npy), "--rows", "2", "--seed", "3"]) == 0
    grid = np.load(npy)
    assert grid.shape == (2, K, H, W, 3)
    np.testing.assert_array_equal(grid, sample_grid(rgb.model, rows=2, seed=3))
    assert main(["sample", "m", "--out", str(png), "--rows", "2", "--seed", "3"]) == 0
    scale = 8  # the default: about 56 px a tile, ceil(56 / 7)
    np.testing.assert_array_equal(_read(png), tile(grid, scale=scale))


def test_sample_of_one_class_by_name(rgb, tmp_path, capsys):
    out = tmp_path / "s.npy"
    assert main(["sample", "m", "--out", str(out), "--rows", "2", "--class", "green"]) == 0
    grid = np.load(out)
    assert grid.shape == (2, 10, H, W, 3)
    np.testing.assert_array_equal(grid, sample_grid(rgb.model, rows=2, seed=0, class_index=1))
    assert "all of class green" in capsys.readouterr().out


def test_manifold_on_a_decoder_only_model_is_rgb_at_its_size(decoder_only, tmp_path, capsys):
    out = tmp_path / "g.png"
    assert (
        main(
            ["manifold", "m", "--out", str(out), "--size", "3", "--scale", "2", "--dims", "0", "2"]
        )
        == 0
    )
    shown = _read(out)
    assert shown.shape == (3 * 4 * 2, 3 * 6 * 2, 3)
    assert "3 x 3 images over dimensions 0 and 2 (z1, z3)" in capsys.readouterr().out
    z = np.zeros(3, np.float32)
    z[0], z[2] = -2.5, 2.5  # the top-left cell: smallest x, largest y
    np.testing.assert_array_equal(
        shown[:8:2, :12:2], colour_uint8(decode_one(decoder_only.model, z, None))
    )


def test_a_scale_past_the_pixel_budget_is_refused_before_decoding(decoder_only, tmp_path, capsys):
    out = tmp_path / "g.png"
    assert main(["manifold", "m", "--out", str(out), "--size", "40", "--scale", "64"]) == 1
    assert _error(capsys) == (
        "--scale 64 would make 15,360 x 10,240 px; the most is 134,217,728 pixels in all "
        "(choose a smaller --scale)"
    )
    assert not out.exists()


def test_manifold_class_by_name(rgb, tmp_path):
    by_name, by_index = tmp_path / "a.png", tmp_path / "b.png"
    assert main(["manifold", "m", "--out", str(by_name), "--size", "2", "--class", "blue"]) == 0
    assert main(["manifold", "m", "--out", str(by_index), "--size", "2", "--class", "2"]) == 0
    np.testing.assert_array_equal(_read(by_name), _read(by_index))


def test_morph_between_stored_points_of_an_rgb_model(rgb, tmp_path):
    out = tmp_path / "walk.gif"
    assert (
        main(
            [
                "morph",
                "m",
                "--from",
                "1",
                "--to",
                "5",
                "--steps",
                "4",
                "--out",
                str(out),
                "--scale",
                "2",
            ]
        )
        == 0
    )
    model, points = rgb.model, rgb.points
    expected = morph(model, end_at_point(model, points, 1), end_at_point(model, points, 5), 4)
    with Image.open(out) as gif:
        assert gif.n_frames == 4 and gif.size == (2 * W, 2 * H)
        gif.seek(2)
        frame = np.asarray(gif.convert("RGB"))
    np.testing.assert_array_equal(frame, upscale(colour_uint8(expected.frames[2]), 2))


def test_morph_between_vectors_on_a_decoder_only_model(decoder_only, tmp_path, capsys):
    out = tmp_path / "walk.png"
    argv = ["morph", "m", "--from-z", "-1,0,1", "--to-z=2,2,-2", "--steps", "3", "--out", str(out)]
    assert main([*argv, "--scale", "1"]) == 0
    a = MorphEnd(np.array([-1, 0, 1], np.float32), None, "")
    b = MorphEnd(np.array([2, 2, -2], np.float32), None, "")
    expected = morph(decoder_only.model, a, b, 3)
    np.testing.assert_array_equal(_read(out), tile(expected.frames[None]))
    assert "z (-1, 0, 1) -> z (2, 2, -2), 3 frames, linear" in capsys.readouterr().out


def test_morph_from_a_vector_to_a_point_with_a_class(rgb, tmp_path, capsys):
    out = tmp_path / "walk.gif"
    argv = ["morph", "m", "--from-z=0,0,0,0", "--class", "red", "--to", "2", "--out", str(out)]
    assert main(argv) == 0
    assert "z (0, 0, 0, 0) (red) -> test #2 (" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "0", "--to", "1"], "--from needs encoded test points, and this model has none (no encoder); give a latent vector instead: --from-z=v1,v2,..."),
        (["--from-z=0,0", "--to-z=1,1,1"], "--from-z has 2 values; the model's latent space has 3 dimensions"),
        (["--from-z=0,0,0", "--to-z=1,1,1", "--scale", "65"], "--scale must be in 1..64, got 65"),
    ],
)  # fmt: skip
def test_morph_errors_on_a_decoder_only_model(decoder_only, tmp_path, capsys, argv, message):
    assert main(["morph", "m", *argv, "--out", str(tmp_path / "w.gif")]) == 1
    assert _error(capsys) == message
    assert not (tmp_path / "w.gif").exists()


# --- eval -----------------------------------------------------------------------------------


def test_eval_reports_reconstruction_and_latent_statistics(rgb, capsys):
    assert main(["eval", "m", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rec = reconstruction_error(rgb.model, rgb.images.images, rgb.images.labels)
    stats = latent_statistics(rgb.points)
    metrics = data["metrics"]
    assert data["source"] == "onnx" and metrics["recon_images"] == N
    assert metrics["recon_mse"] == pytest.approx(rec.mse) and metrics["recon_mae"] == pytest.approx(
        rec.mae
    )
    assert metrics["active_units"] == stats.active_units
    np.testing.assert_allclose(data["latent"]["kl"], stats.kl)
    np.testing.assert_allclose(data["latent"]["variance"], stats.variance)
    assert main(["eval", "m"]) == 0
    out = capsys.readouterr().out
    assert (
        f"reconstruction of the {N} stored images" in out
        and f"mean squared error {rec.mse:.5f}" in out
    )
    assert f"{stats.active_units} of {D} dimensions active (KL > 0.01 nats)" in out
    assert out.count("    dimension ") == D


def test_eval_of_a_decoder_only_model_has_nothing_to_measure(decoder_only, capsys):
    assert main(["eval", "m"]) == 1
    assert "nothing to evaluate (no reconstruction error: the model has no encoder" in _error(
        capsys
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--iwae", "8"], "--iwae needs a latentlab model's likelihood; an onnx model has none"),
        (["--data-dir", "."], "--data-dir is for latentlab models' data sets; an onnx model is evaluated on the images stored in its file"),
    ],
)  # fmt: skip
def test_eval_refuses_native_only_options(rgb, capsys, extra, message):
    assert main(["eval", "m", *extra]) == 1
    assert _error(capsys) == message
