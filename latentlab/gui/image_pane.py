"""The decoded image beside the original: what the state's point looks like, bound to the state.

Every change of the state (`changed`) decodes once, through the state; a selected point shows
its reconstruction beside its test image. A dock can show something else for a while
(`show_preview`, a morph playing) and hand the pane back with `refresh`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from latentlab.core.explore.state import ExplorerState

from .capabilities import NO_POINTS_IMAGES, record_of
from .image_view import DigitView
from .test_images import TestImages

ORIGINAL_HINT = "Click a point in the scatter to see a test image here."
NO_CLASSIFIER = "plain VAE: no classifier to read it"


class ImagePane(QWidget):
    """The "Decoded" and "Test image" views side by side."""

    refreshed = Signal()  # the pane shows the state again (after a change or a preview)

    def __init__(
        self, state: ExplorerState, test_images: TestImages, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.test_images = test_images
        self.decoded = DigitView("Decoded")
        self.original = DigitView("Test image")
        self.original.clear(ORIGINAL_HINT)
        self._training: tuple | None = None  # (index, image, caption, z, class) of a click
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)
        row.addWidget(self.decoded, 1)
        row.addWidget(self.original, 1)
        state.events.changed.connect(self.refresh)
        test_images.changed.connect(self.refresh)

    def refresh(self) -> None:
        """Show the state: decode once, read it with the model's classifier, show the original."""
        state = self.state
        if not state.loaded:
            return
        names = state.class_names
        index = state.selected
        image = state.image()
        has_points = state.points is not None
        self.original.setEnabled(has_points)
        self.original.setToolTip("" if has_points else NO_POINTS_IMAGES)
        training = self._training_shown()
        if index is None and training is not None:
            number, original, caption = training
            title = f"Reconstruction of training image #{number}"
            self.original.set_title(f"Training image #{number}")
            if original is None:
                self.original.clear(caption)
            else:
                self.original.set_image(original, caption)
        elif index is None:
            named = state.conditional and state.class_index < len(names)
            title = f"Decoded: {names[state.class_index]}" if named else "Decoded"
            self.original.set_title("Test image")
            self.original.clear(ORIGINAL_HINT if has_points else NO_POINTS_IMAGES)
        else:
            title = f"Reconstruction of #{index}"
            original, caption = self.test_images.image(index)
            self.original.set_title(f"Test image #{index}")
            if original is None:
                self.original.clear(caption)
            else:
                self.original.set_image(original, caption)
        reading = state.classify(image)
        if reading is None:
            caption = (
                NO_CLASSIFIER
                if record_of(state.document) is not None
                else "no classifier to read it"
            )
        else:
            name = names[reading[0]] if reading[0] < len(names) else f"class {reading[0]}"
            caption = f"reads as {name} — {reading[1]:.0%}"
        self.decoded.set_title(title)
        self.decoded.set_image(image, caption)
        self.refreshed.emit()

    def follow_training(self, tools: object) -> None:
        """Show a clicked training point's image (the scatter's `TrainingTools`) beside its
        reconstruction, until the point moves."""
        tools.point_clicked.connect(
            lambda index: self.show_training(
                index, tools.image(index), tools.tip_for(index).replace("\n", " — ")
            )
        )

    def show_training(self, index: int, image: np.ndarray | None, caption: str) -> None:
        """The state is at training image `index`'s latent: show that image as the original."""
        state = self.state
        self._training = (index, image, caption, np.array(state.z, copy=True), state.class_index)
        self.refresh()

    def _training_shown(self) -> tuple | None:
        """(index, image, caption) of the training point the state is still at, else None."""
        training = self._training
        if training is None:
            return None
        index, image, caption, z, class_index = training
        state = self.state
        if state.selected is not None or state.class_index != class_index:
            self._training = None
            return None
        here = np.asarray(state.z)
        if here.shape != z.shape or not np.array_equal(here, z):
            self._training = None
            return None
        return index, image, caption or "training image"

    def show_preview(self, image: np.ndarray, title: str, caption: str) -> None:
        """Show an image that is not the state's (a morph frame) until the next refresh."""
        self.decoded.set_title(title)
        self.decoded.set_image(image, caption)
