"""Reading a safetensors file a user names: bounded, validated, and held in memory once.

Both kinds of model file (latentlab's own, `core.vae.checkpoint`, and imported ones,
`core.imported.bundle`) are safetensors files with JSON metadata. Reading one must never hang
(a FIFO), never read more than its header declares (a sparse 2 GB file, /dev/zero), never run
code (no pickle), and never hold the file twice: the tensors are views into the one buffer read
from disk (safetensors' own `load` copies every tensor, doubling the peak at the size ceiling).
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from latentlab.core.errors import ModelFileError
from latentlab.core.safe_read import FileRefused, describe_size, open_regular
from latentlab.core.text import shown_path

MAX_HEADER_BYTES = 16 * 1024 * 1024  # safetensors itself allows 100 MB

DTYPES = {  # safetensors is little-endian whatever the machine
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "?",
}


@dataclass(frozen=True)
class SafetensorsFile:
    """A validated file: its JSON header (tensor table and ``__metadata__``) and its tensors."""

    header: dict[str, Any]
    tensors: dict[str, np.ndarray]  # writable views into one buffer (no copies)

    @property
    def metadata(self) -> dict[str, str]:
        raw = self.header.get("__metadata__")
        return raw if isinstance(raw, dict) else {}


class JsonProblem(Exception):
    """Why some JSON text cannot be used, worded to follow "header " or "metadata "."""


def parse_json(text: bytes | str) -> Any:
    """json.loads, with every way hostile text can fail turned into a `JsonProblem`."""
    try:
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError):
        raise JsonProblem("is not JSON") from None
    except RecursionError:
        raise JsonProblem("is nested too deeply to be read") from None
    except ValueError:  # an integer of more than sys.get_int_max_str_digits() digits
        raise JsonProblem("holds a number with too many digits to be read") from None


def file_error(path: Path, problem: str) -> ModelFileError:
    return ModelFileError(f"{shown_path(path)}: {problem}")


# The words of these messages are the user's: what happened to the file and what to do, never
# the format's parts (header, tensor, offsets); the detail that helps a bug report stays in
# brackets at the end.
AGAIN = "download or save it again"
DAMAGED = f"the file is damaged ({{}}); {AGAIN}"
TEXT_SAMPLE_BYTES = 4096


def looks_like_text(sample: bytes) -> bool:
    """Whether the first bytes of a file are text (UTF-8, no NUL, nearly all printable)."""
    if not sample or b"\0" in sample:
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 3:  # only a character cut by the sample's end is allowed
            return False
        text = sample[: exc.start].decode("utf-8")
    printable = sum(ch.isprintable() or ch in "\t\n\r" for ch in text)
    return printable >= 0.95 * max(1, len(text))


def not_this_kind(what: str, sample: bytes) -> str:
    """The problem for a file that is no safetensors file at all (text, or other bytes)."""
    if looks_like_text(sample):
        return (
            f"this is not {what} file (it looks like text); choose a .safetensors model saved "
            "by latentlab"
        )
    return (
        f"this is not {what} file (its first bytes are not a model file's); choose a "
        ".safetensors model saved by latentlab"
    )


def cut_short(size: int, expected: int, *, at_least: bool = False) -> str:
    of = f"of at least {expected:,}" if at_least else f"of {expected:,}"
    return (
        f"the file is cut short ({size:,} {of} bytes): it was not fully downloaded or copied; "
        f"{AGAIN}"
    )


def read_safetensors(
    path: str | os.PathLike[str],
    *,
    max_bytes: int,
    what: str,
    on_header: Callable[[dict[str, Any]], None] | None = None,
) -> SafetensorsFile:
    """Read and validate ``path``; any problem raises ModelFileError naming the file.

    Only a regular file is opened (a FIFO or /dev/zero is refused before any read), a file over
    ``max_bytes`` is refused from its size alone, and the body is read only when the file is
    exactly as long as its header declares. ``what`` names the kind of file in messages
    ("a latentlab model"). ``on_header`` sees the checked header before the body is read (to
    start work the body will need, such as importing a runtime, while the disk reads).
    """
    path = Path(path)
    try:
        f = open_regular(path, folder_problem=f"is a folder, not {what} file")
    except FileRefused as exc:
        raise file_error(path, exc.problem) from None
    except FileNotFoundError:
        raise file_error(path, "no such file") from None
    except PermissionError:
        raise file_error(path, "permission denied: the file cannot be read") from None
    except OSError as exc:
        raise file_error(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        with f:
            size = os.fstat(f.fileno()).st_size
            if not size:
                raise file_error(path, "the file is empty (0 bytes)")
            if size > max_bytes:
                raise file_error(
                    path,
                    f"the file is {describe_size(size)}, larger than {what} file can be "
                    f"({describe_size(max_bytes)} at most); it is not {what} file",
                )
            head = f.read(8)
            header_size, header = _check_declared_size(path, f, head, size, what)
            if on_header is not None:
                on_header(header)
            buffer = bytearray(size - 8 - header_size)
            if f.readinto(buffer) != len(buffer):
                raise FileRefused("the file ended early (did it change while being read?)")
    except FileRefused as exc:
        raise file_error(path, exc.problem) from None
    except PermissionError:
        raise file_error(path, "permission denied: the file cannot be read") from None
    except OSError as exc:
        raise file_error(path, f"cannot be read ({exc.strerror or exc})") from None
    return SafetensorsFile(header, _tensor_views(path, header, buffer))


def _check_declared_size(
    path: Path, f: Any, head: bytes, size: int, what: str
) -> tuple[int, dict[str, Any]]:
    """Read the header only, and refuse the file unless its size is exactly what it declares."""
    try:
        header_size = _header_size(path, head, size)
        raw = f.read(header_size)
        if len(raw) != header_size:
            raise FileRefused("the file ended while being read (did it change meanwhile?)")
        header = _decode_header(path, raw)
    except ModelFileError as exc:
        # Only after the bytes failed as safetensors: a valid header length can start with 0x80.
        if head[:4] == b"PK\x03\x04" or (head[:1] == b"\x80" and head[1:2] in b"\x02\x03\x04\x05"):
            raise file_error(
                path,
                "this is a pickled PyTorch file, which latentlab never opens (pickles can run "
                "code); convert it to .safetensors",
            ) from None
        f.seek(0)
        sample = f.read(TEXT_SAMPLE_BYTES)
        if isinstance(exc, _NotSafetensors) or looks_like_text(sample):
            raise file_error(path, not_this_kind(what, sample)) from None
        raise
    declared = 8 + header_size + _data_size(path, header)
    if size < declared:
        raise file_error(path, cut_short(size, declared))
    if size > declared:
        raise file_error(
            path,
            f"the file is longer than it should be ({size:,} bytes, {size - declared:,} more "
            f"than the {declared:,} it says it holds): it is padded or damaged; {AGAIN}",
        )
    return header_size, header


class _NotSafetensors(ModelFileError):
    """The first bytes cannot start a safetensors file (said as "not a model file")."""


def _header_size(path: Path, head: bytes, size: int) -> int:
    if len(head) < 8:
        raise _NotSafetensors(f"{len(head)} bytes")
    (header_size,) = struct.unpack("<Q", head)
    if header_size > MAX_HEADER_BYTES:
        raise _NotSafetensors(f"declared {header_size}")
    if 8 + header_size > size:
        raise file_error(path, cut_short(size, 8 + header_size, at_least=True))
    return header_size


def _decode_header(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        header = parse_json(raw)
    except JsonProblem as exc:
        if str(exc) == "is not JSON":
            raise _NotSafetensors("not JSON") from None
        raise file_error(path, DAMAGED.format(f"its table of contents {exc}")) from None
    if not isinstance(header, dict):
        raise _NotSafetensors("not an object")
    return header


def _short(name: str) -> str:
    return name if len(name) <= 60 else name[:57] + "..."


def _data_size(path: Path, header: dict[str, Any]) -> int:
    """The byte count the header's tensor offsets declare (safetensors packs them end to end)."""
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            and 0 <= offsets[0] <= offsets[1]
        ):
            raise file_error(path, DAMAGED.format(f"{_short(name)!r} has no valid place in it"))
        end = max(end, offsets[1])
    return end


