"""A trained model as plain data: config, numpy weights, history, metrics and the encoded test set.

The trainer produces one, the checkpoint module saves and loads one, and the explorer reads one;
none of that needs torch.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latentlab.core.vae.config import Config


@dataclass
class TestEncoding:
    """The test set as the model sees it, so the explorer can draw the scatter without the data."""

    mu: np.ndarray  # (N, latent_dim) float32: means of q(z|x)
    logvar: np.ndarray  # (N, latent_dim) float32: log variances of q(z|x)
    labels: np.ndarray  # (N,) uint8: true classes
    probs: np.ndarray | None = (
        None  # (N, num_classes) float32: classifier output (conditional only)
    )

    @property
    def predicted(self) -> np.ndarray:
        """Predicted class per test image (the true label for a plain model, which has no classifier)."""
        if self.probs is None:
            return self.labels
        return self.probs.argmax(axis=1).astype(np.uint8)

    def __len__(self) -> int:
        return len(self.labels)


def utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


@dataclass
class ModelRecord:
    config: Config
    weights: dict[str, np.ndarray]  # torch state_dict names -> float32 arrays
    class_names: tuple[str, ...] = ()  # empty: the dataset's own names (see __post_init__)
    history: list[dict[str, Any]] = field(default_factory=list)  # one entry per finished epoch
    metrics: dict[str, Any] = field(default_factory=dict)  # test metrics of the final weights
    test_encoding: TestEncoding | None = None
    created: str = field(default_factory=utc_now)
    format_version: int = 1  # of the file it was read from (latentlab.core.vae.checkpoint)

    def __post_init__(self) -> None:
        if not self.class_names:
            from latentlab.core.data.datasets import (
                default_class_names,  # lazy: keeps the import graph small
            )

            self.class_names = default_class_names(self.config.dataset, self.config.num_classes)
