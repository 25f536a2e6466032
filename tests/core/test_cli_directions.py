"""`latentlab directions`: an attribute measured on the test images, two classes, --save and the
list, an imported model's attribute column, and one-line errors."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from latentlab.cli import main
from latentlab.core.explore import direction_store
from latentlab.core.explore.direction_store import read_metadata
from latentlab.core.vae.checkpoint import save_model

from ..factories import TINY_CVAE, random_record


@pytest.fixture(autouse=True)
def _sidecars(tmp_path, monkeypatch):
    monkeypatch.setenv(direction_store.DIRECTIONS_ENV, str(tmp_path / "sidecars"))


def test_classes_prints_the_direction_and_save_keeps_it_in_the_file(tmp_path, capsys):
    path = save_model(random_record(TINY_CVAE, n_test=200), tmp_path / "m.safetensors")
    assert main(["directions", str(path), "--classes", "4,9", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["name"], out["kind"], out["score_name"]) == ("4 → 9", "mean-difference", "accuracy")
    assert 0.0 <= out["score"] <= 1.0 and len(out["vector"]) == TINY_CVAE.latent_dim
    assert out["saved"] is None
    assert direction_store.METADATA_KEY not in read_metadata(path)  # nothing kept without --save

    assert (
        main(["directions", str(path), "--classes", "4,9", "--method", "logistic", "--save"]) == 0
    )
    text = capsys.readouterr().out
    assert "4 → 9: logistic from classes 4 → 9" in text and "kept in the model file" in text
    assert main(["directions", str(path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["directions"]
    assert [(d["name"], d["kind"]) for d in listed] == [("4 → 9", "logistic")]


def test_an_attribute_is_measured_on_the_test_images_found_in_data_dir(
    tmp_path, capsys, tiny_dataset
):
    labels = tiny_dataset.arrays["test_labels"]
    record = random_record(TINY_CVAE.replace(dataset="tiny"), n_test=len(labels))
    rng = np.random.default_rng(5)
    encoding = dataclasses.replace(
        record.test_encoding, labels=labels, mu=rng.standard_normal((len(labels), 3), np.float32)
    )
    record.test_encoding = encoding
    path = save_model(record, tmp_path / "tiny.safetensors")
    data = ["--data-dir", str(tiny_dataset.dir)]
    # Every tiny test image is one 9 x 6 block of ink: its area is the same for all of them.
    assert main(["directions", str(path), "--attribute", "area", *data]) == 1
    assert "'area' has the same value (54) for every point" in capsys.readouterr().err
    argv = ["directions", str(path), "--attribute", "recon-error", *data]
    assert main([*argv, "--json", "--save", "--name", "blur"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["name"] == "blur" and out["kind"] == "regression" and out["score_name"] == "R²"
    assert out["points"] == len(labels) and out["held_out"] == 20
    assert np.isfinite(out["score"]) and len(out["vector"]) == 3
    assert main(["directions", str(path)]) == 0
    assert "blur\tregression\tattribute recon error" in capsys.readouterr().out


def test_an_unknown_attribute_lists_those_there_are(tmp_path, capsys):
    path = save_model(random_record(TINY_CVAE, n_test=50), tmp_path / "m.safetensors")
    assert main(["directions", str(path), "--attribute", "colour"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no such attribute" in err and "slant" in err


@pytest.mark.parametrize(
    ("classes", "problem"),
    [("4", "two classes, as A,B"), ("4,4", "two different classes"), ("4,99", "0..9")],
)
def test_bad_classes_are_one_line(tmp_path, capsys, classes, problem):
    path = save_model(random_record(TINY_CVAE, n_test=50), tmp_path / "m.safetensors")
    assert main(["directions", str(path), "--classes", classes]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and problem in err


def test_an_imported_model_finds_a_column_direction_and_keeps_it_in_a_sidecar(tmp_path, capsys):
    from latentlab.core.imported.importer import ImportRequest, import_model
    from latentlab.core.model_files import open_document
    from tests import onnx_factory as f

    h, w, c, d = 6, 5, 1, 4
    dec = f.write(tmp_path / "dec.onnx", f.decoder(d, h, w, c))
    enc = f.write(tmp_path / "enc.onnx", f.encoder(d, h, w, c))
    images = np.random.default_rng(1).random((40, h, w, c), dtype=np.float32)
    np.savez(tmp_path / "x.npz", images=images)
    plain = open_document(
        import_model(
            ImportRequest(decoder=dec, encoder=enc, data=tmp_path / "x.npz"), tmp_path / "a"
        )
    )
    planted = plain.points.mu.astype(np.float64) @ np.array([1.0, -2.0, 0.5, 0.0])
    csv = tmp_path / "attrs.csv"
    csv.write_text("size\n" + "\n".join(f"{v:.6f}" for v in planted) + "\n")
    request = ImportRequest(decoder=dec, encoder=enc, data=tmp_path / "x.npz", attributes=csv)
    path = import_model(request, tmp_path / "m.latentlab")
    before = path.read_bytes()
    assert main(["directions", str(path), "--attribute", "size", "--save", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["score"] > 0.99  # the column is a linear function of the latents
    expected = np.array([1.0, -2.0, 0.5, 0.0]) / np.linalg.norm([1.0, -2.0, 0.5, 0.0])
    assert float(np.dot(out["vector"], expected)) > 0.99
    assert out["saved"].startswith("in ") and out["saved"].endswith(".json")
    assert path.read_bytes() == before  # an imported file is never rewritten
