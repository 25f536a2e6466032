"""Fuzzing the model-file loader: thousands of mutated files, and only ModelFileError escapes.

Two generators: byte-level mutations (cuts, flipped bytes, insertions, appended junk) of valid
files, and structural ones that rewrite the safetensors header (dtypes, shapes, offsets) or the
latentlab metadata (any JSON value in any place) and re-encode it, so the fuzzer gets past the
first parse and probes the deeper checks. Whatever a file holds, the loader either returns a
record that the explorer and `latentlab info` can use, or raises ModelFileError naming the file.

Cases: 2,500 byte-level + 2,500 header-level + 1,500 metadata-level = 6,500 files per run.
"""

from __future__ import annotations

import contextlib
import io
import json
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from latentlab.cli import info_dict, main
from latentlab.core.errors import ModelFileError
from latentlab.core.vae.checkpoint import load_model, save_model
from latentlab.core.vae.config import Config

from ..factories import open_state, random_record

BYTE_CASES = 2500
HEADER_CASES = 2500
METADATA_CASES = 1500

# Small networks keep each file at a few tens of kB, so thousands of cases take seconds.
FUZZ_CVAE = Config(
    encoder_hidden=(4,),
    decoder_hidden=(4,),
    classifier_hidden=(3,),
    activation="relu",
    latent_dim=3,
    epochs=1,
)
FUZZ_VAE = FUZZ_CVAE.replace(conditional=False, classifier_hidden=(), latent_dim=2)


def _seed_files() -> list[bytes]:
    with tempfile.TemporaryDirectory() as folder:
        out = []
        for i, config in enumerate((FUZZ_CVAE, FUZZ_VAE)):
            record = random_record(config, n_test=20, seed=i)
            out.append(save_model(record, Path(folder) / f"{i}.safetensors").read_bytes())
        bare = random_record(FUZZ_VAE, n_test=5, seed=3)
        bare.test_encoding = None  # a valid file without the encoded test set
        out.append(save_model(bare, Path(folder) / "bare.safetensors").read_bytes())
        return out


SEEDS = _seed_files()


def _split(data: bytes) -> tuple[dict, bytes]:
    (size,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + size]), data[8 + size :]


def _join(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)  # safetensors pads the header to 8 bytes
    return struct.pack("<Q", len(raw)) + raw + body


class Mutant(bytes):
    """File bytes whose repr is short: a failing case is reported by size and header start."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes: {bytes(self[:300])!r}...>"


# --- generators -----------------------------------------------------------------------------

_byte_op = st.one_of(
    st.tuples(st.just("cut"), st.integers(0, 1 << 20)),
    st.tuples(st.just("set"), st.integers(0, 1 << 20), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=64)),
)


@st.composite
def byte_mutants(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    # Most of a file is tensor data; half the edits aim at the header, where parsing happens.
    header_end = 8 + struct.unpack("<Q", data[:8])[0]
    for op, *args in draw(st.lists(_byte_op, min_size=1, max_size=4)):
        if op == "append":
            data += args[0]
            continue
        span = header_end if draw(st.booleans()) else len(data)
        at = args[0] % (max(span, 1) + 1)
        if op == "cut":
            del data[at:]
        elif op == "set" and at < len(data):
            data[at] = args[1]
        elif op == "insert":
            data[at:at] = args[1]
    return Mutant(data)


_json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
_json = st.recursive(
    _json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_DTYPES = ["F32", "F64", "F16", "BF16", "U8", "I8", "I16", "I32", "I64", "BOOL", "U64", "XX"]
_shape = st.lists(st.integers(-2, 2**40).map(lambda v: v if v < 4096 else v % 4096), max_size=4)


@st.composite
def header_mutants(draw) -> bytes:
    header, body = _split(draw(st.sampled_from(SEEDS)))
    names = sorted(k for k in header if k != "__metadata__")
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(names))
        entry = header.get(name)
        if not isinstance(entry, dict):
            continue
        what = draw(st.sampled_from(["dtype", "shape", "offsets", "drop", "rename", "value"]))
        if what == "dtype":
            entry["dtype"] = draw(st.sampled_from(_DTYPES))
        elif what == "shape":
            entry["shape"] = draw(_shape)
        elif what == "offsets" and isinstance(entry.get("data_offsets"), list):
            start, end = entry["data_offsets"]
            entry["data_offsets"] = [
                start + draw(st.integers(-64, 64)),
                end + draw(st.integers(-64, 64)),
            ]
        elif what == "drop" and name in header:
            del header[name]
        elif what == "rename" and name in header:
            header[draw(st.text(min_size=1, max_size=30))] = header.pop(name)
        elif what == "value":
            header[name] = draw(_json)
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))] + draw(st.binary(max_size=8))
    return Mutant(_join(header, body))


@st.composite
def metadata_mutants(draw) -> bytes:
    """Valid tensors; the latentlab JSON metadata gets a random value at a random place."""
    header, body = _split(draw(st.sampled_from(SEEDS)))
    meta = json.loads(header["__metadata__"]["latentlab"])
    target = meta
    path = draw(
        st.sampled_from(
            [(), ("config",), ("history",), ("metrics",), ("class_names",), ("history", 0)]
        )
    )
    for key in path:
        target = target[key] if isinstance(target, dict) or key < len(target) else target
    if isinstance(target, dict) and target:
        key = draw(st.sampled_from(sorted(target)))
        if draw(st.booleans()):
            target[key] = draw(_json)
        else:
            del target[key]
    elif isinstance(target, list) and target:
        target[draw(st.integers(0, len(target) - 1))] = draw(_json)
    if draw(st.integers(0, 9)) == 0:
        meta = draw(_json)  # the whole metadata replaced
    header["__metadata__"]["latentlab"] = json.dumps(meta)  # NaN and Infinity included
    return Mutant(_join(header, body))


# --- the property -----------------------------------------------------------------------------


REJECTED = "rejected by the loader"
NOT_EXPLORABLE = "loaded, but the explorer cannot show it: info refuses it too"
EXPLORABLE = "loaded and explorable"


def _outcome(label: str) -> str:
    """Count the outcome in hypothesis' statistics (--hypothesis-show-statistics) and return it."""
    if currently_in_test_context():
        event(label)
    return label


