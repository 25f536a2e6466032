"""Shared fixtures: an isolated dataset cache, a tiny registered dataset, the real MNIST folder."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from latentlab.core.data import datasets
from latentlab.core.data.idx import read_bytes, write_idx

from .factories import tiny_images

MNIST_DIR_ENV = "LATENTLAB_TEST_MNIST_DIR"  # CI points this at its copy of the MNIST IDX files
_DEFAULT_MNIST_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "mnist"


@pytest.fixture(autouse=True)
def _isolated_dataset_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch):
    """No test reads or fills the real user cache, follows the developer's env, or goes online.

    The mirror is a file:// path that does not exist: a download fails at once, offline.
    """
    cache = tmp_path_factory.mktemp("user-cache")
    monkeypatch.setattr(datasets, "user_cache_dir", lambda *args, **kwargs: str(cache))
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv(datasets.MIRRORS_ENV, "file:///nonexistent-latentlab-test-mirror/")


@pytest.fixture(autouse=True)
def _isolated_user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch):
    """Subprocesses (the app started for real, CLI runs) keep their settings in a throwaway
    folder too, never in the user's ~/.config (in-process Qt settings: tests/gui/conftest.py)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))


@pytest.fixture(autouse=True)
def _isolated_user_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch):
    """Directions kept beside read-only models (sidecars) and map caches go to a throwaway
    folder, never into the user's data folder (a bundled model's sidecar would outlive the test)."""
    data = tmp_path_factory.mktemp("xdg-data")
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("LATENTLAB_DIRECTIONS_DIR", str(data / "directions"))


# --- a tiny dataset on disk -----------------------------------------------------------------


@dataclass(frozen=True)
class TinyDataset:
    """A registered dataset whose four gzipped IDX files live in ``dir``."""

    name: str
    dir: Path
    spec: datasets.DatasetSpec
    arrays: dict[str, np.ndarray]  # by role

    def path(self, role: str) -> Path:
        return self.dir / (self.spec.files[role].filename + ".gz")

    def copy_to(self, folder: Path) -> Path:
        """Copy the four files into ``folder`` (created) and return it."""
        folder.mkdir(parents=True, exist_ok=True)
        for role in datasets.ROLES:
            shutil.copy2(self.path(role), folder / self.path(role).name)
        return folder


@pytest.fixture
def tiny_dataset(tmp_path: Path, monkeypatch) -> TinyDataset:
    """300 train / 100 test learnable 28x28 images, registered as dataset "tiny" for this test."""
    rng = np.random.default_rng(1234)
    arrays: dict[str, np.ndarray] = {}
    for split, n in (("train", 300), ("test", 100)):
        labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
        arrays[f"{split}_images"] = tiny_images(labels, rng)
        arrays[f"{split}_labels"] = labels
    folder = tmp_path / "tiny-data"
    folder.mkdir()
    files = {}
    for role, fspec in datasets.MNIST.files.items():
        path = folder / (fspec.filename + ".gz")
        write_idx(path, arrays[role])
        digest = hashlib.sha256(read_bytes(path)).hexdigest()
        files[role] = datasets.FileSpec(fspec.filename, digest)
    spec = datasets.DatasetSpec(
        name="tiny",
        title="Tiny",
        class_names=tuple(str(i) for i in range(10)),
        files=files,
    )
    monkeypatch.setattr(datasets, "DATASETS", dict(datasets.DATASETS))
    datasets.register_dataset(spec)
    return TinyDataset("tiny", folder, spec, arrays)


# --- the real MNIST files -------------------------------------------------------------------


def _has_mnist_files(folder: Path) -> bool:
    return all(
        any((folder / name).is_file() for name in fspec.names)
        for fspec in datasets.MNIST.files.values()
    )


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder with the real MNIST files ($LATENTLAB_TEST_MNIST_DIR or ../shared), else skip.

    A variable that is set but wrong fails the test: a CI misconfiguration must not hide as a skip.
    """
    env = os.environ.get(MNIST_DIR_ENV, "").strip()
    if env:
        folder = Path(env)
        if not _has_mnist_files(folder):
            pytest.fail(f"{MNIST_DIR_ENV}={env} does not hold the four MNIST IDX files")
        return folder
    folder = _DEFAULT_MNIST_DIR.resolve()
    if not _has_mnist_files(folder):
        pytest.skip(
            f"real MNIST not available: no MNIST IDX files in {folder}; "
            f"set {MNIST_DIR_ENV} to a folder holding them"
        )
    return folder
