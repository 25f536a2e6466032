"""`latentlab morph`: a walk between two test points written as a GIF or a PNG strip."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from latentlab.cli import main
from latentlab.core.explore.imaging import ink_uint8
from latentlab.core.explore.morph import end_at_point, morph
from latentlab.core.vae.checkpoint import save_model
from latentlab.core.vae.latent_model import VaeModel

from ..factories import TINY_CVAE, random_record


@pytest.fixture
def record():
    return random_record(TINY_CVAE, n_test=20, seed=9)


@pytest.fixture
def model_file(record, tmp_path):
    return save_model(record, tmp_path / "m.safetensors")


@pytest.mark.parametrize("slerp", [False, True])
def test_morph_gif_has_the_asked_frames_from_test_point_to_test_point(
    record, model_file, tmp_path, capsys, slerp
):
    out = tmp_path / "walk.gif"
    argv = ["morph", str(model_file), "--from", "3", "--to", "7", "--out", str(out), "--steps", "6"]
    assert main([*argv, "--slerp"] if slerp else argv) == 0
    model, points = VaeModel(record), record.test_encoding
    a, b = end_at_point(model, points, 3), end_at_point(model, points, 7)
    kind = "slerp" if slerp else "linear"
    expected = morph(model, a, b, 6, kind)
    with Image.open(out) as gif:
        assert gif.n_frames == 6
        gif.seek(3)
        frame = np.asarray(gif.convert("L"))[::4, ::4]
    np.testing.assert_array_equal(frame, ink_uint8(expected.frames[3, ..., 0]))
    printed = capsys.readouterr().out
    assert f"{a.label} -> {b.label}, 6 frames, {kind}" in printed


def test_morph_png_is_a_strip(model_file, tmp_path):
    out = tmp_path / "strip.png"
    assert main(["morph", str(model_file), "--from", "0", "--to", "1", "--out", str(out)]) == 0
    with Image.open(out) as strip:
        width, height = strip.size
    assert width > 9 * height  # 10 frames side by side


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--to", "20", "--out", "x.gif"], "outside 0..19"),
        (["--to", "1", "--out", "x.jpg"], ".gif or .png"),
        (["--to", "1", "--out", "x.gif", "--steps", "1"], "steps"),
    ],
)
def test_morph_errors_are_one_line(model_file, tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    assert main(["morph", str(model_file), "--from", "0", *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("latentlab: error:") and message in err and err.count("\n") == 1
