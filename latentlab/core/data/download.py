"""Download one dataset file from a list of mirrors, safely: verified before it gets its name.

The file is streamed into a temporary file beside its destination, fsynced, checked (SHA-256 of
the decompressed content) and only then moved into place with ``os.replace``. An interrupted,
cancelled, truncated or corrupt download therefore never leaves a file under the final name.
Only the standard library's urllib is used.

The temporary file is ``.NAME.XXXXXXXX.part`` (``tempfile.mkstemp``'s eight random characters).
A process killed mid-download leaves one behind; the next download to the same destination
removes those that are stale: untouched for `STALE_PART_S` and not locked by a download still
running (each download holds an exclusive ``flock`` on its ``.part`` file while it writes), as
`latentlab.core.atomic` does for saves.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from latentlab.core.atomic import remove_stale_temps
from latentlab.core.data.idx import content_sha256
from latentlab.core.errors import DataError
from latentlab.core.jobs import Cancel, JobCancelled, is_cancelled
from latentlab.core.text import first_line, shown_path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the age alone decides
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "STALE_PART_S",
    "Cancel",
    "DownloadCancelled",
    "DownloadError",
    "DownloadOptions",
    "DownloadProgress",
    "Progress",
    "default_backoff",
    "download_file",
    "is_cancelled",
    "remove_stale_parts",
]

log = logging.getLogger(__name__)

USER_AGENT = "latentlab (+https://pypi.org/project/latentlab/)"
# A .part file untouched this long, and unlocked, belongs to a dead download. A running one
# writes at least once per `timeout` (30 s by default) or gives up; on POSIX its lock protects it
# however long it waits.
STALE_PART_S = 60.0
_PART_SUFFIX = ".part"


@dataclass(frozen=True)
class DownloadProgress:
    """Bytes of ``filename`` received so far, of ``total`` (None: unknown).

    ``done`` starts again from 0 when an attempt is retried or the next mirror is tried.
    """

    filename: str
    done: int
    total: int | None


class DownloadCancelled(DataError, JobCancelled):
    """The caller's cancel hook fired; nothing was left behind.

    A `JobCancelled` like every cancelled job's end (and a `DataError`, as it always was).
    """


class DownloadError(DataError):
    """Every URL failed; ``attempts`` holds (url, reason) for each, in the order tried."""

    def __init__(self, message: str, attempts: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.attempts = list(attempts)


Progress = Callable[[DownloadProgress], None] | None


def default_backoff(attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, ...): 1, 2, 4, capped at 8."""
    return min(2.0 ** (attempt - 1), 8.0)


@dataclass(frozen=True)
class DownloadOptions:
    """Knobs of ``download_file`` that callers higher up pass through unchanged."""

    retries: int = 3  # attempts per URL for transient errors (network, HTTP 5xx, short transfer)
    timeout: float = 30.0  # seconds without progress on the socket before giving up an attempt
    backoff: Callable[[int], float] = field(default=default_backoff)
    chunk_size: int = 1 << 16


def _wait(seconds: float, cancel: Cancel) -> None:
    """Sleep between retries, but wake up at once when cancelled."""
    if seconds <= 0:
        return
    if isinstance(cancel, threading.Event):  # a CancelToken too: wakes at once on cancel
        cancel.wait(seconds)
        return
    deadline = time.monotonic() + seconds
    while not is_cancelled(cancel) and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.1))


class _Failure(Exception):
    """One attempt failed; ``transient`` says whether retrying the same URL may help."""

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


