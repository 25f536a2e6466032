"""One slider per latent direction, bound to the explorer state.

A user's move sets the state (`set_slider`) on every step of a drag, so the image follows the
hand; the rows show whatever the state's point is, whoever moved it (a scatter click, a marker
drag, Random, Reset). The directions (raw dimensions or principal components), each row's range
and its KL come from the state; the widget does no maths and no decoding. Strips under the rows
are decoded by the state at most every STRIP_DELAY_MS while a drag goes on, and the numbers
in the spin boxes follow at most every TEXT_DELAY_MS (the handles follow every step): a spin
box's repaint is a third of a marker drag's step, and a number read at 25 Hz looks as live.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
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

from latentlab.core.explore.dimensions import order_by_kl
from latentlab.core.explore.state import ExplorerState

from .slider_rows import STEPS_PER_UNIT, KlBar, SliderRow, StripView

STRIP_DELAY_MS = 40  # strips follow a drag at up to 25 updates a second
TEXT_DELAY_MS = 40  # and so do the spin boxes' numbers (a lone change shows at once)
DIRECTION_TEXTS = {"dims": "Raw latent dimensions", "pca": "Principal components"}


class LatentSliders(QWidget):
    """Sliders along the state's slider directions, with Random and Reset."""

    def __init__(self, state: ExplorerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._rows: list[SliderRow] = []
        self._rng = np.random.default_rng()
        self._strip_timer = QTimer(self)
        self._strip_timer.setSingleShot(True)
        self._strip_timer.setInterval(STRIP_DELAY_MS)
        self._strip_timer.timeout.connect(self.update_strips)
        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(TEXT_DELAY_MS)
        self._text_timer.timeout.connect(self._show_numbers)
        self._text_shown_at = -1.0  # monotonic seconds of the spin boxes' last refresh

        title = QLabel("Latent style")
        title.setObjectName("sectionTitle")
        self._random = QPushButton("Random")
        self._random.setToolTip("Draw a random style from the prior N(0, I)")
        self._reset = QPushButton("Reset")
        self._reset.setToolTip(
            "Back to the centre of the prior, z = 0 (along principal components the sliders then show where z = 0 lies)"
        )
        self._random.clicked.connect(self.randomize)
        self._reset.clicked.connect(self.reset)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self._random)
        header.addWidget(self._reset)

        self._directions = QComboBox()
        self._directions.setToolTip(
            "Move along the raw latent dimensions, or along the principal components of the "
            "encoded test set (PC1 and PC2 are the scatter's PCA axes)"
        )
        self._by_kl = QCheckBox("Order by KL")
        self._by_kl.setToolTip(
            "Put the most informative directions (largest average KL on the test set) first"
        )
        self._strips = QCheckBox("Strips")
        self._strips.setChecked(True)
        self._strips.setToolTip("Under each slider, decoded images from -3 to +3 along it")
        self._directions.activated.connect(self._on_directions_chosen)
        self._by_kl.toggled.connect(self._place_rows)
        self._strips.toggled.connect(self._on_strips_toggled)
        options = QHBoxLayout()
        options.addWidget(self._directions)
        options.addWidget(self._by_kl)
        options.addWidget(self._strips)
        options.addStretch(1)
        options.setContentsMargins(0, 0, 0, 0)
        self._options = QWidget()
        self._options.setLayout(options)
        self._options.setVisible(False)

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
        layout.addWidget(self._options)
        layout.addWidget(scroll, 1)

        state.events.model.connect(self._on_model)
        state.events.slider_basis.connect(self._on_basis)
        state.events.z.connect(self._on_z)
        state.events.changed.connect(self.request_strips)
        self._set_enabled(False)
        if state.loaded:  # built on a state that already shows a model
            self._on_model()

    # --- actions -----------------------------------------------------------------------------
    @Slot()
    def randomize(self) -> None:
        if self.state.loaded:
            self.state.randomize(self._rng)

    @Slot()
    def reset(self) -> None:
        if self.state.loaded:
            self.state.reset()

    def set_directions(self, kind: str) -> None:
        """Switch to "dims" or "pca" as a user would."""
        self._directions.setCurrentIndex(self._directions.findData(kind))
        self._on_directions_chosen(self._directions.currentIndex())

    def set_order_by_kl(self, on: bool) -> None:
        self._by_kl.setChecked(on)

    def request_strips(self) -> None:
        """Redraw the strips soon (the point or the class changed); repeated calls coalesce."""
        if self.state.loaded and self._strips.isChecked():
            self._strip_timer.start()

    @Slot()
    def update_strips(self) -> None:
        """Decode the strips now (through the state) and show them."""
        self._strip_timer.stop()
        if not self.state.loaded or not self._strips.isChecked():
            return
        images = self.state.slider_strips()
        for row in self._rows:
            row.strip.set_images(images[row.index])

    # --- what is shown -----------------------------------------------------------------------
    def count(self) -> int:
        return len(self._rows)

    def values(self) -> list[float]:
        """The values the handles show (0.01 resolution), by direction index; the spin boxes'
        numbers show the same within TEXT_DELAY_MS."""
        return [row.slider.value() / STEPS_PER_UNIT for row in self._rows]

    def numbers(self) -> list[float]:
        """The values the spin boxes show, by direction index."""
        return [row.spin.value() for row in self._rows]

    def row_order(self) -> list[int]:
        """Direction indices from top to bottom."""
        kl = self.state.slider_kl() if self.state.loaded else None
        if kl is not None and self._by_kl.isChecked():
            return order_by_kl(kl)
        return list(range(len(self._rows)))

    def slider(self, index: int) -> QSlider:
        return self._rows[index].slider

    def spin_box(self, index: int) -> QDoubleSpinBox:
        return self._rows[index].spin

    def label(self, index: int) -> QLabel:
        return self._rows[index].label

    def kl_bar(self, index: int) -> KlBar:
        return self._rows[index].kl

    def strip(self, index: int) -> StripView:
        return self._rows[index].strip

    @property
    def random_button(self) -> QPushButton:
        return self._random

    @property
    def reset_button(self) -> QPushButton:
        return self._reset

    @property
    def directions_combo(self) -> QComboBox:
        return self._directions

    @property
    def order_by_kl_box(self) -> QCheckBox:
        return self._by_kl

    @property
    def strips_box(self) -> QCheckBox:
        return self._strips

    # --- state events ------------------------------------------------------------------------
    def _on_model(self) -> None:
        """A new model: one row per latent dimension, the directions it offers."""
        drawn = getattr(self.state.model, "sampling_description", "the prior N(0, I)")
        self._random.setToolTip(f"Draw a random style from {drawn}")
        count = self.state.latent_dim
        if count != len(self._rows):
            for row in self._rows:
                for widget in row.widgets():
                    self._grid.removeWidget(widget)
                    widget.deleteLater()
            self._rows = [SliderRow(i, self._user_moved) for i in range(count)]
            self._place_rows()  # into the grid before anything shows them: no stray windows
        self._directions.clear()
        for kind in self.state.available_kinds():
            self._directions.addItem(DIRECTION_TEXTS.get(kind, kind), kind)
        self._directions.setEnabled(self._directions.count() > 1 and count > 1)
        self._options.setVisible(self.state.points is not None)
        self._set_enabled(True)
        self._on_basis()

    def _on_basis(self, _basis: object = None) -> None:
        """Names, ranges, KL bars, values and strips for the state's slider directions."""
        state = self.state
        basis = state.slider_basis
        self._directions.setCurrentIndex(max(0, self._directions.findData(basis.kind)))
        kl = state.slider_kl()
        largest = float(np.max(kl)) if kl is not None and len(kl) else 0.0
        for row in self._rows:
            note = basis.notes[row.index] if basis.notes else basis.labels[row.index]
            row.describe(basis.labels[row.index], note[:1].upper() + note[1:])
            row.set_range(state.slider_range)
            row.kl.setVisible(kl is not None)
            if kl is not None:
                row.kl.set_kl(float(kl[row.index]), largest)
                row.label.setEnabled(row.kl.is_active)
            row.strip.setVisible(self._strips.isChecked())
        self._place_rows()
        self._on_z()
        self.update_strips()

    def _on_z(self, _z: object = None) -> None:
        """Every handle now; the numbers now too unless they were refreshed under
        TEXT_DELAY_MS ago (a drag), then once that time is up."""
        now = time.monotonic()
        numbers = now - self._text_shown_at >= TEXT_DELAY_MS / 1000
        for row, value in zip(self._rows, self.state.slider_values(), strict=True):
            row.show_value(float(value), text=numbers)
        if numbers:
            self._text_shown_at = now
        elif not self._text_timer.isActive():
            self._text_timer.start()

    @Slot()
    def _show_numbers(self) -> None:
        self._text_shown_at = time.monotonic()
        if not self.state.loaded or len(self._rows) != len(self.state.slider_values()):
            return
        for row, value in zip(self._rows, self.state.slider_values(), strict=True):
            row.show_text(float(value))

    def show_point(self, z: np.ndarray | None) -> None:
        """Show the coordinates of `z` (a morph frame being played) without moving the state;
        None shows the state's own point again."""
        if z is None or not self.state.loaded:
            self._on_z()
            return
        values = self.state.slider_basis.project(np.asarray(z, dtype=np.float64))
        for row, value in zip(self._rows, values, strict=True):
            row.show_value(float(value))

    # --- user events ---------------------------------------------------------------------------
    def _user_moved(self, index: int, value: float) -> None:
        self.state.set_slider(index, value)

    @Slot(int)
    def _on_directions_chosen(self, index: int) -> None:
        kind = self._directions.itemData(index)
        if kind is not None and self.state.loaded:
            self.state.set_slider_kind(kind)

    @Slot(bool)
    def _on_strips_toggled(self, on: bool) -> None:
        for row in self._rows:
            row.strip.setVisible(on)
        if on:
            self.update_strips()

    def _set_enabled(self, on: bool) -> None:
        self._random.setEnabled(on)
        self._reset.setEnabled(on)

    @Slot()
    def _place_rows(self) -> None:
        """Lay the rows out in `row_order`, each as a control line with its strip below."""
        for row in self._rows:
            for widget in row.widgets():
                self._grid.removeWidget(widget)
        for old in range(self._grid.rowCount()):
            self._grid.setRowStretch(old, 0)
        for position, index in enumerate(self.row_order()):
            row = self._rows[index]
            line = 2 * position
            self._grid.addWidget(row.label, line, 0)
            self._grid.addWidget(row.slider, line, 1)
            self._grid.addWidget(row.spin, line, 2)
            self._grid.addWidget(row.kl, line, 3)
            self._grid.addWidget(row.strip, line + 1, 1)
        self._grid.setRowStretch(2 * len(self._rows), 1)
