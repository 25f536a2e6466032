"""Small, fast stand-ins for real data and models, built in memory for tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentlab.core.data.datasets import Dataset
from latentlab.core.explore.state import ExplorerState
from latentlab.core.vae.config import Config
from latentlab.core.vae.latent_model import vae_document
from latentlab.core.vae.layout import parameter_shapes
from latentlab.core.vae.record import ModelRecord, TestEncoding

TINY_CVAE = Config(
    encoder_hidden=(32,),
    decoder_hidden=(32,),
    classifier_hidden=(32,),
    activation="relu",
    latent_dim=3,
    batch_size=50,
    epochs=2,
    seed=7,
)
TINY_VAE = TINY_CVAE.replace(conditional=False, classifier_hidden=(), latent_dim=2)


def tiny_images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Faint noise plus a bright 9x6 block whose place (2 rows x 5 columns) encodes the label."""
    n = len(labels)
    images = rng.integers(0, 40, size=(n, 28, 28), dtype=np.uint8)
    top = 3 + (labels // 5).astype(int) * 13
    left = 1 + (labels % 5).astype(int) * 5
    pix = np.arange(28)
    rows = (pix >= top[:, None]) & (pix < top[:, None] + 9)
    cols = (pix >= left[:, None]) & (pix < left[:, None] + 6)
    block = rows[:, :, None] & cols[:, None, :]
    images[block] = rng.integers(200, 256, size=int(block.sum()), dtype=np.uint8)
    return images


def tiny_dataset(n_train: int = 400, n_test: int = 100, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    train_labels = rng.integers(0, 10, n_train).astype(np.uint8)
    test_labels = rng.integers(0, 10, n_test).astype(np.uint8)
    return Dataset(
        name="mnist",
        class_names=tuple(str(i) for i in range(10)),
        train_images=tiny_images(train_labels, rng),
        train_labels=train_labels,
        test_images=tiny_images(test_labels, rng),
        test_labels=test_labels,
        source_dir=Path("."),
    )


def random_record(config: Config = TINY_CVAE, n_test: int = 50, seed: int = 0) -> ModelRecord:
    """A structurally valid record with random weights (for file and explorer tests)."""
    rng = np.random.default_rng(seed)
    weights = {
        name: (rng.standard_normal(shape) * 0.3).astype(np.float32)
        for name, shape in parameter_shapes(config).items()
    }
    d, c = config.latent_dim, config.num_classes
    probs = rng.dirichlet(np.ones(c), n_test).astype(np.float32) if config.conditional else None
    encoding = TestEncoding(
        mu=rng.standard_normal((n_test, d)).astype(np.float32),
        logvar=rng.standard_normal((n_test, d)).astype(np.float32) * 0.1 - 1,
        labels=rng.integers(0, c, n_test).astype(np.uint8),
        probs=probs,
    )
    return ModelRecord(
        config=config,
        weights=weights,
        history=[{"epoch": 1, "test": {"recon": 1.0, "kl": 2.0}, "test_accuracy": 0.5}],
        metrics={"test_loss": 3.0, "test_accuracy": 0.5},
        test_encoding=encoding,
    )


def open_state(record: ModelRecord) -> ExplorerState:
    """The explorer state on `record`, opened as the app and the CLI open a model file."""
    state = ExplorerState()
    state.open(vae_document(record))
    return state


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax, for fake classifiers."""
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
