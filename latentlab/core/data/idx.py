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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from math import prod
from typing import Any, BinaryIO

import numpy as np

from latentlab.core.errors import DataError
from latentlab.core.safe_read import FileRefused, describe_size, open_regular
from latentlab.core.text import shown_path

__all__ = [
    "content_sha256",
    "read_bytes",
    "read_content",
    "read_idx",
    "read_images",
    "read_labels",
    "write_idx",
]

GZIP_MAGIC = b"\x1f\x8b"
# The most content (decompressed) read from one IDX file: far above MNIST's largest (47 MB) and
# EMNIST's (about 550 MB). A file, or a header's declared size, beyond it is refused unread.
MAX_IDX_BYTES = 1024**3
_CHUNK = 1024 * 1024  # bytes read (and decompressed) per step
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
_Check = Callable[[bytes | bytearray | memoryview], None] | None  # looks at the header's bytes


def _error(name: str, problem: str, hint: str = _DAMAGED_HINT) -> DataError:
    return DataError(f"{shown_path(name)}: {problem}\n{hint}")


def _name_of(source: Source, name: str | None) -> str:
    if name is not None:
        return name
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "IDX data"
    return os.fspath(source)


def _header(
    data: bytes | bytearray | memoryview, name: str
) -> tuple[tuple[int, ...], np.dtype, int] | None:
    """(dims, dtype, header length) of an IDX header; None while ``data`` is too short to tell.

    Raises for a header that cannot be right, from its first bytes on, so a stream can stop early.
    """
    if len(data) < 4:
        return None
    zero, code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0:
        raise _error(name, f"not an IDX file (starts with {bytes(data[:4]).hex(' ')})")
    if code not in _DTYPES:
        raise _error(name, f"unknown IDX data type code 0x{code:02x}")
    if ndim == 0:
        raise _error(name, "IDX header declares no dimensions")
    length = 4 + 4 * ndim
    if len(data) < length:
        return None
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return dims, _DTYPES[code], length


def _declared(data: bytes | bytearray | memoryview, name: str, check: _Check) -> int | None:
    """The content size the header declares (header included); None while it is not known yet."""
    if check is not None:
        check(data)
    found = _header(data, name)
    if found is None:
        return None
    dims, dtype, length = found
    total = length + prod(dims) * dtype.itemsize
    if total > MAX_IDX_BYTES:
        shape = " x ".join(map(str, dims))
        raise _error(
            name,
            f"header says {shape} ({describe_size(total)}), more than the "
            f"{describe_size(MAX_IDX_BYTES)} latentlab reads from one IDX file",
        )
    return total


_HEAD = 4 + 4 * 255  # the longest IDX header


@dataclass
class _Reading:
    """How one read goes: the header check, the hash, and what to do with the content."""

    name: str
    check: _Check = None  # the kind check of read_images / read_labels
    hasher: Any = None  # a hashlib object, updated as the content is read
    strict: bool = True  # False: content that is not IDX is hashed (up to MAX_IDX_BYTES) too
    keep: bool = True  # False: only hash, keep nothing but the header

    def cap(self, head: bytes | bytearray | memoryview) -> int | None:
        """The most content to read: what the header declares; None while it is not known."""
        try:
            return _declared(head, self.name, self.check)
        except DataError:
            if self.strict:
                raise
            return MAX_IDX_BYTES

    def update(self, data: bytes | bytearray | memoryview) -> None:
        if self.hasher is not None:
            self.hasher.update(data)


def _gunzip(chunks: Iterator[bytes | memoryview], how: _Reading) -> bytearray:
    """Decompress gzip members from ``chunks``, never producing more than the header declares.

    Until the IDX header has been decompressed the cap is MAX_IDX_BYTES; from then on it is the
    size the header declares, so a gzip bomb stops at its first byte past that.
    """
    out = bytearray()
    total = 0  # bytes of content so far (``out`` holds only the header when not ``keep``)
    limit: int | None = None
    stream = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing, CRC and length checked
    between = False  # after a member's end: zero padding or another member may follow
    try:
        for chunk in chunks:
            data: bytes | memoryview = chunk
            while data:
                if between:
                    data = bytes(data).lstrip(b"\0")
                    if not data:
                        break
                    stream, between = zlib.decompressobj(16 + zlib.MAX_WBITS), False
                cap = MAX_IDX_BYTES if limit is None else limit
                piece = stream.decompress(data, min(cap + 1 - total, _CHUNK))
                data = stream.unconsumed_tail
                total += len(piece)
                if how.keep or len(out) < _HEAD:
                    out += piece if how.keep else piece[: _HEAD - len(out)]
                how.update(piece)
                if limit is None:
                    limit = how.cap(out)
                if total > (MAX_IDX_BYTES if limit is None else limit):
                    raise _too_much(how.name, out, limit)
                if stream.eof:
                    data, between = stream.unused_data, True
    except zlib.error as exc:
        raise _error(how.name, f"not valid gzip data ({exc})") from None
    if not between:
        raise _error(how.name, "gzip data is truncated (an interrupted download?)")
    return out


