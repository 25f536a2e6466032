"""Hostile files and faults through the command line, as a user meets them.

Model files (tests/hostile.py) go through `latentlab info` in a real subprocess: exit 1, one line
on stderr naming the file and the problem, no traceback, and no pickle payload ever runs. Broken
data files go through `latentlab train` / `latentlab data verify`. Saves and downloads are
killed mid-way in a subprocess, or fail at each step of the write: the previous file survives
and no half-written file ever carries the final name.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from latentlab.cli import main
from latentlab.core import atomic  # every file latentlab writes goes through atomic.write_atomic
from latentlab.core.data import datasets
from latentlab.core.vae.checkpoint import load_model, save_model

from ..factories import random_record, tiny_images
from ..hostile import CASES, PWNED, Hostile, Payload, build, gzip_bomb
from .test_download import GOOD, SHA, Server

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}


def run_cli(*args: str, cwd: Path, script: str | None = None) -> subprocess.CompletedProcess:
    """`python -m latentlab ARGS` (or `python -c SCRIPT ARGS`) in `cwd`, text in UTF-8."""
    head = ["-c", script] if script else ["-m", "latentlab"]
    return subprocess.run(
        [sys.executable, *head, *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, path: Path, words: str) -> str:
    """Exit 1, nothing on stdout, exactly one stderr line naming `path` and matching `words`."""
    import re

    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert lines[0].startswith(f"latentlab: error: {path}: "), lines[0]
    assert re.search(words, lines[0]), lines[0]
    return lines[0]


# --- hostile model files ------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_info_refuses_a_hostile_model_file_in_one_line(tmp_path: Path, case: Hostile) -> None:
    path = build(case, tmp_path)
    proc = run_cli("info", str(path), cwd=tmp_path)
    assert_one_line_error(proc, path, case.words)
    assert not (tmp_path / PWNED).exists(), "the pickle payload ran"


def test_the_pickle_payload_would_run_if_unpickled(tmp_path: Path) -> None:
    """The canary works: unpickling the payload does create the file the tests look for."""
    data = pickle.dumps(Payload())
    proc = subprocess.run(
        [sys.executable, "-c", f"import pickle; pickle.loads({data!r})"], cwd=tmp_path, timeout=60
    )
    assert proc.returncode == 0 and (tmp_path / PWNED).exists()


def test_info_on_an_unreadable_file(tmp_path: Path) -> None:
    """No read permission. Root reads anything, so as root the denial is simulated in the process."""
    path = save_model(random_record(), tmp_path / "locked.safetensors")
    path.chmod(0)
    try:
        script = None
        if os.access(path, os.R_OK):  # root: make reading this one file fail as chmod would
            script = (
                "import os, sys\n"
                "real = os.open\n"
                "def denied(file, flags, *args, **kwargs):\n"
                f"    if os.fspath(file) == {str(path)!r}:\n"
                "        raise PermissionError(13, 'Permission denied', os.fspath(file))\n"
                "    return real(file, flags, *args, **kwargs)\n"
                "os.open = denied\n"
                "from latentlab.cli import main\n"
                "sys.exit(main(sys.argv[1:]))\n"
            )
        proc = run_cli("info", str(path), cwd=tmp_path, script=script)
    finally:
        path.chmod(0o644)
    assert_one_line_error(proc, path, "permission denied: the file cannot be read")


def test_info_reads_a_good_model_at_a_non_ascii_path(tmp_path: Path) -> None:
    folder = tmp_path / "données-ünï-数字"
    folder.mkdir()
    path = save_model(random_record(), folder / "modèle ✓.safetensors")
    proc = run_cli("info", str(path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == str(path)
    assert "conditional VAE" in proc.stdout


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.safetensors"
    assert_one_line_error(run_cli("info", str(path), cwd=tmp_path), path, "no such file")


# --- broken data files --------------------------------------------------------------------------

ROLE_FILES = {role: spec.filename + ".gz" for role, spec in datasets.MNIST.files.items()}


def _idx(array: np.ndarray) -> bytes:
    """Raw (uncompressed) IDX bytes of a uint8 array."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return header + array.tobytes()


