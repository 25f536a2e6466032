"""Hostile and broken model files, one builder per case, shared by the CLI and the GUI tests.

Each case writes its file under a folder and says which words the one-line error must contain,
so `latentlab info` (tests/core/test_hostile_files.py) and File > Open (tests/gui/
test_reliability.py) are held to the same list. The pickle cases carry a payload whose
unpickling would create ``PWNED`` in the folder: the tests check that it never appears.
"""

from __future__ import annotations

import functools
import io
import json
import os
import pickle
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import save

from latentlab.core.vae.checkpoint import FORMAT_VERSION, save_model

from .factories import TINY_CVAE, random_record

PWNED = "PWNED"  # the file an executed pickle payload would create


class Payload:
    """Unpickling this runs ``os.system``: it would touch PWNED in the current folder."""

    def __reduce__(self):
        return (os.system, (f"touch {PWNED}",))


@dataclass(frozen=True)
class Hostile:
    name: str  # test id
    filename: str
    build: Callable[[Path], None]  # writes the file (or folder) at the given path
    words: str  # regular expression the one-line message must match


def _valid_parts() -> tuple[dict[str, np.ndarray], dict]:
    record = random_record(TINY_CVAE, n_test=40, seed=11)
    tensors = {k: v.copy() for k, v in record.weights.items()}
    enc = record.test_encoding
    tensors.update(
        {
            "test_encoding.mu": enc.mu,
            "test_encoding.logvar": enc.logvar,
            "test_encoding.labels": enc.labels,
            "test_encoding.probs": enc.probs,
        }
    )
    meta = {
        "format_version": FORMAT_VERSION,
        "config": record.config.to_dict(),
        "class_names": list(record.class_names),
        "history": record.history,
        "metrics": record.metrics,
    }
    return tensors, meta


def _with(change: Callable[[dict, dict], object], *, raw_meta: str | None = None):
    """A builder: valid tensors and metadata, changed in place by ``change(tensors, meta)``."""

    def build(path: Path) -> None:
        tensors, meta = _valid_parts()
        change(tensors, meta)
        text = raw_meta if raw_meta is not None else json.dumps(meta)
        path.write_bytes(save(tensors, metadata={"latentlab": text}))

    return build


