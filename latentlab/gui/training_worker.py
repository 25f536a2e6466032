"""The training run off the GUI thread: load the dataset, drive ``train()``, forward its events.

Everything the worker sends is plain data (the core's event dataclasses, plus the two small ones
below), so the GUI thread can keep them; the worker never touches a widget. torch and
``latentlab.core.vae.training`` are imported inside ``run()``, so importing this module (and starting
the app) does not import torch.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from latentlab.core.data import datasets
from latentlab.core.errors import DataError, LatentlabError
from latentlab.core.vae.config import Config
from latentlab.core.vae.events import BatchProgress, Cancelled, Failed

from .workers import Throttle

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.2  # at most five batch reports a second reach the GUI
SMOOTHING = 0.1  # weight of the newest report in the moving average of the batch loss


@dataclass(frozen=True)
class BatchReport:
    """A forwarded ``BatchProgress`` with the loss smoothed over every report, forwarded or not."""

    progress: BatchProgress
    smoothed_loss: float


@dataclass(frozen=True)
class DataMissing:
    """``load_dataset`` failed: the GUI offers to download the data or to choose its folder."""

    dataset: str
    data_dir: str | None
    message: str  # the DataError's full text: what was looked for, where, and why it failed


class LossSmoother:
    """Exponential moving average; the first value starts it (no bias towards zero)."""

    def __init__(self, weight: float = SMOOTHING):
        self._weight = weight
        self.value: float | None = None

    def update(self, x: float) -> float:
        self.value = x if self.value is None else self.value + self._weight * (x - self.value)
        return self.value


def one_line(exc: BaseException) -> str:
    """An exception as one line a user can read (our own errors already start with one)."""
    first = (str(exc).strip().splitlines() or [""])[0]
    if isinstance(exc, LatentlabError):
        return first or type(exc).__name__
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def limit_torch_threads(torch_module, *, spare_core: bool = True) -> int:
    """Run torch on every core, or on all but one: the one left to the GUI thread.

    torch's CPU kernels use every core by default; a training step would then compete with the
    GUI thread for all of them and the sliders would stutter, unless the trainer runs at a
    lower priority (`lower_thread_priority`): then the scheduler hands the GUI thread a core the
    moment it wakes, and keeping a core idle for it only slows training (about 1.25x on two
    cores, docs/benchmarks.md). Called from the worker thread, which is also the thread that
    runs the kernels (OpenMP's thread count is per calling thread; the threads it starts
    inherit the caller's priority).
    """
    spare = 1 if spare_core else 0
    threads = max(1, (os.cpu_count() or 1) - spare)
    torch_module.set_num_threads(threads)
    return threads


TRAINING_NICENESS = 10  # the training thread's nice value: the GUI thread comes first


def lower_thread_priority(niceness: int = TRAINING_NICENESS) -> bool:
    """Let the calling thread yield the CPU to the GUI thread when cores are contended.

    With one core left to the GUI, a busy machine (a browser, a build) still takes that core at
    times, and the scheduler then shares it evenly between the GUI thread and the trainer: the
    sliders stutter. On Linux a thread has its own nice value (setpriority on its thread id);
    elsewhere this does nothing. False when the priority was left as it was.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        if current < niceness:
            os.setpriority(os.PRIO_PROCESS, tid, niceness)
        return True
    except OSError:
        return False


class TrainingWorker(QObject):
    """One training run. ``run()`` executes in a worker thread; ``cancel()`` is thread-safe.

    ``event`` carries, in order: ``Started``, ``BatchReport`` (throttled), ``EpochEnd`` ...,
    then exactly one of ``Finished``, ``Cancelled``, ``Failed`` or ``DataMissing``.
    """

    event = Signal(int, object)  # run_id, event: a late event of an earlier run is recognisable

    def __init__(
        self,
        config: Config,
        *,
        device: str = "auto",
        data_dir: str | None = None,
        run_id: int = 0,
        progress_interval_s: float = PROGRESS_INTERVAL_S,
    ):
        super().__init__()
        self.config = config
        self.device = device
        self.data_dir = data_dir
        self.run_id = run_id
        self._cancel = threading.Event()
        self._throttle = Throttle(progress_interval_s)
        self._smoother = LossSmoother()

    def cancel(self) -> None:
        """Ask the run to stop; it does so before its next batch."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def _emit(self, ev: object) -> None:
        self.event.emit(self.run_id, ev)

    def run(self) -> None:
        """Load the data, train, and always end with exactly one final event."""
        try:
            self._run()
        except Exception as exc:
            log.exception("training failed")
            self._emit(Failed(one_line(exc), None))

    def _run(self) -> None:
        try:
            dataset = datasets.load_dataset(self.config.dataset, self.data_dir)
        except DataError as exc:
            self._emit(DataMissing(self.config.dataset, self.data_dir, str(exc)))
            return
        if self._cancel.is_set():
            self._emit(Cancelled(None, 0))
            return
        import torch

        from latentlab.core.vae.training import train

        niced = lower_thread_priority()  # before torch starts its threads: they inherit it
        limit_torch_threads(torch, spare_core=not niced)
        for ev in train(self.config, dataset, device=self.device, cancel=self._cancel):
            if isinstance(ev, BatchProgress):
                smoothed = self._smoother.update(ev.loss)
                if self._throttle.ready(force=ev.batch == ev.batches):
                    self._emit(BatchReport(ev, smoothed))
            else:
                self._emit(ev)
