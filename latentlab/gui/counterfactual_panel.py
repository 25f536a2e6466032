"""The Counterfactual dock's widgets: which class to reach, what to move, and what was found.

Display only: `CounterfactualTools` runs the search and the decision map and fills this panel
in; the panel says what the user asked for through its signals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.explore.counterfactual import CLASS_INPUT_MOVE, Z_MOVE

from .slider_rows import StripView

MOVE_CHOICES = (
    (Z_MOVE, "the latent point z", "Hold the class input and move z: the style"),
    (
        CLASS_INPUT_MOVE,
        "the class input",
        "Hold z and mix the class input toward the target class",
    ),
)
GO_TIP = "Move the explorer to the counterfactual"
NO_GO_TIP = (
    "A class input mixed from two classes is not a point the explorer can go to (its class "
    "buttons hold one class); the strip shows the mix"
)
PROMPT = "Choose a class and press Find: the smallest move found that the classifier reads as it."


class CounterfactualPanel(QWidget):
    """Target class, what to move, Find, the result's words and strip, Go there, decision map."""

    find_requested = Signal()
    go_requested = Signal()
    map_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target_combo = QComboBox()
        self.target_combo.setToolTip("The class the classifier should read after the move")
        self.move_combo = QComboBox()
        self.move_combo.setToolTip("What the search may change: z (the style) or the class input")
        for key, text, tip in MOVE_CHOICES:
            self.move_combo.addItem(text, key)
            self.move_combo.setItemData(self.move_combo.count() - 1, tip, 3)  # ToolTipRole
        self.move_label = QLabel("by moving")
        self.find_button = QPushButton("Find")
        self.find_button.setToolTip("Search from the current point (in the background)")
        self.go_button = QPushButton("Go there")
        self.go_button.setToolTip(GO_TIP)
        self.go_button.setEnabled(False)
        self.result = QLabel(PROMPT)
        self.result.setWordWrap(True)
        self.strip = StripView()
        self.strip.setToolTip("From the current point (left) to the counterfactual (right)")
        self.strip.hide()  # until something is found
        self.map_check = QCheckBox("Decision map")
        self.map_check.setToolTip(
            "Colour the scatter's background by the classifier's reading of the image decoded "
            "at each place of the current view (faded where it is unsure)"
        )
        self.map_note = QLabel()
        self.map_note.setObjectName("hint")
        self.map_note.setWordWrap(True)

        ask = QHBoxLayout()
        ask.addWidget(QLabel("Read as:"))
        ask.addWidget(self.target_combo)
        ask.addWidget(self.move_label)
        ask.addWidget(self.move_combo)
        ask.addWidget(self.find_button)
        ask.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(ask)
        layout.addWidget(self.result)
        layout.addWidget(self.strip)
        act = QHBoxLayout()
        act.addWidget(self.go_button)
        act.addStretch(1)
        act.addWidget(self.map_check)
        layout.addLayout(act)
        layout.addWidget(self.map_note)
        layout.addStretch(1)

        self.find_button.clicked.connect(self.find_requested)
        self.go_button.clicked.connect(self.go_requested)
        self.map_check.toggled.connect(self.map_toggled)
        self._conditional = False

    # --- what the owner sets -----------------------------------------------------------------
    def set_classes(self, names: Sequence[str], conditional: bool) -> None:
        """The classes to choose from; the move choice only for a model with a class input."""
        self.target_combo.clear()
        self.target_combo.addItems([str(n) for n in names])
        self.move_combo.setCurrentIndex(0)
        self._conditional = conditional
        for widget in (self.move_label, self.move_combo):
            widget.setVisible(conditional)
        self.show_prompt()

    def set_unavailable(self, why: str) -> None:
        """Off, with `why` in the words and every control's tooltip."""
        for widget in (self.target_combo, self.move_combo, self.find_button, self.map_check):
            widget.setEnabled(not why)
        self.find_button.setToolTip(why or "Search from the current point (in the background)")
        self.map_check.setToolTip(why or self.map_check.toolTip())
        self.result.setText(why or PROMPT)
        if why:
            self.map_check.setChecked(False)
            self.strip.hide()
            self.go_button.setEnabled(False)

    @property
    def target(self) -> int:
        return self.target_combo.currentIndex()

    @property
    def move(self) -> str:
        return self.move_combo.currentData() if self._conditional else Z_MOVE

    def show_prompt(self) -> None:
        self.result.setText(PROMPT)
        self.strip.hide()
        self.go_button.setEnabled(False)

    def show_busy(self) -> None:
        self.result.setText("Searching…")
        self.find_button.setEnabled(False)
        self.go_button.setEnabled(False)

    def show_found(self, words: str, strip: np.ndarray, can_go: bool) -> None:
        self.result.setText(words)
        self.strip.set_images(strip)
        self.strip.show()
        self.find_button.setEnabled(True)
        self.go_button.setEnabled(can_go)
        self.go_button.setToolTip(GO_TIP if can_go else NO_GO_TIP)

    def show_failed(self, words: str) -> None:
        self.result.setText(words)
        self.strip.hide()
        self.find_button.setEnabled(True)
        self.go_button.setEnabled(False)
