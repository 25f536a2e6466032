"""`latentlab eval --iwae K`: the importance-weighted likelihood beside the usual test metrics."""

import json

import pytest

from latentlab.cli import main


@pytest.fixture
def trained_file(tmp_path, tiny_dataset, capsys):
    out = tmp_path / "t.safetensors"
    args = ["train", "--preset", "seed-cvae", "--epochs", "1", "--dataset", tiny_dataset.name]
    args += ["--data-dir", str(tiny_dataset.dir), "--device", "cpu", "--out", str(out)]
    assert main(args) == 0
    capsys.readouterr()
    return out


def test_eval_with_iwae_adds_a_tighter_likelihood(trained_file, tiny_dataset, capsys):
    args = ["eval", str(trained_file), "--data-dir", str(tiny_dataset.dir), "--device", "cpu"]
    assert main([*args, "--iwae", "32", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    assert metrics["iwae_k"] == 32
    assert metrics["test_iwae_nll"] < metrics["test_loss"]
    assert main([*args, "--iwae", "4"]) == 0
    assert "test_iwae_nll" in capsys.readouterr().out


def test_eval_without_iwae_has_no_iwae_figure(trained_file, tiny_dataset, capsys):
    args = ["eval", str(trained_file), "--data-dir", str(tiny_dataset.dir), "--device", "cpu"]
    assert main([*args, "--json"]) == 0
    assert "test_iwae_nll" not in json.loads(capsys.readouterr().out)["metrics"]


@pytest.mark.parametrize("k", ["-3", "5001", "1000000000"])
def test_a_sample_count_out_of_bounds_is_a_one_line_error(trained_file, tiny_dataset, capsys, k):
    """Refused before the data is read: 1e9 samples used to be a 32 GB traceback."""
    args = ["eval", str(trained_file), "--data-dir", str(tiny_dataset.dir), "--iwae", k]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err == f"latentlab: error: --iwae must be in 0..5,000, got {int(k):,}\n"
