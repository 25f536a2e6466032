"""`latentlab manifold`: the grid of decoded digits over two latent axes, as a PNG."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from latentlab.cli import main
from latentlab.core.explore.manifold import decode_manifold
from latentlab.core.explore.projection import dims_basis
from latentlab.core.vae.checkpoint import save_model
from latentlab.core.vae.latent_model import VaeModel

from ..factories import TINY_CVAE, TINY_VAE, random_record


@pytest.fixture
def record():
    return random_record(TINY_CVAE, n_test=30, seed=12)


@pytest.fixture
def model_file(record, tmp_path):
    return save_model(record, tmp_path / "m.safetensors")


def test_manifold_png_is_the_core_grid_on_the_chosen_axes_and_class(record, model_file, tmp_path):
    out = tmp_path / "grid.png"
    argv = ["manifold", str(model_file), "--out", str(out), "--size", "4", "--range", "1.5"]
    assert main([*argv, "--dims", "0", "2", "--class", "7", "--gaussian"]) == 0
    model = VaeModel(record)
    grid = decode_manifold(  # the origin (where a model opens), class 7, over dims 0 and 2
        model,
        dims_basis(3).plane(0, 2),
        np.zeros(3, np.float32),
        model.condition(7),
        size=4,
        half_range=1.5,
        spacing="gaussian",
    )
    with Image.open(out) as image:
        shown = np.asarray(image)
    np.testing.assert_array_equal(shown, grid.picture(scale=2))


def test_manifold_defaults_to_the_scatters_axes(tmp_path, capsys):
    path = save_model(random_record(TINY_VAE, n_test=20, seed=1), tmp_path / "v.safetensors")
    assert main(["manifold", str(path), "--out", str(tmp_path / "g.png"), "--size", "3"]) == 0
    assert "3 x 3 images over z1 and z2, even spacing" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--dims", "2", "2"], "two different dimensions in 0..2 (counted from 0), got 2 and 2"),
        (["--dims", "1", "3"], "two different dimensions in 0..2 (counted from 0), got 1 and 3"),
        (["--dims", "-1", "0"], "two different dimensions in 0..2 (counted from 0), got -1 and 0"),
        (["--size", "1"], "grid size"),
        (["--class", "10"], "--class 10: the class index must be in 0..9"),
        (["--class", "seven"], "--class 'seven': no class of that name; the classes are 0, 1,"),
    ],
)
def test_manifold_errors_are_one_line(model_file, tmp_path, capsys, extra, message):
    assert main(["manifold", str(model_file), "--out", str(tmp_path / "g.png"), *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("latentlab: error:") and message in err and err.count("\n") == 1
