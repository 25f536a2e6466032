"""One slider per latent direction, with its editable value, its KL and a strip of decoded images.

The rows are built from the model (10 or 8 for the cVAEs, 2 for a 2-D VAE). A user's move emits
`value_changed` on every step of a drag, so the image follows the hand; `set_values` (a scatter
click, a marker drag, Random, Reset) changes every row with signals blocked, so the caller decodes
once instead of once per row.

Once it has the model's slider bases (`set_bases`, from `latentlab.core.explore.dimensions`; the
window's insight tools hand them over on every model load), each row also shows the direction's
average test KL (a bar and a number, greyed when the unit is collapsed) and the rows can be
ordered by KL or switched to the principal components. The sliders then show coordinates along
those directions; a move emits `z_changed` with the whole new latent instead of `value_changed`
(one PC moves every raw dimension). The strips under the rows come from a callable handed over
with the bases (the widget does no decoding); `request_strips` coalesces requests so a drag
decodes them at most every STRIP_DELAY_MS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.explore.dimensions import ACTIVE_KL, SliderBasis
from latentlab.core.explorer import SLIDER_RANGE

from .image_view import to_ink_uint8

STEPS_PER_UNIT = 100  # slider ticks per latent unit: 0.01 resolution
LIMIT = round(SLIDER_RANGE * STEPS_PER_UNIT)
STRIP_HEIGHT = 34  # pixels per decoded thumbnail in a strip (at most)
STRIP_DELAY_MS = 40  # strips follow a drag at up to 25 updates a second
DIMS_TEXT = "Raw latent dimensions"
PCA_TEXT = "Principal components"
StripSource = Callable[[SliderBasis], np.ndarray]  # basis -> (D, len(STRIP_VALUES), 28, 28)


class KlBar(QWidget):
    """A small horizontal bar for one direction's KL, scaled to the largest, with the number."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kl = 0.0
        self.fraction = 0.0
        self.setFixedWidth(62)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)

    def set_kl(self, kl: float, largest: float) -> None:
        self.kl = float(kl)
        self.fraction = 0.0 if largest <= 0 else min(1.0, self.kl / largest)
        state = "active" if self.kl > ACTIVE_KL else f"collapsed (below {ACTIVE_KL} nats)"
        self.setToolTip(
            f"Average KL(q(z|x) || p(z)) along this direction over the test set: "
            f"{self.kl:.3f} nats, {state}"
        )
        self.update()

    @property
    def is_active(self) -> bool:
        return self.kl > ACTIVE_KL

    def text(self) -> str:
        return f"{self.kl:.2f}"

    def sizeHint(self) -> QSize:
        return QSize(62, 18)

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(1, 3, -1, -3)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(225, 228, 232))
        painter.drawRoundedRect(rect, 2, 2)
        colour = QColor("#1f77b4") if self.is_active else QColor(170, 170, 170)
        painter.setBrush(colour)
        painter.drawRoundedRect(
            QRectF(rect.x(), rect.y(), rect.width() * self.fraction, rect.height()), 2, 2
        )
        painter.setPen(QColor(20, 20, 20) if self.is_active else QColor(110, 110, 110))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.text())
        painter.end()


def strip_image(images: np.ndarray) -> QImage:
    """(V, 28, 28) images side by side, ink on paper, as one 28 x 28V grey QImage."""
    grey = np.ascontiguousarray(np.concatenate([to_ink_uint8(im) for im in images], axis=1))
    h, w = grey.shape
    return QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


