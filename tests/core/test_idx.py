"""The IDX reader: round trips, every rejection with a message naming the file, and fuzzing."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latentlab.core.data.idx import content_sha256, read_bytes, read_idx, read_images, read_labels
from latentlab.core.data.idx import write_idx as write_idx_file
from latentlab.core.errors import DataError

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
LABELS = np.array([0, 9, 3, 3, 7], dtype=np.uint8)


def idx_bytes(array: np.ndarray, *, code: int = 0x08, dims: tuple[int, ...] | None = None) -> bytes:
    """Raw IDX bytes, with a header that may lie (for the rejection tests)."""
    dims = array.shape if dims is None else dims
    header = bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    return header + array.tobytes()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_images_and_labels_round_trip(tmp_path: Path, compress: bool) -> None:
    images_path, labels_path = tmp_path / "images", tmp_path / "labels"
    write_idx_file(images_path, IMAGES, gzip=compress)
    write_idx_file(labels_path, LABELS, gzip=compress)
    assert (images_path.read_bytes()[:2] == b"\x1f\x8b") is compress

    images = read_images(images_path)
    labels = read_labels(labels_path)
    assert images.dtype == np.uint8 and images.shape == (5, 28, 28)
    assert labels.dtype == np.uint8 and labels.shape == (5,)
    np.testing.assert_array_equal(images, IMAGES)
    np.testing.assert_array_equal(labels, LABELS)
    # Writable, so torch.from_numpy does not warn and callers may normalise in place.
    assert images.flags.writeable and labels.flags.writeable


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
def test_read_idx_round_trips_every_idx_dtype(tmp_path: Path, dtype: str) -> None:
    array = (np.arange(24).reshape(2, 3, 4) * 37 - 200).astype(dtype)
    path = tmp_path / "a.idx"
    write_idx_file(path, array, gzip=False)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(back, array)


def test_multibyte_values_are_stored_big_endian(tmp_path: Path) -> None:
    path = tmp_path / "a.idx"
    write_idx_file(path, np.array([1, 258], dtype=np.int32), gzip=False)
    assert path.read_bytes() == bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 1, 2])


def test_gzip_is_detected_by_content_not_by_name(tmp_path: Path) -> None:
    gz_named_raw = write(tmp_path, "raw-but-named.gz", idx_bytes(LABELS))
    raw_named_gz = write(tmp_path, "gz-but-named-raw", gzip.compress(idx_bytes(LABELS)))
    np.testing.assert_array_equal(read_labels(gz_named_raw), LABELS)
    np.testing.assert_array_equal(read_labels(raw_named_gz), LABELS)


def test_bytes_are_content_and_hash_ignores_compression(tmp_path: Path) -> None:
    raw = idx_bytes(IMAGES)
    np.testing.assert_array_equal(read_images(raw), IMAGES)
    np.testing.assert_array_equal(read_images(gzip.compress(raw)), IMAGES)
    path = write(tmp_path, "x.gz", gzip.compress(raw))
    assert read_bytes(path) == raw
    assert content_sha256(path) == content_sha256(raw)


def test_write_idx_refuses_dtypes_idx_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="uint16"):
        write_idx_file(tmp_path / "x", np.zeros(3, dtype=np.uint16))
    with pytest.raises(ValueError, match="dimensions"):
        write_idx_file(tmp_path / "x", np.array(3, dtype=np.uint8))


def test_write_idx_gzip_is_deterministic(tmp_path: Path) -> None:
    write_idx_file(tmp_path / "a", LABELS)
    write_idx_file(tmp_path / "b", LABELS)
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


# --- rejections -----------------------------------------------------------------------------

GOOD_IMAGES = idx_bytes(IMAGES)
GOOD_LABELS = idx_bytes(LABELS)

# (file name, bytes, reader, expected words in the first line)
REJECTIONS = [
    ("empty.idx", b"", read_idx, "too short"),
    ("magic.idx", b"\x12\x34" + GOOD_IMAGES[2:], read_images, "not an IDX file"),
    ("magic-labels.idx", b"PK\x03\x04" + GOOD_LABELS[4:], read_labels, "not an IDX file"),
    ("code.idx", b"\x00\x00\x07" + GOOD_LABELS[3:], read_idx, "unknown IDX data type code 0x07"),
    ("float-images.idx", idx_bytes(IMAGES.astype(">f4"), code=0x0D), read_images, "uint8"),
    ("int-labels.idx", idx_bytes(LABELS.astype(">i4"), code=0x0C), read_labels, "uint8"),
    ("labels-as-images.idx", GOOD_LABELS, read_images, "need 3 dimension"),
    ("images-as-labels.idx", GOOD_IMAGES, read_labels, "need 1 dimension"),
    ("no-dims.idx", b"\x00\x00\x08\x00", read_idx, "no dimensions"),
    ("small.idx", idx_bytes(IMAGES[:, :27, :]), read_images, "27 x 28 pixels, expected 28 x 28"),
    ("header.idx", GOOD_IMAGES[:10], read_images, "truncated in the header"),
    ("short.idx", GOOD_IMAGES[:-1], read_images, "truncated: header says 5 x 28 x 28"),
    ("trailing.idx", GOOD_LABELS + b"\x00\x00", read_labels, "2 unexpected bytes after the data"),
    ("lying.idx", idx_bytes(LABELS, dims=(6,)), read_labels, "truncated"),
    ("cut.gz", gzip.compress(GOOD_IMAGES)[:-40], read_images, "gzip data is truncated"),
    ("garbage.gz", b"\x1f\x8b" + bytes(range(200)), read_images, "not valid gzip data"),
    ("crc.gz", gzip.compress(GOOD_LABELS)[:-8] + b"\0" * 8, read_labels, "not valid gzip data"),
    ("label10.idx", idx_bytes(np.array([1, 10, 2, 11], np.uint8)), read_labels, "label 10 at"),
]


@pytest.mark.parametrize(
    ("filename", "data", "reader", "words"), REJECTIONS, ids=[r[0] for r in REJECTIONS]
)
def test_rejections_name_the_file_and_the_problem(
    tmp_path: Path, filename: str, data: bytes, reader, words: str
) -> None:
    path = write(tmp_path, filename, data)
    with pytest.raises(DataError) as info:
        reader(path)
    first, *rest = str(info.value).splitlines()
    assert first.startswith(f"{path}: "), first
    assert words in first
    assert rest, "a second line should say what to do"


def test_labels_outside_the_dataset_classes(tmp_path: Path) -> None:
    path = write(tmp_path, "labels.idx", GOOD_LABELS)
    with pytest.raises(DataError, match="label 9 at index 1 is outside 0-4 \\(2 bad labels\\)"):
        read_labels(path, num_classes=5)
    assert read_labels(path, num_classes=10).max() == 9


def test_missing_file_and_folder_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_idx(tmp_path / "nope.gz")
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path)


def test_name_overrides_the_path_in_messages() -> None:
    with pytest.raises(DataError, match=r"^my-labels: "):
        read_labels(b"\x00\x00\x08\x01", name="my-labels")


# --- fuzzing --------------------------------------------------------------------------------

SEEDS = [
    GOOD_IMAGES,
    gzip.compress(GOOD_IMAGES, mtime=0),
    GOOD_LABELS,
    gzip.compress(GOOD_LABELS, mtime=0),
    idx_bytes(np.arange(6, dtype=">i2"), code=0x0B),
]

_mutation = st.one_of(
    st.tuples(st.just("cut"), st.integers(0, 10_000)),
    st.tuples(st.just("set"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=64)),
)


@st.composite
def mutated_files(draw) -> bytes:
    """A valid file (raw or gzipped) with a few cuts, byte changes and insertions."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for op, *args in draw(st.lists(_mutation, min_size=1, max_size=4)):
        at = args[0] % (len(data) + 1) if op != "append" else len(data)
        if op == "cut":
            del data[at:]
        elif op == "set" and at < len(data):
            data[at] = args[1]
        elif op == "insert":
            data[at:at] = args[1]
        elif op == "append":
            data += args[0]
    return bytes(data)


_any_bytes = st.one_of(
    mutated_files(),
    st.binary(max_size=64),
    st.binary(max_size=64).map(lambda b: b"\x1f\x8b" + b),
    st.binary(max_size=64).map(lambda b: b"\x00\x00\x08" + b),
)


def _only_data_errors(data: bytes) -> None:
    """Each reader either returns a well-formed array or raises DataError, nothing else."""
    for reader in (read_idx, read_images, read_labels):
        try:
            result = reader(data, name="fuzz")
        except DataError as exc:
            assert str(exc).startswith("fuzz: ")
            continue
        if reader is read_images:
            assert result.dtype == np.uint8 and result.shape[1:] == (28, 28)
        elif reader is read_labels:
            assert result.dtype == np.uint8 and result.ndim == 1
            assert result.size == 0 or result.max() < 10


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_any_bytes)
def test_fuzzed_bytes_raise_only_data_error(data: bytes) -> None:
    _only_data_errors(data)


def test_fuzz_seeds_are_valid() -> None:
    """The fuzzer starts from files that parse, so its mutations probe real code paths."""
    for seed in SEEDS:
        assert read_idx(seed).size > 0
