"""The scatter's plot items: the class items of the legend, the one item that draws and
hit-tests every visible point, and the marker's shape. Made once; refilled with setData.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPainterPath
from PySide6.QtWidgets import (
    QGraphicsItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

# Matplotlib's tab10: ten hues that stay distinguishable for the common colour-vision deficiencies.
CLASS_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
POINT_SIZE = 5
POINT_ALPHA = 190


def skip_hover_while_dragging(scene: pg.GraphicsScene) -> None:
    """No hover hit test on the mouse moves made with a button down; the release sends them.

    pyqtgraph finds and z-sorts every item under the cursor on each move (`itemsNearEvent`),
    even with a button down, when by its own rule no item may accept the hover: about 1 ms of
    each move of a marker drag (the first one too, before pyqtgraph counts it as a drag), for
    nothing.
    """
    send = scene.sendHoverEvents

    def send_unless_dragging(ev: Any, exitOnly: bool = False) -> None:  # pyqtgraph names it
        if not exitOnly and ev.buttons():
            return
        send(ev, exitOnly)

    scene.sendHoverEvents = send_unless_dragging


def marker_path() -> QPainterPath:
    """A ring with a crosshair through it, centred at (0, 0), 1 unit across."""
    path = QPainterPath()
    path.addEllipse(QPointF(0, 0), 0.32, 0.32)
    for a, b in (((-0.5, 0), (-0.16, 0)), ((0.16, 0), (0.5, 0))):
        path.moveTo(*a)
        path.lineTo(*b)
    for a, b in (((0, -0.5), (0, -0.16)), ((0, 0.16), (0, 0.5))):
        path.moveTo(*a)
        path.lineTo(*b)
    return path


class ClassPoints(pg.ScatterPlotItem):
    """One class's points and symbol, for the legend: a click there hides or shows the class.

    Not in the scene: `AllPoints` draws every visible class and finds the point under the
    cursor. Ten more items in the scene cost every click, hover and repaint their bounding
    rectangles, shapes and sorting (pyqtgraph's `itemsNearEvent`), for points drawn elsewhere.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.indices = np.zeros(0, np.int64)  # test index of each point, as in getData()


class AllPoints(pg.ScatterPlotItem):
    """The visible classes' points in one item, each in its class colour; clicks and hover tips.

    pyqtgraph's per-item cost of a paint (culling, transforms) is paid once for all classes
    instead of ten times, and finding the point under the cursor is one vectorised test over
    the visible points. The marker moves over the points on every slider step, so Qt keeps them
    as a pixmap (device-coordinate cache) and repaints the patch under the marker from it:
    new data, a class hidden or a pan or zoom draw them again. Those redraws cull to Qt's
    exposed rectangle (pyqtgraph's scatter draws all of its points whatever the area), and the
    bounding rectangle, which Qt's scene index and pyqtgraph's event handling ask for many
    times per click, is computed once per geometry change: pyqtgraph calls
    `prepareGeometryChange` (Qt's contract) on new data and on view changes.
    """

    point_clicked = Signal(int)  # test index of the point clicked

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._exposed: QRectF | None = None
        self._rect_key: tuple | None = None
        self._rect_bounds: object = None
        self._rect = QRectF()
        self._geometry_version = 0
        super().__init__(*args, **kwargs)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.indices = np.zeros(0, np.int64)  # test index of each point, in drawing order
        self.covers: list[QGraphicsItem] = []  # items above that take their own clicks (legend)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def prepareGeometryChange(self) -> None:
        self._geometry_version += 1
        super().prepareGeometryChange()

    def viewTransformChanged(self) -> None:
        self._geometry_version += 1
        super().viewTransformChanged()

    def boundingRect(self) -> QRectF:
        # pyqtgraph replaces `self.bounds` (a new list) whenever the data bounds are invalidated.
        key = (self._maxSpotPxWidth, self._geometry_version)
        if key != self._rect_key or self._rect_bounds is not self.bounds:
            self._rect = super().boundingRect()
            self._rect_key, self._rect_bounds = key, self.bounds
        return QRectF(self._rect)

    def viewRect(self) -> QRectF | None:
        rect = super().viewRect()
        if self._exposed is not None and rect is not None:
            return rect.intersected(self._exposed)
        return rect

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self._exportOpts is not False:  # exporting: everything, as pyqtgraph draws it
            super().paint(painter, option, widget)
            return
        self._exposed = QRectF(option.exposedRect)
        full = self.data
        near = self._points_near(self._exposed, widget)
        if near is not None:
            self.data = full[near]  # pyqtgraph then transforms and culls only these
        try:
            super().paint(painter, option, widget)
        finally:
            self.data = full
            self._exposed = None

    def _points_near(self, rect: QRectF, widget: QWidget | None) -> np.ndarray | None:
        """Mask of the points whose symbol can touch `rect`; None: draw them all."""
        if widget is not None and widget.devicePixelRatioF() != (
            self.fragmentAtlas.devicePixelRatio()
        ):
            return None  # pyqtgraph re-renders its symbol atlas into `data`: give it all of it
        px, py = self.pixelVectors()
        if px is None or py is None:
            return None
        pad_x = px.length() * self._maxSpotPxWidth
        pad_y = py.length() * self._maxSpotPxWidth
        x, y = self.data["x"], self.data["y"]
        return (
            (x >= rect.left() - pad_x)
            & (x <= rect.right() + pad_x)
            & (y >= rect.top() - pad_y)
            & (y <= rect.bottom() + pad_y)
        )

    def set_points(self, x: np.ndarray, y: np.ndarray, brush: np.ndarray, indices: np.ndarray):
        self.setData(x=x, y=y, brush=brush)
        self.indices = np.asarray(indices, dtype=np.int64)

    def clear(self) -> None:
        super().clear()
        self.indices = np.zeros(0, np.int64)

    def index_at(self, pos: QPointF) -> int | None:
        """Test index of the topmost point whose symbol covers `pos` (item coordinates)."""
        if not len(self.indices):
            return None
        px, py = self.pixelVectors()
        if px is None or py is None:
            return None
        half = self._maxSpotPxWidth / 2  # the symbol's square, as pyqtgraph hit-tests it
        x, y = self.data["x"], self.data["y"]
        hits = np.flatnonzero(
            (np.abs(x - pos.x()) < px.length() * half) & (np.abs(y - pos.y()) < py.length() * half)
        )
        return int(self.indices[hits[-1]]) if len(hits) else None  # drawn last: on top

    def hoverEvent(self, ev: object) -> None:
        """Claim the next click when the cursor is over a point and no cover is.

        pyqtgraph then hands that click straight to this item instead of searching the scene
        for an item that takes it (`itemsNearEvent`: about 0.7 ms of every click).
        """
        if ev.isExit() or self.index_at(ev.pos()) is None:
            return
        where = ev.scenePos()
        if any(c.isVisible() and c.sceneBoundingRect().contains(where) for c in self.covers):
            return
        ev.acceptClicks(Qt.MouseButton.LeftButton)

    def mouseClickEvent(self, ev: object) -> None:
        left = ev.button() == Qt.MouseButton.LeftButton
        index = self.index_at(ev.pos()) if left else None
        if index is None:
            ev.ignore()
            return
        ev.accept()
        self.point_clicked.emit(index)
