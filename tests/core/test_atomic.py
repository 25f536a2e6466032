"""write_atomic's errors name the user's file, and stale temporary files of killed saves go away."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from latentlab.cli import main
from latentlab.core import atomic
from latentlab.core.atomic import WriteError, check_writable, remove_stale_temps, write_atomic
from latentlab.core.vae.checkpoint import save_model

from ..factories import random_record
from .test_hostile_files import ENV, KILL_SCRIPT, REPO

fcntl = pytest.importorskip("fcntl")


def _old(path: Path, age_s: float = 2 * atomic.STALE_TEMP_S) -> Path:
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def test_a_missing_folder_names_the_target_not_the_temporary_file(tmp_path):
    target = tmp_path / "absent" / "P.png"
    with pytest.raises(WriteError) as caught:
        write_atomic(target, b"x")
    text = str(caught.value)
    assert text.startswith(f"{target}: could not be written (No such file or directory)")
    assert "the folder does not exist" in text and ".tmp" not in text
    assert caught.value.errno == errno.ENOENT and caught.value.filename == str(target)


@pytest.mark.parametrize(
    ("code", "problem", "advice"),
    [
        (errno.EFBIG, "File too large", "cannot hold a file this large"),
        (errno.ENOSPC, "No space left on device", "free some space"),
        (errno.EROFS, "Read-only file system", "read-only"),
    ],
)
def test_a_failing_write_says_the_path_the_problem_and_what_to_do(
    tmp_path, monkeypatch, code, problem, advice
):
    target = tmp_path / "grid.png"
    target.write_bytes(b"previous")

    def fail(*args, **kwargs):
        raise OSError(code, problem)  # as the kernel says it: no file name at all

    monkeypatch.setattr(atomic.os, "fsync", fail)
    with pytest.raises(WriteError) as caught:
        write_atomic(target, b"new")
    assert str(caught.value).startswith(f"{target}: could not be written ({problem}); ")
    assert advice in str(caught.value)
    assert caught.value.errno == code and caught.value.strerror == problem
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]


def test_the_cli_prints_the_write_error_in_one_line(tmp_path, capsys):
    model = save_model(random_record(), tmp_path / "m.safetensors")
    out = tmp_path / "absent" / "grid.png"
    assert main(["sample", str(model), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ".tmp" not in err
    assert err.startswith(f"latentlab: error: {out}: could not be written (No such file")


def test_an_empty_name_or_a_folder_is_refused(tmp_path):
    with pytest.raises(WriteError, match="the name is empty"):
        check_writable(Path(""))
    with pytest.raises(WriteError, match=r"Is a directory\); it is a folder"):
        write_atomic(tmp_path, b"x")


def test_check_writable_leaves_nothing_behind(tmp_path):
    check_writable(tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_only_stale_temp_files_of_this_target_are_removed(tmp_path):
    target = tmp_path / "m.png"
    stale = tmp_path / ".m.png.ab_cd123.tmp"
    stale.write_bytes(b"left by a killed save")
    _old(stale)
    young = tmp_path / ".m.png.zz9zz9zz.tmp"
    young.write_bytes(b"a save that may still be running")
    keep = [
        young,
        tmp_path / ".m.png.short.tmp",  # not mkstemp's eight characters
        tmp_path / ".m.png.abcd1234.tmp.bak",
        tmp_path / ".other.png.abcd1234.tmp",  # another target's
        tmp_path / "m.png.abcd1234.tmp",  # not hidden: not ours
        tmp_path / ".m.png.ABCD1234.tmp",  # mkstemp writes lower case only
    ]
    for path in keep[1:]:
        path.write_bytes(b"someone else's")
        _old(path)
    (tmp_path / ".m.png.dir12345.tmp").mkdir()
    _old(tmp_path / ".m.png.dir12345.tmp")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert not stale.exists()
    assert all(p.exists() for p in keep) and (tmp_path / ".m.png.dir12345.tmp").is_dir()


def test_a_locked_temp_file_is_kept_however_old(tmp_path):
    target = tmp_path / "m.png"
    temp = tmp_path / ".m.png.abcd1234.tmp"
    temp.write_bytes(b"being written")
    _old(temp)
    with open(temp, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert remove_stale_temps(target) == []
        write_atomic(target, b"new")
        assert temp.exists()
    assert remove_stale_temps(target) == [temp]


def test_a_save_killed_mid_way_is_cleaned_up_but_a_running_one_is_not(tmp_path):
    """A real save in another process, stalled mid-write: its old-looking temp file survives
    our save (it is locked); once that process is killed, the next save removes it."""
    path = save_model(random_record(seed=1), tmp_path / "m.safetensors")
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(path), "mid-write"],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "HALF WRITTEN"  # the child holds its lock
        (temp,) = [p for p in tmp_path.iterdir() if p.name != "m.safetensors"]
        _old(temp)
        save_model(random_record(seed=2), path)
        assert temp.exists()  # a save still running is never touched
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        child.stdout.close()
    save_model(random_record(seed=3), path)  # now unlocked and old: a dead save's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]


def test_a_writer_function_fills_the_file_and_its_library_errors_name_the_target(tmp_path):
    """Large files are written in pieces by a function, straight to the temporary file, with
    the usual mode; a library's own error types still become a WriteError naming the user's path, no temp left."""
    from latentlab.core.atomic import WriteError, write_atomic

    target = tmp_path / "model.latentlab"
    write_atomic(target, lambda f: f.write(b"first"))
    assert target.read_bytes() == b"first"
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()

    class LibraryError(Exception):
        pass

    def failing(f):
        f.write(b"half")
        raise LibraryError(
            'Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "No space left on device" })'
        )

    with pytest.raises(WriteError) as err:
        write_atomic(target, failing)
    assert str(err.value).startswith(str(target)) and "No space left on device" in str(err.value)
    assert target.read_bytes() == b"first" and sorted(p.name for p in tmp_path.iterdir()) == [
        "model.latentlab"
    ]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
