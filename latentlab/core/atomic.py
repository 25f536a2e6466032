"""Atomic file writes: a reader (or a crash) sees the old file or the new one, whole, never half.

Every file latentlab writes (models, images, GIFs, arrays) goes through here. The temporary file
is ``.NAME.XXXXXXXX.tmp`` in the target's folder (``tempfile.mkstemp``'s eight random
characters). A process killed mid-save leaves one behind; the next save to the same target
removes those that are stale: older than `STALE_TEMP_S` and not locked by a save still running
(each save holds an exclusive ``flock`` on its temporary file while it writes).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from latentlab.core.text import shown_path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the age alone decides
    fcntl = None  # type: ignore[assignment]

STALE_TEMP_S = 60.0  # a temp file untouched this long, and unlocked, belongs to a dead save
_TEMP_SUFFIX = ".tmp"
_RANDOM_PART = re.compile(r"[a-z0-9_]{8}")  # what mkstemp puts between prefix and suffix

_ADVICE = {
    errno.ENOSPC: "free some space or choose another folder",
    errno.EDQUOT: "free some space or choose another folder",
    errno.EFBIG: "the file system cannot hold a file this large; choose another folder",
    errno.EACCES: "choose a folder you can write to",
    errno.EPERM: "choose a folder you can write to",
    errno.EROFS: "the disk is read-only; choose another folder",
    errno.ENOENT: "the folder does not exist; create it or choose another",
    errno.ENOTDIR: "a part of the path is not a folder; choose another place",
    errno.EISDIR: "it is a folder; give a file name",
    errno.ENAMETOOLONG: "choose a shorter name",
}


class WriteError(OSError):
    """A file could not be written: the message names the target (never the temporary file),
    the problem and what to do. ``errno`` and ``strerror`` are the original error's."""

    def __init__(self, path: Path, exc: OSError, advice: str | None = None) -> None:
        super().__init__(exc.errno, exc.strerror or str(exc) or type(exc).__name__)
        self.filename = str(path)
        self.target = Path(path)
        self.advice = advice or _ADVICE.get(exc.errno or 0, "choose another place or try again")

    def __str__(self) -> str:
        return f"{shown_path(self.target)}: could not be written ({self.strerror}); {self.advice}"


def write_atomic(path: Path, data: bytes | Callable[[BinaryIO], None]) -> None:
    """Replace `path` with `data`: temp file in the same folder, fsync, rename.

    ``data`` is the bytes, or a function that writes them to the open temporary file (a large
    file written in pieces, never held whole in memory). Raises `WriteError` (an OSError)
    naming `path`; the previous file is then intact and no temporary file is left.
    """
    path = Path(path)
    _refuse_unwritable_target(path)
    folder = _folder(path)
    remove_stale_temps(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=_TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise WriteError(path, exc) from exc
    try:
        if fcntl is not None:  # a concurrent save's clean-up leaves a locked temp file alone
            fcntl.flock(fd, fcntl.LOCK_EX)
        if hasattr(os, "fchmod"):  # mkstemp makes 0600; give the file the mode a plain open would
            os.fchmod(fd, _new_file_mode(path))
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                _fill(f, data)
            else:
                f.write(data)
                f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise WriteError(path, exc) from exc
        raise


def check_writable(path: Path) -> None:
    """Raise `WriteError` now if `write_atomic(path, ...)` would surely fail to create its file.

    Before hours of work: the name is empty or a folder, the folder is missing or read-only.
    A probe temporary file (our own naming) is created and removed at once. A full disk is only
    found out by the real write.
    """
    path = Path(path)
    _refuse_unwritable_target(path)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=_temp_prefix(path), suffix=_TEMP_SUFFIX, dir=_folder(path)
        )
    except OSError as exc:
        raise WriteError(path, exc) from exc
    os.close(fd)
    Path(tmp).unlink(missing_ok=True)


def remove_stale_temps(
    path: Path, max_age_s: float = STALE_TEMP_S, suffix: str = _TEMP_SUFFIX
) -> list[Path]:
    """Remove temporary files that a killed save to `path` left; returns those removed.

    Only regular files named exactly ``.NAME.XXXXXXXX<suffix>`` for this target (``.tmp`` for
    saves, ``.part`` for downloads), untouched for `max_age_s`, and not locked by a writer in
    progress (another process's) are removed. Errors are ignored: the clean-up never stops a save.
    """
    path = Path(path)
    folder, prefix = _folder(path), _temp_prefix(path)
    removed: list[Path] = []
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(suffix)]
    except OSError:
        return removed
    now = time.time()
    for name in names:
        middle = name[len(prefix) : len(name) - len(suffix)]
        if not _RANDOM_PART.fullmatch(middle):
            continue
        candidate = folder / name
        with contextlib.suppress(OSError):
            info = candidate.lstat()
            if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < max_age_s:
                continue
            if _unlink_unless_locked(candidate):
                removed.append(candidate)
    return removed


def _unlink_unless_locked(candidate: Path) -> bool:
    if fcntl is None:  # pragma: no cover - Windows
        candidate.unlink()
        return True
    fd = os.open(candidate, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a save is writing it right now
        candidate.unlink()
        return True
    finally:
        os.close(fd)


def _fill(f: BinaryIO, write: Callable[[BinaryIO], None]) -> None:
    """Run a writer on the temporary file; a library's own I/O error becomes an OSError."""
    try:
        write(f)
        f.flush()
    except OSError:
        raise
    except Exception as exc:  # e.g. safetensors' SafetensorError wrapping "No space left"
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        code = errno.ENOSPC if "StorageFull" in text or "No space" in text else errno.EIO
        raise OSError(code, os.strerror(code) if code == errno.ENOSPC else text) from exc


def _refuse_unwritable_target(path: Path) -> None:
    if not path.name:  # Path("") is Path("."): no file name at all
        raise WriteError(path, OSError(errno.EINVAL, "the name is empty"), "give a file name")
    if path.is_dir():
        raise WriteError(path, OSError(errno.EISDIR, "Is a directory"))


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def _new_file_mode(path: Path) -> int:
    """The replaced file's permissions, or what ``open()`` would give a new file (0666 - umask)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0o022)  # reading the umask means setting it; put it straight back
        os.umask(umask)
        return 0o666 & ~umask
