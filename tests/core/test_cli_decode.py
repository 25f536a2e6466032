"""`latentlab decode`, `--version`, class names, scales and output folders on real model files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from latentlab.cli import main
from latentlab.cli.common import join_vector_options
from latentlab.core.explore.imaging import ink_uint8, upscale
from latentlab.core.explore.latent_model import decode_one
from latentlab.core.explore.manifold import decode_manifold
from latentlab.core.explore.morph import end_at_point, morph
from latentlab.core.explore.projection import dims_basis
from latentlab.core.explore.sampling import sample_grid
from latentlab.core.vae.checkpoint import save_model
from latentlab.core.vae.latent_model import VaeModel

from ..factories import TINY_CVAE, TINY_VAE, random_record

FASHION = TINY_CVAE.replace(dataset="fashion-mnist")


@pytest.fixture
def fashion(tmp_path):
    record = random_record(FASHION, n_test=20, seed=3)
    return record, save_model(record, tmp_path / "fashion.safetensors")


def test_decode_a_native_model_to_npy_and_png(fashion, tmp_path, capsys):
    record, path = fashion
    z = np.array([-0.5, 1.0, 2.0], np.float32)
    model = VaeModel(record)
    expected = decode_one(model, z, model.condition(5))
    npy, png = tmp_path / "x.npy", tmp_path / "x.png"
    assert (
        main(["decode", str(path), "--z", "-0.5,1,2", "--class", "sandal", "--out", str(npy)]) == 0
    )
    assert "one 28 x 28 grey image of class Sandal" in capsys.readouterr().out
    image = np.load(npy)
    assert image.shape == (28, 28, 1) and image.dtype == np.float32
    np.testing.assert_array_equal(image, expected)
    assert (
        main(["decode", str(path), "--z=-0.5,1,2", "--class=5", "--out", str(png), "--scale", "2"])
        == 0
    )
    with Image.open(png) as shown:
        assert shown.mode == "L" and shown.size == (56, 56)
        np.testing.assert_array_equal(np.asarray(shown), upscale(ink_uint8(expected[..., 0]), 2))


def test_decode_without_class_on_a_conditional_model_says_it_took_class_0(
    fashion, tmp_path, capsys
):
    _, path = fashion
    assert main(["decode", str(path), "--z=0,0,0", "--out", str(tmp_path / "x.npy")]) == 0
    assert "of class T-shirt/top (the default; choose with --class)" in capsys.readouterr().out


def test_an_index_is_a_class_only_when_no_class_has_that_name(tmp_path):
    """MNIST's classes are named "0".."9": the name and the index agree; Fashion's are not."""
    record = random_record(TINY_CVAE, n_test=10, seed=1)
    path = save_model(record, tmp_path / "m.safetensors")
    out = tmp_path / "s.npy"
    assert main(["sample", str(path), "--out", str(out), "--rows", "1", "--class", "7"]) == 0
    np.testing.assert_array_equal(
        np.load(out), sample_grid(VaeModel(record), rows=1, seed=0, class_index=7)
    )


def test_the_class_by_name_works_in_manifold_too(fashion, tmp_path):
    record, path = fashion
    out = tmp_path / "g.png"
    argv = ["manifold", str(path), "--out", str(out), "--size", "3", "--dims", "0", "1"]
    assert main([*argv, "--class", "Ankle boot", "--scale", "1"]) == 0
    model = VaeModel(record)
    grid = decode_manifold(
        model, dims_basis(3).plane(0, 1), np.zeros(3, np.float32), model.condition(9), size=3,
        half_range=2.5,
    )  # fmt: skip
    with Image.open(out) as image:
        np.testing.assert_array_equal(np.asarray(image), grid.picture())


def test_info_json_of_a_native_model_has_the_common_keys_and_its_own(fashion, capsys):
    record, path = fashion
    assert main(["info", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["source"] == "native" and data["latent_dim"] == 3
    assert data["image_shape"] == [28, 28, 1]
    assert data["class_names"] == list(record.class_names) and "Sandal" in data["class_names"]
    assert data["config"]["dataset"] == "fashion-mnist" and data["file"] == str(path)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        "source native; latent_dim 3; image_shape 28 x 28 x 1 (grey); 10 classes: T-shirt/top"
        in out
    )
    assert "conditional VAE" in out and "test_accuracy: 0.5" in out


def test_gif_frames_are_scaled_by_whole_pixels_with_the_chosen_scale(fashion, tmp_path):
    record, path = fashion
    out = tmp_path / "w.gif"
    argv = ["morph", str(path), "--from", "2", "--to", "4", "--steps", "3", "--out", str(out)]
    assert main([*argv, "--scale", "6"]) == 0
    model = VaeModel(record)
    pts = record.test_encoding
    expected = morph(model, end_at_point(model, pts, 2), end_at_point(model, pts, 4), 3)
    with Image.open(out) as gif:
        assert gif.size == (6 * 28, 6 * 28) and gif.n_frames == 3
        gif.seek(1)
        frame = np.asarray(gif.convert("L"))
    np.testing.assert_array_equal(frame, upscale(ink_uint8(expected.frames[1, ..., 0]), 6))


def test_morph_from_vectors_on_a_native_model(tmp_path, capsys):
    path = save_model(random_record(TINY_VAE, n_test=5), tmp_path / "v.safetensors")
    out = tmp_path / "w.png"
    assert main(["morph", str(path), "--from-z", "-1,1", "--to", "3", "--out", str(out)]) == 0
    assert "z (-1, 1) -> test #3, 10 frames" in capsys.readouterr().out


def test_class_on_a_plain_model_and_on_test_point_ends_is_refused(fashion, tmp_path, capsys):
    plain = save_model(random_record(TINY_VAE, n_test=5), tmp_path / "v.safetensors")
    assert main(["sample", str(plain), "--out", str(tmp_path / "s.png"), "--class", "1"]) == 1
    err = capsys.readouterr().err
    assert (
        err
        == "latentlab: error: --class needs a conditional model; this one decodes without a class\n"
    )
    _, path = fashion
    argv = ["morph", str(path), "--from", "0", "--to", "1", "--class", "Bag"]
    assert main([*argv, "--out", str(tmp_path / "w.gif")]) == 1
    assert "--class sets the class of a --from-z / --to-z end" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["sample", "--out", "{out}.png"],
        ["sample", "--out", "{out}.npy"],
        ["manifold", "--out", "{out}.png", "--size", "2"],
        ["morph", "--from", "0", "--to", "1", "--out", "{out}.gif"],
        ["morph", "--from", "0", "--to", "1", "--out", "{out}.png"],
        ["decode", "--z=0,0,0", "--out", "{out}.png"],
        ["decode", "--z=0,0,0", "--out", "{out}.npy"],
    ],
)
def test_an_output_in_a_missing_folder_names_the_output_not_a_temporary_file(
    fashion, tmp_path, capsys, argv
):
    _, path = fashion
    out = tmp_path / "absent" / "picture"
    argv = [argv[0], str(path), *(a.format(out=out) for a in argv[1:])]
    assert main(argv) == 1
    err = capsys.readouterr().err
    target = argv[argv.index("--out") + 1]
    assert err == (
        f"latentlab: error: {target}: could not be written (No such file or directory); "
        "the folder does not exist; create it or choose another\n"
    )
    assert ".tmp" not in err


def test_vector_options_are_joined_only_before_a_negative_value():
    argv = ["decode", "m", "--z", "-1,2", "--out", "x.png", "--from-z", "0,1", "--to-z", "-.5"]
    assert join_vector_options(argv) == [
        "decode", "m", "--z=-1,2", "--out", "x.png", "--from-z", "0,1", "--to-z=-.5",
    ]  # fmt: skip
    assert join_vector_options(["--", "--z", "-1"]) == ["--", "--z", "-1"]


def test_version_is_printed_and_exits_zero(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("latentlab ") and out.count("\n") == 1


def test_version_from_the_installed_command():
    from importlib.metadata import version

    proc = subprocess.run(
        [sys.executable, "-m", "latentlab", "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout == f"latentlab {version('latentlab')}\n"
