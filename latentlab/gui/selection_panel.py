"""The Selection dock's widgets: what the lasso caught, two kept selections, and their direction.

Display only: `SelectionTools` fills it in and acts on its signals.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .image_view import to_qimage
from .slider_rows import StripView

PROMPT = (
    "Hold Shift and drag on the scatter to draw a loop around points (Ctrl+Shift: a "
    "rectangle): they become the selection. Keep two selections as A and B to get the direction from one to the other."
)
MEAN_SIDE = 112  # pixels of the mean image's longer side


class SelectionPanel(QWidget):
    """The selection's count, classes, mean image and members; A, B and the direction A -> B."""

    keep_requested = Signal(str)  # "A" or "B": keep the current selection under that name
    direction_requested = Signal()
    export_requested = Signal()
    clear_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel(PROMPT)
        self.summary.setWordWrap(True)
        self.mean_image = QLabel()
        self.mean_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.mean_image.setFixedSize(MEAN_SIDE + 8, MEAN_SIDE + 8)
        self.mean_image.setToolTip("The mean of the selected points' images")
        self.mean_caption = QLabel("mean image")
        self.mean_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.members = StripView()
        self.members.setToolTip("Some of the selected points")
        self.keep_a = QPushButton("Keep as A")
        self.keep_b = QPushButton("Keep as B")
        self.direction_button = QPushButton("Direction A → B")
        self.direction_button.setToolTip(
            "The latent direction from A's mean to B's: added as a named direction"
        )
        self.export_button = QPushButton("Export indices…")
        self.export_button.setToolTip("Save the selected points' indices, one per line")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Forget the current selection (A and B stay)")
        self.keep_a.setToolTip("Keep the current selection as A, the start of a direction")
        self.keep_b.setToolTip("Keep the current selection as B, the end of a direction")
        self.kept = QLabel("A: none · B: none")
        self.kept.setObjectName("hint")
        self.direction_note = QLabel()
        self.direction_note.setWordWrap(True)

        top = QGridLayout()
        top.addWidget(self.summary, 0, 0, 2, 1)
        top.addWidget(self.mean_image, 0, 1)
        top.addWidget(self.mean_caption, 1, 1)
        top.setColumnStretch(0, 1)
        buttons = QHBoxLayout()
        for button in (self.keep_a, self.keep_b, self.direction_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.members)
        layout.addLayout(buttons)
        layout.addWidget(self.kept)
        layout.addWidget(self.direction_note)
        layout.addStretch(1)

        self.keep_a.clicked.connect(lambda: self.keep_requested.emit("A"))
        self.keep_b.clicked.connect(lambda: self.keep_requested.emit("B"))
        self.direction_button.clicked.connect(self.direction_requested)
        self.export_button.clicked.connect(self.export_requested)
        self.clear_button.clicked.connect(self.clear_requested)
        self.show_empty()

    def show_empty(self, text: str = PROMPT) -> None:
        self.summary.setText(text)
        self.mean_image.clear()
        self.mean_caption.setText("")
        self.members.hide()
        for button in (self.keep_a, self.keep_b, self.export_button, self.clear_button):
            button.setEnabled(False)

    def show_selection(self, summary: str, mean: np.ndarray | None, members: np.ndarray) -> None:
        self.summary.setText(summary)
        if mean is None:
            self.mean_image.clear()
            self.mean_caption.setText("")
        else:
            scale = max(1, MEAN_SIDE // max(mean.shape[:2]))
            self.mean_image.setPixmap(QPixmap.fromImage(to_qimage(mean, scale)))
            self.mean_caption.setText("mean image")
        if len(members):
            self.members.set_images(members)
            self.members.show()
        else:
            self.members.hide()
        for button in (self.keep_a, self.keep_b, self.export_button, self.clear_button):
            button.setEnabled(True)

    def show_kept(self, a: str, b: str, can_direct: bool) -> None:
        self.kept.setText(f"A: {a} · B: {b}")
        self.direction_button.setEnabled(can_direct)
