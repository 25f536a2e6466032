"""The encoded test set as a scatter on two axes, with a draggable marker for the current point.

One ScatterPlotItem per class holds its points for the legend (a legend click hides a class,
pyqtgraph's own behaviour), and one item draws the visible classes and hit-tests them; all are
made once and refilled with setData when the model or the axes change. The marker is a
TargetItem drawn above the points; dragging it emits `marker_moved` with view coordinates, and
`set_marker` moves it without echoing that signal back. The widget does no latent maths: the
window hands it positions computed by the core explorer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QCursor, QPainter, QPainterPath
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QStyleOptionGraphicsItem,
    QToolTip,
    QVBoxLayout,
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
PCA_TEXT = "Principal components (PC1, PC2)"
DIMS_TEXT = "Two latent dimensions"


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


class LatentScatter(QWidget):
    """Scatter of test latents with axis choice, class legend, hover tips and the marker."""

    point_clicked = Signal(int)  # index of the test point
    marker_moved = Signal(float, float)  # new marker position on the current axes (user drag)
    axes_changed = Signal(str, int, int)  # "pca" or "dims", dimension i, dimension j

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._labels = np.zeros(0, np.uint8)
        self._predicted: np.ndarray | None = None
        self._names: tuple[str, ...] = tuple(str(i) for i in range(10))
        self._latent_dim = 0
        self.last_tip = ""

        # --- axis choice ---
        self._mode = QComboBox()
        self._mode.addItems([PCA_TEXT, DIMS_TEXT])
        self._mode.setToolTip("What the scatter's two axes show")
        self._dim_x = QComboBox()
        self._dim_y = QComboBox()
        self._dim_x.setToolTip("Latent dimension on the horizontal axis")
        self._dim_y.setToolTip("Latent dimension on the vertical axis")
        self._versus = QLabel("vs")
        self._plane = QLabel("Axes: the latent plane (z1, z2)")
        self._plane.setVisible(False)
        self._mode.currentIndexChanged.connect(self._on_mode_changed)
        self._dim_x.currentIndexChanged.connect(self._on_dim_x_changed)
        self._dim_y.currentIndexChanged.connect(self._on_dim_y_changed)
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        self._axes_label = QLabel("Axes:")
        controls.addWidget(self._axes_label)
        controls.addWidget(self._mode)
        controls.addWidget(self._dim_x)
        controls.addWidget(self._versus)
        controls.addWidget(self._dim_y)
        controls.addWidget(self._plane)
        controls.addStretch(1)
        hint = QLabel(
            "Click a point to load its reconstruction; drag the ring to move the style along "
            "these axes; click a legend entry to hide a class."
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)

        # --- plot ---
        self._plot = pg.PlotWidget(background="w")
        self._plot.setMenuEnabled(False)
        item = self._plot.getPlotItem()
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=0.15)
        for side in ("left", "bottom"):
            axis = item.getAxis(side)
            axis.setPen(pg.mkPen(90, 90, 90))
            axis.setTextPen(pg.mkPen(40, 40, 40))
            # The axes draw the grid across the plot: kept as pixmaps, a marker move repaints
            # its patch without replaying every grid line and label (a pan draws them anew).
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._legend = item.addLegend(
            offset=(-8, 8),
            colCount=2,
            brush=pg.mkBrush(255, 255, 255, 215),
            pen=pg.mkPen(180, 180, 180),
            labelTextColor=(30, 30, 30),
            verSpacing=-6,
        )
        self._items: list[ClassPoints] = []
        self._brushes = []
        for colour in CLASS_COLOURS:
            brush = pg.mkColor(colour)
            brush.setAlpha(POINT_ALPHA)
            self._brushes.append(pg.mkBrush(brush))
            scatter = ClassPoints(
                pxMode=True, size=POINT_SIZE, pen=None, brush=self._brushes[-1], tip=None
            )
            scatter.visibleChanged.connect(self._fill_all_points)
            self._items.append(scatter)
        self._all_points = AllPoints(pxMode=True, size=POINT_SIZE, pen=None, tip=None)
        self._all_points.point_clicked.connect(self.point_clicked)
        self._all_points.covers.append(self._legend)
        self._filling = False  # set_model/set_points fill `_all_points` once, at their end
        self._marker = pg.TargetItem(
            pos=(0, 0),
            size=22,
            symbol=marker_path(),
            pen=pg.mkPen("k", width=2.5),
            hoverPen=pg.mkPen("#d62728", width=3),
            brush=pg.mkBrush(255, 255, 255, 110),
            hoverBrush=pg.mkBrush(255, 255, 255, 170),
            movable=True,
        )
        self._marker.setZValue(100)
        self._marker.setToolTip("Current slider state: drag to move along these axes")
        self._marker.sigPositionChanged.connect(self._on_marker_moved)
        self._plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        skip_hover_while_dragging(self._plot.scene())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self._plot, 1)
        layout.addWidget(hint)

    # --- model and axes ------------------------------------------------------------------
    def set_model(
        self,
        latent_dim: int,
        labels: np.ndarray,
        predicted: np.ndarray | None,
        class_names: Sequence[str],
    ) -> None:
        """Prepare for a model: the axis choices it allows and the facts shown in hover tips.

        `predicted` is None for a plain model (no classifier, so no prediction to show).
        """
        self._latent_dim = latent_dim
        self._labels = np.asarray(labels)
        self._predicted = None if predicted is None else np.asarray(predicted)
        self._names = tuple(class_names)
        plane = latent_dim == 2
        for widget in (self._axes_label, self._mode, self._dim_x, self._versus, self._dim_y):
            widget.setVisible(not plane)
        self._plane.setVisible(plane)
        for combo in (self._mode, self._dim_x, self._dim_y):
            combo.blockSignals(True)
        self._mode.setCurrentIndex(0)
        for combo in (self._dim_x, self._dim_y):
            combo.clear()
            combo.addItems([f"z{i + 1}" for i in range(latent_dim)])
        self._dim_x.setCurrentIndex(0)
        self._dim_y.setCurrentIndex(min(1, latent_dim - 1))
        for combo in (self._dim_x, self._dim_y):
            combo.setEnabled(False)
        for combo in (self._mode, self._dim_x, self._dim_y):
            combo.blockSignals(False)
        plot = self._plot.getPlotItem()
        self._legend.clear()
        self._filling = True  # the points come in set_points
        for c, scatter in enumerate(self._items):
            scatter.setVisible(True)
            if c < len(self._names):
                self._legend.addItem(scatter, self._names[c])
        self._filling = False
        if self._all_points.scene() is None:
            plot.addItem(self._all_points)
        if self._marker.scene() is None:
            plot.addItem(self._marker, ignoreBounds=True)

    def set_points(self, points: np.ndarray, axis_labels: Sequence[str]) -> None:
        """Place the test points (N, 2) on the current axes and fit the view to them."""
        points = np.asarray(points, dtype=np.float32)
        indices = np.arange(len(points))
        for c, scatter in enumerate(self._items):
            mask = self._labels == c
            scatter.setData(x=points[mask, 0], y=points[mask, 1])
            scatter.indices = indices[mask]
        self._fill_all_points()
        plot = self._plot.getPlotItem()
        plot.setLabel("bottom", axis_labels[0])
        plot.setLabel("left", axis_labels[1])
        view = plot.getViewBox()
        view.enableAutoRange(enable=False)
        if len(self._all_points.indices):
            view.autoRange(items=[self._all_points], padding=0.04)

    def axes_choice(self) -> tuple[str, int, int]:
        """("pca", 0, 1) or ("dims", i, j) as chosen in the combos."""
        if self._latent_dim != 2 and self._mode.currentIndex() == 0:
            return "pca", 0, 1
        return "dims", self._dim_x.currentIndex(), self._dim_y.currentIndex()

    def set_axes_choice(self, kind: str, i: int = 0, j: int = 1) -> None:
        """Select axes as a user would (emits `axes_changed` when something changes)."""
        if kind == "pca":
            self._mode.setCurrentIndex(0)
            return
        self._dim_x.blockSignals(True)
        self._dim_y.blockSignals(True)
        self._dim_x.setCurrentIndex(i)
        self._dim_y.setCurrentIndex(j)
        self._dim_x.blockSignals(False)
        self._dim_y.blockSignals(False)
        if self._mode.currentIndex() == 1:
            self._emit_axes()
        else:
            self._mode.setCurrentIndex(1)

    # --- marker --------------------------------------------------------------------------
    def set_marker(self, x: float, y: float) -> None:
        """Move the marker without emitting `marker_moved`."""
        self._marker.blockSignals(True)
        self._marker.setPos(float(x), float(y))
        self._marker.blockSignals(False)

    def marker_position(self) -> tuple[float, float]:
        pos = self._marker.pos()
        return float(pos.x()), float(pos.y())

    # --- access for the window and tests -----------------------------------------------------
    @property
    def plot_widget(self) -> pg.PlotWidget:
        return self._plot

    @property
    def marker(self) -> pg.TargetItem:
        return self._marker

    def class_items(self) -> list[ClassPoints]:
        return list(self._items)

    def mode_combo(self) -> QComboBox:
        return self._mode

    def dim_combos(self) -> tuple[QComboBox, QComboBox]:
        return self._dim_x, self._dim_y

    def export_png(self, path: str) -> None:
        """Write the plot (points, legend, marker and axes) as a PNG at twice the screen size."""
        from pyqtgraph.exporters import ImageExporter

        exporter = ImageExporter(self._plot.getPlotItem())
        width = max(int(self._plot.width()), 400) * 2
        exporter.parameters()["width"] = width
        exporter.export(path)

    def tip_for(self, index: int) -> str:
        """Hover text for test point `index`."""
        true = self._names[int(self._labels[index])]
        if self._predicted is None:
            return f"test image #{index}\nlabel: {true}"
        predicted = self._names[int(self._predicted[index])]
        return f"test image #{index}\ntrue label: {true}\npredicted: {predicted}"

    def scene_pos(self, x: float, y: float) -> QPointF:
        """Where a point of the current axes is in the plot's scene."""
        return self._all_points.mapToScene(QPointF(float(x), float(y)))

    def index_at(self, scene_pos: QPointF) -> int | None:
        """The visible test point under a scene position (the one drawn on top), if any."""
        return self._all_points.index_at(self._all_points.mapFromScene(scene_pos))

    def _fill_all_points(self) -> None:
        """Copy the visible classes' points, in class order, into the item that draws them."""
        if self._filling:
            return
        xs, ys, brushes, indices = [], [], [], []
        for scatter, brush in zip(self._items, self._brushes, strict=True):
            if not scatter.isVisible():
                continue
            x, y = scatter.getData()
            xs.append(x)
            ys.append(y)
            brushes.append(np.full(len(x), brush, dtype=object))
            indices.append(scatter.indices)
        if not xs:
            self._all_points.clear()
            return
        self._all_points.set_points(
            np.concatenate(xs), np.concatenate(ys), np.concatenate(brushes), np.concatenate(indices)
        )

    # --- slots ---------------------------------------------------------------------------
    @Slot(object)
    def _on_marker_moved(self, marker: pg.TargetItem) -> None:
        pos = marker.pos()
        self.marker_moved.emit(float(pos.x()), float(pos.y()))

    @Slot(object)
    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if self._plot.scene().clickEvents:
            return  # a button is down: a drag or a pan, no tips (nor a hit test) on every move
        index = self.index_at(scene_pos)
        text = "" if index is None else self.tip_for(index)
        if text == self.last_tip:
            return
        self.last_tip = text
        if text:
            QToolTip.showText(QCursor.pos(), text, self._plot)
        else:
            QToolTip.hideText()

    @Slot(int)
    def _on_mode_changed(self, mode: int) -> None:
        for combo in (self._dim_x, self._dim_y):
            combo.setEnabled(mode == 1)
        self._emit_axes()

    @Slot(int)
    def _on_dim_x_changed(self, i: int) -> None:
        self._keep_apart(self._dim_y, i)
        self._emit_axes()

    @Slot(int)
    def _on_dim_y_changed(self, j: int) -> None:
        self._keep_apart(self._dim_x, j)
        self._emit_axes()

    def _keep_apart(self, other: QComboBox, chosen: int) -> None:
        """The two axes must be different dimensions: move the other combo off `chosen`."""
        if other.currentIndex() == chosen and self._latent_dim > 1:
            other.blockSignals(True)
            other.setCurrentIndex((chosen + 1) % self._latent_dim)
            other.blockSignals(False)

    def _emit_axes(self) -> None:
        if self._latent_dim >= 2 and self._dim_x.currentIndex() >= 0:
            self.axes_changed.emit(*self.axes_choice())
