"""The training run off the GUI thread: the core's `training_job` on a `GeneratorWorker`.

Everything the job yields is plain data (the core's event dataclasses and ``BatchReport``), so
the GUI thread can keep it; the job never touches a widget. torch is imported when the job runs,
so importing this module (and starting the app) does not import torch. The Qt-free helpers that
lived here are in the core now; their old names are kept importable from here.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from latentlab.core.text import one_line
from latentlab.core.vae.config import Config
from latentlab.core.vae.threads import TRAINING_NICENESS, limit_torch_threads, lower_thread_priority
from latentlab.core.vae.training_job import (
    PROGRESS_INTERVAL_S,
    SMOOTHING,
    BatchReport,
    DataMissing,
    LossSmoother,
    training_job,
)

from .workers import GeneratorWorker

__all__ = [
    "PROGRESS_INTERVAL_S",
    "SMOOTHING",
    "TRAINING_NICENESS",
    "BatchReport",
    "DataMissing",
    "LossSmoother",
    "limit_torch_threads",
    "lower_thread_priority",
    "one_line",
    "training_worker",
]


def training_worker(
    config: Config,
    *,
    device: str = "auto",
    data_dir: str | None = None,
    progress_interval_s: float = PROGRESS_INTERVAL_S,
    snapshot_every: int = 0,
    parent: QObject | None = None,
) -> GeneratorWorker:
    """A worker (not started) for one run: ``yielded`` carries ``Started``, ``BatchReport``,
    ``EpochEnd`` (and ``LatentSnapshot`` every ``snapshot_every`` steps, if > 0); ``returned`` the outcome (``Finished``, ``Failed`` or ``DataMissing``);
    ``cancelled`` the record of the last finished epoch (or None); ``errored`` a bug."""
    return GeneratorWorker(
        lambda token: training_job(
            config,
            device=device,
            data_dir=data_dir,
            cancel=token,
            progress_interval_s=progress_interval_s,
            snapshot_every=snapshot_every,
        ),
        name="latentlab-training",
        parent=parent,
    )