def _only_model_file_errors(folder: Path, data: bytes) -> str:
    """Load `data` as a file: a ModelFileError naming it, or a record everything can show.

    For every file the loader accepts, `latentlab info` must agree with the app: exit 0 and a
    report when the explorer can show the model, else exit 1 with one line naming the file.
    (A ModelFileError always becomes that one line: tests/core/test_hostile_files.py.)
    """
    path = folder / "fuzz.safetensors"
    path.write_bytes(data)
    try:
        record = load_model(path)
    except ModelFileError as exc:
        first = str(exc).splitlines()[0]
        assert first.startswith(f"{path}: ") and len(first) > len(str(path)) + 2
        return _outcome(REJECTED)
    for array in record.weights.values():
        assert array.dtype == np.float32 and np.isfinite(array).all()
    json.dumps(info_dict(record, str(path)))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["info", str(path)])
    try:
        explorer = open_state(record)
    except ValueError:
        assert code == 1 and err.getvalue().startswith(f"latentlab: error: {path}: ")
        assert err.getvalue().count("\n") == 1 and out.getvalue() == ""
        return _outcome(NOT_EXPLORABLE)
    assert code == 0 and out.getvalue().startswith(str(path)), err.getvalue()
    assert explorer.decode().shape == (28, 28, 1)
    return _outcome(EXPLORABLE)


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    "derandomize": False,
}


@settings(max_examples=BYTE_CASES, **_SETTINGS)
@given(data=byte_mutants())
def test_byte_mutants_raise_only_model_file_error(folder, data):
    _only_model_file_errors(folder, data)


@settings(max_examples=HEADER_CASES, **_SETTINGS)
@given(data=header_mutants())
def test_header_mutants_raise_only_model_file_error(folder, data):
    _only_model_file_errors(folder, data)


@settings(max_examples=METADATA_CASES, **_SETTINGS)
@given(data=metadata_mutants())
def test_metadata_mutants_raise_only_model_file_error(folder, data):
    _only_model_file_errors(folder, data)


def test_fuzz_seeds_load(folder):
    """The fuzzer starts from valid files, so its mutations probe real code paths."""
    outcomes = [_only_model_file_errors(folder, seed) for seed in SEEDS]
    assert outcomes == [EXPLORABLE, EXPLORABLE, NOT_EXPLORABLE]  # the last has no test set
