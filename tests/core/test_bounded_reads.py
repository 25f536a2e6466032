"""Files that must be refused before they are read: FIFOs, /dev/zero, sparse giants, gzip bombs.

Every read runs in a subprocess that may use at most 1.5 GB of address space and 20 s. A reader
that blocks on a FIFO, reads /dev/zero, reads a 2 GB file whole or decompresses a bomb runs out
of one or the other, and the test fails; no test times anything. Each child prints the first
line of the error it got and its peak resident memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from latentlab.core.data import datasets
from latentlab.core.vae.checkpoint import MAX_MODEL_BYTES, save_model

from ..factories import random_record
from ..hostile import GIB, MIB, gzip_bomb

resource = pytest.importorskip("resource")  # POSIX: address-space limits

REPO = Path(__file__).resolve().parents[2]
ADDRESS_SPACE = 1536 * MIB  # what the child may map in all, Python and numpy included
TIMEOUT_S = 20

PRELUDE = f"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))
from latentlab.core.errors import LatentlabError


def report(call):
    try:
        result = call()
        error = None
    except LatentlabError as exc:
        result, error = None, str(exc).splitlines()[0]
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({{"error": error, "result": result, "peak_mib": peak_kib // 1024}}))
"""


def run_bounded(body: str, tmp_path: Path, *args: str) -> dict:
    """Run PRELUDE + ``body`` in a child under the limits; its report as a dict."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),  # no real dataset cache can answer instead
        "OPENBLAS_NUM_THREADS": "1",  # each BLAS thread reserves address space
        "OMP_NUM_THREADS": "1",
    }
    env.pop(datasets.DATA_DIR_ENV, None)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", PRELUDE + body, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the read did not finish in {TIMEOUT_S} s: it blocks or reads without bound")
    assert proc.returncode == 0, proc.stderr[-3000:]  # MemoryError: it read without bound
    return json.loads(proc.stdout.splitlines()[-1])


LOAD_MODEL = """
from latentlab.core.vae.checkpoint import load_model
report(lambda: sorted(load_model(sys.argv[1]).weights)[:1])
"""


def test_the_limits_let_a_good_model_load(tmp_path: Path) -> None:
    """The harness itself: a good model loads under the limits, so a failure means the file."""
    path = save_model(random_record(), tmp_path / "good.safetensors")
    out = run_bounded(LOAD_MODEL, tmp_path, str(path))
    assert out["error"] is None and out["result"]


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _sparse_copy(size: int):
    def build(path: Path) -> None:
        save_model(random_record(), path)
        with open(path, "r+b") as f:
            f.truncate(size)

    return build


MODEL_CASES = [
    ("fifo", _fifo, r"is a named pipe \(FIFO\), not a regular file"),
    ("dev-zero", _dev_zero, "is a character device, not a regular file"),
    ("sparse-2gb", _sparse_copy(2 * GIB), "larger than a latentlab model file can be"),
    ("sparse-under-ceiling", _sparse_copy(MAX_MODEL_BYTES - MIB), "more than the"),
]


@pytest.mark.parametrize(
    ("build", "words"), [c[1:] for c in MODEL_CASES], ids=[c[0] for c in MODEL_CASES]
)
def test_a_model_path_that_is_no_model_file_is_refused_unread(tmp_path, build, words) -> None:
    import re

    path = tmp_path / "x.safetensors"
    build(path)
    out = run_bounded(LOAD_MODEL, tmp_path, str(path))
    assert out["error"] is not None, out
    assert out["error"].startswith(f"{path}: "), out["error"]
    assert re.search(words, out["error"]), out["error"]


# --- IDX files ----------------------------------------------------------------------------------

IMAGES = datasets.MNIST.files["train_images"].filename  # train-images-idx3-ubyte
TEST_IMAGES = datasets.MNIST.files["test_images"].filename
TEST_LABELS = datasets.MNIST.files["test_labels"].filename


def _idx_header(*dims: int) -> bytes:
    return bytes([0, 0, 0x08, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


READ_IMAGES = """
from latentlab.core.data.idx import read_images
report(lambda: list(read_images(sys.argv[1]).shape))
"""
VERIFY = """
from latentlab.core.data.datasets import verify
report(lambda: [c.message for c in verify("mnist", sys.argv[1]) if c.path and not c.ok])
"""
TEST_SPLIT = """
from latentlab.core.data.datasets import load_test_split
report(lambda: len(load_test_split("mnist", sys.argv[1])[0]))
"""
SHA = """
from latentlab.core.data.idx import content_sha256
report(lambda: content_sha256(sys.argv[1]))
"""

# (id, file name, what to write there, words of the refusal)
IDX_CASES = [
    (
        "bomb-of-zeros",
        IMAGES + ".gz",
        lambda p: p.write_bytes(gzip_bomb()),
        "images must be uint8 (IDX type code 0x08), found 0x00",
    ),
    (
        "bomb-after-a-small-header",
        IMAGES + ".gz",
        lambda p: p.write_bytes(gzip_bomb(_idx_header(1, 28, 28))),
        "decompresses to more than the 800 bytes its header declares (header says 1 x 28 x 28)",
    ),
    (
        "bomb-with-a-huge-header",
        IMAGES + ".gz",
        lambda p: p.write_bytes(gzip_bomb(_idx_header(3_000_000, 28, 28))),
        "header says 3000000 x 28 x 28 (2.2 GiB), more than the 1.0 GiB latentlab reads",
    ),
    (
        "raw-sparse-2gb",
        IMAGES,
        lambda p: (p.write_bytes(_idx_header(60000, 28, 28)), os.truncate(p, 2 * GIB)),
        "the file is 2.0 GiB, more than the 1.0 GiB latentlab reads from one IDX file",
    ),
    (
        "raw-longer-than-declared",
        IMAGES,
        lambda p: (p.write_bytes(_idx_header(10, 28, 28)), os.truncate(p, 900 * MIB)),
        "unexpected bytes after the data (header says 10 x 28 x 28)",
    ),
    ("fifo", IMAGES, _fifo, r"is a named pipe (FIFO), not a regular file"),
    ("dev-zero", IMAGES + ".gz", _dev_zero, "is a character device, not a regular file"),
]


@pytest.mark.parametrize(
    ("filename", "make", "words"), [c[1:] for c in IDX_CASES], ids=[c[0] for c in IDX_CASES]
)
def test_read_images_refuses_without_reading_it_all(tmp_path, filename, make, words) -> None:
    path = tmp_path / filename
    make(path)
    out = run_bounded(READ_IMAGES, tmp_path, str(path))
    assert out["error"] == f"{path}: {words}" or (
        out["error"].startswith(f"{path}: ") and words in out["error"]
    ), out


@pytest.mark.parametrize("case", ["bomb-of-zeros", "bomb-after-a-small-header", "fifo"])
def test_data_verify_names_the_bomb(tmp_path, case) -> None:
    """`latentlab data verify` and `train` / `eval` read through the same check."""
    _, filename, make, _ = next(c for c in IDX_CASES if c[0] == case)
    path = tmp_path / filename
    make(path)
    out = run_bounded(VERIFY, tmp_path, str(tmp_path))
    assert len(out["result"]) == 1 and out["result"][0].startswith(f"{path}: "), out


def test_the_apps_test_data_load_names_the_bomb(tmp_path) -> None:
    """load_test_split (the explorer's test images) with a bomb for the test images."""
    path = tmp_path / (TEST_IMAGES + ".gz")
    path.write_bytes(gzip_bomb(_idx_header(10000, 28, 28)))
    (tmp_path / (TEST_LABELS + ".gz")).write_bytes(gzip_bomb(_idx_header(10000)))
    out = run_bounded(TEST_SPLIT, tmp_path, str(tmp_path))
    assert out["error"].startswith(f"{path}: decompresses to more than the 7,840,016 bytes"), out


def test_a_downloads_checksum_stops_at_the_cap(tmp_path) -> None:
    """content_sha256 (downloads) hashes any content but keeps none and stops at the header."""
    path = tmp_path / "download.gz"
    path.write_bytes(gzip_bomb(_idx_header(5, 28, 28)))
    out = run_bounded(SHA, tmp_path, str(path))
    assert "decompresses to more than the 3,936 bytes" in out["error"], out


def test_sizes_beyond_any_float_still_read_in_a_message():
    """A header may declare 2^32 to the fourth bytes; the refusal must still say how many."""
    from latentlab.core.safe_read import describe_size

    assert describe_size(1023) == "1,023 bytes"
    assert describe_size(3 * 1024**3) == "3.0 GiB"
    assert describe_size(10**400).endswith(" GiB")
