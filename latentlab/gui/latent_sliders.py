"""One slider per free latent dimension, each with an editable value beside it.

The rows are built from the model (10 or 8 for the cVAEs, 2 for a 2-D VAE). A user's move emits
`value_changed` on every step of a drag, so the image follows the hand; `set_values` (a scatter
click, a marker drag, Random, Reset) changes every row with signals blocked, so the caller decodes
once instead of once per row.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.explorer import SLIDER_RANGE

STEPS_PER_UNIT = 100  # slider ticks per latent unit: 0.01 resolution
LIMIT = round(SLIDER_RANGE * STEPS_PER_UNIT)


class _Row:
    """The widgets of one dimension: name, slider and spin box, kept in step with each other."""

    def __init__(self, index: int, owner: LatentSliders) -> None:
        self.index = index
        self.label = QLabel(f"z{index + 1}")
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(-LIMIT, LIMIT)
        self.slider.setSingleStep(1)
        self.slider.setPageStep(25)
        self.slider.setMinimumWidth(100)
        self.slider.setToolTip(f"Latent dimension z{index + 1}: drag to change the image")
        self.spin = QDoubleSpinBox()
        self.spin.setRange(-SLIDER_RANGE, SLIDER_RANGE)
        self.spin.setDecimals(2)
        self.spin.setSingleStep(1 / STEPS_PER_UNIT)
        self.spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.spin.setMinimumWidth(70)
        self.slider.valueChanged.connect(lambda v: owner._on_slider(index, v))
        self.spin.valueChanged.connect(lambda v: owner._on_spin(index, v))

    def show_value(self, value: float) -> None:
        """Move both widgets to `value` without emitting anything."""
        for widget in (self.slider, self.spin):
            widget.blockSignals(True)
        self.slider.setValue(round(value * STEPS_PER_UNIT))
        self.spin.setValue(value)
        for widget in (self.slider, self.spin):
            widget.blockSignals(False)


class LatentSliders(QWidget):
    """Sliders z1..zN with Random and Reset; knows nothing about decoding."""

    value_changed = Signal(int, float)  # dimension, new value (from the user)
    random_requested = Signal()
    reset_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        title = QLabel("Latent style")
        title.setObjectName("sectionTitle")
        self._random = QPushButton("Random")
        self._random.setToolTip("Draw every slider from the prior N(0, 1)")
        self._reset = QPushButton("Reset")
        self._reset.setToolTip("Set every slider to 0, the centre of the prior")
        self._random.clicked.connect(self.random_requested)
        self._reset.clicked.connect(self.reset_requested)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self._random)
        header.addWidget(self._reset)

        self._grid_host = QWidget()
        self._grid = QGridLayout(self._grid_host)
        self._grid.setContentsMargins(0, 0, 4, 0)
        self._grid.setVerticalSpacing(2)
        self._grid.setColumnStretch(1, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._grid_host)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(scroll, 1)

    # --- public --------------------------------------------------------------------------
    def set_dimension(self, count: int) -> None:
        """Rebuild the rows for a model with `count` free latent dimensions (all at zero)."""
        if count == len(self._rows):
            self.set_values([0.0] * count)
            return
        for row in self._rows:
            for widget in (row.label, row.slider, row.spin):
                self._grid.removeWidget(widget)
                widget.deleteLater()
        self._rows = []
        for i in range(count):
            row = _Row(i, self)
            self._grid.addWidget(row.label, i, 0)
            self._grid.addWidget(row.slider, i, 1)
            self._grid.addWidget(row.spin, i, 2)
            self._rows.append(row)
        self._grid.setRowStretch(count, 1)

    def count(self) -> int:
        return len(self._rows)

    def set_values(self, values: Sequence[float]) -> None:
        """Show `values` on every row without emitting `value_changed`."""
        if len(values) != len(self._rows):
            raise ValueError(f"expected {len(self._rows)} values, got {len(values)}")
        for row, value in zip(self._rows, values, strict=True):
            row.show_value(float(value))

    def values(self) -> list[float]:
        """The values as shown (spin boxes, 0.01 resolution)."""
        return [row.spin.value() for row in self._rows]

    def slider(self, index: int) -> QSlider:
        return self._rows[index].slider

    def spin_box(self, index: int) -> QDoubleSpinBox:
        return self._rows[index].spin

    @property
    def random_button(self) -> QPushButton:
        return self._random

    @property
    def reset_button(self) -> QPushButton:
        return self._reset

    # --- slots ---------------------------------------------------------------------------
    @Slot(int, int)
    def _on_slider(self, index: int, ticks: int) -> None:
        value = ticks / STEPS_PER_UNIT
        spin = self._rows[index].spin
        spin.blockSignals(True)
        spin.setValue(value)
        spin.blockSignals(False)
        self.value_changed.emit(index, value)

    @Slot(int, float)
    def _on_spin(self, index: int, value: float) -> None:
        slider = self._rows[index].slider
        slider.blockSignals(True)
        slider.setValue(round(value * STEPS_PER_UNIT))
        slider.blockSignals(False)
        self.value_changed.emit(index, value)