def _tensor_views(path: Path, header: dict[str, Any], buffer: bytearray) -> dict[str, np.ndarray]:
    """Each tensor as a view into ``buffer``, after checking its dtype, shape and extent.

    The same rules safetensors enforces: a known dtype, a shape of non-negative integers whose
    byte size is the span of its offsets, and tensors that tile the data without overlap.
    """
    spans = []
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        bad = f"{_short(name)!r} "
        dtype = DTYPES.get(entry.get("dtype")) if isinstance(entry.get("dtype"), str) else None
        if dtype is None:
            kind = str(entry.get("dtype"))[:20]
            raise file_error(path, DAMAGED.format(bad + f"has an unknown number type {kind!r}"))
        shape = entry.get("shape")
        if not (
            isinstance(shape, list)
            and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)
        ):
            raise file_error(path, DAMAGED.format(bad + "has no valid shape"))
        start, stop = entry["data_offsets"]
        count = math.prod(shape)
        if count * np.dtype(dtype).itemsize != stop - start:
            raise file_error(path, DAMAGED.format(bad + "has a shape that does not fit its bytes"))
        spans.append((start, stop, name))
        tensors[name] = np.frombuffer(buffer, dtype=dtype, count=count, offset=start).reshape(shape)
    position = 0
    for start, stop, name in sorted(spans):
        if start != position:
            raise file_error(
                path, DAMAGED.format(f"{_short(name)!r} overlaps another array or leaves a gap")
            )
        position = stop
    return tensors


_DTYPE_NAMES = {np.dtype(code).newbyteorder("<").str: name for name, code in DTYPES.items()}


def stream_safetensors(
    f: BinaryIO, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None
) -> None:
    """Write ``tensors`` in the safetensors format to an open file, one tensor at a time.

    safetensors' own writers either build the whole file as bytes (holding a large file twice)
    or open the path themselves (a new file behind the caller's handle, so the caller's fsync
    and lock would miss it). The format is an 8-byte length, a JSON table padded to 8 bytes, and
    the tensors' bytes end to end; `read_safetensors` and safetensors itself read it back.
    """
    header: dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = metadata
    arrays = {}
    offset = 0
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        little = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        array = array.astype(little, copy=False)
        key = np.dtype(little).newbyteorder("<").str
        if key not in _DTYPE_NAMES:
            raise ValueError(f"tensor {name!r}: dtype {array.dtype} cannot be stored")
        header[name] = {
            "dtype": _DTYPE_NAMES[key],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        arrays[name] = array
        offset += array.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    f.write(struct.pack("<Q", len(raw)))
    f.write(raw)
    for array in arrays.values():
        f.write(memoryview(array.reshape(-1)).cast("B"))
