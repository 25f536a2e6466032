"""The lasso: Shift and drag on the scatter to draw a loop around points; Ctrl+Shift and drag
for a rectangle.

The view box's drag handler is wrapped: with Shift held, a left-button drag draws a dashed
loop (or, with Ctrl too, a rectangle from where the drag began) in the plot's coordinates
instead of panning, and on release `drawn` sends the loop's vertices (M, 2): a rectangle is a
loop of four. Without Shift the view pans as before; a drag on the marker never reaches the
view box, so the marker still moves the point.
"""

from __future__ import annotations

import weakref

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal

LASSO_COLOUR = "#333333"
MIN_VERTICES = 3


class LassoTool(QObject):
    """Draws the loop over `view` and sends it when the drag ends."""

    drawn = Signal(object)  # (M, 2) float32 vertices in the plot's coordinates

    def __init__(self, view: pg.ViewBox) -> None:
        super().__init__()
        self._view_ref = weakref.ref(view)
        self._vertices: list[tuple[float, float]] = []
        self._rectangle = False  # this drag draws a rectangle (Ctrl was held at its start)
        self.curve = pg.PlotCurveItem(
            pen=pg.mkPen(LASSO_COLOUR, width=1.5, style=Qt.PenStyle.DashLine)
        )
        self.curve.setZValue(120)
        self.curve.hide()
        view.addItem(self.curve, ignoreBounds=True)
        view.mouseDragEvent = _drag_handler(self, view)

    @property
    def active(self) -> bool:
        return bool(self._vertices)

    def drag(self, ev: object) -> bool:
        """Handle a view-box drag if it is a lasso (Shift, left button); True when it was."""
        lasso = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if not (lasso or self._vertices) or ev.button() != Qt.MouseButton.LeftButton:
            return False
        view = self._view_ref()
        if view is None:
            return False
        ev.accept()
        if ev.isStart() or not self._vertices:
            start = view.mapSceneToView(ev.buttonDownScenePos())
            self._vertices = [(start.x(), start.y())]
            self._rectangle = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
        here = view.mapSceneToView(ev.scenePos())
        if self._rectangle:
            (x0, y0), (x1, y1) = self._vertices[0], (here.x(), here.y())
            self._vertices = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        else:
            self._vertices.append((here.x(), here.y()))
        loop = np.array([*self._vertices, self._vertices[0]], np.float64)
        self.curve.setData(loop[:, 0], loop[:, 1])
        self.curve.show()
        if ev.isFinish():
            vertices = np.array(self._vertices, np.float32)
            self._vertices = []
            self.curve.hide()
            if len(vertices) >= MIN_VERTICES:
                self.drawn.emit(vertices)
        return True


def _drag_handler(lasso: LassoTool, view: pg.ViewBox):
    """The view box's drag handler: the lasso with Shift, else the view's own pan.

    Weak references only, as for the click handler: no cycle through the view box.
    """
    lasso_ref, view_ref = weakref.ref(lasso), weakref.ref(view)

    def dragged(ev: object, axis: int | None = None) -> None:
        owner, box = lasso_ref(), view_ref()
        if owner is not None and owner.drag(ev):
            return
        if box is not None:
            pg.ViewBox.mouseDragEvent(box, ev, axis)

    return dragged
