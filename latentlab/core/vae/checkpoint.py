"""Model files: one .safetensors file with the weights, the encoded test set and JSON metadata.

Nothing is ever unpickled: safetensors holds raw little-endian arrays and a JSON header. Loading
checks everything a hostile or broken file could get wrong before the model is used; saving
writes a temporary file and renames it over the target, so a crash mid-save loses nothing.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from latentlab.core.atomic import write_atomic
from latentlab.core.errors import ModelFileError
from latentlab.core.safe_read import FileRefused, describe_size, open_regular, read_exact
from latentlab.core.text import first_line, shown_path
from latentlab.core.vae.config import Config, ConfigError
from latentlab.core.vae.layout import parameter_shapes
from latentlab.core.vae.record import ModelRecord, TestEncoding

FORMAT_VERSION = 1
METADATA_KEY = "latentlab"
ENCODING_PREFIX = "test_encoding."
# Reading limits (docs/reliability.md). A latentlab model is a few MB: its header (the tensor
# table and the metadata, training history included) a few kB.
MAX_MODEL_BYTES = 1024**3  # larger files are refused from their size, before any read
MAX_HEADER_BYTES = 16 * 1024 * 1024  # safetensors itself allows 100 MB
MAX_ABS_MU = 1e4  # stored means beyond this are refused: a trained encoder gives |mu| of ~10
MAX_ABS_LOGVAR = 100.0  # exp(100) is already an absurd variance; exp(800) overflows float64
IMAGE_PIXELS = 28 * 28


def save_model(record: ModelRecord, path: str | os.PathLike[str]) -> Path:
    """Write `record` to `path` atomically (temp file in the same folder, fsync, rename)."""
    from safetensors.numpy import save

    path = Path(path)
    tensors = {
        name: np.ascontiguousarray(w, dtype=np.float32) for name, w in record.weights.items()
    }
    enc = record.test_encoding
    if enc is not None:
        tensors[ENCODING_PREFIX + "mu"] = np.ascontiguousarray(enc.mu, dtype=np.float32)
        tensors[ENCODING_PREFIX + "logvar"] = np.ascontiguousarray(enc.logvar, dtype=np.float32)
        tensors[ENCODING_PREFIX + "labels"] = np.ascontiguousarray(enc.labels, dtype=np.uint8)
        if enc.probs is not None:
            tensors[ENCODING_PREFIX + "probs"] = np.ascontiguousarray(enc.probs, dtype=np.float32)
    meta = {
        "format_version": FORMAT_VERSION,
        "config": record.config.to_dict(),
        "dataset": record.config.dataset,
        "class_names": list(record.class_names),
        "history": record.history,
        "metrics": record.metrics,
        "created": record.created,
    }
    data = save(tensors, metadata={METADATA_KEY: json.dumps(meta)})
    write_atomic(path, data)
    return path


def load_model(path: str | os.PathLike[str]) -> ModelRecord:
    """Read and validate a model file; any problem raises ModelFileError naming the file."""
    path = Path(path)
    data, header = _read_bytes(path)
    meta = _parse_metadata(path, header)
    config = _parse_config(path, meta)
    tensors = _parse_tensors(path, data)
    weights = _check_weights(path, config, tensors)
    encoding = _check_encoding(path, config, tensors)
    if "class_names" in meta:
        class_names = meta["class_names"]
    else:  # an older file: the dataset's own names
        from latentlab.core.data.datasets import default_class_names

        class_names = list(default_class_names(config.dataset, config.num_classes))
    if (
        not isinstance(class_names, list)
        or len(class_names) != config.num_classes
        or not all(isinstance(n, str) for n in class_names)
    ):
        raise _error(path, f"class_names must be a list of {config.num_classes} strings")
    history = meta.get("history", [])
    metrics = meta.get("metrics", {})
    if (
        not isinstance(history, list)
        or not all(isinstance(entry, dict) for entry in history)
        or not isinstance(metrics, dict)
    ):
        raise _error(path, "metadata 'history' must be a list of objects and 'metrics' an object")
    return ModelRecord(
        config=config,
        weights=weights,
        class_names=tuple(class_names),
        history=history,
        metrics=metrics,
        test_encoding=encoding,
        created=str(meta.get("created", "")),
        format_version=meta["format_version"],
    )


def _error(path: Path, problem: str) -> ModelFileError:
    return ModelFileError(f"{shown_path(path)}: {problem}")


def _read_bytes(path: Path) -> tuple[bytes, dict[str, Any]]:
    """The file's bytes, read only after its own header said how many there must be.

    Only a regular file is opened (a FIFO or /dev/zero is refused before any read), a file over
    MAX_MODEL_BYTES is refused from its size alone, and the body is read only when the file is
    exactly as long as its safetensors header declares.
    """
    try:
        f = open_regular(path, folder_problem="is a folder, not a model file")
    except FileRefused as exc:
        raise _error(path, exc.problem) from None
    except FileNotFoundError:
        raise _error(path, "no such file") from None
    except PermissionError:
        raise _error(path, "permission denied: the file cannot be read") from None
    except OSError as exc:
        raise _error(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        with f:
            size = os.fstat(f.fileno()).st_size
            if not size:
                raise _error(path, "the file is empty (0 bytes)")
            if size > MAX_MODEL_BYTES:
                raise _error(
                    path,
                    f"the file is {describe_size(size)}, larger than a latentlab model file can "
                    f"be ({describe_size(MAX_MODEL_BYTES)} at most); it is not a latentlab model",
                )
            head = f.read(8)
            header = _check_declared_size(path, f, head, size)
            f.seek(0)
            return read_exact(f, size), header
    except FileRefused as exc:
        raise _error(path, exc.problem) from None
    except PermissionError:
        raise _error(path, "permission denied: the file cannot be read") from None
    except OSError as exc:
        raise _error(path, f"cannot be read ({exc.strerror or exc})") from None


def _check_declared_size(path: Path, f: Any, head: bytes, size: int) -> dict[str, Any]:
    """Read the header only, and refuse the file unless its size is exactly what it declares."""
    try:
        header_size = _header_size(path, head, size)
        header = _decode_header(path, read_exact(f, header_size))
    except ModelFileError:
        # Only after the bytes failed as safetensors: a valid header length can start with 0x80.
        if head[:4] == b"PK\x03\x04" or (head[:1] == b"\x80" and head[1:2] in b"\x02\x03\x04\x05"):
            raise _error(
                path,
                "not a safetensors file: it looks like a pickled PyTorch file, which latentlab "
                "never opens (pickles can run code). Convert it to .safetensors.",
            ) from None
        raise
    declared = 8 + header_size + _data_size(path, header)
    if size < declared:
        raise _error(
            path,
            f"not a valid safetensors file (truncated: the header declares {declared:,} bytes, "
            f"the file has {size:,})",
        )
    if size > declared:
        raise _error(
            path,
            f"not a valid safetensors file ({size - declared:,} bytes more than the {declared:,} "
            "its header declares; the file is padded or damaged, save or download it again)",
        )
    return header


def _header_size(path: Path, head: bytes, size: int) -> int:
    if len(head) < 8:
        raise _error(path, f"truncated: {len(head)} bytes, too short for a safetensors header")
    (header_size,) = struct.unpack("<Q", head)
    if header_size > MAX_HEADER_BYTES or 8 + header_size > size:
        raise _error(
            path,
            f"not a valid safetensors file (header claims {header_size} bytes, file has {size})",
        )
    return header_size


def _decode_header(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        header = _json(raw)
    except _JsonProblem as exc:
        raise _error(path, f"not a valid safetensors file (header {exc})") from None
    if not isinstance(header, dict):
        raise _error(path, "not a valid safetensors file (header is not a JSON object)")
    return header


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
            shown = name if len(name) <= 60 else name[:57] + "..."
            raise _error(
                path, f"not a valid safetensors file (tensor {shown!r} has no valid data_offsets)"
            )
        end = max(end, offsets[1])
    return end


class _JsonProblem(Exception):
    """Why some JSON text cannot be used, worded to follow "header " or "metadata "."""


def _json(text: bytes | str) -> Any:
    """json.loads, with every way hostile text can fail turned into a _JsonProblem."""
    try:
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError):
        raise _JsonProblem("is not JSON") from None
    except RecursionError:
        raise _JsonProblem("is nested too deeply to be read") from None
    except ValueError:  # an integer of more than sys.get_int_max_str_digits() digits
        raise _JsonProblem("holds a number with too many digits to be read") from None


def _parse_metadata(path: Path, header: dict[str, Any]) -> dict[str, Any]:
    raw = header.get("__metadata__")
    if not isinstance(raw, dict) or METADATA_KEY not in raw:
        raise _error(path, "a safetensors file, but not a latentlab model (no latentlab metadata)")
    try:
        meta = _json(raw[METADATA_KEY])
    except _JsonProblem as exc:
        problem = "is not valid JSON" if str(exc) == "is not JSON" else str(exc)
        raise _error(path, f"latentlab metadata {problem}") from None
    if not isinstance(meta, dict):
        raise _error(path, "latentlab metadata must be a JSON object")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _error(path, "latentlab metadata has no integer 'format_version'")
    if version > FORMAT_VERSION:
        raise _error(
            path,
            f"format version {version} is newer than this latentlab reads ({FORMAT_VERSION}); "
            "update latentlab",
        )
    if version < 1:
        raise _error(path, f"unknown format version {version}")
    return meta


def _parse_config(path: Path, meta: dict[str, Any]) -> Config:
    try:
        config = Config.from_dict(meta.get("config"))
    except ConfigError as exc:
        raise _error(path, f"invalid config: {exc}") from None
    if config.input_dim != IMAGE_PIXELS:  # every dataset, the explorer and sampling are 28 x 28
        raise _error(
            path, f"invalid config: input_dim is {config.input_dim}, latentlab models read 28 x 28"
        )
    return config


def _parse_tensors(path: Path, data: bytes) -> dict[str, np.ndarray]:
    from safetensors.numpy import load

    try:
        return load(data)
    except Exception as exc:  # safetensors raises its own error types for bad offsets, dtypes...
        first = first_line(exc)
        raise _error(path, f"not a valid safetensors file ({first})") from None


def _check_weights(
    path: Path, config: Config, tensors: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    expected = parameter_shapes(config)
    present = {k for k in tensors if not k.startswith(ENCODING_PREFIX)}
    missing = sorted(set(expected) - present)
    extra = sorted(present - set(expected))
    if missing:
        raise _error(path, f"missing tensors for this config: {', '.join(missing[:5])}")
    if extra:
        raise _error(path, f"unexpected tensors for this config: {', '.join(extra[:5])}")
    weights = {}
    for name, shape in expected.items():
        array = tensors[name]
        if array.shape != shape:
            raise _error(
                path,
                f"tensor {name} has shape {list(array.shape)} but the config needs {list(shape)}",
            )
        if array.dtype != np.float32:
            raise _error(path, f"tensor {name} is {array.dtype}, expected float32")
        if not np.isfinite(array).all():
            raise _error(path, f"tensor {name} contains NaN or infinite values")
        weights[name] = array
    return weights


def _check_encoding(
    path: Path, config: Config, tensors: dict[str, np.ndarray]
) -> TestEncoding | None:
    names = {k[len(ENCODING_PREFIX) :] for k in tensors if k.startswith(ENCODING_PREFIX)}
    if not names:
        return None
    required = {"mu", "logvar", "labels"} | ({"probs"} if config.conditional else set())
    if not required <= names or not names <= {"mu", "logvar", "labels", "probs"}:
        raise _error(path, f"test encoding must hold exactly {', '.join(sorted(required))}")
    mu, logvar, labels = (tensors[ENCODING_PREFIX + k] for k in ("mu", "logvar", "labels"))
    n, d, c = len(labels), config.latent_dim, config.num_classes
    if labels.ndim != 1 or labels.dtype != np.uint8 or (n and labels.max() >= c):
        raise _error(path, f"test encoding labels must be uint8 class numbers below {c}")
    for name, array, bound in (("mu", mu, MAX_ABS_MU), ("logvar", logvar, MAX_ABS_LOGVAR)):
        if array.shape != (n, d) or array.dtype != np.float32 or not np.isfinite(array).all():
            raise _error(path, f"test encoding {name} must be finite float32 of shape [{n}, {d}]")
        if n and (largest := float(np.abs(array).max())) > bound:
            raise _error(
                path,
                f"test encoding {name} holds {largest:.3g}, beyond the {bound:g} a trained "
                "encoder gives; the file is damaged or was not written by latentlab",
            )
    probs = tensors.get(ENCODING_PREFIX + "probs")
    if probs is not None and (
        probs.shape != (n, c) or probs.dtype != np.float32 or not np.isfinite(probs).all()
    ):
        raise _error(path, f"test encoding probs must be finite float32 of shape [{n}, {c}]")
    return TestEncoding(mu=mu, logvar=logvar, labels=labels, probs=probs)
