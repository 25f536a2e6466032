"""The one background-worker pattern: a job on its own thread, its results back as signals.

A job is a callable taking a `CancelToken`. It may return a value, or a generator: then each
yielded value is sent on ``yielded`` and each yield is a cancel point (``quit()`` throws
`JobCancelled` into the generator there, so a job can hand back what it had finished). A job
that is not a generator checks the token itself, and may send progress with ``report()``. Every
run ends with exactly one of ``returned`` (the value), ``errored`` (the exception) or
``cancelled`` (the `JobCancelled`'s ``partial``), then ``finished``, once the thread has ended.

The thread (`WorkerThread`) has no event loop: ``join()`` from the GUI thread can never deadlock
on a queued ``quit()`` the blocked GUI thread would have to deliver. The worker QObject stays in
the GUI thread; the thread emits private signals that reach it as queued calls, and it re-emits
them there, so every public signal (and whatever it is connected to, lambdas too) runs on the GUI
thread, in the order the job produced them. The job never touches a widget.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator

from PySide6.QtCore import QObject, QThread, Signal, Slot

from latentlab.core.jobs import CancelToken, JobCancelled

log = logging.getLogger(__name__)

Job = Callable[[CancelToken], object]
_running: set[GeneratorWorker] = set()  # a started worker lives until its thread has ended


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


class GeneratorWorker(QObject):
    """Runs ``job(token)`` once on its own thread; see the module docstring."""

    yielded = Signal(object)  # a value the generator yielded, or one sent with report()
    returned = Signal(object)  # the job's return value
    errored = Signal(object)  # the exception the job raised (not JobCancelled)
    cancelled = Signal(object)  # JobCancelled.partial: what the job had finished, or None
    finished = Signal()  # after exactly one of the three above; the thread has ended

    _from_thread = Signal(str, object)  # (kind, value), emitted on the worker thread

    def __init__(self, job: Job, *, name: str = "latentlab-worker", parent: QObject | None = None):
        super().__init__(parent)
        self._job = job
        self._token = CancelToken()
        self._thread = WorkerThread(self._work, name)
        self._from_thread.connect(self._relay)  # queued: the sender is the worker thread
        self._thread.finished.connect(self._on_thread_finished)
        self._started = False
        self._done = False

    @property
    def token(self) -> CancelToken:
        return self._token

    @property
    def thread(self) -> QThread:
        return self._thread

    @property
    def is_running(self) -> bool:
        """Started and not yet finished (``finished`` not yet emitted)."""
        return self._started and not self._done

    def start(self) -> None:
        if self._started:
            raise RuntimeError("a GeneratorWorker runs once")
        self._started = True
        _running.add(self)
        self._thread.start()

    def quit(self) -> None:
        """Ask the job to stop: it does at its next yield, or when it next checks the token."""
        self._token.cancel()

    def report(self, value: object) -> None:
        """Send ``value`` on ``yielded``; safe from any thread (a job's progress callback)."""
        self._from_thread.emit("yielded", value)

    def join(self, timeout_ms: int = 10_000) -> bool:
        """Wait for the thread without the event loop; True when it has ended (or never ran)."""
        return join(self._thread, timeout_ms)

    # --- the worker thread -----------------------------------------------------------------------
    def _work(self) -> None:
        emit = self._from_thread.emit
        try:
            result = self._job(self._token)
            if isinstance(result, Generator):
                result = self._drive(result)
        except JobCancelled as stop:
            emit("cancelled", stop.partial)
        except Exception as exc:  # the owner says what went wrong (and logs a bug)
            log.debug("job %s raised", self._thread.objectName(), exc_info=exc)
            emit("errored", exc)
        else:
            emit("returned", result)

    def _drive(self, gen: Generator) -> object:
        emit = self._from_thread.emit
        try:
            while True:
                value = gen.throw(JobCancelled()) if self._token.is_set() else next(gen)
                emit("yielded", value)
        except StopIteration as end:
            return end.value
        finally:
            gen.close()

    # --- the GUI thread --------------------------------------------------------------------------
    @Slot(str, object)
    def _relay(self, kind: str, value: object) -> None:
        getattr(self, kind).emit(value)

    @Slot()
    def _on_thread_finished(self) -> None:
        self._thread.wait()  # it has emitted `finished`; it leaves run() at once
        self._done = True
        _running.discard(self)
        self.finished.emit()


class LatestJob(QObject):
    """One job at a time, and the newest request wins.

    ``submit`` while a job runs asks that job to quit (its outcome is dropped) and queues the new
    one, replacing any request still queued: that one is skipped, never run. Only the newest
    request's outcome is sent on, with the ``context`` it was submitted with. So opening B while
    A is still loading shows B, never A after B, and never runs two loads at once.
    """

    returned = Signal(object, object)  # context, the job's return value
    errored = Signal(object, object)  # context, the exception

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._worker: GeneratorWorker | None = None
        self._context: object = None
        self._queued: tuple[Job, object] | None = None
        self._closed = False

    @property
    def is_running(self) -> bool:
        return self._worker is not None

    def submit(self, job: Job, context: object = None) -> None:
        """Run ``job`` once the running one (now asked to quit) has ended; supersedes it."""
        if self._closed:
            return
        self._queued = (job, context)
        if self._worker is None:
            self._start_queued()
        else:
            self._worker.quit()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Drop the queued request, stop the running one, join it; no outcome is sent after."""
        self._closed = True
        self._queued = None
        worker = self._worker
        if worker is None:
            return True
        worker.quit()
        return worker.join(timeout_ms)

    def _start_queued(self) -> None:
        assert self._queued is not None
        job, self._context = self._queued
        self._queued = None
        worker = GeneratorWorker(job, name=self._name, parent=self)
        worker.returned.connect(lambda value: self._deliver(worker, self.returned, value))
        worker.errored.connect(lambda exc: self._deliver(worker, self.errored, exc))
        worker.finished.connect(lambda: self._on_finished(worker))
        self._worker = worker
        worker.start()

    def _deliver(self, worker: GeneratorWorker, signal, value: object) -> None:
        if worker is self._worker and self._queued is None and not self._closed:
            signal.emit(self._context, value)

    def _on_finished(self, worker: GeneratorWorker) -> None:
        if worker is not self._worker:
            return
        self._worker = None
        worker.deleteLater()
        if self._queued is not None and not self._closed:
            self._start_queued()