def _torch_zip(path: Path) -> None:
    """The layout of ``torch.save`` (a zip with a pickle inside), carrying the payload."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"state_dict": Payload()}, protocol=2))
        archive.writestr("archive/version", "3\n")
    path.write_bytes(buffer.getvalue())


def _legacy_pickle(path: Path) -> None:
    """The pre-1.6 ``torch.save`` format: a bare pickle stream."""
    path.write_bytes(pickle.dumps({"state_dict": Payload()}, protocol=2))


def _truncated(path: Path) -> None:
    save_model(random_record(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def _lying_header(path: Path) -> None:
    save_model(random_record(), path)
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    name = "decoder.layers.0.weight"
    header[name]["shape"] = [s * 4 for s in header[name]["shape"]]
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + size :])


def _no_metadata(path: Path) -> None:
    tensors, _ = _valid_parts()
    path.write_bytes(save(tensors))


def _folder(path: Path) -> None:
    path.mkdir()
    save_model(random_record(), path / "inside.safetensors")


def _set(tensors: dict, name: str, index: tuple, value: float) -> None:
    tensors[name][index] = value


# --- files that must be refused before they are read (docs/reliability.md, "Reading limits") ---

GIB = 1024**3
MIB = 1024**2


def _raw_header(text: bytes):
    """A builder: a safetensors file whose header is ``text`` (no tensors)."""

    def build(path: Path) -> None:
        path.write_bytes(struct.pack("<Q", len(text)) + text)

    return build


def _raw_metadata(text: Callable[[dict], str]):
    """A builder: valid tensors, with the latentlab metadata replaced by ``text(meta)``."""

    def build(path: Path) -> None:
        tensors, meta = _valid_parts()
        path.write_bytes(save(tensors, metadata={"latentlab": text(meta)}))

    return build


def _padded(size: int):
    """A builder: a good model made ``size`` bytes long by a sparse hole (no disk used)."""

    def build(path: Path) -> None:
        save_model(random_record(), path)
        with open(path, "r+b") as f:
            f.truncate(size)

    return build


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


DEEP = 200_000  # levels of nesting: far past Python's recursion limit
HUGE_INT = "9" * 5000  # digits: past Python's int-to-text limit (4,300)

BOUNDS_CASES: list[Hostile] = [  # refused before the file is read
    Hostile(
        "header-nested-deep",
        "deep.safetensors",
        _raw_header(b'{"x": ' + b"[" * DEEP + b"]" * DEEP + b"}"),
        r"the file is damaged \(its table of contents is nested too deeply to be read\); "
        "download or save it again",
    ),
    Hostile(
        "header-huge-integer",
        "digits.safetensors",
        _raw_header(
            b'{"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, '
            + HUGE_INT.encode()
            + b"]}}"
        ),
        r"the file is damaged \(its table of contents holds a number with too many digits",
    ),
    Hostile(
        "metadata-nested-deep",
        "meta-deep.safetensors",
        _raw_metadata(lambda m: "[" * DEEP + "]" * DEEP),
        "its latentlab description is nested too deeply to be read",
    ),
    Hostile(
        "metadata-huge-integer",
        "meta-digits.safetensors",
        _raw_metadata(lambda m: json.dumps(m)[:-1] + f', "epochs_seen": {HUGE_INT}}}'),
        "its latentlab description holds a number with too many digits to be read",
    ),
    Hostile(
        "config-infinite",
        "infinite.safetensors",
        _with(lambda t, m: m["config"].update(decoder_std=float("inf"))),
        "invalid config: config field 'decoder_std' must be a finite number, got inf",
    ),
    Hostile(
        "absurd-means",
        "absurd.safetensors",
        _with(lambda t, m: _set(t, "test_encoding.mu", (3, 1), 3e38)),
        r"its encoded test points' mu hold 3e\+38, beyond the 10000 a trained encoder gives",
    ),
    Hostile(
        "padded",
        "padded.safetensors",
        _padded(64 * MIB),
        r"the file is longer than it should be \([\d,]+ bytes, [\d,]+ more than the [\d,]+ it "
        r"says it holds\): it is padded or damaged; download or save it again",
    ),
    Hostile(
        "sparse-2gb",
        "huge.safetensors",
        _padded(2 * GIB),
        r"the file is 2\.0 GiB, larger than a latentlab model file can be \(1\.0 GiB at most\)",
    ),
]
if hasattr(os, "mkfifo"):  # POSIX
    BOUNDS_CASES.append(
        Hostile("fifo", "x.safetensors", _fifo, r"is a named pipe \(FIFO\), not a regular file")
    )
if os.path.exists("/dev/zero"):
    BOUNDS_CASES.append(
        Hostile("dev-zero", "zero.safetensors", _dev_zero, "is a character device, not a regular")
    )


# --- gzip bombs for the IDX reader ----------------------------------------------------------------


@functools.cache
def _zeros_crc(mib: int) -> int:
    zeros, crc = bytes(MIB), 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return crc


def gzip_bomb(head: bytes = b"", mib: int = 2048) -> bytes:
    """A valid gzip file of ``head`` then ``mib`` MiB of zeros, in about 1 kB per MiB.

    Each MiB of zeros is compressed once and ends with a full flush, which resets the
    compressor, so the same 1 kB block stands for every further MiB: nothing near the
    decompressed size is ever allocated.
    """
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    start = deflate.compress(head) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(bytes(MIB)) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert deflate.compress(bytes(MIB)) + deflate.flush(zlib.Z_FULL_FLUSH) == block
    end = deflate.flush(zlib.Z_FINISH)
    crc = _zeros_crc(mib) if not head else _zeros_crc_after(head, mib)
    size = (len(head) + mib * MIB) % 2**32
    header = b"\x1f\x8b\x08\x00" + b"\x00" * 4 + b"\x02\xff"  # deflate, no name, mtime 0
    return header + start + block * mib + end + struct.pack("<II", crc, size)


@functools.cache
def _zeros_crc_after(head: bytes, mib: int) -> int:
    zeros, crc = bytes(MIB), zlib.crc32(head)
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return crc


CASES: list[Hostile] = [
    Hostile("torch-zip-pickle", "model.pt.safetensors", _torch_zip, "pickled PyTorch"),
    Hostile("legacy-pickle", "old.safetensors", _legacy_pickle, "pickled PyTorch"),
    Hostile(
        "truncated",
        "cut.safetensors",
        _truncated,
        r"the file is cut short \([\d,]+ of [\d,]+ bytes\): it was not fully downloaded or "
        "copied; download or save it again",
    ),
    Hostile("lying-header", "lies.safetensors", _lying_header, "the file is damaged"),
    Hostile("empty", "empty.safetensors", lambda p: p.write_bytes(b""), r"empty \(0 bytes\)"),
    Hostile("folder", "folder.safetensors", _folder, "is a folder"),
    Hostile(
        "text",
        "notes.safetensors",
        lambda p: p.write_text("hello " * 20),
        r"this is not a latentlab model file \(it looks like text\)",
    ),
    Hostile("no-metadata", "plain.safetensors", _no_metadata, "not a latentlab model"),
    Hostile(
        "metadata-not-json",
        "meta.safetensors",
        _with(lambda t, m: None, raw_meta="{format_version: 1,"),
        "latentlab description is not valid JSON",
    ),
    Hostile(
        "metadata-wrong-shape",
        "meta-list.safetensors",
        _with(lambda t, m: None, raw_meta="[1, 2, 3]"),
        "latentlab description must be a JSON object",
    ),
    Hostile(
        "config-wrong-type",
        "config.safetensors",
        _with(lambda t, m: m.update(config={"latent_dim": "three"})),
        "invalid config: config field 'latent_dim' must be int",
    ),
    Hostile(
        "future-version",
        "future.safetensors",
        _with(lambda t, m: m.update(format_version=FORMAT_VERSION + 1)),
        f"format version {FORMAT_VERSION + 1} is newer than this latentlab reads",
    ),
    Hostile(
        "missing-tensor",
        "missing.safetensors",
        _with(lambda t, m: t.pop("encoder.layers.1.weight")),
        "weights its settings need are missing: encoder.layers.1.weight",
    ),
    Hostile(
        "extra-tensor",
        "extra.safetensors",
        _with(lambda t, m: t.update({"encoder.layers.9.weight": np.ones((2, 2), np.float32)})),
        "weights its settings do not use: encoder.layers.9.weight",
    ),
    Hostile(
        "wrong-shape",
        "shape.safetensors",
        _with(lambda t, m: t.update({"decoder.layers.1.bias": np.zeros(100, np.float32)})),
        r"the weights decoder.layers.1.bias have shape \[100\] but its settings need \[784\]",
    ),
    Hostile(
        "wrong-dtype",
        "dtype.safetensors",
        _with(lambda t, m: t.update({"decoder.layers.1.bias": np.zeros(784, np.float64)})),
        "the weights decoder.layers.1.bias are float64, not float32",
    ),
    Hostile(
        "nan-weight",
        "nan.safetensors",
        _with(lambda t, m: _set(t, "decoder.layers.0.weight", (3, 1), np.nan)),
        "the weights decoder.layers.0.weight hold NaN or infinite values",
    ),
    Hostile(
        "inf-weight",
        "inf.safetensors",
        _with(lambda t, m: _set(t, "classifier.layers.1.bias", (2,), -np.inf)),
        "the weights classifier.layers.1.bias hold NaN or infinite values",
    ),
    Hostile(
        "config-disagrees-layers",
        "hidden.safetensors",
        _with(lambda t, m: m["config"].update(decoder_hidden=[64])),
        "have shape .* but its settings need",
    ),
    Hostile(
        "config-disagrees-latent",
        "latent.safetensors",
        _with(lambda t, m: m["config"].update(latent_dim=5)),
        "have shape .* but its settings need|weights its settings need are missing",
    ),
    Hostile(
        "encoding-bad-labels",
        "labels.safetensors",
        _with(lambda t, m: _set(t, "test_encoding.labels", (0,), 77)),
        "its encoded test points' labels must be uint8 classes below 10",
    ),
    Hostile(
        "no-test-encoding",
        "bare.safetensors",
        _with(lambda t, m: [t.pop(k) for k in list(t) if k.startswith("test_encoding.")]),
        "the model has no encoded test set to explore",
    ),
    Hostile(
        "non-ascii-path",
        "modèle-数字-ü.safetensors",
        _with(lambda t, m: _set(t, "encoder.layers.0.bias", (0,), np.nan)),
        "hold NaN or infinite values",
    ),
]


CASES += BOUNDS_CASES


def build(case: Hostile, folder: Path) -> Path:
    """Write ``case`` into ``folder`` and return its path."""
    path = folder / case.filename
    case.build(path)
    return path
