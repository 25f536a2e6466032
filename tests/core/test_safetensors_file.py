"""The bounded safetensors reader: tensors are views into the one buffer read, checked like
safetensors checks them, and a file is held in memory once."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from safetensors.numpy import save

from latentlab.core.errors import ModelFileError
from latentlab.core.safetensors_file import read_safetensors


def _write(path, header: dict, data: bytes) -> None:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)


def test_tensors_round_trip_as_writable_views_of_one_buffer(tmp_path):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.array([1, 2, 250], dtype=np.uint8)
    path = tmp_path / "m.safetensors"
    path.write_bytes(save({"a": a, "b": b}, metadata={"k": "v"}))
    file = read_safetensors(path, max_bytes=1 << 20, what="a test")
    np.testing.assert_array_equal(file.tensors["a"], a)
    np.testing.assert_array_equal(file.tensors["b"], b)
    assert file.tensors["a"].dtype == np.float32 and file.metadata == {"k": "v"}
    assert not file.tensors["a"].flags.owndata and not file.tensors["b"].flags.owndata  # views
    file.tensors["a"][0, 0] = 5.0  # writable (callers may normalise in place)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"dtype": "X9", "shape": [2], "data_offsets": [0, 8]}, "unknown number type"),
        ({"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}, "does not fit its bytes"),
        ({"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}, "no valid shape"),
        ({"dtype": "F32", "shape": "2", "data_offsets": [0, 8]}, "no valid shape"),
    ],
)
def test_a_bad_tensor_entry_is_refused_naming_the_tensor(tmp_path, entry, problem):
    path = tmp_path / "bad.safetensors"
    _write(path, {"t": entry}, bytes(8))
    with pytest.raises(ModelFileError, match=problem) as err:
        read_safetensors(path, max_bytes=1 << 20, what="a test")
    assert "bad.safetensors" in str(err.value) and "'t'" in str(err.value)


def test_overlapping_tensors_are_refused(tmp_path):
    path = tmp_path / "overlap.safetensors"
    entry = {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}
    _write(path, {"a": entry, "b": {**entry, "data_offsets": [2, 6]}}, bytes(6))
    with pytest.raises(ModelFileError, match="overlaps another array or leaves a gap"):
        read_safetensors(path, max_bytes=1 << 20, what="a test")


def test_a_large_file_is_held_in_memory_once(tmp_path):
    """Peak memory while reading a 300 MB file stays near one copy of it (it was two)."""
    size = 300 * 1024 * 1024
    path = tmp_path / "big.safetensors"
    header = json.dumps({"t": {"dtype": "U8", "shape": [size], "data_offsets": [0, size]}})
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(header)) + header.encode())
        f.truncate(f.tell() + size)  # sparse zeros: cheap to make
    script = textwrap.dedent(
        f"""
        import resource
        from latentlab.core.safetensors_file import read_safetensors
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        file = read_safetensors({str(path)!r}, max_bytes=1 << 30, what="a test")
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(len(file.tensors["t"]), (after - before) * 1024)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[0]) == size
    assert int(out[1]) < 1.25 * size, f"peak grew by {int(out[1]) / size:.2f}x the file size"


def test_a_streamed_file_reads_back_here_and_in_safetensors(tmp_path):
    import io

    from safetensors.numpy import load

    from latentlab.core.safetensors_file import stream_safetensors

    tensors = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": np.array([3, -4], dtype=np.int32),
        "empty": np.zeros((0, 4), np.uint8),
        "c": np.frombuffer(b"xyz", dtype=np.uint8),
    }
    buffer = io.BytesIO()
    stream_safetensors(buffer, tensors, {"k": "v"})
    path = tmp_path / "s.safetensors"
    path.write_bytes(buffer.getvalue())
    ours = read_safetensors(path, max_bytes=1 << 20, what="a test")
    theirs = load(buffer.getvalue())
    assert ours.metadata == {"k": "v"}
    for name, array in tensors.items():
        np.testing.assert_array_equal(ours.tensors[name], array)
        np.testing.assert_array_equal(theirs[name], array)
        assert theirs[name].dtype == array.dtype
