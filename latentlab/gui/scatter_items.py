"""The scatter's plot items: the class items of the legend, the one item that draws and
hit-tests every visible point, and the marker's shape. Made once; refilled with setData.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainterPath

from .point_cloud import PointCloud

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
    The points are kept as plain arrays (`set_xy`, `getData`): pyqtgraph's own records of a
    million points would cost seconds and hundreds of megabytes for an item never drawn.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.indices = np.zeros(0, np.int64)  # test index of each point, as in getData()
        self._xy = (np.zeros(0, np.float32), np.zeros(0, np.float32))

    def set_xy(self, x: np.ndarray, y: np.ndarray, indices: np.ndarray) -> None:
        self._xy = (np.asarray(x, np.float32), np.asarray(y, np.float32))
        self.indices = np.asarray(indices, np.int64)

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        return self._xy


class AllPoints(PointCloud):
    """The visible classes' points in one layer, each in its colour level; clicks and hover.

    pyqtgraph's per-item cost of a paint (culling, transforms) is paid once for all classes
    instead of ten times, and finding the point under the cursor is one grid look-up. The
    palette is the class colours (levels = classes) or a colour map's levels and grey (levels
    = values): a recolour changes one integer array, no brush objects. See `point_cloud` for
    the level of detail (a density image when more than `LOD_POINTS` points are in view).
    """
