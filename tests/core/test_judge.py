"""The committed judge CNN reads real digits, and the generation benchmark is well formed.

No CNN is trained here: the judge's weights are the ones committed in benchmarks/, and the VAE
graded here is built on the fly from random weights (fast, and enough to check shapes, ranges
and determinism; its numbers mean nothing).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from latentlab.core.vae.checkpoint import save_model
from latentlab.core.vae.config import Config
from latentlab.core.vae.layout import parameter_shapes
from latentlab.core.vae.record import ModelRecord

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import generation_quality  # noqa: E402
from judge import DEFAULT_WEIGHTS, Judge  # noqa: E402


def mnist_dir() -> Path:
    env = os.environ.get("LATENTLAB_TEST_MNIST_DIR")
    return Path(env) if env else REPO.parent / "shared/datasets/mnist"


@pytest.fixture(scope="module")
def judge() -> Judge:
    return Judge(DEFAULT_WEIGHTS)


def random_model(path: Path, *, conditional: bool = True, seed: int = 0) -> Path:
    """A tiny model with random weights, saved as a real model file."""
    config = Config(
        conditional=conditional,
        encoder_hidden=(8,),
        decoder_hidden=(8,),
        classifier_hidden=(8,) if conditional else (),
        latent_dim=3,
        classification_weight=1.0 if conditional else 0.0,
        epochs=1,
    )
    rng = np.random.default_rng(seed)
    weights = {
        name: rng.normal(0, 0.5, shape).astype(np.float32)
        for name, shape in parameter_shapes(config).items()
    }
    metrics = {"test_accuracy": 0.1} if conditional else {}
    return save_model(ModelRecord(config=config, weights=weights, metrics=metrics), path)


def test_judge_metadata_records_training(judge: Judge) -> None:
    for key in ("test_accuracy", "epochs", "seed", "train_time_s"):
        assert key in judge.metadata
    assert float(judge.metadata["test_accuracy"]) >= 0.985
    assert DEFAULT_WEIGHTS.stat().st_size < 1_000_000


def test_judge_reads_real_mnist_test_digits(judge: Judge) -> None:
    folder = mnist_dir()
    if not folder.is_dir():
        pytest.skip(f"MNIST not found at {folder} (set LATENTLAB_TEST_MNIST_DIR to its folder)")
    from latentlab.core.data.datasets import load_test_split

    images, labels = load_test_split("mnist", folder)
    predicted = judge.predict(images[:1000].astype(np.float32) / 255.0)
    assert predicted.shape == (1000,)
    accuracy = float((predicted == labels[:1000]).mean())
    assert accuracy >= 0.98, accuracy


def test_judge_accepts_flat_images_and_rejects_wrong_shapes(judge: Judge) -> None:
    rng = np.random.default_rng(0)
    images = rng.random((5, 28, 28), dtype=np.float32)
    assert np.array_equal(judge.predict(images), judge.predict(images.reshape(5, 784)))
    assert judge.predict(np.zeros((0, 28, 28), np.float32)).shape == (0,)
    with pytest.raises(ValueError, match="shape"):
        judge.predict(np.zeros((2, 27, 27), np.float32))


def test_generation_accuracy_keys_ranges_and_determinism(tmp_path: Path, judge: Judge) -> None:
    path = random_model(tmp_path / "tiny.safetensors")
    first = generation_quality.generation_accuracy(path, judge, samples_per_class=20, seed=3)
    again = generation_quality.generation_accuracy(path, judge, samples_per_class=20, seed=3)
    assert first == again
    assert first["conditional"] is True
    assert first["samples_per_class"] == 20
    assert first["test_accuracy"] == pytest.approx(0.1)
    for key in ("judge_accuracy", "own_accuracy", "worst_class_accuracy", "judge_own_agreement"):
        assert 0.0 <= first[key] <= 1.0, key
    for key in ("judge_per_class", "own_per_class"):
        assert len(first[key]) == 10
        assert all(0.0 <= a <= 1.0 for a in first[key])
    assert np.mean(first["judge_per_class"]) == pytest.approx(first["judge_accuracy"])
    assert first["worst_class_accuracy"] == min(first["judge_per_class"])
    assert first["judge_per_class"][first["worst_class"]] == first["worst_class_accuracy"]
    # A different seed draws different styles.
    other = generation_quality.generation_accuracy(path, judge, samples_per_class=20, seed=4)
    assert other["seed"] == 4
    assert generation_quality.classifier_test_accuracy(path) == pytest.approx(0.1)


def test_generation_uses_the_same_styles_for_every_class(tmp_path: Path) -> None:
    from latentlab.core.vae.checkpoint import load_model

    record = load_model(random_model(tmp_path / "tiny.safetensors"))
    images = generation_quality.generate(record, samples_per_class=4, seed=0)
    assert images.shape == (10, 4, 28, 28)
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert not np.allclose(images[0], images[1])
    # Cut the decoder off from its class inputs: the classes' images must then coincide.
    d = record.config.latent_dim
    record.weights["decoder.layers.0.weight"][:, d:] = 0.0
    blind = generation_quality.generate(record, samples_per_class=4, seed=0)
    np.testing.assert_allclose(blind, np.broadcast_to(blind[:1], blind.shape), atol=1e-6)
    # More samples extend the draw: the first styles stay the same (up to BLAS rounding).
    longer = generation_quality.generate(record, samples_per_class=6, seed=0)
    np.testing.assert_allclose(blind, longer[:, :4], atol=1e-6)


def test_plain_model_reports_not_applicable(tmp_path: Path, judge: Judge) -> None:
    path = random_model(tmp_path / "plain.safetensors", conditional=False)
    result = generation_quality.generation_accuracy(path, judge, samples_per_class=5)
    assert result["conditional"] is False
    assert result["judge_accuracy"] is None and result["own_accuracy"] is None
    assert generation_quality.classifier_test_accuracy(path) is None
    assert "n/a" in generation_quality.format_table([result])


def test_cli_writes_json_and_grid(tmp_path: Path) -> None:
    import json

    path = random_model(tmp_path / "tiny.safetensors")
    out_json, out_png = tmp_path / "r.json", tmp_path / "g.png"
    code = generation_quality.main(
        [str(path), "--samples", "5", "--json", str(out_json), "--grid", str(out_png)]
    )
    assert code == 0
    (result,) = json.loads(out_json.read_text())
    assert result["samples_per_class"] == 5
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