class StripView(QWidget):
    """Decoded thumbnails in equal cells across the slider's width.

    The slider spans [-3.5, 3.5]; seven cells of equal width have their centres at -3, -2, ..., 3,
    so each thumbnail sits right under the slider position it was decoded at.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._count = 0
        self.setFixedHeight(STRIP_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_images(self, images: np.ndarray) -> None:
        self._image = strip_image(images)
        self._count = len(images)
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def paintEvent(self, event: object) -> None:
        if self._image is None or self._count == 0:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        cell = self.width() / self._count
        side = min(cell - 2, float(self.height()))
        for i in range(self._count):
            target = QRectF(i * cell + (cell - side) / 2, (self.height() - side) / 2, side, side)
            painter.drawImage(target, self._image, QRectF(i * 28, 0, 28, 28))
        painter.end()


class _Row:
    """The widgets of one direction: name, slider, spin box, KL bar and strip, kept in step."""

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
        self.kl = KlBar()
        self.kl.setVisible(False)
        self.strip = StripView()
        self.strip.setVisible(False)
        self.strip.setToolTip(
            "Decoded from -3 to +3 along this direction (the other coordinates and class as now)"
        )
        self.slider.valueChanged.connect(lambda v: owner._on_slider(index, v))
        self.spin.valueChanged.connect(lambda v: owner._on_spin(index, v))

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.label, self.slider, self.spin, self.kl, self.strip)

    def show_value(self, value: float) -> None:
        """Move both widgets to `value` without emitting anything."""
        for widget in (self.slider, self.spin):
            widget.blockSignals(True)
        self.slider.setValue(round(value * STEPS_PER_UNIT))
        self.spin.setValue(value)
        for widget in (self.slider, self.spin):
            widget.blockSignals(False)

    def describe(self, name: str, note: str) -> None:
        self.label.setText(name)
        self.slider.setToolTip(f"{note}: drag to change the image")
        self.spin.setToolTip(f"{name}: type a value")


class LatentSliders(QWidget):
    """Sliders along the latent directions with Random and Reset; knows nothing about decoding."""

    value_changed = Signal(int, float)  # raw dimension, new value (from the user, raw mode)
    z_changed = Signal(object)  # the whole new latent (from the user, principal-component mode)
    random_requested = Signal()
    reset_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._bases: dict[str, SliderBasis] = {}
        self._z = np.zeros(0, np.float32)
        self._strip_source: StripSource | None = None
        self._strip_timer = QTimer(self)
        self._strip_timer.setSingleShot(True)
        self._strip_timer.setInterval(STRIP_DELAY_MS)
        self._strip_timer.timeout.connect(self.update_strips)
        self.strip_updates = 0  # how many times the strips were decoded (tests, benchmarks)

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

        self._directions = QComboBox()
        self._directions.addItems([DIMS_TEXT, PCA_TEXT])
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
        self._directions.currentIndexChanged.connect(self._on_directions_changed)
        self._by_kl.toggled.connect(self._on_order_changed)
        self._strips.toggled.connect(self._on_strips_toggled)
        options = QHBoxLayout()
        options.addWidget(self._directions)
        options.addWidget(self._by_kl)
        options.addWidget(self._strips)
        options.addStretch(1)
        self._options = QWidget()
        self._options.setLayout(options)
        options.setContentsMargins(0, 0, 0, 0)
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

    # --- public --------------------------------------------------------------------------
    def set_dimension(self, count: int) -> None:
        """Rebuild the rows for a model with `count` free latent dimensions (all at zero).

        Forgets any bases: call `set_bases` after this for the KL, ordering and strips.
        """
        self._bases = {}
        self._strip_source = None
        self._options.setVisible(False)
        self._directions.blockSignals(True)
        self._directions.setCurrentIndex(0)
        self._directions.blockSignals(False)
        if count == len(self._rows):
            for row in self._rows:
                row.describe(f"z{row.index + 1}", f"Latent dimension z{row.index + 1}")
                row.kl.setVisible(False)
                row.strip.setVisible(False)
            self._z = np.zeros(count, np.float32)
            self.set_values([0.0] * count)
            self._place_rows()
            return
        for row in self._rows:
            for widget in row.widgets():
                self._grid.removeWidget(widget)
                widget.deleteLater()
        self._rows = [_Row(i, self) for i in range(count)]
        self._z = np.zeros(count, np.float32)
        self._place_rows()

    def set_bases(
        self, bases: Sequence[SliderBasis], strip_source: StripSource | None = None
    ) -> None:
        """The model's slider bases ("dims" first, then "pca") and where strips come from."""
        self._bases = {basis.kind: basis for basis in bases}
        if any(len(b) != len(self._rows) for b in bases):
            raise ValueError(f"bases must have {len(self._rows)} directions")
        self._strip_source = strip_source
        self._directions.setEnabled("pca" in self._bases and len(self._rows) > 1)
        self._options.setVisible(bool(self._bases))
        self._show_basis()

    def basis(self) -> SliderBasis | None:
        """The directions the sliders move along now (None before `set_bases`)."""
        kind = "pca" if self._directions.currentIndex() == 1 else "dims"
        return self._bases.get(kind)

    def count(self) -> int:
        return len(self._rows)

    def set_values(self, values: Sequence[float]) -> None:
        """Show the latent `values` (raw z) on every row without emitting anything.

        Along principal components the rows show z's coordinates on them.
        """
        if len(values) != len(self._rows):
            raise ValueError(f"expected {len(self._rows)} values, got {len(values)}")
        self._z = np.asarray(values, dtype=np.float32).copy()
        basis = self.basis()
        shown = self._z if basis is None or basis.kind == "dims" else basis.coords(self._z)
        for row, value in zip(self._rows, shown, strict=True):
            row.show_value(float(value))

    def values(self) -> list[float]:
        """The values as shown (spin boxes, 0.01 resolution), by direction index."""
        return [row.spin.value() for row in self._rows]

    def latent(self) -> np.ndarray:
        """The raw latent the sliders stand for."""
        return self._z.copy()

    def row_order(self) -> list[int]:
        """Direction indices from top to bottom."""
        basis = self.basis()
        if basis is not None and self._by_kl.isChecked():
            return basis.order_by_kl()
        return list(range(len(self._rows)))

    def set_directions(self, kind: str) -> None:
        """Switch to "dims" or "pca" as a user would."""
        self._directions.setCurrentIndex(1 if kind == "pca" else 0)

    def set_order_by_kl(self, on: bool) -> None:
        self._by_kl.setChecked(on)

    def request_strips(self) -> None:
        """Redraw the strips soon (the latent or the class changed); repeated calls coalesce."""
        if self._strip_source is not None and self._strips.isChecked():
            self._strip_timer.start()

    @Slot()
    def update_strips(self) -> None:
        """Decode the strips now (through the window's source) and show them."""
        self._strip_timer.stop()
        basis = self.basis()
        if self._strip_source is None or basis is None or not self._strips.isChecked():
            return
        images = self._strip_source(basis)
        self.strip_updates += 1
        for row in self._rows:
            row.strip.set_images(images[row.index])

    # --- access for the window and tests -----------------------------------------------------
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

    # --- internals ---------------------------------------------------------------------------
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

    def _show_basis(self) -> None:
        """Names, KL bars, values and strips for the current basis."""
        basis = self.basis()
        if basis is None:
            return
        largest = float(np.max(basis.kl)) if len(basis.kl) else 0.0
        for row in self._rows:
            row.describe(basis.labels[row.index], basis.notes[row.index].capitalize())
            row.kl.set_kl(float(basis.kl[row.index]), largest)
            row.kl.setVisible(True)
            row.label.setEnabled(row.kl.is_active)
            row.strip.setVisible(self._strips.isChecked() and self._strip_source is not None)
        self._place_rows()
        self.set_values(self._z)
        if self._strip_source is not None and self._strips.isChecked():
            self.update_strips()

    @Slot(int)
    def _on_directions_changed(self, _index: int) -> None:
        self._show_basis()

    @Slot(bool)
    def _on_order_changed(self, _on: bool) -> None:
        self._place_rows()

    @Slot(bool)
    def _on_strips_toggled(self, on: bool) -> None:
        for row in self._rows:
            row.strip.setVisible(on and self._strip_source is not None)
        if on:
            self.update_strips()

    def _user_moved(self, index: int, value: float) -> None:
        basis = self.basis()
        if basis is None or basis.kind == "dims":
            self._z[index] = value
            self.value_changed.emit(index, value)
        else:
            self._z = basis.with_coord(self._z, index, value)
            self.z_changed.emit(self._z.copy())

    @Slot(int, int)
    def _on_slider(self, index: int, ticks: int) -> None:
        value = ticks / STEPS_PER_UNIT
        spin = self._rows[index].spin
        spin.blockSignals(True)
        spin.setValue(value)
        spin.blockSignals(False)
        self._user_moved(index, value)

    @Slot(int, float)
    def _on_spin(self, index: int, value: float) -> None:
        slider = self._rows[index].slider
        slider.blockSignals(True)
        slider.setValue(round(value * STEPS_PER_UNIT))
        slider.blockSignals(False)
        self._user_moved(index, value)
