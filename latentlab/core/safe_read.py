"""Opening files that may be hostile: only regular files, never blocking, never read unbounded.

A path can name a FIFO (opening it waits for a writer forever), a device such as ``/dev/zero``
(reading it never ends) or a sparse file many times larger than anything latentlab writes.
``open_regular`` stats the path first and refuses anything but a regular file, then opens it
with ``O_NONBLOCK``, so a FIFO swapped in after the check cannot stall the open, and checks the
open file again. ``read_exact`` reads a known number of bytes. Callers compare the size with what
the file's own header declares before they read the body, and refuse files over their ceiling.

Problems are raised as ``FileRefused`` carrying the problem without the path; each reader turns
it into its own error (``ModelFileError``, ``DataError``) in its own wording.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

__all__ = ["FileRefused", "describe_size", "open_regular", "read_exact"]

_NOT_REGULAR = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FileRefused(Exception):
    """The path is not a file latentlab will read; ``problem`` says why and what to do."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def describe_size(n: int) -> str:
    """A size for messages: exact bytes when small, else MiB / GiB with one decimal."""
    if n < 1024 * 1024:
        return f"{n:,} bytes"
    if n < 1024**3:
        return f"{n / 1024**2:.1f} MiB"
    if n < 1024**5:
        return f"{n / 1024**3:.1f} GiB"
    # An IDX header can declare any product of four 32-bit sizes: whole GiB in integers,
    # since the float division would overflow.
    return f"{n // 1024**3:,} GiB"


def _kind(mode: int) -> str | None:
    for test, what in _NOT_REGULAR:
        if test(mode):
            return what
    return None if stat.S_ISREG(mode) else "not a regular file"


def _check(mode: int, folder_problem: str) -> None:
    if stat.S_ISDIR(mode):
        raise FileRefused(folder_problem)
    what = _kind(mode)
    if what is not None:
        raise FileRefused(
            f"is {what}, not a regular file; latentlab reads only regular files. "
            "Give the path of the file itself."
        )


def open_regular(path: str | os.PathLike, *, folder_problem: str = "is a folder") -> BinaryIO:
    """Open ``path`` for reading if it is a regular file (a symlink to one is fine).

    Raises ``FileRefused`` for folders (with ``folder_problem``), FIFOs, devices and sockets,
    and lets ``OSError`` (missing, permission denied) through for the caller to word.
    """
    _check(os.stat(path).st_mode, folder_problem)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        _check(os.fstat(fd).st_mode, folder_problem)  # what was opened, if it changed since
    except BaseException:
        os.close(fd)
        raise
    return open(fd, "rb")  # not os.fdopen: tests replace that to fail saves


def read_exact(f: BinaryIO, n: int) -> bytes:
    """Exactly ``n`` bytes from ``f``'s position; ``FileRefused`` if the file ends sooner."""
    data = f.read(n)
    if len(data) != n:
        raise FileRefused(
            f"the file ended after {len(data):,} of {n:,} bytes (did it change while being read?)"
        )
    return data
