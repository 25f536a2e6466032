"""One slider per named direction, under the latent sliders, bound to the explorer state.

A row shows the current point's coordinate along its direction ("slant: left ↔ right", 0 at
the data's mean, one unit per standard deviation of the encoded points) and moving it moves the
point along that direction only (`ExplorerState.move_along`), on every step of a drag: from the
point where the drag began, so the other coordinates come back whole however far the hand went.
A strip of images decoded along each direction sits under its row, like the dimension strips.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.explore.directions import Direction, decode_strips
from latentlab.core.explore.state import ExplorerState

from .slider_rows import SliderRow

STRIP_DELAY_MS = 40  # as the latent sliders' strips
SLIDER_RANGE = 3.5  # slider units (standard deviations of the data along the direction)
LABEL_CHARS = 24
ROWS_SHOWN = 2  # more directions than this scroll


class DirectionSliders(QWidget):
    """Rows for the named directions of the model shown; hidden while there are none."""

    def __init__(self, state: ExplorerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._directions: list[Direction] = []
        self._rows: list[SliderRow] = []
        self._start: np.ndarray | None = None  # where the drag in progress began
        self._strip_timer = QTimer(self)
        self._strip_timer.setSingleShot(True)
        self._strip_timer.setInterval(STRIP_DELAY_MS)
        self._strip_timer.timeout.connect(self.update_strips)

        title = QLabel("Directions")
        title.setObjectName("sectionTitle")
        hint = QLabel("0 is the data's mean; ±3 spans it")
        hint.setObjectName("hint")
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(hint)
        host = QWidget()
        self._grid = QGridLayout(host)
        self._grid.setContentsMargins(0, 0, 4, 0)
        self._grid.setVerticalSpacing(2)
        self._grid.setColumnStretch(1, 1)
        self._scroll = QScrollArea()  # many directions scroll; they never squeeze the sliders
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setWidget(host)
        self._host = host
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self._scroll)
        self.setVisible(False)

        state.events.z.connect(self._on_z)
        state.events.changed.connect(self.request_strips)

    # --- the directions ----------------------------------------------------------------------
    def set_directions(self, directions: Sequence[Direction]) -> None:
        """Show a row for each direction (of the model shown, so of its latent size)."""
        for row in self._rows:
            for widget in row.widgets():
                self._grid.removeWidget(widget)
                widget.deleteLater()
        d = self.state.latent_dim
        before = [x.name for x in self._directions]
        self._directions = [x for x in directions if x.latent_dim == d]
        added = [i for i, x in enumerate(self._directions) if x.name not in before]
        self._rows = []
        for i, direction in enumerate(self._directions):
            row = SliderRow(i, self._moved)
            row.set_range(SLIDER_RANGE)
            title = direction.title
            row.label.setText(
                title if len(title) <= LABEL_CHARS else title[: LABEL_CHARS - 1] + "…"
            )
            row.label.setToolTip(f"{title}\n{direction.source}, held-out {direction.score_text}")
            row.slider.setToolTip(
                f"Move along {direction.name}: towards {direction.low} (left) or "
                f"{direction.high} (right), nothing else changes"
            )
            row.spin.setToolTip(f"{direction.name}: type a coordinate")
            row.strip.setToolTip(
                f"Decoded from -3 to +3 along {direction.name} ({direction.low} to "
                f"{direction.high}), from the current point"
            )
            row.strip.setVisible(True)
            row.slider.sliderPressed.connect(self._on_pressed)
            row.slider.sliderReleased.connect(self._on_released)
            self._grid.addWidget(row.label, 2 * i, 0)
            self._grid.addWidget(row.slider, 2 * i, 1)
            self._grid.addWidget(row.spin, 2 * i, 2)
            self._grid.addWidget(row.strip, 2 * i + 1, 1)
            self._rows.append(row)
        if self._rows:  # from the widgets' own hints: the host is not laid out yet
            first = self._rows[0]
            line = max(w.sizeHint().height() for w in (first.label, first.slider, first.spin))
            spacing = 2 * self._grid.verticalSpacing()
            per_row = line + first.strip.height() + spacing
            self._scroll.setFixedHeight(per_row * min(len(self._rows), ROWS_SHOWN) + 2)
        self.setVisible(bool(self._rows) and self.state.loaded)
        self._on_z()
        self.update_strips()
        if added and before:  # a new direction: bring its row into view (it may be below)
            strip = self._rows[added[-1]].strip

            def reveal() -> None:
                with contextlib.suppress(RuntimeError):  # rows rebuilt before the timer fired
                    self._scroll.ensureWidgetVisible(strip)

            QTimer.singleShot(0, reveal)

    def directions(self) -> list[Direction]:
        return list(self._directions)

    def count(self) -> int:
        return len(self._rows)

    def row(self, index: int) -> SliderRow:
        return self._rows[index]

    def values(self) -> list[float]:
        return [row.spin.value() for row in self._rows]

    # --- strips ------------------------------------------------------------------------------
    def request_strips(self) -> None:
        if self._rows and self.state.loaded:
            self._strip_timer.start()

    @Slot()
    def update_strips(self) -> None:
        """Decode every direction's strip from the current point (one batched decode)."""
        self._strip_timer.stop()
        state = self.state
        if not self._rows or not state.loaded or self._directions[0].latent_dim != state.latent_dim:
            return
        images = decode_strips(state.model, self._directions, state.z, state.condition())
        for row, strip in zip(self._rows, images, strict=True):
            row.strip.set_images(strip)

    # --- events ------------------------------------------------------------------------------
    def _on_z(self, _z: object = None) -> None:
        if not self.state.loaded:
            return
        z = self.state.z
        for row, direction in zip(self._rows, self._directions, strict=True):
            if direction.latent_dim == len(z):  # (a new model's listeners may run first)
                row.show_value(direction.coordinate(z))

    def _moved(self, index: int, value: float) -> None:
        if self.state.loaded and 0 <= index < len(self._directions):
            self.state.move_along(self._directions[index], value, self._start)

    @Slot()
    def _on_pressed(self) -> None:
        self._start = self.state.z if self.state.loaded else None

    @Slot()
    def _on_released(self) -> None:
        self._start = None