def _good_contents() -> dict[str, bytes]:
    rng = np.random.default_rng(3)
    out = {}
    for split, n in (("train", 60), ("test", 20)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        out[f"{split}_images"] = _idx(tiny_images(labels, rng))
        out[f"{split}_labels"] = _idx(labels)
    return out


def _cut_gzip(raw: bytes) -> bytes:
    data = gzip.compress(raw, mtime=0)
    return data[: len(data) // 2]


def _label_out_of_range(raw: bytes) -> bytes:
    data = bytearray(raw)
    data[8 + 5] = 12  # label index 5
    return bytes(data)


def _dims_disagree(raw: bytes) -> bytes:
    data = bytearray(raw)
    data[4:8] = (int.from_bytes(raw[4:8], "big") + 3).to_bytes(4, "big")  # 3 images too many
    return bytes(data)


def _other_pixels(raw: bytes) -> bytes:
    data = bytearray(raw)
    data[-1] ^= 0xFF
    return bytes(data)


# (id, role, change of the raw content, is the file stored as it is (not gzipped by us),
#  does the registered checksum follow the change, words of the one-line message)
DATA_CASES = [
    ("truncated-gzip", "train_images", _cut_gzip, True, False, "gzip data is truncated"),
    (
        "gzip-of-garbage",
        "test_labels",
        lambda raw: b"\x1f\x8b" + os.urandom(200),
        True,
        False,
        "not valid gzip data",
    ),
    (
        "wrong-magic",
        "train_labels",
        lambda raw: b"\x12\x34" + raw[2:],
        False,
        True,
        "not an IDX file",
    ),
    ("dims-disagree", "test_images", _dims_disagree, False, True, "truncated: header says 23 x"),
    ("label-out-of-range", "train_labels", _label_out_of_range, False, True, "label 12 at index 5"),
    (
        "counts-disagree",
        "test_labels",
        lambda raw: _idx(np.frombuffer(raw[8:], np.uint8)[:-1].copy()),
        False,
        True,
        "has 20 images but t10k-labels-idx1-ubyte.gz has 19 labels",
    ),
    ("checksum-mismatch", "test_images", _other_pixels, False, False, "content does not match"),
    (
        "gzip-bomb",  # the real header, then 2 GiB of zeros in 2 MB
        "train_images",
        lambda raw: gzip_bomb(raw[:16]),
        True,
        False,
        "decompresses to more than the 47,056 bytes its header declares",
    ),
]


def _hostile_dataset(tmp_path: Path, monkeypatch, role: str, change, stored_as_is: bool, follow):
    """Four files in a folder, one of them changed; registered as dataset `hostile`."""
    folder = tmp_path / "data"
    folder.mkdir()
    files = {}
    for r, raw in _good_contents().items():
        content = change(raw) if r == role else raw
        path = folder / ROLE_FILES[r]
        path.write_bytes(content if (r == role and stored_as_is) else gzip.compress(content))
        digest_of = content if (r == role and follow) else raw
        files[r] = datasets.FileSpec(datasets.MNIST.files[r].filename, _sha(digest_of))
    monkeypatch.setattr(datasets, "DATASETS", dict(datasets.DATASETS))
    datasets.register_dataset(
        datasets.DatasetSpec("hostile", "Hostile", tuple("0123456789"), files)
    )
    return folder, folder / ROLE_FILES[role]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("role", "change", "as_is", "follow", "words"),
    [c[1:] for c in DATA_CASES],
    ids=[c[0] for c in DATA_CASES],
)
def test_train_refuses_broken_data_in_one_line(
    tmp_path, monkeypatch, capsys, role, change, as_is, follow, words
) -> None:
    folder, bad = _hostile_dataset(tmp_path, monkeypatch, role, change, as_is, follow)
    out = tmp_path / "never.safetensors"
    args = ["train", "--preset", "vae-2d", "--dataset", "hostile", "--data-dir", str(folder)]
    code = main([*args, "--no-download", "--device", "cpu", "--epochs", "1", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("latentlab: error: "), captured.err
    assert bad.name in lines[0] and words in lines[0], lines[0]
    assert not out.exists()


@pytest.mark.parametrize(
    ("role", "change", "as_is", "follow", "words"),
    [c[1:] for c in DATA_CASES if c[0] in ("truncated-gzip", "checksum-mismatch")],
    ids=["truncated-gzip", "checksum-mismatch"],
)
def test_data_verify_marks_the_broken_file(
    tmp_path, monkeypatch, capsys, role, change, as_is, follow, words
) -> None:
    folder, bad = _hostile_dataset(tmp_path, monkeypatch, role, change, as_is, follow)
    assert main(["data", "verify", "--dataset", "hostile", "--data-dir", str(folder)]) == 1
    captured = capsys.readouterr()
    bad_lines = [ln for ln in captured.out.splitlines() if ln.startswith("BAD")]
    assert len(bad_lines) == 1 and str(bad) in bad_lines[0] and words in bad_lines[0]
    assert captured.err.strip() == "latentlab: error: 1 of 4 files failed verification"


def test_truncated_gzip_in_a_real_subprocess(tmp_path: Path) -> None:
    """The same standard end to end: `latentlab train` on a folder with a cut download."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    for role, raw in _good_contents().items():
        content = _cut_gzip(raw) if role == "train_images" else gzip.compress(raw)
        (folder / ROLE_FILES[role]).write_bytes(content)
    out = tmp_path / "m.safetensors"
    args = ["train", "--data-dir", str(folder), "--no-download", "--out", str(out)]
    proc = run_cli(*args, cwd=tmp_path)
    bad = folder / ROLE_FILES["train_images"]
    assert_one_line_error(proc, bad, "gzip data is truncated")
    assert not out.exists()


# --- saving: failures at each step, and a kill mid-save -----------------------------------------


class _FailingFile:
    """Wraps the temp file; the chosen step fails as a full disk does (after half the bytes)."""

    def __init__(self, real, step: str) -> None:
        self._real, self._step = real, step

    def write(self, data: bytes) -> int:
        if self._step == "write":
            self._real.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._real.write(data)

    def flush(self) -> None:
        if self._step == "flush":
            raise OSError(errno.ENOSPC, "No space left on device")
        self._real.flush()

    def fileno(self) -> int:
        return self._real.fileno()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._real.close()


SAVE_STEPS = ["mkstemp", "write", "flush", "fsync", "replace"]


def _break_step(monkeypatch, step: str) -> None:
    def fail(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if step == "mkstemp":
        monkeypatch.setattr(atomic.tempfile, "mkstemp", fail)
    elif step in ("write", "flush"):
        real_fdopen = os.fdopen
        monkeypatch.setattr(
            atomic.os, "fdopen", lambda fd, mode: _FailingFile(real_fdopen(fd, mode), step)
        )
    elif step == "fsync":
        monkeypatch.setattr(atomic.os, "fsync", fail)
    elif step == "replace":
        monkeypatch.setattr(atomic.os, "replace", fail)


@pytest.mark.parametrize("step", SAVE_STEPS)
def test_a_save_failing_at_any_step_keeps_the_previous_file(tmp_path, monkeypatch, step) -> None:
    path = save_model(random_record(seed=1), tmp_path / "m.safetensors")
    before = path.read_bytes()
    _break_step(monkeypatch, step)
    with pytest.raises(OSError, match="No space left"):
        save_model(random_record(seed=2), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]  # no temp file left


@pytest.mark.parametrize("step", SAVE_STEPS)
def test_train_out_of_disk_on_save_says_so_in_one_line(
    tmp_path, monkeypatch, capsys, tiny_dataset, step
) -> None:
    out = tmp_path / "t.safetensors"
    out.write_bytes(b"previous model")
    _break_step(monkeypatch, step)
    args = ["train", "--preset", "vae-2d", "--epochs", "1", "--dataset", tiny_dataset.name]
    args += ["--data-dir", str(tiny_dataset.dir), "--device", "cpu", "--out", str(out)]
    assert main(args) == 1
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    advice = "free some space or choose another folder"
    if step == "mkstemp":  # the folder is probed before training: no file can be made there
        assert err == [
            f"latentlab: error: {out}: the model could not be saved there "
            f"(No space left on device); {advice}; nothing was trained"
        ]
        assert "epoch" not in captured.out
    else:
        assert err[-1] == (
            f"latentlab: error: {out}: the model could not be saved (No space left on device); "
            f"{advice}"
        )
    assert not any("Traceback" in line for line in err)
    assert out.read_bytes() == b"previous model"
    assert sorted(p.name for p in tmp_path.iterdir() if "t.safetensors" in p.name) == [
        "t.safetensors"
    ]


KILL_SCRIPT = """
import os, sys, time
from latentlab.core import atomic
from latentlab.core.vae import checkpoint
from tests.factories import random_record

path, where = sys.argv[1], sys.argv[2]


def stall(message):
    print(message, flush=True)
    time.sleep(600)  # the parent kills this process here


if where == "mid-write":
    real_fdopen = os.fdopen

    class Half:
        def __init__(self, f):
            self.f = f
        def write(self, data):
            self.f.write(data[: len(data) // 2]); self.f.flush(); stall("HALF WRITTEN")
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.f.close()

    atomic.os.fdopen = lambda fd, mode: Half(real_fdopen(fd, mode))
else:  # written and synced, not yet renamed
    atomic.os.replace = lambda src, dst: stall("BEFORE RENAME")
checkpoint.save_model(random_record(seed=2, n_test=2000), path)
"""


@pytest.mark.parametrize("where", ["mid-write", "before-rename"])
def test_a_save_killed_mid_way_leaves_the_previous_file(tmp_path: Path, where: str) -> None:
    path = save_model(random_record(seed=1), tmp_path / "m.safetensors")
    before = path.read_bytes()
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(path), where],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()  # blocks until the save reached the chosen point
        assert line.strip() in ("HALF WRITTEN", "BEFORE RENAME")
        temp = [p for p in tmp_path.iterdir() if p.name != "m.safetensors"]
        assert len(temp) == 1 and temp[0].stat().st_size > 0  # the new bytes were on their way
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    assert load_model(path).config == random_record(seed=1).config
    # What is left is a hidden temp file, never the final name; the next save still works.
    assert all(p.name.startswith(".m.safetensors.") for p in temp)
    save_model(random_record(seed=3), path)
    assert load_model(path).weights.keys() == random_record(seed=3).weights.keys()


DOWNLOAD_SCRIPT = """
import sys
from latentlab.core.data.download import download_file
url, dest, sha, half = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
said = []

def progress(p):
    if p.done >= half and not said:  # tell the parent once half the file is on disk
        said.append(1)
        print("HALF", flush=True)

download_file([url], dest, sha256_raw=sha, progress=progress, retries=1, timeout=60,
              chunk_size=1024)
"""


def test_a_download_killed_mid_way_leaves_the_previous_file(tmp_path: Path) -> None:
    """The server sends half the file and stalls; the downloading process is killed there."""
    server = Server()

    def half_then_stall(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(GOOD)))
        handler.end_headers()
        handler.wfile.write(GOOD[: len(GOOD) // 2])
        handler.wfile.flush()
        server.release.wait(60)

    dest = tmp_path / "file.gz"
    dest.write_bytes(b"previous")
    url = server.add("/stall/file.gz", half_then_stall)
    env = {k: v for k, v in ENV.items() if k.lower() not in ("http_proxy", "https_proxy")}
    half = (len(GOOD) // 2) // 1024 * 1024  # whole chunks: reading them never waits on the stall
    child = subprocess.Popen(
        [sys.executable, "-c", DOWNLOAD_SCRIPT, url, str(dest), SHA, str(half)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "HALF"  # blocks until half is written
        parts = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
        assert len(parts) == 1 and parts[0].name.startswith(".file.gz.")
    finally:
        child.kill()
        child.wait(30)
        child.stdout.close()
        server.close()
    assert dest.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == ["file.gz"]
