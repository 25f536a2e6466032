"""The hover preview: the image and caption of the point under the cursor, beside it, no click.

As TensorBoard's projector shows a sprite on hover: the scatter asks `show` with the point's
index and place, and the preview draws the point's image (the data's own, or the decoded mean
where the model carries no images) in a small card beside the point. The card ignores the
plot's zoom (it stays the same size on screen) and flips to the other side near the view's
right or top edge, so it never leaves the plot.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF
from PySide6.QtGui import QBrush, QColor, QFont, QPen, QPixmap
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
    QWidget,
)

from .image_view import to_qimage

THUMB_SIDE = 84  # the longer side of the preview image, in screen pixels (whole-pixel scaling)
PAD = 6
OFFSET = 14  # screen pixels between the point and the card

ImageFor = Callable[[int], "np.ndarray | None"]


class HoverPreview(QObject):
    """A card over `view` with one point's image and caption; hidden when the mouse leaves."""

    def __init__(self, view: pg.ViewBox, widget: QWidget) -> None:
        super().__init__(widget)
        self._view = view
        self._image_for: ImageFor = lambda index: None
        self.index: int | None = None
        card = QGraphicsRectItem()
        card.setBrush(QBrush(QColor(255, 255, 255, 235)))
        card.setPen(QPen(QColor(150, 150, 150)))
        card.setZValue(1000)  # above points, marker, overlays and the legend
        card.hide()
        self._picture = QGraphicsPixmapItem(card)
        self._caption = QGraphicsSimpleTextItem(card)
        font = QFont(self._caption.font())
        font.setPointSizeF(max(font.pointSizeF() - 1, 7.0))
        self._caption.setFont(font)
        self._caption.setBrush(QBrush(QColor(30, 30, 30)))
        self.card = card
        # A child of the view box itself, not of its data group: so it is drawn above the legend
        # (a sibling of that group), and placed by mapping the point into the box's pixels.
        card.setParentItem(view)
        widget.installEventFilter(self)

    def set_image_source(self, image_for: ImageFor) -> None:
        """Where a point's image comes from: (H, W, C) in [0, 1] for an index, or None."""
        self._image_for = image_for
        self.hide()

    def show(self, index: int, x: float, y: float, caption: str) -> None:
        """The card for point `index` at (x, y) on the plot's axes."""
        if index != self.index:
            image = self._image_for(index)
            if image is None:
                self._picture.setPixmap(QPixmap())
            else:
                h, w = image.shape[:2]
                scale = max(1, THUMB_SIDE // max(h, w, 1))
                self._picture.setPixmap(QPixmap.fromImage(to_qimage(image, scale)))
            self._caption.setText(caption)
            self._layout()
            self.index = index
        self._place(x, y)
        self.card.show()

    def hide(self) -> None:
        self.card.hide()
        self.index = None

    @property
    def shown(self) -> bool:
        return self.card.isVisible()

    @property
    def caption(self) -> str:
        return self._caption.text()

    def has_image(self) -> bool:
        return not self._picture.pixmap().isNull()

    def _layout(self) -> None:
        pixmap = self._picture.pixmap()
        pic_w = 0 if pixmap.isNull() else pixmap.width()
        pic_h = 0 if pixmap.isNull() else pixmap.height()
        text = self._caption.boundingRect()
        width = max(pic_w, text.width()) + 2 * PAD
        self._picture.setPos((width - pic_w) / 2, PAD)
        gap = PAD if pic_h else 0
        self._caption.setPos(PAD, PAD + pic_h + gap)
        self.card.setRect(QRectF(0, 0, width, PAD + pic_h + gap + text.height() + PAD))

    def _place(self, x: float, y: float) -> None:
        """Beside the point, below-right; flipped left or up where the view would cut it off."""
        self.card.setPos(self._view.mapFromView(QPointF(x, y)))
        rect = self.card.rect()
        view = self._view.viewRect()
        point = self._view.mapViewToDevice(QPointF(x, y))
        corner = self._view.mapViewToDevice(QPointF(view.right(), view.top()))  # right, bottom
        if point is None or corner is None:
            right, bottom = rect.width() * 4, rect.height() * 4
            point = QPointF(0, 0)
        else:
            right, bottom = corner.x(), corner.y()
        fits_right = point.x() + OFFSET + rect.width() <= right
        fits_below = point.y() + OFFSET + rect.height() <= bottom
        dx = OFFSET if fits_right else -OFFSET - rect.width()
        dy = OFFSET if fits_below else -OFFSET - rect.height()
        self.card.setRect(QRectF(dx, dy, rect.width(), rect.height()))
        self._picture.setPos(dx + (rect.width() - self._picture_width()) / 2, dy + PAD)
        caption_h = self._caption.boundingRect().height()
        self._caption.setPos(dx + PAD, dy + rect.height() - PAD - caption_h)

    def _picture_width(self) -> float:
        pixmap = self._picture.pixmap()
        return 0.0 if pixmap.isNull() else float(pixmap.width())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A press starts a drag (the marker, a pan, a lasso): the card of the point under the
        # press would stay behind while the mouse moves with the button down.
        if event.type() in (QEvent.Type.Leave, QEvent.Type.MouseButtonPress):
            self.hide()
        return False


def decoded_mean(state: object, index: int) -> np.ndarray | None:
    """Point `index`'s decoded mean (a reconstruction), or None where there is none to decode."""
    try:
        return state.reconstruction(index)
    except (RuntimeError, IndexError, ValueError):
        return None


def point_image(state: object, test_images: object, index: int) -> np.ndarray | None:
    """Point `index`'s own image where there is one, else its decoded mean (a reconstruction)."""
    image, _why = test_images.image(index)
    return image if image is not None else decoded_mean(state, index)


def points_images(state: object, test_images: object) -> tuple[np.ndarray | None, str]:
    """(N, H, W, C) images of the state's points (the file's, or the data set's test images),
    or None and why not."""
    document, points = state.document, state.points
    if document is None or points is None:
        return None, "no encoded points"
    carried = getattr(document.images, "images", None)
    if carried is not None:
        if len(carried) != len(points):
            return None, "the file's images do not match its points"
        return np.asarray(carried), ""
    first, why = test_images.image(0) if len(points) else (None, "no points")
    if first is None:
        return None, why
    return np.stack([test_images.image(i)[0] for i in range(len(points))]), ""
