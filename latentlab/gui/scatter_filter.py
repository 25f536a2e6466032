"""The scatter's class filter: "Only: 3" draws the other classes' points grey, underneath.

Hiding a class from the legend takes its points away; a show-only filter keeps them as grey
context (where the rest of the data lies), as the colour bar's range filter does for values.
Grey points still answer a hover or a click, so their images stay a look away, but a lasso or
the thumbnails take only the classes shown in colour.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

ALL = "all classes"


class ClassFilter(QWidget):
    """`Only: [all classes | a class]`; `changed` sends the class (None: all)."""

    changed = Signal(object)  # int | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setToolTip(
            "Show one class in colour and the others grey beneath it (a show-only filter); "
            "hiding a class from the legend takes its points away instead"
        )
        self.combo.currentIndexChanged.connect(self._on_index)
        # As wide as "all classes": long class names must not widen the window.
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(len(ALL))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Only:"))
        layout.addWidget(self.combo)
        self.set_names(())

    @property
    def only(self) -> int | None:
        """The class shown in colour, or None for every class."""
        k = self.combo.currentIndex()
        return None if k <= 0 else k - 1

    def set_names(self, names: tuple[str, ...]) -> None:
        """The classes of a new model's points (none: the filter is hidden), back to all."""
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems([ALL, *names])
        self.combo.setCurrentIndex(0)
        self.combo.blockSignals(False)
        self.setVisible(len(names) > 1)

    def choose(self, only: int | None) -> None:
        self.combo.setCurrentIndex(0 if only is None else only + 1)

    def greyed(self, groups: np.ndarray) -> np.ndarray | None:
        """(N,) bool: the points the filter draws grey (None: none are)."""
        only = self.only
        return None if only is None else np.asarray(groups) != only

    @Slot(int)
    def _on_index(self, _index: int) -> None:
        self.changed.emit(self.only)
