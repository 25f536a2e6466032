"""A model opened for exploring: the model, its encoded points, and where it came from.

The explorer needs only `model` and `points`; `payload` is the model family's own object (for
latentlab's VAEs, the `ModelRecord` that is saved, shown in Model > Info and evaluated), which
only code of that family looks inside.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .latent_model import LatentModel
from .points import EncodedPoints


@dataclass(frozen=True)
class Document:
    model: LatentModel
    points: EncodedPoints | None  # None: a decoder-only model (no scatter, no neighbours)
    payload: Any = None  # the family's own object behind the model
    path: Path | None = None  # the file it was read from or last saved to; None: never saved
    unsaved: bool = False  # True for a freshly trained model until it is saved
    dataset: str = ""  # the data set the points come from ("mnist"), to find its images
    # The images behind `points`, when the file carries them (an imported model's thumbnails):
    # any object with `images` (N, H, W, C) uint8, `labels` and `class_names` (an ImageSet).
    # None: the GUI finds them by `dataset` (MNIST-style data folders) or goes without.
    images: Any = None
    source: str = "native"  # which kind of model: "native" (latentlab's own), "onnx", "live"

    @property
    def name(self) -> str:
        return self.path.name if self.path is not None else "untitled (unsaved)"

    def saved_as(self, path: Path) -> Document:
        return replace(self, path=path, unsaved=False)
