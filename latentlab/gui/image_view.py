"""One model image (any size, grey or RGB), scaled up with crisp pixels, titled and captioned.

Grey images are drawn as dark ink on light paper with the core's ramp
(`latentlab.core.explore.imaging`), colour images as they are, in the view and in exported PNGs
alike. The view is not zoomable: the image fills its square by a whole-number factor (every
model pixel the same number of screen pixels, whatever the model's size), or shrinks to fit
when the square is smaller than the image.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QSizePolicy, QVBoxLayout, QWidget

from latentlab.core.explore.imaging import picture_uint8

PLACEHOLDER_SIDE = 32  # the empty frame's size (pixels) before the first image


def to_ink_uint8(image: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] -> uint8 as drawn on screen: grey ink on paper (H, W), or RGB (H, W, 3)."""
    return np.ascontiguousarray(picture_uint8(image))


def picture_qimage(picture: np.ndarray) -> QImage:
    """A uint8 picture (H, W) grey or (H, W, 3) RGB as a QImage that owns its pixels."""
    picture = np.ascontiguousarray(picture, dtype=np.uint8)
    h, w = picture.shape[:2]
    if picture.ndim == 3:
        return QImage(picture.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QImage(picture.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def to_qimage(image: np.ndarray, scale: int = 10) -> QImage:
    """The image as a QImage, scaled up `scale` times with nearest-neighbour pixels."""
    qimage = picture_qimage(to_ink_uint8(image))
    w, h = qimage.width(), qimage.height()
    return qimage.scaled(
        w * scale,
        h * scale,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )


def fit_rect(width: int, height: int, box: QRectF) -> tuple[QRectF, bool]:
    """Where an image of `width` x `height` pixels is drawn in `box`, and whether to smooth.

    The image keeps its shape and is centred; enlarged, it grows by a whole-number factor
    (crisp pixels, no smoothing); only an image larger than the box is shrunk, smoothly.
    """
    scale = min(box.width() / max(width, 1), box.height() / max(height, 1))
    smooth = scale < 1
    if not smooth:
        scale = float(int(scale))
    w, h = width * scale, height * scale
    rect = QRectF(box.x() + (box.width() - w) / 2, box.y() + (box.height() - h) / 2, w, h)
    return rect, smooth


class _InkImage(pg.ImageItem):
    """An ImageItem that renders an image in [0, 1] straight to RGB32 with `to_ink_uint8`.

    pyqtgraph's generic path (rescale, lookup, an indexed QImage with a 256-entry colour table)
    costs more than the decode, and Qt scales an indexed image several times slower on every
    paint than RGB32; the view repaints on every slider step. The ink is the exported PNG's.
    """

    def render(self) -> None:
        image = self.image
        if image is None or image.ndim not in (2, 3) or image.size == 0:
            super().render()
            return
        shown = to_ink_uint8(image).astype(np.uint32)
        if shown.ndim == 3:
            rgb = shown[..., 0] << 16 | shown[..., 1] << 8 | shown[..., 2]
        else:
            rgb = shown * 0x010101
        self._rgb32 = np.ascontiguousarray(rgb | 0xFF000000, dtype=np.uint32)
        h, w = shown.shape[:2]
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
    """A titled, captioned, non-zoomable image of any size, grey or colour."""

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
        # Crisp pixels at any scale (high-DPI included): never interpolate the model's image.
        self._view.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self._view.setMinimumSize(120, 120)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self._view.setSizePolicy(policy)
        self._box = pg.ViewBox(lockAspect=True, enableMouse=False, enableMenu=False, invertY=True)
        self._box.setMouseEnabled(False, False)
        self._view.setCentralItem(self._box)
        self._item = _InkImage(axisOrder="row-major")
        side = PLACEHOLDER_SIDE
        self._item.setImage(np.zeros((side, side), np.float32), autoLevels=False, levels=(0, 1))
        self._box.addItem(self._item)
        self._frame = QGraphicsRectItem(0, 0, side, side)
        pen = pg.mkPen(150, 150, 150)
        pen.setCosmetic(True)
        self._frame.setPen(pen)
        self._box.addItem(self._frame)
        self._size = (side, side)
        self._box.sigResized.connect(self._fit)
        self._fit()
        self._image: np.ndarray | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._title)
        layout.addWidget(self._view, 1)
        layout.addWidget(self._caption)

    def set_image(self, image: np.ndarray, caption: str | None = None) -> None:
        """Show an (H, W), (H, W, 1) or (H, W, 3) float image in [0, 1]; None keeps the caption."""
        image = np.ascontiguousarray(image, dtype=np.float32)
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[..., 0]
        self._image = image
        h, w = image.shape[:2]
        if (h, w) != self._size:  # a model of another size: fit the frame to it
            self._size = (h, w)
            self._frame.setRect(0, 0, w, h)
            self._fit()
        self._item.setImage(image, autoLevels=False, levels=(0, 1))
        self._item.setVisible(True)
        if caption is not None:
            self._caption.setText(caption)

    def pixel_scale(self) -> float:
        """Screen pixels per model pixel (whole when the view is at least the image's size)."""
        rect = self._box.viewRect()
        return self._box.width() / rect.width() if rect.width() > 0 else 0.0

    def _fit(self, _box: object = None) -> None:
        """Show the image centred at the largest whole-number scale that fits (frame included)."""
        h, w = self._size
        room_w, room_h = self._box.width() - 2, self._box.height() - 2  # the frame's line
        scale = min(room_w / w, room_h / h)
        if scale < 1:  # smaller than the image (or not laid out yet): shrink to fit
            self._box.setRange(xRange=(0, w), yRange=(0, h), padding=0.015)
            return
        scale = float(int(scale))
        half_w, half_h = self._box.width() / scale / 2, self._box.height() / scale / 2
        self._box.setRange(
            xRange=(w / 2 - half_w, w / 2 + half_w),
            yRange=(h / 2 - half_h, h / 2 + half_h),
            padding=0,
        )

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