def _too_much(name: str, out: bytearray, limit: int | None) -> DataError:
    try:
        found = _header(out, name)
    except DataError:
        found = None
    if limit is None or found is None:
        return _error(name, f"decompresses to more than {describe_size(MAX_IDX_BYTES)}")
    shape = " x ".join(map(str, found[0]))
    return _error(
        name,
        f"decompresses to more than the {limit:,} bytes its header declares (header says "
        f"{shape}); stopped reading there",
    )


def _chunks_of(f: BinaryIO, first: bytes) -> Iterator[bytes]:
    yield first
    while chunk := f.read(_CHUNK):
        yield chunk


def _read_file(path: str | os.PathLike, how: _Reading) -> bytes | bytearray:
    """A file's content, within the limits; FileRefused and OSError are left to the caller."""
    with open_regular(path, folder_problem="cannot read the file (it is a folder)") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_IDX_BYTES:
            raise _error(
                how.name,
                f"the file is {describe_size(size)}, more than the {describe_size(MAX_IDX_BYTES)} "
                "latentlab reads from one IDX file",
            )
        first = f.read(min(_CHUNK, size))
        if first[:2] == GZIP_MAGIC:
            return _gunzip(_chunks_of(f, first), how)
        declared = how.cap(first)
        if declared is not None and size > declared:  # refused from the header, before reading
            dims = _header(first, how.name)[0]  # type: ignore[index]
            shape = " x ".join(map(str, dims))
            raise _error(
                how.name, f"{size - declared} unexpected bytes after the data (header says {shape})"
            )
        how.update(first)
        if not how.keep:
            for chunk in _chunks_of(f, b""):
                how.update(chunk)
            return bytearray(first[:_HEAD])
        data = bytearray(size)
        view = memoryview(data)
        view[: len(first)] = first
        got = len(first)
        while got < size and (n := f.readinto(view[got : got + _CHUNK])):
            how.update(view[got : got + n])
            got += n
        view.release()
        if got != size:  # the file changed while we read it
            del data[got:]
        return data


def _content(source: Source, how: _Reading) -> bytes | bytearray:
    """The decompressed content of a path or buffer, refused early when its header is wrong."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)
        if bytes(view[:2]) == GZIP_MAGIC:
            chunks = (view[i : i + _CHUNK] for i in range(0, len(view), _CHUNK))
            return _gunzip(chunks, how)
        how.cap(view)
        how.update(view)
        return source if isinstance(source, (bytes, bytearray)) else bytes(source)
    try:
        return _read_file(source, how)
    except FileRefused as exc:
        raise _error(how.name, exc.problem, "") from None
    except FileNotFoundError:
        raise _error(how.name, "file not found", "Check the path.") from None
    except OSError as exc:
        raise _error(how.name, f"cannot read the file ({exc.strerror or exc})", "") from None


def read_bytes(source: Source, *, name: str | None = None) -> bytes | bytearray:
    """Return the decompressed content of an IDX file or buffer (gzip detected by its magic).

    Loaders hash and parse this one buffer, so a file is read and decompressed once per load.
    Only regular files are opened; a header that cannot be IDX is refused from its first bytes;
    gzip is decompressed as a stream that stops at the size the header declares; no file or
    content over MAX_IDX_BYTES is read.
    """
    return _content(source, _Reading(_name_of(source, name)))


def read_content(source: Source, *, name: str | None = None) -> tuple[bytes | bytearray, str]:
    """``read_bytes`` and the SHA-256 of the content, computed while it is read."""
    hasher = hashlib.sha256()
    data = _content(source, _Reading(_name_of(source, name), hasher=hasher))
    return data, hasher.hexdigest()


def content_sha256(source: Source, *, name: str | None = None) -> str:
    """SHA-256 of the decompressed content: the same whether the file is stored gzipped or not.

    For any content (a download is checked before anyone knows it is IDX): nothing is kept, the
    hash stops at what an IDX header declares, and at MAX_IDX_BYTES when there is none.
    """
    hasher = hashlib.sha256()
    _content(source, _Reading(_name_of(source, name), hasher=hasher, strict=False, keep=False))
    return hasher.hexdigest()


def _parse(data: bytes | bytearray, name: str) -> np.ndarray:
    found = _header(data, name)
    if found is None:
        if len(data) < 4:
            raise _error(name, f"too short to be an IDX file ({len(data)} bytes)")
        header = 4 + 4 * data[3]
        raise _error(name, f"truncated in the header ({len(data)} bytes, header needs {header})")
    dims, dtype, header = found
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
    return _parse(_content(source, _Reading(name)), name)


def _check_kind(data: bytes | bytearray | memoryview, name: str, kind: str, ndim: int) -> None:
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
    data = _content(source, _Reading(name, lambda head: _check_kind(head, name, "images", 3)))
    arr = _parse(data, name)
    if arr.shape[1:] != IMAGE_SHAPE:
        size = " x ".join(map(str, arr.shape[1:]))
        raise _error(name, f"images are {size} pixels, expected 28 x 28")
    return arr


def read_labels(source: Source, *, num_classes: int = 10, name: str | None = None) -> np.ndarray:
    """Read a label file: uint8, shape (N,), every label in ``0 .. num_classes - 1``."""
    name = _name_of(source, name)
    data = _content(source, _Reading(name, lambda head: _check_kind(head, name, "labels", 1)))
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
