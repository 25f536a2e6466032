"""Stale ``.part`` files: a download killed mid-transfer leaves one; the next download to the
same place removes it, but never the ``.part`` of a download still running (it is locked)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from latentlab.core.data.download import STALE_PART_S, download_file, remove_stale_parts

from .test_download import GOOD, SHA, Server, serve

fcntl = pytest.importorskip("fcntl", reason="the lock needs POSIX flock")

REPO = Path(__file__).resolve().parents[2]
ENV = {
    **{k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy")},
    "PYTHONPATH": str(REPO),
}
FAST = {"backoff": lambda attempt: 0.0, "timeout": 5.0}
TIMEOUT_S = 60  # a download of 50 kB from 127.0.0.1 takes milliseconds; a hang runs into this

# The child downloads from a server that sends half the file and stalls, and says where it is.
STALLED_DOWNLOAD = """
import sys
from latentlab.core.data.download import download_file
url, dest, sha, half = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
said = []

def progress(p):
    if p.done >= half and not said:
        said.append(1)
        print("HALF", flush=True)

download_file([url], dest, sha256_raw=sha, progress=progress, retries=1, timeout=60,
              chunk_size=1024)
print("DONE", flush=True)
"""


@pytest.fixture
def local(monkeypatch):
    """The local server for the downloads that succeed (a developer's proxy must not catch it)."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    srv = Server()
    yield srv
    srv.close()


def _old(path: Path, age_s: float = 2 * STALE_PART_S) -> Path:
    then = time.time() - age_s
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def _parts(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".part"))


def _stalling_server() -> tuple[Server, str]:
    stalling = Server()

    def half_then_stall(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(GOOD)))
        handler.end_headers()
        handler.wfile.write(GOOD[: len(GOOD) // 2])
        handler.wfile.flush()
        stalling.release.wait(TIMEOUT_S)
        with contextlib.suppress(OSError):  # released: the rest, for a child still reading
            handler.wfile.write(GOOD[len(GOOD) // 2 :])

    return stalling, stalling.add("/stall/file.gz", half_then_stall)


def _start_stalled_download(url: str, dest: Path) -> subprocess.Popen[str]:
    half = (len(GOOD) // 2) // 1024 * 1024  # whole chunks: reading them never waits on the stall
    return subprocess.Popen(
        [sys.executable, "-c", STALLED_DOWNLOAD, url, str(dest), SHA, str(half)],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )


def _stop(child: subprocess.Popen[str], stalling: Server) -> None:
    if child.poll() is None:
        child.kill()
    child.wait(TIMEOUT_S)
    child.stdout.close()
    stalling.close()


def test_a_download_killed_mid_way_is_cleaned_up_by_the_next_one(tmp_path, local):
    """A real download, killed half-way: its `.part` stays (young), and goes with the next
    download to the same place once it is stale."""
    stalling, url = _stalling_server()
    dest = tmp_path / "file.gz"
    child = _start_stalled_download(url, dest)
    try:
        assert child.stdout.readline().strip() == "HALF"
        child.kill()
        child.wait(TIMEOUT_S)
    finally:
        _stop(child, stalling)
    (left,) = _parts(tmp_path)
    assert left.name.startswith(".file.gz.") and 0 < left.stat().st_size < len(GOOD)

    good = local.add("/good/file.gz", serve(GOOD))
    download_file([good], dest, sha256_raw=SHA, **FAST)
    assert left.exists()  # seconds old: it could be a download that is only slow

    _old(left)
    (tmp_path / "file.gz").unlink()
    download_file([good], dest, sha256_raw=SHA, **FAST)
    assert dest.read_bytes() == GOOD
    assert _parts(tmp_path) == []


def test_a_running_downloads_part_is_kept_however_old(tmp_path, local):
    """Two downloads to one place: the second runs while the first is stalled mid-transfer.
    The first's `.part` is made to look an hour old, so only its lock can protect it."""
    stalling, url = _stalling_server()
    dest = tmp_path / "file.gz"
    child = _start_stalled_download(url, dest)
    try:
        assert child.stdout.readline().strip() == "HALF"
        (running,) = _parts(tmp_path)
        _old(running, 3600)
        assert remove_stale_parts(dest) == []
        good = local.add("/good/file.gz", serve(GOOD))
        download_file([good], dest, sha256_raw=SHA, **FAST)
        assert dest.read_bytes() == GOOD
        assert running.exists()  # the running download still writes into it
        stalling.release.set()  # let the first one finish: it gets the whole file too
        assert child.stdout.readline().strip() == "DONE"
        assert child.wait(TIMEOUT_S) == 0
    finally:
        _stop(child, stalling)
    assert dest.read_bytes() == GOOD
    assert _parts(tmp_path) == []


def test_only_stale_parts_of_this_destination_are_removed(tmp_path, local):
    dest = tmp_path / "file.gz"
    stale = tmp_path / ".file.gz.ab_cd123.part"
    stale.write_bytes(b"left by a killed download")
    _old(stale)
    young = tmp_path / ".file.gz.zz9zz9zz.part"
    young.write_bytes(b"a download that may still be running")
    keep = [
        young,
        tmp_path / ".file.gz.short.part",  # not mkstemp's eight characters
        tmp_path / ".file.gz.abcd1234.part.bak",
        tmp_path / ".other.gz.abcd1234.part",  # another destination's
        tmp_path / "file.gz.abcd1234.part",  # not hidden: not ours
        tmp_path / ".file.gz.ABCD1234.part",  # mkstemp writes lower case only
        tmp_path / ".file.gz.abcd1234.tmp",  # a save's temporary file (atomic.py's business)
    ]
    for path in keep[1:]:
        path.write_bytes(b"someone else's")
        _old(path)
    folder = tmp_path / ".file.gz.dir12345.part"
    folder.mkdir()
    _old(folder)
    outside = tmp_path / "precious"
    outside.write_bytes(b"not a download")
    link = tmp_path / ".file.gz.link1234.part"
    link.symlink_to(outside)
    _old(link)

    download_file([local.add("/f.gz", serve(GOOD))], dest, sha256_raw=SHA, **FAST)
    assert dest.read_bytes() == GOOD
    assert not stale.exists()
    assert all(p.exists() for p in keep) and folder.is_dir()
    assert link.is_symlink() and outside.read_bytes() == b"not a download"


def test_the_clean_up_never_stops_a_download(tmp_path, local, monkeypatch):
    """An error while cleaning up (a folder that cannot be listed, a file gone meanwhile) is
    ignored; the download goes on."""
    stale = tmp_path / ".file.gz.abcd1234.part"
    stale.write_bytes(b"x")
    _old(stale)

    def vanished(path):
        raise FileNotFoundError(2, "No such file or directory", str(path))

    from latentlab.core import atomic

    monkeypatch.setattr(atomic, "_unlink_unless_locked", vanished)
    dest = tmp_path / "file.gz"
    download_file([local.add("/f.gz", serve(GOOD))], dest, sha256_raw=SHA, **FAST)
    assert dest.read_bytes() == GOOD
    assert remove_stale_parts(tmp_path / "missing-folder" / "file.gz") == []
