"""Datasets by name: where files are found, how they are verified, what errors say, real MNIST."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from latentlab.core.data import datasets
from latentlab.core.data.datasets import (
    ROLES,
    FileSpec,
    fetch,
    get_spec,
    load_dataset,
    load_test_split,
    locate,
    register_dataset,
    search_dirs,
    verify,
)
from latentlab.core.data.idx import read_idx, write_idx
from latentlab.core.errors import DataError, LatentlabError

FOUR_FILES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]


def with_system_dir(tiny, folder: Path) -> None:
    register_dataset(dataclasses.replace(tiny.spec, system_dirs=(str(folder),)))


def corrupt(path: Path) -> None:
    """Replace a file with a valid IDX file of the same shape but other content."""
    array = read_idx(path)
    array.flat[0] ^= 1
    write_idx(path, array)


# --- the built-in datasets ------------------------------------------------------------------


def test_builtin_specs() -> None:
    mnist, fashion = get_spec("mnist"), get_spec("fashion-mnist")
    assert mnist.class_names == tuple("0123456789")
    assert fashion.class_names == (
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
    for spec in (mnist, fashion):
        assert [spec.files[r].filename for r in ROLES] == FOUR_FILES
        assert spec.mirrors and all(m.startswith("http") for m in spec.mirrors)
    assert fashion.system_dirs == ("/usr/share/datasets/fashion-mnist",)
    assert len({f.sha256 for s in (mnist, fashion) for f in s.files.values()}) == 8


def test_mnist_checksums_agree_with_the_shared_sums_file(mnist_dir: Path) -> None:
    sums_file = mnist_dir / "SHA256SUMS.raw"
    if not sums_file.exists():
        pytest.skip(f"no {sums_file}")
    sums = dict(reversed(line.split()) for line in sums_file.read_text().splitlines() if line)
    assert {f.filename: f.sha256 for f in get_spec("mnist").files.values()} == sums


def test_names_are_forgiving_about_case_and_underscores() -> None:
    assert get_spec("MNIST").name == "mnist"
    assert get_spec(" Fashion_MNIST ").name == "fashion-mnist"


def test_unknown_dataset_names_the_known_ones() -> None:
    with pytest.raises(DataError, match=r"Unknown dataset 'cifar'; known datasets: .*mnist"):
        get_spec("cifar")
    with pytest.raises(DataError, match="fashion-mnist, mnist"):
        load_dataset("cifar")


def test_register_dataset_checks_the_spec(tiny_dataset) -> None:
    files = dict(tiny_dataset.spec.files)
    del files["test_labels"]
    with pytest.raises(ValueError, match="files must be exactly"):
        register_dataset(dataclasses.replace(tiny_dataset.spec, files=files))
    files = {**tiny_dataset.spec.files, "test_labels": FileSpec("x", "ABC")}
    with pytest.raises(ValueError, match="sha256"):
        register_dataset(dataclasses.replace(tiny_dataset.spec, files=files))


def test_data_errors_are_latentlab_errors() -> None:
    assert issubclass(DataError, LatentlabError)


# --- loading --------------------------------------------------------------------------------


def test_load_tiny_dataset(tiny_dataset) -> None:
    ds = load_dataset("tiny", tiny_dataset.dir)
    assert ds.name == "tiny" and ds.num_classes == 10
    assert ds.source_dir == tiny_dataset.dir
    assert ds.train_images.shape == (300, 28, 28) and ds.test_images.shape == (100, 28, 28)
    for role in ROLES:
        got = getattr(ds, role)
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, tiny_dataset.arrays[role])


def test_raw_and_gzipped_files_are_both_accepted(tiny_dataset, tmp_path: Path) -> None:
    folder = tiny_dataset.copy_to(tmp_path / "mixed")
    for role in ("train_images", "test_labels"):  # unpack two of the four
        gz = folder / (tiny_dataset.spec.files[role].filename + ".gz")
        gz.with_suffix("").write_bytes(gzip.decompress(gz.read_bytes()))
        gz.unlink()
    ds = load_dataset("tiny", folder)
    np.testing.assert_array_equal(ds.train_images, tiny_dataset.arrays["train_images"])
    np.testing.assert_array_equal(ds.test_labels, tiny_dataset.arrays["test_labels"])


def test_a_bad_raw_copy_beside_a_good_gz_does_not_block_loading(tiny_dataset) -> None:
    gz = tiny_dataset.path("train_labels")
    gz.with_suffix("").write_bytes(b"junk")
    assert load_dataset("tiny", tiny_dataset.dir).train_labels.shape == (300,)


def test_load_test_split_needs_only_the_two_test_files(tiny_dataset, tmp_path: Path) -> None:
    folder = tmp_path / "test-only"
    folder.mkdir()
    for role in ("test_images", "test_labels"):
        (folder / tiny_dataset.path(role).name).write_bytes(tiny_dataset.path(role).read_bytes())
    images, labels = load_test_split("tiny", folder)
    np.testing.assert_array_equal(images, tiny_dataset.arrays["test_images"])
    np.testing.assert_array_equal(labels, tiny_dataset.arrays["test_labels"])
    with pytest.raises(DataError, match="Tiny data not found") as info:
        load_dataset("tiny", folder)
    assert "missing train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz)" in str(info.value)


def test_image_and_label_counts_must_agree(tiny_dataset) -> None:
    path = tiny_dataset.path("test_labels")
    write_idx(path, tiny_dataset.arrays["test_labels"][:99])
    files = dict(tiny_dataset.spec.files)
    files["test_labels"] = FileSpec(files["test_labels"].filename, _sha(path))
    register_dataset(dataclasses.replace(tiny_dataset.spec, files=files))
    with pytest.raises(DataError) as info:
        load_dataset("tiny", tiny_dataset.dir)
    first = str(info.value).splitlines()[0]
    assert first == (
        "t10k-images-idx3-ubyte.gz has 100 images but t10k-labels-idx1-ubyte.gz has 99 labels"
    )


def test_labels_must_be_classes_of_the_dataset(tiny_dataset) -> None:
    register_dataset(dataclasses.replace(tiny_dataset.spec, class_names=("a", "b", "c")))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz: label \d+ at index \d+ is"):
        load_dataset("tiny", tiny_dataset.dir)


def _sha(path: Path) -> str:
    return hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()


# --- where files are found ------------------------------------------------------------------


def test_cache_folder_comes_from_platformdirs(tiny_dataset, tmp_path: Path, monkeypatch) -> None:
    calls = []

    def fake_cache_dir(appname: str, **kwargs) -> str:
        calls.append(appname)
        return str(tmp_path / "platform-cache")

    monkeypatch.setattr(datasets, "user_cache_dir", fake_cache_dir)
    assert datasets.cache_dir("tiny") == tmp_path / "platform-cache" / "datasets" / "tiny"
    assert calls == ["latentlab"]


def test_search_order_explicit_then_cache_then_system(
    tiny_dataset, tmp_path: Path, monkeypatch
) -> None:
    explicit = tiny_dataset.copy_to(tmp_path / "explicit")
    cache = tiny_dataset.copy_to(datasets.cache_dir("tiny"))
    system = tiny_dataset.copy_to(tmp_path / "system")
    with_system_dir(tiny_dataset, system)

    assert search_dirs("tiny", explicit) == [explicit, cache, system]
    assert search_dirs("tiny") == [cache, system]
    assert locate("tiny", explicit) == explicit
    assert locate("tiny") == cache
    monkeypatch.setenv("LATENTLAB_DATA_DIR", str(explicit))
    assert locate("tiny") == explicit
    other = tiny_dataset.copy_to(tmp_path / "argument")
    assert locate("tiny", other) == other, "the argument beats the environment"
    monkeypatch.delenv("LATENTLAB_DATA_DIR")
    for path in cache.iterdir():
        path.unlink()
    assert locate("tiny") == system
    assert load_dataset("tiny").source_dir == system


def test_a_data_dir_may_hold_one_subfolder_per_dataset(tiny_dataset, tmp_path: Path) -> None:
    root = tmp_path / "data"
    sub = tiny_dataset.copy_to(root / "tiny")
    (root / "train-images-idx3-ubyte.gz").write_bytes(b"another dataset's file")
    assert search_dirs("tiny", root)[:2] == [sub, root]
    assert locate("tiny", root) == sub


def test_a_folder_with_a_bad_file_is_skipped_for_the_next(
    tiny_dataset, tmp_path: Path, caplog
) -> None:
    explicit = tiny_dataset.copy_to(tmp_path / "explicit")
    cache = tiny_dataset.copy_to(datasets.cache_dir("tiny"))
    corrupt(explicit / "t10k-images-idx3-ubyte.gz")
    assert locate("tiny", explicit) == cache
    assert "t10k-images-idx3-ubyte.gz: content does not match" in caplog.text


def test_checksum_mismatch_names_the_file(tiny_dataset) -> None:
    bad = tiny_dataset.path("train_images")
    corrupt(bad)
    with pytest.raises(DataError) as info:
        load_dataset("tiny", tiny_dataset.dir)
    first = str(info.value).splitlines()[0]
    assert first.startswith(f"{bad}: content does not match Tiny train-images-idx3-ubyte")
    assert "SHA-256" in first


def test_a_damaged_file_is_reported_with_its_name(tiny_dataset) -> None:
    bad = tiny_dataset.path("train_labels")
    bad.write_bytes(bad.read_bytes()[:-10])
    with pytest.raises(DataError) as info:
        locate("tiny", tiny_dataset.dir)
    assert (
        str(info.value).splitlines()[0]
        == f"{bad}: gzip data is truncated (an interrupted download?)"
    )


def test_missing_files_message_lists_what_was_tried_and_what_to_do(
    tiny_dataset, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    system = tmp_path / "no-such-system-dir"
    with_system_dir(tiny_dataset, system)
    with pytest.raises(DataError) as info:
        load_dataset("tiny", empty)
    message = str(info.value)
    first = message.splitlines()[0]
    assert first == "Tiny data not found (looked in 3 folders)"
    assert f"{empty} [--data-dir]: none of the files" in message
    assert f"{datasets.cache_dir('tiny')} [user cache]: folder does not exist" in message
    assert f"{system} [system folder]: folder does not exist" in message
    for name in FOUR_FILES:
        assert name + ".gz" in message
    assert "--data-dir FOLDER or set LATENTLAB_DATA_DIR=FOLDER" in message


def test_env_data_dir_is_named_in_the_message(tiny_dataset, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LATENTLAB_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=r"nowhere \[LATENTLAB_DATA_DIR\]: folder does not exist"):
        locate("tiny")


# --- verify and fetch -----------------------------------------------------------------------


def test_verify_reports_each_file(tiny_dataset) -> None:
    checks = verify("tiny", tiny_dataset.dir)
    assert [c.role for c in checks] == list(ROLES)
    assert all(c.ok and c.message == "ok" for c in checks)
    assert checks[0].path == tiny_dataset.path("train_images")

    corrupt(tiny_dataset.path("test_images"))
    tiny_dataset.path("test_labels").unlink()
    checks = {c.role: c for c in verify("tiny", tiny_dataset.dir)}
    assert checks["train_images"].ok and checks["train_labels"].ok
    assert (
        not checks["test_images"].ok and "content does not match" in checks["test_images"].message
    )
    assert not checks["test_labels"].ok and checks["test_labels"].path is None
    assert checks["test_labels"].message.startswith("missing: no t10k-labels-idx1-ubyte or")


def test_verify_with_a_data_dir_checks_only_that_folder(tiny_dataset, tmp_path: Path) -> None:
    tiny_dataset.copy_to(datasets.cache_dir("tiny"))  # good copy elsewhere must not hide problems
    checks = verify("tiny", tmp_path / "nowhere")
    assert not any(c.ok for c in checks)
    assert all("not found in any of" in c.message for c in checks)
    assert all(c.ok for c in verify("tiny"))


def test_fetch_into_an_unwritable_folder_says_so(tiny_dataset, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DataError, match=r"^Cannot write to the dataset folder .*a-file/tiny"):
        fetch("tiny", blocker / "tiny", mirrors=["http://127.0.0.1:9/"])


def test_fetch_without_mirrors_explains_the_manual_route(tiny_dataset, monkeypatch) -> None:
    monkeypatch.delenv("LATENTLAB_MIRRORS")
    with pytest.raises(DataError, match="No download mirrors are known for Tiny") as info:
        fetch("tiny")
    assert "train-images-idx3-ubyte.gz" in str(info.value)


# --- real data ------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_mnist(mnist_dir: Path) -> None:
    ds = load_dataset("mnist", mnist_dir)
    assert ds.train_images.shape == (60000, 28, 28) and ds.test_images.shape == (10000, 28, 28)
    assert ds.train_labels.shape == (60000,) and ds.test_labels.shape == (10000,)
    assert ds.train_images.dtype == np.uint8 and ds.train_labels.dtype == np.uint8
    assert ds.train_labels.min() == 0 and ds.train_labels.max() == 9
    assert set(np.unique(ds.test_labels)) == set(range(10))
    assert ds.train_images.mean() / 255 == pytest.approx(0.1307, abs=5e-4)
    assert ds.source_dir == mnist_dir


def test_real_fashion_mnist_from_the_system_folder() -> None:
    folder = Path("/usr/share/datasets/fashion-mnist")
    if not folder.is_dir():
        pytest.skip(f"{folder} not installed (Debian package dataset-fashion-mnist)")
    images, labels = load_test_split("fashion-mnist")
    assert images.shape == (10000, 28, 28)
    assert np.bincount(labels).tolist() == [1000] * 10


def test_core_data_modules_import_no_qt_and_do_no_work() -> None:
    code = (
        "import sys; import latentlab.core.data.datasets, latentlab.core.data.download;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'superqt')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
