"""`latentlab eval`: the IWAE's standard error, the likelihood's note, --binarized, and the
aggregate posterior's distance from the prior."""

import json

import pytest

from latentlab.cli import main


@pytest.fixture
def trained_file(tmp_path, tiny_dataset, capsys):
    out = tmp_path / "t.safetensors"
    args = ["train", "--preset", "sharp-cvae", "--epochs", "1", "--dataset", tiny_dataset.name]
    args += ["--data-dir", str(tiny_dataset.dir), "--device", "cpu", "--out", str(out)]
    assert main(args) == 0
    capsys.readouterr()
    return out


def test_eval_reports_the_standard_error_the_note_and_the_density_gain(
    trained_file, tiny_dataset, capsys
):
    args = ["eval", str(trained_file), "--data-dir", str(tiny_dataset.dir), "--device", "cpu"]
    assert main([*args, "--iwae", "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    metrics = out["metrics"]
    assert metrics["test_iwae_se"] > 0 and metrics["binarized"] is False
    assert metrics["test_iwae_nll"] <= metrics["test_marginal_neg_elbo"]
    assert "not the binarised-MNIST figure" in out["likelihood_note"]
    assert "density_gain_nats" in metrics  # training fitted the class mixtures
    assert main([*args, "--iwae", "8", "--binarized"]) == 0
    text = capsys.readouterr().out
    assert "the class is marginalised out" in text
    assert "comparable with published binarised-MNIST figures" in text
    assert "aggregate posterior" in text


def test_binarized_without_iwae_is_a_one_line_error(trained_file, tiny_dataset, capsys):
    args = ["eval", str(trained_file), "--data-dir", str(tiny_dataset.dir), "--binarized"]
    assert main(args) == 1
    assert "add --iwae K" in capsys.readouterr().err
