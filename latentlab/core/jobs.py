"""The one cancel protocol of every long job (training, evaluation, a download), without Qt.

A job takes a ``cancel`` hook (a `CancelToken`, any ``threading.Event``, or a callable returning
bool) and checks it at each step: a batch, a chunk of test images, a block of bytes. When it is
set, the job stops by raising `JobCancelled`, which carries what the job had finished, if
anything (training: the record of the last finished epoch). A driver iterating a job's generator
may also throw `JobCancelled` in at a yield; a job treats that the same way (a job that wraps
another job's generator passes it on, as ``yield from`` does, so the inner job can hand back
its partial result). So a job that
returns has finished, a job that raises `JobCancelled` was cancelled, and any other exception
is a failure: the CLI, the GUI and a notebook all read the end of a job the same way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Cancel = threading.Event | Callable[[], bool] | None


@dataclass(frozen=True)
class Progress:
    """Work done so far: ``done`` of ``total`` units (0: not known yet), and what is being done."""

    done: int
    total: int
    stage: str


class JobCancelled(Exception):
    """A job stopped because it was asked to; ``partial`` is what it had finished (or None)."""

    partial: object = None

    def __init__(self, message: str = "cancelled", *, partial: object = None) -> None:
        super().__init__(message)
        self.partial = partial


class CancelToken(threading.Event):
    """A thread-safe cancel flag: any thread calls ``cancel()``; the job calls ``check()``.

    It is a ``threading.Event``, so code that takes an Event (or waits on one) takes it too.
    """

    def cancel(self) -> None:
        self.set()

    @property
    def cancelled(self) -> bool:
        return self.is_set()

    def check(self, partial: object = None) -> None:
        """Raise `JobCancelled` (carrying ``partial``) when cancel was asked for."""
        check_cancelled(self, partial)


def is_cancelled(cancel: Cancel) -> bool:
    """True when the hook (an Event or a callable returning bool) asks to stop."""
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def check_cancelled(cancel: Cancel, partial: object = None, message: str = "cancelled") -> None:
    """The cancel point of a job: raise `JobCancelled` when ``cancel`` is set."""
    if is_cancelled(cancel):
        raise JobCancelled(message, partial=partial)


class Throttle:
    """Lets a progress report through at most once per ``interval_s``; ``force`` always passes.

    Progress crosses threads and repaints widgets; a few reports a second are plenty.
    """

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic):
        self._interval = interval_s
        self._clock = clock
        self._last: float | None = None

    def ready(self, *, force: bool = False) -> bool:
        now = self._clock()
        if force or self._last is None or now - self._last >= self._interval:
            self._last = now
            return True
        return False
