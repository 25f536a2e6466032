"""`latentlab eval FILE --probes --json`: the probes and disentanglement objects, for a latentlab
model on its data set's test images and for an imported model on its stored images."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from latentlab.cli import main
from latentlab.core import model_files
from latentlab.core.explore.document import Document
from latentlab.core.explore.points import EncodedPoints
from latentlab.core.explore.probe_report import full_job, run_to_end
from latentlab.core.vae.checkpoint import load_model, save_model
from latentlab.core.vae.latent_model import VaeModel

from ..factories import TINY_CVAE, random_record
from .test_latent_model_seam import H, K, RgbModel, W


@pytest.fixture
def tiny_model(tmp_path, tiny_dataset):
    record = random_record(TINY_CVAE.replace(dataset=tiny_dataset.name), n_test=30, seed=3)
    return save_model(record, tmp_path / "tiny.safetensors")


def test_eval_probes_json_on_a_latentlab_model(tiny_model, tiny_dataset, capsys):
    args = ["eval", str(tiny_model), "--data-dir", str(tiny_dataset.dir), "--device", "cpu"]
    assert main([*args, "--json"]) == 0
    assert "probes" not in json.loads(capsys.readouterr().out)  # only when asked for
    assert main([*args, "--probes", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    probes = out["probes"]
    assert {"class", "predicted", "recon_error"} <= set(probes)
    # The tiny images' ink is one 9 x 6 block: every stroke measure is the same, so skipped.
    assert "same value" in out["probes_skipped"]["slant"]
    for name in ("class", "predicted"):
        assert set(probes[name]["linear"]) == {"accuracy"} and set(probes[name]["mlp"]) == {
            "accuracy"
        }
    assert set(probes["recon_error"]["linear"]) == {"r2"}
    assert set(probes["recon_error"]["mlp"]) == {"r2"}
    assert probes["class"]["train_points"] + probes["class"]["test_points"] == 100
    dis = out["disentanglement"]
    assert set(dis["dci"]) == {"disentanglement", "completeness", "informativeness"}
    assert isinstance(dis["mig"], float) and isinstance(dis["sap"], float)
    assert "class" in dis["factors"] and "predicted" not in dis["factors"]
    assert len(dis["per_dimension"]) == TINY_CVAE.latent_dim
    # The same figures as the core's job on the test images (the stored 30 points are not them).
    record = load_model(tiny_model)
    images, labels = tiny_dataset.arrays["test_images"], tiny_dataset.arrays["test_labels"]
    report = run_to_end(full_job(VaeModel(record), record.test_encoding, images, labels))
    expected = json.loads(json.dumps(report.as_dict()))
    assert probes == expected["probes"]
    assert dis == expected["disentanglement"]


def test_eval_probes_text_lists_each_probe_and_the_scores(tiny_model, tiny_dataset, capsys):
    args = ["eval", str(tiny_model), "--data-dir", str(tiny_dataset.dir), "--device", "cpu"]
    assert main([*args, "--probes"]) == 0
    text = capsys.readouterr().out
    assert "probes (100 points, held-out 20 %):" in text
    assert "recon_error: R^2 linear" in text and "class: accuracy linear" in text
    assert "slant: skipped (the same value for every point" in text
    assert "MIG" in text and "DCI disentanglement" in text and "SAP" in text
    assert "z1: carries most" in text


@pytest.fixture
def rgb_with_attributes(tmp_path, monkeypatch):
    """An imported-looking RGB model with 80 stored images and two attribute columns."""
    model = RgbModel()
    n = 80
    rng = np.random.default_rng(5)
    stored = rng.integers(0, 256, (n, H, W, 3), dtype=np.uint8)
    labels = rng.integers(0, K, n).astype(np.uint8)
    mu, var = model.encode(stored / 255.0)
    points = EncodedPoints(mu, np.log(var), labels, model.classify(stored / 255.0))
    attributes = {"planted": 2.0 * mu[:, 1].astype(np.float64), "flat": np.ones(n)}
    images = SimpleNamespace(
        images=stored, labels=labels, class_names=model.class_names, attributes=attributes
    )
    path = tmp_path / "rgb.latentlab"
    path.write_bytes(b"stand-in")
    document = Document(model, points, payload=object(), path=path, images=images, source="onnx")
    monkeypatch.setattr(model_files, "open_document", lambda p: document)
    return document


def test_eval_probes_reads_an_imported_models_attribute_columns(rgb_with_attributes, capsys):
    assert main(["eval", str(rgb_with_attributes.path), "--probes", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    planted = out["probes"]["planted"]
    assert planted["linear"]["r2"] > 0.99  # the column is a linear function of z
    assert "same value" in out["probes_skipped"]["flat"]
    assert "flat" in out["disentanglement"]["skipped"]
    assert "planted" in out["disentanglement"]["factors"]
    assert "slant" in out["probes"]  # strokes measured on the stored images


def test_the_stored_points_are_used_when_they_are_the_images_else_encoded(tiny_dataset):
    from latentlab.core.explore.probe_report import points_for_images

    images, labels = tiny_dataset.arrays["test_images"], tiny_dataset.arrays["test_labels"]
    record = random_record(TINY_CVAE, n_test=len(labels), seed=4)
    model = VaeModel(record)
    stored = EncodedPoints(
        record.test_encoding.mu, record.test_encoding.logvar, labels, record.test_encoding.probs
    )
    assert run_to_end(points_for_images(model, stored, images, labels)) is stored
    encoded = run_to_end(points_for_images(model, record.test_encoding, images, labels))
    mu, var = model.encode(images.astype(np.float32)[..., None] / 255)
    np.testing.assert_allclose(encoded.mu, mu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(encoded.logvar, np.log(var), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(encoded.labels, labels)
    assert encoded.probs is not None and encoded.probs.shape == (len(labels), 10)
