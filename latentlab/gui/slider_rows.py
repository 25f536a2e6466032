"""The widgets of one slider row: name, slider, value box, KL bar and a strip of decoded images."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QSizePolicy, QSlider, QWidget

from latentlab.core.explore.dimensions import ACTIVE_KL

from .image_view import fit_rect, picture_qimage, to_ink_uint8

STEPS_PER_UNIT = 100  # slider ticks per latent unit: 0.01 resolution
STRIP_HEIGHT = 34  # pixels per decoded thumbnail in a strip (at most)
ACTIVE_FILL = "#1f77b4"
TRACK_SHADE = 0.1  # the KL bar's track: this far from the window's colour towards its text
COLLAPSED_SHADE = 0.35


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """`a` moved the fraction `t` of the way to `b`."""
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
    )


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

    def colours(self) -> tuple[QColor, QColor, QColor]:
        """Track, fill and number colours from the palette, so the bar fits a light and a dark
        theme alike: the track a shade off the window's colour (not a light grey on a dark
        window), an active bar blue, a collapsed one a muted grey."""
        palette = self.palette()
        window = palette.color(QPalette.ColorRole.Window)
        ink = palette.color(QPalette.ColorRole.WindowText)
        track = _mix(window, ink, TRACK_SHADE)
        if self.is_active:
            return track, QColor(ACTIVE_FILL), ink
        return track, _mix(window, ink, COLLAPSED_SHADE), _mix(window, ink, 0.6)

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(1, 3, -1, -3)
        painter.setPen(Qt.PenStyle.NoPen)
        track, fill, text = self.colours()
        painter.setBrush(track)
        painter.drawRoundedRect(rect, 2, 2)
        painter.setBrush(fill)
        painter.drawRoundedRect(
            QRectF(rect.x(), rect.y(), rect.width() * self.fraction, rect.height()), 2, 2
        )
        painter.setPen(text)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.text())
        painter.end()


def strip_image(images: np.ndarray) -> QImage:
    """(V, H, W[, C]) images side by side, as shown on screen, in one QImage V images wide."""
    return picture_qimage(np.concatenate([to_ink_uint8(im) for im in images], axis=1))


class StripView(QWidget):
    """Decoded thumbnails in equal cells across the slider's width.

    The thumbnails are decoded at -3, -2, ..., 3 along the slider's direction, in equal cells
    across its width.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._count = 0
        self._tile = (1, 1)  # (width, height) of one thumbnail in the image
        self.setFixedHeight(STRIP_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_images(self, images: np.ndarray) -> None:
        self._image = strip_image(images)
        self._count = len(images)
        self._tile = (images.shape[2], images.shape[1])
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def paintEvent(self, event: object) -> None:
        if self._image is None or self._count == 0:
            return
        painter = QPainter(self)
        cell = self.width() / self._count
        w, h = self._tile
        for i in range(self._count):
            box = QRectF(i * cell + 1, 0, cell - 2, float(self.height()))
            target, smooth = fit_rect(w, h, box)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
            painter.drawImage(target, self._image, QRectF(i * w, 0, w, h))
        painter.end()


class SliderRow:
    """The widgets of one direction: name, slider, spin box, KL bar and strip, kept in step."""

    def __init__(self, index: int, moved: Callable[[int, float], None]) -> None:
        self.index = index
        self.label = QLabel(f"z{index + 1}")
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setSingleStep(1)
        self.slider.setPageStep(25)
        self.slider.setMinimumWidth(100)
        self.slider.setToolTip(f"Latent dimension z{index + 1}: drag to change the image")
        self.spin = QDoubleSpinBox()
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
        self._moved = moved
        self.set_range(3.5)
        self.slider.valueChanged.connect(self._on_slider)
        self.spin.valueChanged.connect(self._on_spin)

    def set_range(self, half_range: float) -> None:
        """Span [-half_range, half_range] (the state's range: it covers every encoded point)."""
        limit = round(half_range * STEPS_PER_UNIT)
        for widget in (self.slider, self.spin):
            widget.blockSignals(True)
        self.slider.setRange(-limit, limit)
        self.spin.setRange(-half_range, half_range)
        for widget in (self.slider, self.spin):
            widget.blockSignals(False)

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.label, self.slider, self.spin, self.kl, self.strip)

    def show_value(self, value: float, *, text: bool = True) -> None:
        """Move the handle (and, with `text`, the number) to `value` without emitting anything.

        A widget that already shows the value is left alone: every point change reaches every
        row, and a spin box repaints on any setValue, so untouched rows would cost a paint each.
        """
        ticks = round(value * STEPS_PER_UNIT)
        if self.slider.value() != ticks:
            self.slider.blockSignals(True)
            self.slider.setValue(ticks)
            self.slider.blockSignals(False)
        if text:
            self.show_text(value)

    def show_text(self, value: float) -> None:
        """The number in the spin box, without emitting anything."""
        if self.spin.value() == round(value, self.spin.decimals()):
            return
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)

    def describe(self, name: str, note: str) -> None:
        self.label.setText(name)
        self.slider.setToolTip(f"{note}: drag to change the image")
        self.spin.setToolTip(f"{name}: type a value")

    def _on_slider(self, ticks: int) -> None:
        value = ticks / STEPS_PER_UNIT
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        self._moved(self.index, value)

    def _on_spin(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(value * STEPS_PER_UNIT))
        self.slider.blockSignals(False)
        self._moved(self.index, value)
