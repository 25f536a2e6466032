"""What the trainer reports: plain dataclasses of numbers and numpy arrays, safe to send across threads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentlab.core.vae.record import ModelRecord
from latentlab.core.vae.snapshots import LatentSnapshot


@dataclass(frozen=True)
class LossSummary:
    """Per-image means over a data split, in nats (classifier: mean cross-entropy)."""

    total: float  # the training objective: recon + beta * kl + weight * classifier
    recon: float
    kl: float
    classifier: float

    @property
    def elbo_loss(self) -> float:
        """Negative ELBO (beta = 1), the VAE's loss in nats per image."""
        return self.recon + self.kl

    def as_dict(self) -> dict[str, float]:
        return {
            "total": self.total,
            "recon": self.recon,
            "kl": self.kl,
            "classifier": self.classifier,
        }


@dataclass(frozen=True)
class Started:
    epochs: int
    batches_per_epoch: int
    train_size: int
    device: str
    precision: str = "float32"  # of the training step's matrix products (core.precision)


@dataclass(frozen=True)
class BatchProgress:
    epoch: int  # 1-based
    epochs: int
    batch: int  # batches finished in this epoch
    batches: int
    loss: float  # mean training objective over the batches since the last report
    elapsed_s: float


@dataclass(frozen=True)
class EpochEnd:
    epoch: int
    epochs: int
    train: LossSummary
    test: LossSummary
    test_accuracy: float | None  # None for plain models
    elapsed_s: float
    samples: np.ndarray  # (10, 28, 28) float32: one style decoded for each class (or 10 samples)
    samples_from: str = "the prior N(0, I)"  # what the styles were drawn from, in words


@dataclass(frozen=True)
class Finished:
    record: ModelRecord


@dataclass(frozen=True)
class Cancelled:
    """How a cancelled run is shown: the ``partial`` of its `JobCancelled`, and its epoch count."""

    record: ModelRecord | None  # weights after the last finished epoch; None if none finished
    epochs_done: int

    @classmethod
    def after(cls, record: ModelRecord | None) -> Cancelled:
        """The run stopped with ``record`` (None: before its first epoch finished)."""
        epochs = record.history[-1]["epoch"] if record is not None and record.history else 0
        return cls(record, epochs)


@dataclass(frozen=True)
class Failed:
    message: str
    record: ModelRecord | None  # last good weights (end of the last finished epoch), if any


TrainEvent = Started | BatchProgress | LatentSnapshot | EpochEnd | Finished | Cancelled | Failed
