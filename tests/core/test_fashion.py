"""Fashion-MNIST: class names follow the dataset, the Debian package verifies, the bundled model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from latentlab.core.bundled import models_dir
from latentlab.core.data.datasets import FASHION_MNIST, default_class_names, verify
from latentlab.core.vae.checkpoint import METADATA_KEY, load_model, save_model
from latentlab.core.vae.record import ModelRecord

from ..factories import TINY_CVAE, random_record

FASHION_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")  # apt-get install dataset-fashion-mnist
BUNDLED = models_dir() / "fashion-cvae.safetensors"


def test_the_registry_names_fashion_classes():
    assert FASHION_MNIST.class_names == FASHION_NAMES
    assert default_class_names("fashion-mnist", 10) == FASHION_NAMES
    assert default_class_names("Fashion_MNIST", 10) == FASHION_NAMES
    assert default_class_names("mnist", 10) == tuple("0123456789")
    assert default_class_names("fashion-mnist", 3) == ("0", "1", "2")  # not that dataset's shape
    assert default_class_names("my-own", 4) == ("0", "1", "2", "3")


def test_a_record_without_names_takes_its_datasets_names():
    record = random_record(TINY_CVAE.replace(dataset="fashion-mnist"))
    fresh = ModelRecord(config=record.config, weights=record.weights)
    assert fresh.class_names == FASHION_NAMES
    digits = ModelRecord(config=TINY_CVAE, weights=record.weights)
    assert digits.class_names == tuple("0123456789")
    named = ModelRecord(
        config=record.config, weights=record.weights, class_names=tuple("abcdefghij")
    )
    assert named.class_names == tuple("abcdefghij")


def test_a_file_that_stores_no_names_opens_with_the_datasets_names(tmp_path):
    path = save_model(random_record(TINY_CVAE.replace(dataset="fashion-mnist")), tmp_path / "f.st")
    tensors = load_file(path)
    with safe_open(path, "np") as f:
        stored = f.metadata()
    meta = json.loads(stored[METADATA_KEY])
    assert meta.pop("class_names") == list(FASHION_NAMES)
    older = tmp_path / "older.safetensors"
    save_file(tensors, older, metadata={METADATA_KEY: json.dumps(meta)})
    assert load_model(older).class_names == FASHION_NAMES


@pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason=f"{DEBIAN_DIR} absent (dataset-fashion-mnist)")
def test_the_debian_package_files_match_the_registry_checksums():
    checks = verify("fashion-mnist", DEBIAN_DIR)
    assert [c.ok for c in checks] == [True] * 4, [c.message for c in checks]
    assert all(c.path is not None and c.path.parent == DEBIAN_DIR for c in checks)


@pytest.mark.skipif(not BUNDLED.is_file(), reason=f"bundled model {BUNDLED} not present")
def test_the_bundled_fashion_model_loads_with_fashion_class_names():
    record = load_model(BUNDLED)
    assert record.config.dataset == "fashion-mnist" and record.config.conditional
    assert record.class_names == FASHION_NAMES
    assert record.metrics["test_accuracy"] >= 0.85
    encoding = record.test_encoding
    assert encoding is not None and len(encoding) == 10_000
    assert set(np.unique(encoding.labels)) == set(range(10))
    # The stored classifier outputs agree with the stored accuracy.
    accuracy = float(np.mean(encoding.predicted == encoding.labels))
    assert accuracy == pytest.approx(record.metrics["test_accuracy"], abs=1e-3)
    assert BUNDLED.stat().st_size < 8_000_000
