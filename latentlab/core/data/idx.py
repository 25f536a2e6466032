"""Reader and writer for the IDX format MNIST-style datasets ship in, gzipped or raw.

Every problem with a file's bytes becomes a ``DataError`` naming the file, so callers (CLI, GUI,
loaders) never have to know about gzip, struct or numpy exceptions. Parsing is one
``np.frombuffer`` per file: no per-item Python.
"""

from __future__ import annotations

import gzip as _gzip
import hashlib
import os
import zlib
from math import prod

import numpy as np

from latentlab.core.errors import DataError

__all__ = [
    "content_sha256",
    "read_bytes",
    "read_idx",
    "read_images",
    "read_labels",
    "write_idx",
]

GZIP_MAGIC = b"\x1f\x8b"
IMAGE_SHAPE = (28, 28)

# IDX type code -> big-endian numpy dtype, as in LeCun's format description.
_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in _DTYPES.items()}

_DAMAGED_HINT = (
    "The file is damaged, incomplete or not the file it should be. "
    "Replace it with a good copy, or delete it and download it again."
)

Source = str | os.PathLike | bytes | bytearray | memoryview


def _error(name: str, problem: str, hint: str = _DAMAGED_HINT) -> DataError:
    return DataError(f"{name}: {problem}\n{hint}")


def _name_of(source: Source, name: str | None) -> str:
    if name is not None:
        return name
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "IDX data"
    return os.fspath(source)


def _gunzip(data: bytes | bytearray | memoryview, name: str) -> bytes:
    try:
        return _gzip.decompress(data)
    except EOFError:
        raise _error(name, "gzip data is truncated (an interrupted download?)") from None
    except (OSError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise _error(name, f"not valid gzip data ({exc})") from None


def read_bytes(source: Source, *, name: str | None = None) -> bytes | bytearray:
    """Return the decompressed content of a file or buffer (gzip is detected by its magic bytes).

    Loaders hash and parse this one buffer, so a file is read and decompressed once per load.
    """
    name = _name_of(source, name)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = source
    else:
        try:
            with open(source, "rb") as f:
                data = bytearray(os.fstat(f.fileno()).st_size)
                got = f.readinto(data)
                if got != len(data):  # the file changed while we read it
                    del data[got:]
        except FileNotFoundError:
            raise _error(name, "file not found", "Check the path.") from None
        except OSError as exc:
            raise _error(name, f"cannot read the file ({exc.strerror or exc})", "") from None
    if bytes(data[:2]) == GZIP_MAGIC:
        return _gunzip(data, name)
    return data if isinstance(data, (bytes, bytearray)) else bytes(data)


def content_sha256(source: Source, *, name: str | None = None) -> str:
    """SHA-256 of the decompressed content: the same whether the file is stored gzipped or not."""
    return hashlib.sha256(read_bytes(source, name=name)).hexdigest()


def _parse(data: bytes | bytearray, name: str) -> np.ndarray:
    if len(data) < 4:
        raise _error(name, f"too short to be an IDX file ({len(data)} bytes)")
    zero, code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0:
        raise _error(name, f"not an IDX file (starts with {bytes(data[:4]).hex(' ')})")
    if code not in _DTYPES:
        raise _error(name, f"unknown IDX data type code 0x{code:02x}")
    if ndim == 0:
        raise _error(name, "IDX header declares no dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise _error(name, f"truncated in the header ({len(data)} bytes, header needs {header})")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _DTYPES[code]
    expected = prod(dims) * dtype.itemsize
    actual = len(data) - header
    shape = " x ".join(map(str, dims))
    if actual < expected:
        raise _error(name, f"truncated: header says {shape} ({expected} bytes), found {actual}")
    if actual > expected:
        extra = actual - expected
        raise _error(name, f"{extra} unexpected bytes after the data (header says {shape})")
    arr = np.frombuffer(data, dtype=dtype, count=prod(dims), offset=header).reshape(dims)
    if dtype.byteorder == ">":
        return arr.astype(dtype.newbyteorder("="))  # native order, and a copy
    # Writable, so torch.from_numpy and in-place edits work; bytes from gzip are read-only.
    return arr if arr.flags.writeable else arr.copy()


def read_idx(source: Source, *, name: str | None = None) -> np.ndarray:
    """Read any IDX array (gzipped or raw) from a path or from the file's bytes.

    ``bytes`` means file content, not a path. The header must account for every byte.
    """
    name = _name_of(source, name)
    return _parse(read_bytes(source, name=name), name)


def _check_kind(data: bytes | bytearray, name: str, kind: str, ndim: int) -> None:
    """Say precisely why a valid-looking IDX file is not the kind asked for (images or labels)."""
    if len(data) < 4 or data[0] or data[1]:
        return  # _parse explains what is wrong with the header
    if data[2] != 0x08:
        raise _error(name, f"{kind} must be uint8 (IDX type code 0x08), found 0x{data[2]:02x}")
    if data[3] != ndim:
        raise _error(name, f"{kind} need {ndim} dimension(s) in the IDX header, found {data[3]}")


def read_images(source: Source, *, name: str | None = None) -> np.ndarray:
    """Read an image file: uint8, shape (N, 28, 28)."""
    name = _name_of(source, name)
    data = read_bytes(source, name=name)
    _check_kind(data, name, "images", 3)
    arr = _parse(data, name)
    if arr.shape[1:] != IMAGE_SHAPE:
        size = " x ".join(map(str, arr.shape[1:]))
        raise _error(name, f"images are {size} pixels, expected 28 x 28")
    return arr


def read_labels(source: Source, *, num_classes: int = 10, name: str | None = None) -> np.ndarray:
    """Read a label file: uint8, shape (N,), every label in ``0 .. num_classes - 1``."""
    name = _name_of(source, name)
    data = read_bytes(source, name=name)
    _check_kind(data, name, "labels", 1)
    arr = _parse(data, name)
    bad = np.flatnonzero(arr >= num_classes)
    if bad.size:
        i = int(bad[0])
        raise _error(
            name,
            f"label {arr[i]} at index {i} is outside 0-{num_classes - 1} ({bad.size} bad labels)",
        )
    return arr


def write_idx(path: str | os.PathLike, array: np.ndarray, *, gzip: bool = True) -> None:
    """Write ``array`` as IDX (gzipped when ``gzip``); for tests, fixtures and exported subsets.

    The gzip header gets mtime 0 so equal arrays give equal files.
    """
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {array.ndim}")
    code = _CODES[native]
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    payload = header + np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()
    if gzip:
        payload = _gzip.compress(payload, compresslevel=6, mtime=0)
    with open(path, "wb") as f:
        f.write(payload)
