"""A trained model as plain data: config, numpy weights, history, metrics and the encoded test set.

The trainer produces one, the checkpoint module saves and loads one, and the explorer reads one;
none of that needs torch.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latentlab.core.explore.points import EncodedPoints
from latentlab.core.vae.config import Config
from latentlab.core.vae.density import LatentDensity

# The stored test set is the explorer's encoded points (same fields), under its historic name.
TestEncoding = EncodedPoints


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
    density: LatentDensity | None = None  # class mixtures of the encoded training set, if fitted

    def __post_init__(self) -> None:
        if not self.class_names:
            from latentlab.core.data.datasets import (
                default_class_names,  # lazy: keeps the import graph small
            )

            self.class_names = default_class_names(self.config.dataset, self.config.num_classes)
