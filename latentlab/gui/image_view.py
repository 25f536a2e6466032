"""One 28x28 image, scaled up with crisp pixels, a title above and a caption below.

Ink is drawn dark on light paper (a white-to-black lookup table over levels (0, 1)), in the view
and in exported PNGs alike. The view is not zoomable: the digit always fills its square.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QSizePolicy, QVBoxLayout, QWidget

SIDE = 28
# 0 (no ink) -> white paper, 1 (full ink) -> near-black ink.
INK_LUT = np.repeat(np.linspace(255, 16, 256).round().astype(np.uint8)[:, None], 3, axis=1)


def to_ink_uint8(image: np.ndarray) -> np.ndarray:
    """(28, 28) floats in [0, 1] -> uint8 grey levels as drawn on screen (dark ink on white)."""
    index = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0) * 255
    return np.ascontiguousarray(INK_LUT[index.round().astype(np.uint8), 0])


def to_qimage(image: np.ndarray, scale: int = 10) -> QImage:
    """The image as an 8-bit grey QImage, scaled up `scale` times with nearest-neighbour pixels."""
    grey = to_ink_uint8(image)
    h, w = grey.shape
    qimage = QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return qimage.scaled(
        w * scale,
        h * scale,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )


class _InkImage(pg.ImageItem):
    """An ImageItem that renders a (28, 28) image in [0, 1] straight to RGB32 with `to_ink_uint8`.

    pyqtgraph's generic path (rescale, lookup, an indexed QImage with a 256-entry colour table)
    costs more than the decode, and Qt scales an indexed image several times slower on every
    paint than RGB32; the view repaints on every slider step. The ink is the exported PNG's.
    """

    def render(self) -> None:
        image = self.image
        if image is None or image.ndim != 2 or image.size == 0:
            super().render()
            return
        grey = to_ink_uint8(image).astype(np.uint32)
        self._rgb32 = np.ascontiguousarray(grey * 0x010101 | 0xFF000000, dtype=np.uint32)
        h, w = grey.shape
        self.qimage = QImage(self._rgb32.data, w, h, 4 * w, QImage.Format.Format_RGB32)
        self._renderRequired = False
        self._unrenderable = False


class _SquareView(pg.GraphicsView):
    """A graphics view that asks its layout for as much height as it has width."""

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width


class DigitView(QWidget):
    """A titled, captioned, non-zoomable 28x28 image."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = QLabel(title)
        self._title.setObjectName("imageTitle")
        self._title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._caption = QLabel()
        self._caption.setObjectName("imageCaption")
        self._caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._caption.setWordWrap(True)

        self._view = _SquareView()
        self._view.setBackground(None)
        # Crisp pixels at any scale (high-DPI included): never interpolate the 28x28 image.
        self._view.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self._view.setMinimumSize(120, 120)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self._view.setSizePolicy(policy)
        self._box = pg.ViewBox(lockAspect=True, enableMouse=False, enableMenu=False, invertY=True)
        self._box.setMouseEnabled(False, False)
        self._view.setCentralItem(self._box)
        self._item = _InkImage(axisOrder="row-major")
        self._item.setLookupTable(INK_LUT)
        self._item.setImage(np.zeros((SIDE, SIDE), np.float32), autoLevels=False, levels=(0, 1))
        self._box.addItem(self._item)
        frame = QGraphicsRectItem(0, 0, SIDE, SIDE)
        pen = pg.mkPen(150, 150, 150)
        pen.setCosmetic(True)
        frame.setPen(pen)
        self._box.addItem(frame)
        self._box.setRange(xRange=(0, SIDE), yRange=(0, SIDE), padding=0.015)
        self._image: np.ndarray | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._title)
        layout.addWidget(self._view, 1)
        layout.addWidget(self._caption)

    def set_image(self, image: np.ndarray, caption: str | None = None) -> None:
        """Show a (28, 28) float image in [0, 1]; the caption is kept when None."""
        image = np.ascontiguousarray(image, dtype=np.float32)
        self._image = image
        self._item.setImage(image, autoLevels=False, levels=(0, 1))
        self._item.setVisible(True)
        if caption is not None:
            self._caption.setText(caption)

    def clear(self, message: str = "") -> None:
        """No image: an empty frame and `message` as the caption."""
        self._image = None
        self._item.setVisible(False)
        self._caption.setText(message)

    def set_title(self, title: str) -> None:
        self._title.setText(title)

    def set_caption(self, caption: str) -> None:
        self._caption.setText(caption)

    def image(self) -> np.ndarray | None:
        """The image shown (None when cleared)."""
        return self._image

    def shown_image(self) -> np.ndarray:
        """What the ImageItem itself holds (for tests: proves the plot item was updated)."""
        return np.asarray(self._item.image)

    def title(self) -> str:
        return self._title.text()

    def caption(self) -> str:
        return self._caption.text()
