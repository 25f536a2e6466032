"""Every CLI command, through `main()` in-process and, for exit behaviour, a real subprocess."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from latentlab.cli import main
from latentlab.core.explore import imaging
from latentlab.core.explore.sampling import grid_picture, sample_grid
from latentlab.core.vae.checkpoint import load_model, save_model
from latentlab.core.vae.latent_model import VaeModel

from ..factories import TINY_CVAE, TINY_VAE, random_record


@pytest.fixture
def model_file(tmp_path):
    return save_model(random_record(), tmp_path / "m.safetensors")


def test_info_prints_config_and_metrics(model_file, capsys):
    assert main(["info", str(model_file)]) == 0
    out = capsys.readouterr().out
    assert "conditional VAE" in out and "test_accuracy: 0.5" in out


def test_info_json_has_the_documented_keys(model_file, capsys):
    assert main(["info", str(model_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"format_version", "config", "dataset", "metrics", "history"} <= set(data)
    assert data["config"]["latent_dim"] == TINY_CVAE.latent_dim
    assert data["metrics"]["test_accuracy"] == 0.5


def test_errors_are_one_line_with_non_zero_exit(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage!" * 3)
    assert main(["info", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and "Traceback" not in err


def test_subprocess_error_has_no_traceback(tmp_path):
    missing = tmp_path / "absent.safetensors"
    proc = subprocess.run(
        [sys.executable, "-m", "latentlab", "info", str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"latentlab: error: {missing}: no such file"


def test_a_closed_output_pipe_is_a_quiet_exit_not_an_error():
    """`latentlab info FILE | head` closes the pipe early: exit 0, nothing on stderr."""
    code = (
        "import latentlab.cli as cli\n"
        "def info(args):\n"
        "    raise BrokenPipeError(32, 'Broken pipe')\n"
        "cli.COMMANDS['info'] = info\n"
        "raise SystemExit(cli.main(['info', 'x.safetensors']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stderr == ""


@pytest.mark.parametrize("config", [TINY_CVAE, TINY_VAE])
def test_sample_npy_has_the_documented_shape(tmp_path, config, capsys):
    record = random_record(config)
    path = save_model(record, tmp_path / "m.safetensors")
    out = tmp_path / "grid.npy"
    assert main(["sample", str(path), "--out", str(out), "--rows", "3", "--seed", "4"]) == 0
    grid = np.load(out)
    # sample_grid's documented shape: (rows, columns, H, W, C), here 28 x 28 grey
    assert grid.shape == (3, 10, 28, 28, 1) and grid.dtype == np.float32
    assert grid.min() >= 0 and grid.max() <= 1
    np.testing.assert_array_equal(grid, sample_grid(VaeModel(record), rows=3, seed=4))
    again = tmp_path / "again.npy"
    main(["sample", str(path), "--out", str(again), "--rows", "3", "--seed", "4"])
    np.testing.assert_array_equal(np.load(again), grid)
    if config.conditional:  # one style per row: columns differ only by class
        assert not np.allclose(grid[0, 0], grid[0, 1])


def test_sample_png_is_a_grid_image(model_file, tmp_path):
    out = tmp_path / "grid.png"
    assert main(["sample", str(model_file), "--out", str(out), "--rows", "2"]) == 0
    with Image.open(out) as image:
        assert image.width > image.height > 2 * 28
        assert image.mode == "L"
        shown = np.asarray(image)
    grid = sample_grid(VaeModel(load_model(model_file)), rows=2, seed=0)
    np.testing.assert_array_equal(shown, grid_picture(grid, scale=2))


def test_sample_png_is_dark_ink_on_white_paper_like_the_app(model_file, tmp_path):
    out = tmp_path / "grid.png"
    assert main(["sample", str(model_file), "--out", str(out), "--rows", "1"]) == 0
    with Image.open(out) as image:
        shown = np.asarray(image)
    grid = sample_grid(VaeModel(load_model(model_file)), rows=1, seed=0)
    pad, scale = 2, 2
    first = shown[
        pad * scale : (pad + 28) * scale : scale, pad * scale : (pad + 28) * scale : scale
    ]
    values = grid[0, 0, ..., 0]
    np.testing.assert_array_equal(first, imaging.INK_RAMP[np.round(values * 255).astype(int)])
    # more ink is darker: the brightest value is the darkest grey, 0 would be white paper
    assert first.flat[np.argmax(values)] == first.min() and imaging.INK_RAMP[0] == 255
    assert shown[0, 0] == imaging.GAP_GREY  # the gaps between tiles


def test_sample_rejects_other_suffixes(model_file, tmp_path, capsys):
    assert main(["sample", str(model_file), "--out", str(tmp_path / "x.jpg")]) == 1
    assert ".png or .npy" in capsys.readouterr().err


def test_presets_lists_every_preset(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in ("seed-cvae", "vae-2d", "pytorch-vae"):
        assert name in out


def test_train_saves_a_valid_model(tmp_path, tiny_dataset, capsys):
    out = tmp_path / "t.safetensors"
    code = main(
        [
            "train",
            "--preset",
            "seed-cvae",
            "--epochs",
            "2",
            "--latent-dim",
            "3",
            "--dataset",
            tiny_dataset.name,
            "--data-dir",
            str(tiny_dataset.dir),
            "--device",
            "cpu",
            "--no-download",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("epoch") for line in lines) == 2
    record = load_model(out)
    assert record.config.latent_dim == 3 and len(record.history) == 2
    assert record.config.dataset == tiny_dataset.name


def test_train_with_a_missing_dataset_fails_cleanly(tmp_path, capsys):
    code = main(
        [
            "train",
            "--preset",
            "vae-2d",
            "--data-dir",
            str(tmp_path),
            "--no-download",
            "--out",
            str(tmp_path / "x.safetensors"),
        ]
    )
    assert code == 1
    assert "latentlab: error:" in capsys.readouterr().err
    assert not (tmp_path / "x.safetensors").exists()


def test_train_nan_fails_and_saves_nothing(tmp_path, tiny_dataset, capsys):
    out = tmp_path / "nan.safetensors"
    code = main(
        [
            "train",
            "--preset",
            "seed-cvae",
            "--epochs",
            "2",
            "--lr",
            "1e6",
            "--dataset",
            tiny_dataset.name,
            "--data-dir",
            str(tiny_dataset.dir),
            "--device",
            "cpu",
            "--no-download",
            "--out",
            str(out),
        ]
    )
    assert code == 1
    assert "NaN" in capsys.readouterr().err
    assert not out.exists()


def test_eval_recomputes_metrics(tmp_path, tiny_dataset, capsys):
    out = tmp_path / "t.safetensors"
    main(
        [
            "train",
            "--preset",
            "seed-cvae",
            "--epochs",
            "1",
            "--dataset",
            tiny_dataset.name,
            "--data-dir",
            str(tiny_dataset.dir),
            "--device",
            "cpu",
            "--out",
            str(out),
        ]
    )
    capsys.readouterr()
    assert main(["eval", str(out), "--data-dir", str(tiny_dataset.dir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["metrics"]["test_accuracy"] == pytest.approx(data["stored"]["test_accuracy"])
    assert data["metrics"]["test_loss"] == pytest.approx(data["stored"]["test_loss"], rel=1e-4)


def test_data_verify_reports_each_file(tiny_dataset, capsys):
    assert (
        main(
            ["data", "verify", "--dataset", tiny_dataset.name, "--data-dir", str(tiny_dataset.dir)]
        )
        == 0
    )
    assert capsys.readouterr().out.count("ok ") == 4


def test_data_verify_fails_on_a_corrupt_file(tiny_dataset, capsys):
    victim = next(p for p in tiny_dataset.dir.iterdir() if "t10k-labels" in p.name)
    victim.write_bytes(b"corrupt")
    assert (
        main(
            ["data", "verify", "--dataset", tiny_dataset.name, "--data-dir", str(tiny_dataset.dir)]
        )
        == 1
    )
    captured = capsys.readouterr()
    assert "BAD" in captured.out and "failed verification" in captured.err


def test_ctrl_c_cancels_training_and_saves_nothing(tmp_path, tiny_dataset):
    out = tmp_path / "c.safetensors"
    script = (
        "import os, signal, sys\n"
        "import latentlab.core.vae.training as t\n"
        "from latentlab.core.vae.events import EpochEnd\n"
        "orig = t.run_training\n"
        "def run_training(*a, **k):\n"
        "    for e in orig(*a, **k):\n"
        "        yield e\n"
        "        if isinstance(e, EpochEnd) and e.epoch == 1:\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "t.run_training = run_training\n"
        "from latentlab.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    files = {role: [f.filename, f.sha256] for role, f in tiny_dataset.spec.files.items()}
    register = (
        "import json\n"
        "from latentlab.core.data import datasets as d\n"
        f"files = json.loads({json.dumps(files)!r})\n"
        "d.register_dataset(d.DatasetSpec(name='tiny', title='Tiny',\n"
        "    class_names=tuple('0123456789'),\n"
        "    files={r: d.FileSpec(*v) for r, v in files.items()}))\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            register + script,
            "train",
            "--preset",
            "seed-cvae",
            "--epochs",
            "50",
            "--dataset",
            tiny_dataset.name,
            "--data-dir",
            str(tiny_dataset.dir),
            "--device",
            "cpu",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 130, proc.stderr
    assert "cancelled after 1 epochs; nothing was saved" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists() and list(tmp_path.glob("*.tmp")) == []


def test_train_defaults_to_the_apps_preset():
    """The CLI and the training dialog start from the same preset (the bundled model's)."""
    from latentlab.cli import build_parser
    from latentlab.core.vae.config import DEFAULT_PRESET

    args = build_parser().parse_args(["train", "--out", "x.safetensors"])
    assert args.preset == DEFAULT_PRESET