def _open(url: str, timeout: float) -> http.client.HTTPResponse:
    """Open ``url``; failures become _Failure saying whether a retry may help."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        transient = exc.code >= 500 or exc.code in (408, 429)
        raise _Failure(f"HTTP {exc.code} {exc.reason}", transient=transient) from None
    except urllib.error.URLError as exc:
        # Worth retrying: a refused or reset connection. Not: no name resolution (offline or a
        # wrong host), a missing file:// path, an unknown scheme (reason is then a string).
        permanent = (socket.gaierror, FileNotFoundError)
        transient = isinstance(exc.reason, OSError) and not isinstance(exc.reason, permanent)
        raise _Failure(f"cannot connect ({exc.reason})", transient=transient) from None
    except TimeoutError:
        raise _Failure(f"timed out after {timeout:g} s", transient=True) from None
    except (OSError, http.client.HTTPException) as exc:
        raise _Failure(f"connection failed ({exc!r})", transient=True) from None
    except ValueError as exc:  # malformed URL, unknown scheme
        raise _Failure(f"bad URL ({exc})", transient=False) from None


def _transfer(
    url: str,
    tmp: BinaryIO,
    *,
    filename: str,
    progress: Progress,
    cancel: Cancel,
    timeout: float,
    chunk_size: int,
) -> None:
    """Stream ``url`` into ``tmp``, checking ``cancel`` between chunks."""
    with _open(url, timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        done = 0
        if progress:
            progress(DownloadProgress(filename, 0, total))
        while True:
            if is_cancelled(cancel):
                raise DownloadCancelled(f"Download of {filename} cancelled")
            try:
                chunk = response.read(chunk_size)
            except TimeoutError:
                raise _Failure(f"timed out after {timeout:g} s", transient=True) from None
            except (OSError, http.client.HTTPException) as exc:
                raise _Failure(f"connection failed ({exc!r})", transient=True) from None
            if not chunk:
                break
            tmp.write(chunk)
            done += len(chunk)
            if progress:
                progress(DownloadProgress(filename, done, total))
    # http.client returns b"" when the server closes early, so count the bytes ourselves.
    if total is not None and done != total:
        raise _Failure(f"transfer cut short: got {done} of {total} bytes", transient=True)


def download_file(
    urls: Sequence[str],
    dest: Path,
    *,
    sha256_raw: str,
    progress: Progress = None,
    cancel: Cancel = None,
    retries: int = 3,
    timeout: float = 30.0,
    backoff: Callable[[int], float] = default_backoff,
    chunk_size: int = 1 << 16,
) -> Path:
    """Fetch the first URL that delivers content whose decompressed SHA-256 is ``sha256_raw``.

    Each URL gets up to ``retries`` attempts for transient errors, waiting ``backoff(n)`` seconds
    before retry n; a corrupt file or an HTTP 4xx moves on to the next URL at once.
    Raises DownloadCancelled (checked between chunks) or DownloadError listing every URL tried.
    """
    dest = Path(dest)
    filename = dest.name
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise unwritable_error(dest.parent, exc) from None
    remove_stale_parts(dest)
    attempts: list[tuple[str, str]] = []
    for url in urls:
        for attempt in range(1, max(retries, 1) + 1):
            if attempt > 1:
                _wait(backoff(attempt - 1), cancel)
            if is_cancelled(cancel):
                raise DownloadCancelled(f"Download of {filename} cancelled")
            try:
                _attempt(url, dest, sha256_raw, progress, cancel, timeout, chunk_size)
                return dest
            except _Failure as failure:
                log.info("download %s attempt %d failed: %s", url, attempt, failure.reason)
                if not failure.transient or attempt == max(retries, 1):
                    tries = f" ({attempt} attempts)" if attempt > 1 else ""
                    attempts.append((url, failure.reason + tries))
                    break
    lines = "\n".join(f"  {url}: {reason}" for url, reason in attempts) or "  (no URLs given)"
    raise DownloadError(
        f"Could not download {filename} ({len(attempts)} URLs tried)\n{lines}", attempts
    )


def _attempt(
    url: str,
    dest: Path,
    sha256_raw: str,
    progress: Progress,
    cancel: Cancel,
    timeout: float,
    chunk_size: int,
) -> None:
    """One try: temp file, fsync, verify, rename. The temp file never outlives a failure."""
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=_part_prefix(dest), suffix=_PART_SUFFIX, dir=dest.parent
        )
    except OSError as exc:
        raise unwritable_error(dest.parent, exc) from None
    tmp_path = Path(tmp_name)
    try:
        if fcntl is not None:  # another download's clean-up leaves a locked .part alone
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            with os.fdopen(fd, "wb") as tmp:
                _transfer(
                    url,
                    tmp,
                    filename=dest.name,
                    progress=progress,
                    cancel=cancel,
                    timeout=timeout,
                    chunk_size=chunk_size,
                )
                tmp.flush()
                os.fsync(tmp.fileno())
        except OSError as exc:  # network errors are _Failure by now: this is the local disk
            raise unwritable_error(dest.parent, exc) from None
        try:
            actual = content_sha256(tmp_path, name=url)
        except DataError as exc:
            first = first_line(exc).removeprefix(f"{url}: ")
            raise _Failure(f"bad content: {first}", transient=False) from None
        if actual != sha256_raw:
            raise _Failure(
                f"checksum mismatch (SHA-256 of content {actual[:16]}..., "
                f"expected {sha256_raw[:16]}...)",
                transient=False,
            )
        os.replace(tmp_path, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise
    _fsync_dir(dest.parent)


def remove_stale_parts(dest: Path, max_age_s: float = STALE_PART_S) -> list[Path]:
    """Remove ``.part`` files that a killed download to ``dest`` left; returns those removed.

    Only regular files named exactly ``.NAME.XXXXXXXX.part`` for this destination, untouched for
    ``max_age_s``, and not locked by a download in progress (in any process) are removed
    (`atomic.remove_stale_temps`, the same rule as for saves). Errors never stop a download.
    """
    removed = remove_stale_temps(Path(dest), max_age_s, suffix=_PART_SUFFIX)
    for candidate in removed:
        log.info("removed %s, left by an interrupted download", candidate)
    return removed


def _part_prefix(dest: Path) -> str:
    return f".{dest.name}."


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable where the platform allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def unwritable_error(folder: Path, exc: OSError) -> DataError:
    """The message for a folder we must write to but cannot: say which, and what to do."""
    return DataError(
        f"Cannot write to the dataset folder {shown_path(folder)} ({exc.strerror or exc})\n"
        "Choose a writable folder: pass --data-dir FOLDER or set LATENTLAB_DATA_DIR."
    )
