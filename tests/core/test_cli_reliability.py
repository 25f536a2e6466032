"""The CLI refuses what cannot work before it works, and says so in one line.

Training that would fail late (an output it cannot write, absurd numbers, an unknown device),
SIGTERM during training, unbounded sizes, paths with control characters, usage errors, and a
1-D model through every command.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentlab.cli import main
from latentlab.core import atomic
from latentlab.core.vae import training
from latentlab.core.vae.checkpoint import load_model, save_model

from ..factories import random_record

REPO = Path(__file__).resolve().parents[2]


def _train_args(tiny_dataset, out, *extra: str) -> list[str]:
    return [
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
        "--no-download",
        "--out",
        str(out),
        *extra,
    ]


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if a run starts: these refusals must come before the first step."""

    def refuse(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(training, "run_training", refuse)


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("latentlab: error: ")
    return lines[0].removeprefix("latentlab: error: ")


# --- a 1-D model: whatever train saves, every command opens -----------------------------


@pytest.mark.parametrize("preset", ["seed-cvae", "vae-2d"])
def test_a_1d_model_trains_and_every_command_opens_it(tmp_path, tiny_dataset, capsys, preset):
    model = tmp_path / "one.safetensors"
    args = _train_args(tiny_dataset, model, "--latent-dim", "1")
    args[args.index("seed-cvae")] = preset
    assert main(args) == 0
    assert load_model(model).config.latent_dim == 1
    capsys.readouterr()
    assert main(["info", str(model), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["config"]["latent_dim"] == 1 and info["latent_dim"] == 1

    grid = tmp_path / "grid.png"
    assert main(["manifold", str(model), "--out", str(grid), "--size", "5"]) == 0
    assert "5 images along z1 (a 1-D model: one row)" in capsys.readouterr().out
    with Image.open(grid) as image:  # one row of five 28 x 28 tiles at scale 2
        assert image.height == 2 * 28 and image.width == 5 * 2 * 28
    assert main(["manifold", str(model), "--out", str(grid), "--dims", "0", "1"]) == 1
    assert _one_error_line(capsys) == "--dims needs a model with at least 2 latent dimensions"

    for name in ("walk.gif", "walk.png"):
        assert (
            main(["morph", str(model), "--from", "0", "--to", "1", "--out", str(tmp_path / name)])
            == 0
        )
    samples = tmp_path / "s.npy"
    assert main(["sample", str(model), "--out", str(samples), "--rows", "2"]) == 0
    assert np.isfinite(np.load(samples)).all()


# --- train: checked before the first step -------------------------------------------------


def test_an_output_that_is_a_folder_is_refused_before_training(
    tmp_path, tiny_dataset, capsys, no_training
):
    assert main(_train_args(tiny_dataset, tmp_path)) == 1
    assert _one_error_line(capsys) == (
        f"{tmp_path}: the model could not be saved there (Is a directory); it is a folder; "
        "give a file name; nothing was trained"
    )


def test_an_empty_output_is_refused_before_training(tiny_dataset, capsys, no_training):
    assert main(_train_args(tiny_dataset, "")) == 1
    assert _one_error_line(capsys) == (
        "--out is empty; give the model file's name (NAME.safetensors)"
    )


def test_an_output_in_a_missing_folder_is_refused_before_training(
    tmp_path, tiny_dataset, capsys, no_training
):
    out = tmp_path / "absent" / "m.safetensors"
    assert main(_train_args(tiny_dataset, out)) == 1
    assert _one_error_line(capsys).startswith(
        f"{out}: the model could not be saved there (No such file or directory); the folder"
    )


def test_an_output_in_a_read_only_folder_is_refused_before_training(
    tmp_path, tiny_dataset, capsys, monkeypatch, no_training
):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: make creating a file there fail as for others
        real_mkstemp = atomic.tempfile.mkstemp

        def mkstemp(*args, **kwargs):
            if Path(kwargs.get("dir", "")) == folder:
                raise PermissionError(13, "Permission denied")
            return real_mkstemp(*args, **kwargs)

        monkeypatch.setattr(atomic.tempfile, "mkstemp", mkstemp)
    out = folder / "m.safetensors"
    try:
        assert main(_train_args(tiny_dataset, out)) == 1
    finally:
        folder.chmod(0o755)
    assert _one_error_line(capsys) == (
        f"{out}: the model could not be saved there (Permission denied); "
        "choose a folder you can write to; nothing was trained"
    )
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--kl-weight", "inf", "config field 'kl_weight' must be a finite number, got inf"),
        ("--kl-weight", "nan", "config field 'kl_weight' must be a finite number, got nan"),
        ("--kl-weight", "1e300", "config field 'kl_weight' must be at most 1e+06, got 1e+300"),
        ("--lr", "1e300", "config field 'learning_rate' must be at most 1e+06, got 1e+300"),
        ("--lr", "-1", "config field 'learning_rate' must be positive, got -1.0"),
        ("--epochs", "1000000000", "config field 'epochs' must be at most 10000, got 1000000000"),
        ("--batch-size", "0", "config field 'batch_size' must be positive, got 0"),
        ("--latent-dim", "100000", "latent_dim or num_classes is implausibly large"),
        (
            "--seed",
            str(10**23),
            f"config field 'seed' must be in 0..4294967295, got {10**23}",
        ),
        ("--seed", "-1", "config field 'seed' must be in 0..4294967295, got -1"),
        ("--device", "potato", "unknown device 'potato'; use auto, cpu, cuda (or cuda:N) or mps"),
    ],
)
def test_absurd_training_numbers_are_refused_when_the_config_is_built(
    tmp_path, tiny_dataset, capsys, no_training, option, value, message
):
    args = _train_args(tiny_dataset, tmp_path / "m.safetensors")
    if option == "--device":
        args[args.index("--device") + 1] = value
    else:
        args += [option, value]
    assert main(args) == 1
    assert _one_error_line(capsys) == message


# --- SIGTERM during train ---------------------------------------------------------------

SIGTERM_CHILD = """
import json, sys, time
from latentlab.core.data import datasets as d
files = json.loads(sys.argv[1])
d.register_dataset(d.DatasetSpec(name="tiny", title="Tiny", class_names=tuple("0123456789"),
    files={r: d.FileSpec(*v) for r, v in files.items()}))
if sys.argv[2] == "loading":  # hold the data load until the parent's signal arrives
    def load_dataset(*args, **kwargs):
        print("LOADING", flush=True)
        time.sleep(600)
    d.load_dataset = load_dataset
from latentlab.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize("when", ["training", "loading"])
def test_sigterm_stops_training_and_says_nothing_was_saved(tmp_path, tiny_dataset, when):
    out = tmp_path / "t.safetensors"
    args = _train_args(tiny_dataset, out)
    args[args.index("--epochs") + 1] = "10000"  # far longer than the test waits
    files = {role: [f.filename, f.sha256] for role, f in tiny_dataset.spec.files.items()}
    child = subprocess.Popen(
        [sys.executable, "-c", SIGTERM_CHILD, json.dumps(files), when, *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = "LOADING" if when == "loading" else "epoch   1/10000"
        line = child.stdout.readline()  # blocks until the child is where the test wants it
        assert line.startswith(ready), line
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    last = stderr.splitlines()[-1]
    if when == "loading":
        assert last == (
            "latentlab: stopped by SIGTERM while loading the data; nothing was trained or saved"
        )
    else:
        assert last.startswith("latentlab: stopped by SIGTERM after ")
        assert last.endswith(" epochs; nothing was saved")
    assert not out.exists() and list(tmp_path.glob(".*.tmp")) == []


# --- other commands: sizes bounded, ranges finite, one line each -------------------------


@pytest.fixture
def model_file(tmp_path):
    return save_model(random_record(), tmp_path / "m.safetensors")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sample", "--out", "s.png", "--seed", "-1"], "--seed must be in 0..4,294,967,295, got -1"),
        (["sample", "--out", "s.png", "--rows", "100000"], "--rows must be in 1..100, got 100,000"),
        (["sample", "--out", "s.png", "--rows", "0"], "--rows must be in 1..100, got 0"),
        (["eval", "--iwae", "1000000000"], "--iwae must be in 0..5,000, got 1,000,000,000"),
        (["eval", "--device", "potato"], "unknown device 'potato'; use auto, cpu, cuda (or cuda:N) or mps"),
        (["manifold", "--out", "g.png", "--range", "inf"], "the range must be a number in (0, 1000], got inf"),
        (["manifold", "--out", "g.png", "--range=-inf"], "the range must be a number in (0, 1000], got -inf"),
        (["manifold", "--out", "g.png", "--range", "nan"], "the range must be a number in (0, 1000], got nan"),
        (["manifold", "--out", "g.png", "--range", "1e9"], "the range must be a number in (0, 1000], got 1000000000.0"),
        (["manifold", "--out", "g.png", "--size", "100"], "grid size must be in 2..40, got 100"),
        (["morph", "--from", "0", "--to", "1", "--out", "x.gif", "--frame-ms", "-5"], "--frame-ms must be in 20..60,000, got -5"),
        (["morph", "--from", "0", "--to", "1", "--out", "x.gif", "--steps", "100000"], "--steps must be in 2..200, got 100,000"),
    ],
)  # fmt: skip
def test_sizes_are_bounded_and_ranges_finite(model_file, tmp_path, capsys, argv, message):
    outputs = {"s.png", "g.png", "x.gif"}
    argv = [argv[0], str(model_file), *(str(tmp_path / a) if a in outputs else a for a in argv[1:])]
    assert main(argv) == 1
    assert _one_error_line(capsys) == message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]  # nothing written


# --- paths and usage --------------------------------------------------------------------


def test_a_path_with_a_newline_stays_on_one_line(tmp_path, capsys):
    bad = tmp_path / "two\nlines\x1b[31m.safetensors"
    bad.write_bytes(b"garbage!" * 3)
    assert main(["info", str(bad)]) == 1
    shown = str(tmp_path) + "/two\\nlines\\x1b[31m.safetensors: "
    assert _one_error_line(capsys).startswith(shown)


def test_an_output_path_with_a_newline_stays_on_one_line(model_file, tmp_path, capsys):
    out = tmp_path / "no\nfolder" / "s.png"
    assert main(["sample", str(model_file), "--out", str(out)]) == 1
    line = _one_error_line(capsys)
    assert line.startswith(f"{tmp_path}/no\\nfolder/s.png: could not be written (No such file")


@pytest.mark.parametrize(
    "argv",
    [
        ["train"],
        ["train", "--out"],
        ["train", "--preset", "nope", "--out", "x.safetensors"],
        ["train", "--epochs", "many", "--out", "x.safetensors"],
        ["sample"],
        ["manifold", "m.safetensors", "--out", "g.png", "--dims", "1"],
        ["data", "destroy"],
        ["nonsense"],
        ["--no-such-option"],
    ],
)
def test_usage_errors_fit_in_three_lines(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    wrapped = [row for line in err.splitlines() for row in textwrap.wrap(line, 80)]
    assert len(wrapped) <= 3, err
    top = argv[0].startswith("-") or argv[0] == "nonsense"
    command = "latentlab" if top else f"latentlab {argv[0]}"
    assert err.startswith(f"{command}: error: ")
    assert err.splitlines()[-1] == f"see `{command} --help`"


def test_data_verify_on_a_missing_folder_says_so(tmp_path, capsys):
    missing = tmp_path / "nonexistent"
    assert main(["data", "verify", "--data-dir", str(missing)]) == 1
    assert _one_error_line(capsys) == f"{missing}: the folder does not exist (--data-dir)"
    assert capsys.readouterr().out == ""


def test_data_verify_on_an_empty_folder_names_each_file(tmp_path, capsys):
    assert main(["data", "verify", "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "None" not in out and "BAD  train-images-idx3-ubyte  not found" in out
