"""Nearest test images: thumbnails of the k test images closest to the current point.

Display only: the owner finds the neighbours (core `nearest`), gives each one's picture and
caption to `show_neighbours`, and handles `index_clicked` as a scatter click. The buttons are
made once per k and refilled in place as the current point moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .image_view import to_qimage

DEFAULT_K = 8
MAX_K_SHOWN = 32
COLUMNS = 8
THUMB_SIDE = 84  # pixels of a thumbnail's longer side (whole-pixel scaling, at most this)


@dataclass(frozen=True)
class Neighbour:
    index: int  # test point
    image: np.ndarray  # (H, W, C) floats in [0, 1]: the test image, or its reconstruction
    caption: str  # under the thumbnail
    tooltip: str


class NeighboursPanel(QWidget):
    """k and "same class only"; a grid of clickable thumbnails, nearest first."""

    index_clicked = Signal(int)  # a thumbnail was clicked: jump to that test point
    settings_changed = Signal()  # k or the class filter changed: the owner should refill

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._indices: list[int] = []
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, MAX_K_SHOWN)
        self.k_spin.setValue(DEFAULT_K)
        self.k_spin.setToolTip("How many nearest test images to show")
        self.same_class_check = QCheckBox("Same class only")
        self.same_class_check.setToolTip(
            "Only test images the classifier reads as the current class (z is the style alone, "
            "so without this the nearest styles can be any class)"
        )
        self.k_spin.valueChanged.connect(self.settings_changed)
        self.same_class_check.toggled.connect(self.settings_changed)
        self.note = QLabel()
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)

        self._buttons: list[QToolButton] = []
        host = QWidget()
        self._grid = QGridLayout(host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(4)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(host)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("k:"))
        controls.addWidget(self.k_spin)
        controls.addWidget(self.same_class_check)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(controls)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.note)

    # --- public --------------------------------------------------------------------------
    def k(self) -> int:
        return self.k_spin.value()

    def same_class_only(self) -> bool:
        return self.same_class_check.isChecked() and self.same_class_check.isEnabled()

    def set_conditional(self, conditional: bool) -> None:
        """The class filter needs a classifier: a plain model has none."""
        self.same_class_check.setEnabled(conditional)

    def show_neighbours(self, neighbours: Sequence[Neighbour], note: str) -> None:
        self._ensure_buttons(len(neighbours))
        self._indices = [n.index for n in neighbours]
        for button, n in zip(self._buttons, neighbours, strict=False):
            button.setIcon(
                QIcon(
                    QPixmap.fromImage(
                        to_qimage(n.image, max(1, THUMB_SIDE // max(n.image.shape[:2])))
                    )
                )
            )
            button.setText(n.caption)
            button.setToolTip(n.tooltip)
        self.note.setText(note)

    def indices(self) -> list[int]:
        """The test points shown, nearest first."""
        return list(self._indices)

    def buttons(self) -> list[QToolButton]:
        return self._buttons[: len(self._indices)]

    def clear(self, note: str = "") -> None:
        self._ensure_buttons(0)
        self._indices = []
        self.note.setText(note)

    # --- internals ---------------------------------------------------------------------------
    def _ensure_buttons(self, count: int) -> None:
        while len(self._buttons) < count:
            i = len(self._buttons)
            button = QToolButton()
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))
            button.setAutoRaise(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.clicked.connect(lambda _=False, i=i: self._on_clicked(i))
            self._grid.addWidget(button, i // COLUMNS, i % COLUMNS)
            self._buttons.append(button)
        for i, button in enumerate(self._buttons):
            button.setVisible(i < count)

    def _on_clicked(self, slot: int) -> None:
        if slot < len(self._indices):
            self.index_clicked.emit(self._indices[slot])
