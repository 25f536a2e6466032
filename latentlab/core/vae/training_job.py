"""Training as a background job for an interactive front end: load the data, leave the GUI its
share of the CPU, train, and send on a throttled, smoothed stream of plain events.

`training_job` is a generator for any driver (the GUI's worker, a test, a notebook): it yields
``Started``, ``BatchReport`` (throttled), ``LatentSnapshot`` (throttled, when asked for), ``EpochEnd`` ..., returns the run's outcome (``Finished``,
``Failed`` or ``DataMissing``) and, cancelled, raises `JobCancelled` carrying the last finished
epoch's record. torch is imported when the job runs, not when this module is imported.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from latentlab.core.data import datasets
from latentlab.core.errors import DataError
from latentlab.core.jobs import Cancel, JobCancelled, Throttle, check_cancelled
from latentlab.core.vae.config import Config
from latentlab.core.vae.events import BatchProgress, EpochEnd, Failed, Finished, Started
from latentlab.core.vae.snapshots import (
    SNAPSHOT_INTERVAL_S,
    SUBSET_SIZE,
    LatentSnapshot,
    SnapshotPlan,
    SnapshotThrottle,
)

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


Outcome = Finished | Failed | DataMissing
JobEvent = Started | BatchReport | LatentSnapshot | EpochEnd


def training_job(
    config: Config,
    *,
    device: str = "auto",
    data_dir: str | None = None,
    cancel: Cancel = None,
    progress_interval_s: float = PROGRESS_INTERVAL_S,
    snapshot_every: int = 0,
    snapshot_interval_s: float = SNAPSHOT_INTERVAL_S,
) -> Generator[JobEvent, None, Outcome]:
    """Load ``config.dataset``, train it at a lower priority, report; see the module docstring.

    ``snapshot_every`` > 0 sends a `LatentSnapshot` of a fixed test subset every that many steps
    (the live training view), at most one per ``snapshot_interval_s`` (the newest held back goes
    at the next chance); the initial one and each epoch's end always go.
    """
    try:
        dataset = datasets.load_dataset(config.dataset, data_dir)
    except DataError as exc:
        return DataMissing(config.dataset, data_dir, str(exc))
    check_cancelled(cancel)
    import torch

    from latentlab.core.vae.threads import limit_torch_threads, lower_thread_priority
    from latentlab.core.vae.training import run_training

    niced = lower_thread_priority()  # before torch starts its threads: they inherit it
    limit_torch_threads(torch, spare_core=not niced)
    throttle, smoother = Throttle(progress_interval_s), LossSmoother()
    plan = None
    if snapshot_every > 0:
        plan = SnapshotPlan(snapshot_every, SUBSET_SIZE, config.seed)
    snapshots = SnapshotThrottle(snapshot_interval_s)
    events = run_training(config, dataset, device=device, cancel=cancel, snapshots=plan)
    try:
        for ev in events:
            if isinstance(ev, LatentSnapshot):
                ready = snapshots.offer(ev, force=ev.epoch_end or ev.step == 0)
                if ready is not None:
                    yield ready
                continue
            held = snapshots.pending()
            if held is not None:
                yield held
            if isinstance(ev, BatchProgress):
                smoothed = smoother.update(ev.loss)
                if throttle.ready(force=ev.batch == ev.batches):
                    yield BatchReport(ev, smoothed)
            elif isinstance(ev, Finished | Failed):
                return ev
            else:
                yield ev
    except JobCancelled as stop:
        # Thrown in at one of our yields (the trainer waits at its own): pass it on, so the
        # trainer raises it again with its last finished epoch. Raised by the trainer: as is.
        events.throw(stop)
        raise
    return Failed("training ended without a result", None)  # pragma: no cover
