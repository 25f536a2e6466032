"""Run one blocking callable off the GUI thread; join it without needing the GUI's event loop.

``WorkerThread`` is a QThread whose ``run()`` calls the target and returns: it has no event loop of
its own, so it ends when the target returns and ``wait()`` from the GUI thread can never deadlock
on a queued ``quit()`` that the blocked GUI thread would have to deliver. Workers are QObjects that
stay in the GUI thread; their signals, emitted from the worker thread, reach GUI-thread slots as
queued calls, so slots (and the widgets they touch) always run on the GUI thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread

log = logging.getLogger(__name__)


class WorkerThread(QThread):
    """A thread that runs ``target()`` once; ``finished`` fires when it returns or raises."""

    def __init__(self, target: Callable[[], None], name: str, parent: QObject | None = None):
        super().__init__(parent)
        self._target = target
        self.setObjectName(name)

    def run(self) -> None:
        try:
            self._target()
        except BaseException:  # the target reports its own errors; this is the last net
            log.exception("worker thread %s raised", self.objectName())


def join(thread: QThread | None, timeout_ms: int) -> bool:
    """Wait for ``thread`` to end; True when it has (or never ran), False on timeout."""
    if thread is None or not thread.isRunning():
        return True
    if thread.wait(max(0, timeout_ms)):
        return True
    log.warning("thread %s still running after %d ms", thread.objectName(), timeout_ms)
    return False


class Throttle:
    """Lets a report through at most once per ``interval_s``; ``force`` always passes."""

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
