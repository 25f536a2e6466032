"""The images behind the encoded points, loaded once per data set off the GUI thread.

A latentlab model file stores its encoded test set but not the images; the image pane and the
neighbours show the originals when the data set's files are found, and say why not otherwise.
An imported model carries its images (thumbnails) in the file: `Document.images` is used as is.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from latentlab.core.data.image_set import ImageSet, as_image_set
from latentlab.core.explore.points import images_match
from latentlab.core.explore.state import ExplorerState

from . import settings
from .capabilities import NO_POINTS_IMAGES
from .model_loader import ModelLoader, TestData

DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


class TestImages(QObject):
    """`image(i)` for the state's model: the original of point i in [0, 1], or why not."""

    changed = Signal()  # the images arrived, or their absence is known

    def __init__(self, state: ExplorerState, loader: ModelLoader, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self._loader = loader
        self._cache: dict[str, ImageSet | str | None] = {}  # None: loading; str: why absent
        loader.test_data_loaded.connect(self._on_loaded)
        loader.test_data_failed.connect(self._on_failed)
        state.events.model.connect(self._on_model)
        settings.data_notifier().changed.connect(self.reload)

    def image(self, index: int) -> tuple[np.ndarray | None, str]:
        """The image of point `index` (H, W, C) in [0, 1] and a caption, or None and the reason."""
        document, points = self.state.document, self.state.points
        if document is None:
            return None, "no model"
        if points is None:
            return None, NO_POINTS_IMAGES
        if document.images is not None:
            return self._carried(document.images, index)
        entry = self._cache.get(document.dataset)
        if entry is None:
            return None, "loading the test images…"
        if isinstance(entry, str):
            return None, entry
        if entry.labels is None or not images_match(points, entry.labels):
            return None, "original not available (the test data does not match this model)"
        return entry.image(index), f"test image #{index}{self._label(entry.labels, index)}"

    def _carried(self, images: object, index: int) -> tuple[np.ndarray | None, str]:
        """Image `index` of the images a document carries (an imported model's thumbnails)."""
        pixels = getattr(images, "images", None)
        points = self.state.points
        if pixels is None or points is None or len(pixels) != len(points):
            return None, "original not available (the file's images do not match its points)"
        image = np.asarray(pixels[index], dtype=np.float32) / 255.0
        if image.ndim == 2:
            image = image[..., None]
        return image, f"image #{index}{self._label(getattr(images, 'labels', None), index)}"

    def _label(self, labels: np.ndarray | None, index: int) -> str:
        """The caption's label part, " — label cat", or "" for an unlabelled image."""
        names = self.state.class_names
        if labels is None or not 0 <= int(labels[index]) < len(names):
            return ""
        return f" — label {names[int(labels[index])]}"

    def _on_model(self) -> None:
        document = self.state.document
        if document is None or document.images is not None or document.points is None:
            return  # the file carries its images, or there are no points to show images of
        if document.dataset and document.dataset not in self._cache:
            self._cache[document.dataset] = None
            self._loader.load_test_data(document.dataset)

    @Slot()
    def reload(self) -> None:
        """The data folder setting changed (or a download finished): look again for the test
        images that were not found, for the model shown now and for any model shown later."""
        for dataset in [name for name, entry in self._cache.items() if isinstance(entry, str)]:
            del self._cache[dataset]
        self._on_model()

    @Slot(str, object)
    def _on_loaded(self, dataset: str, data: TestData) -> None:
        try:
            self._cache[dataset] = as_image_set(data, dataset)
        except (TypeError, ValueError) as exc:
            self._cache[dataset] = f"original not available ({exc})"
        self.changed.emit()

    @Slot(str, str)
    def _on_failed(self, dataset: str, message: str) -> None:
        title = DATASET_TITLES.get(dataset, dataset)
        self._cache[dataset] = (
            f"original not available (no {title} data found; get it in File > Preferences…)"
        )
        self.changed.emit()
