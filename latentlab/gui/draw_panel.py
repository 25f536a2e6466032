"""Draw a digit and see what the model makes of it: its reading, reconstruction and latent spot.

The canvas keeps a 280x280 grey image (paper white, ink black), drawn with a round anti-aliased
pen by mouse or pen tablet (Qt delivers tablet strokes as mouse events too). After each stroke,
and a few times a second while one is drawn, the panel turns the ink into an MNIST-style 28x28
image (`latentlab.core.data.preprocess`) and reads it with the model's numpy networks
(`latentlab.core.explore.drawing`): under a millisecond, so it runs on the GUI thread. A grey
model of another size gets the MNIST-style digit scaled to its size (`fit_to`). `DrawingOverlay`
puts the drawing's latent mean and its one- and two-sigma ellipses of q(z|x) on the scatter.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRect, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.data.preprocess import SIDE, mnist_like, resize_area
from latentlab.core.explore.drawing import Reading, ellipse, read_image
from latentlab.core.explore.projection import LinearBasis
from latentlab.core.explore.state import ExplorerState

from .image_view import DigitView

CANVAS_SIDE = 280  # pixels of the drawing buffer (10x MNIST)
DEFAULT_PEN = 22  # buffer pixels: about 2 MNIST pixels once the digit is scaled to 20x20
PEN_RANGE = (6, 48)
LIVE_INTERVAL_MS = 120  # while a stroke is drawn, read it at most this often
DRAWING_COLOUR = "#d62728"
INPUT_TIP = "Your drawing cropped, scaled into a 20x20 box and centred by mass in 28x28, as MNIST"


def fit_to(digit: np.ndarray, height: int, width: int) -> np.ndarray:
    """A square MNIST-style digit (SIDE x SIDE) scaled to a model's height x width, centred.

    Its shape is kept: the digit fills the shorter side, and the longer one is padded with paper.
    """
    digit = np.asarray(digit, dtype=np.float32)
    if digit.shape == (height, width):
        return digit
    side = min(height, width)
    small = np.clip(resize_area(digit, side, side), 0.0, 1.0)
    out = np.zeros((height, width), np.float32)
    top, left = (height - side) // 2, (width - side) // 2
    out[top : top + side, left : left + side] = small
    return out


class DrawCanvas(QWidget):
    """A square drawing surface; `stroke_finished` after each stroke, `changed` while drawing."""

    stroke_finished = Signal()
    changed = Signal()
    cleared = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._buffer = QImage(CANVAS_SIDE, CANVAS_SIDE, QImage.Format.Format_Grayscale8)
        self._buffer.fill(255)
        self._pen_width = DEFAULT_PEN
        self._last: QPointF | None = None
        self._empty = True
        self.setMinimumSize(160, 160)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setToolTip("Draw one digit here with the mouse or a pen")

    # --- public --------------------------------------------------------------------------
    def set_pen_width(self, width: int) -> None:
        self._pen_width = int(width)

    def pen_width(self) -> int:
        return self._pen_width

    def clear(self) -> None:
        self._buffer.fill(255)
        self._empty = True
        self.update()
        self.cleared.emit()

    def is_empty(self) -> bool:
        return self._empty

    def ink(self) -> np.ndarray:
        """(280, 280) float32 ink in [0, 1] (1 = black ink), a copy."""
        ptr = self._buffer.constBits()
        stride = self._buffer.bytesPerLine()
        grey = np.frombuffer(ptr, np.uint8, count=stride * CANVAS_SIDE).reshape(CANVAS_SIDE, stride)
        return 1.0 - grey[:, :CANVAS_SIDE].astype(np.float32) / 255.0

    def draw_stroke(self, points: list[tuple[float, float]]) -> None:
        """Draw a polyline in buffer coordinates, as one user stroke (scripts and demos)."""
        for i, (x, y) in enumerate(points):
            self._line_to(QPointF(x, y), first=i == 0)
        self._last = None
        self.stroke_finished.emit()

    def to_buffer(self, pos: QPointF) -> QPointF:
        """Widget coordinates -> buffer coordinates."""
        rect = self._target()
        scale = CANVAS_SIDE / max(rect.width(), 1)
        return QPointF((pos.x() - rect.x()) * scale, (pos.y() - rect.y()) * scale)

    def from_buffer(self, x: float, y: float) -> QPointF:
        """Buffer coordinates -> widget coordinates (for tests that drive the mouse)."""
        rect = self._target()
        scale = rect.width() / CANVAS_SIDE
        return QPointF(rect.x() + x * scale, rect.y() + y * scale)

    # --- Qt ------------------------------------------------------------------------------
    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    def sizeHint(self) -> QSize:
        return QSize(240, 240)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        rect = self._target()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(rect, self._buffer)
        painter.setPen(QPen(QColor(150, 150, 150), 1))
        painter.drawRect(rect.adjusted(0, 0, -1, -1))
        if self._empty:
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "draw a digit here")
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._line_to(self.to_buffer(event.position()), first=True)
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._last is not None:
            self._line_to(self.to_buffer(event.position()), first=False)
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._last is not None:
            self._line_to(self.to_buffer(event.position()), first=False)
            self._last = None
            event.accept()
            self.stroke_finished.emit()

    # --- internals -----------------------------------------------------------------------
    def _target(self) -> QRect:
        """The square the buffer is shown in, centred in the widget."""
        side = min(self.width(), self.height())
        return QRect((self.width() - side) // 2, (self.height() - side) // 2, side, side)

    def _line_to(self, point: QPointF, first: bool) -> None:
        painter = QPainter(self._buffer)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(0, 0, 0), self._pen_width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        if first or self._last is None:
            painter.drawPoint(point)
        else:
            painter.drawLine(self._last, point)
        painter.end()
        self._last = point
        self._empty = False
        self.update()
        self.changed.emit()


class DrawingOverlay:
    """The drawing on the scatter: its latent mean (a star) and 1- and 2-sigma ellipses."""

    def __init__(self, plot: pg.PlotItem) -> None:
        colour = pg.mkColor(DRAWING_COLOUR)
        halo = pg.mkPen(255, 255, 255, 220, width=5)  # keeps the outline readable on the points
        self.one_sigma_halo = pg.PlotDataItem(pen=halo)
        self.two_sigma_halo = pg.PlotDataItem(pen=halo)
        self.one_sigma = pg.PlotDataItem(pen=pg.mkPen(colour, width=2.5))
        self.two_sigma = pg.PlotDataItem(pen=pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine))
        self.mean = pg.ScatterPlotItem(
            size=22, symbol="star", pen=pg.mkPen("k", width=1.2), brush=pg.mkBrush(colour)
        )
        self.label = pg.TextItem(
            "your digit",
            color=DRAWING_COLOUR,
            anchor=(-0.12, 1.15),
            fill=pg.mkBrush(255, 255, 255, 200),
        )
        for z, item in enumerate(self.items()):
            item.setZValue(60 + z)
            plot.addItem(item, ignoreBounds=True)
        self.show(None, None)

    def items(self) -> tuple:
        return (
            self.two_sigma_halo,
            self.one_sigma_halo,
            self.two_sigma,
            self.one_sigma,
            self.mean,
            self.label,
        )

    def show(self, reading: Reading | None, axes: LinearBasis | None) -> None:
        """Place the overlay for `reading` on `axes`, or hide it (None)."""
        visible = reading is not None and axes is not None
        for item in self.items():
            item.setVisible(visible)
        if not visible:
            return
        if not isinstance(axes, LinearBasis):  # a nonlinear map: no ellipse, only the mean
            for item in self.items()[:4]:
                item.setVisible(False)
        for items, n in (
            ((self.one_sigma, self.one_sigma_halo), 1.0),
            ((self.two_sigma, self.two_sigma_halo), 2.0),
        ):
            if not isinstance(axes, LinearBasis):
                break
            outline = ellipse(reading.mu, reading.var, axes, n_sigma=n)
            for item in items:
                item.setData(outline[:, 0], outline[:, 1])
        x, y = (float(v) for v in axes.project(reading.mu))
        self.mean.setData([x], [y])
        self.label.setPos(x, y)

    def is_shown(self) -> bool:
        return self.mean.isVisible()


class DrawPanel(QWidget):
    """Canvas, pen width and Clear on the left; what the model reads on the right."""

    reading_changed = Signal(object)  # Reading, or None when the canvas is empty
    edit_requested = Signal(object, object)  # latent mean (float32 array), class (int or None)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._explorer: ExplorerState | None = None
        self.reading: Reading | None = None

        self.canvas = DrawCanvas()
        self.canvas.stroke_finished.connect(self.update_reading)
        self.canvas.changed.connect(self._on_canvas_changed)
        self._live = QTimer(self)
        self._live.setSingleShot(True)
        self._live.setInterval(LIVE_INTERVAL_MS)
        self._live.timeout.connect(self.update_reading)

        self.pen_slider = QSlider(Qt.Orientation.Horizontal)
        self.pen_slider.setRange(*PEN_RANGE)
        self.pen_slider.setValue(DEFAULT_PEN)
        self.pen_slider.setToolTip("Stroke width of the pen (for new strokes)")
        self.pen_slider.valueChanged.connect(self.canvas.set_pen_width)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Wipe the canvas and start a new digit")
        self.clear_button.clicked.connect(self.clear)
        pen_row = QHBoxLayout()
        pen_row.addWidget(QLabel("Pen"))
        pen_row.addWidget(self.pen_slider, 1)
        pen_row.addWidget(self.clear_button)
        left = QVBoxLayout()
        left.addWidget(self.canvas, 1)
        left.addLayout(pen_row)

        self.input_view = DigitView("As the model sees it")
        self.input_view.setToolTip(INPUT_TIP)
        self.recon_view = DigitView("Reconstruction")
        self.reading_label = QLabel()
        self.reading_label.setObjectName("drawReading")
        self.reading_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reading_label.setWordWrap(True)
        font = self.reading_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.reading_label.setFont(font)
        self.spot_label = QLabel()
        self.spot_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.spot_label.setWordWrap(True)
        self.spot_label.setObjectName("hint")
        self.edit_button = QPushButton("Edit in sliders")
        self.edit_button.setToolTip(
            "Set the sliders (and the class) to this drawing's latent mean, to edit its style"
        )
        self.edit_button.clicked.connect(self._on_edit)
        views = QGridLayout()
        views.addWidget(self.input_view, 0, 0)
        views.addWidget(self.recon_view, 0, 1)
        right = QVBoxLayout()
        right.addLayout(views)
        right.addWidget(self.reading_label)
        right.addWidget(self.spot_label)
        edit_row = QHBoxLayout()
        edit_row.addStretch(1)
        edit_row.addWidget(self.edit_button)
        edit_row.addStretch(1)
        right.addLayout(edit_row)
        right.addStretch(1)

        layout = QHBoxLayout(self)
        layout.addLayout(left, 2)
        layout.addLayout(right, 3)
        self._show_nothing()

    # --- public --------------------------------------------------------------------------
    def set_explorer(self, explorer: ExplorerState | None) -> None:
        """Read drawings with this model from now on (the drawing itself is kept)."""
        self._explorer = explorer
        tip = INPUT_TIP
        if explorer is not None:
            spec = explorer.model.image_spec
            if (spec.height, spec.width) != (SIDE, SIDE):
                tip += f", then scaled to the model's {spec.height} x {spec.width}"
        self.input_view.setToolTip(tip)
        self.update_reading()

    @Slot()
    def clear(self) -> None:
        self.canvas.clear()
        self.update_reading()

    @Slot()
    def update_reading(self) -> None:
        """Preprocess the ink and read it with the current model; show and announce the result."""
        self._live.stop()
        explorer = self._explorer
        image = None if self.canvas.is_empty() else mnist_like(self.canvas.ink())
        if explorer is not None and image is not None:
            spec = explorer.model.image_spec
            image = fit_to(image, spec.height, spec.width)[..., None]
        if explorer is None or image is None:
            self.reading = None
            self._show_nothing()
            self.reading_changed.emit(None)
            return
        self.reading = read_image(explorer.model, image)
        self._show(self.reading, explorer)
        self.reading_changed.emit(self.reading)

    # --- internals -----------------------------------------------------------------------
    def _show_nothing(self) -> None:
        self.input_view.clear("")
        self.recon_view.clear("")
        self.reading_label.setText(
            "Draw a digit on the left" if self._explorer is not None else "No model loaded"
        )
        self.spot_label.setText("")
        self.edit_button.setEnabled(False)

    def _show(self, reading: Reading, explorer: ExplorerState) -> None:
        h, w = reading.image.shape[:2]
        self.input_view.set_image(reading.image, f"{h}x{w}, centred by mass")
        self.recon_view.set_image(reading.reconstruction, "decoded from the latent mean")
        names = explorer.class_names
        if reading.predicted is None:
            self.reading_label.setText("plain VAE: no classifier to read it")
        else:
            k = reading.predicted
            name = names[k] if k < len(names) else f"class {k}"
            self.reading_label.setText(f"Reads as {name} — {reading.confidence:.0%}")
        spread = float(np.sqrt(reading.var).mean())
        self.spot_label.setText(
            "On the scatter: the red star is its latent mean; the ellipses are one and two "
            f"standard deviations of q(z|x) (mean sd {spread:.2f})."
        )
        self.edit_button.setEnabled(True)

    @Slot()
    def _on_canvas_changed(self) -> None:
        if not self._live.isActive():
            self._live.start()

    @Slot()
    def _on_edit(self) -> None:
        if self.reading is not None:
            self.edit_requested.emit(self.reading.mu.copy(), self.reading.predicted)
