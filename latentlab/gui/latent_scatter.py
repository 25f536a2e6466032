"""The encoded points as a scatter on the state's two axes, with a draggable marker for the point.

Bound to the explorer state: the points, the axes and the marker follow the state's events; a
click selects a point (`state.select`), dragging the marker moves the point (`state.move_to`),
the axis choice sets the state's projection. The plot items live in `scatter_items`; what the
widget does is split by concern into mixins: `scatter_colouring` (colours, colour bar, histogram,
class filter), `scatter_axes` (the axis choice and the nonlinear maps) and `scatter_pointer`
(hover, clicks, the marker). The widget does no latent maths. A model without an encoder has no points to map: a placeholder takes the
plot's place and says why; unlabelled points are drawn in one colour, without a legend.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.explore.maps import MIN_POINTS
from latentlab.core.explore.state import ExplorerState

from .capabilities import NO_ENCODER
from .map_controls import MapControls
from .point_cloud import rgba_palette
from .scatter_axes import (
    DIMS_TEXT,
    MAP_HINT,
    MAP_KINDS,
    MODE_KINDS,
    PCA_TEXT,
    TSNE_TEXT,
    UMAP_TEXT,
    AxesMixin,
)
from .scatter_colouring import ColouringMixin
from .scatter_colours import (
    GREY,
    ColourControls,
    Histogram,
    level_brushes,
)
from .scatter_filter import ClassFilter
from .scatter_hover import HoverPreview, decoded_mean, point_image, points_images
from .scatter_items import (
    CLASS_COLOURS,
    POINT_ALPHA,
    POINT_SIZE,
    AllPoints,
    ClassPoints,
    marker_path,
    skip_hover_while_dragging,
)
from .scatter_lasso import LassoTool
from .scatter_pointer import PointerMixin, empty_click_handler, toggle_through
from .scatter_thumbnails import ThumbnailTools
from .scatter_training import TrainingTools

LABELLED_HINT = (
    "Click a point to load its reconstruction; drag the ring to move the style along "
    "these axes; click a legend entry to hide a class; Shift-drag (Ctrl+Shift: a box) to select."
)
UNLABELLED_HINT = (
    "Click a point to load its reconstruction; drag the ring to move the style along these "
    "axes; Shift-drag (Ctrl+Shift: a box) to select points."
)
CONTROL_ROW_HEIGHT = 30  # pixels: a combo box, a spin box, a progress bar or a button
LEFT_AXIS_WIDTH = 58  # pixels: labels such as "-0.1234" and the axis title


class LatentScatter(ColouringMixin, AxesMixin, PointerMixin, QWidget):
    """Scatter of test latents with axis choice, class legend, hover tips and the marker."""

    point_clicked = Signal(int)  # index of the point a user clicked (after the state selected it)

    def __init__(self, state: ExplorerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._labels = np.zeros(0, np.uint8)
        self._groups = self._labels  # what the legend's classes group by (true or predicted)
        self._values: np.ndarray | None = None  # continuous colour values, one per point
        self._value_index = np.zeros(0, np.int64)  # each point's colour in `_level_palette`
        self._level_palette = rgba_palette([b.color() for b in level_brushes(POINT_ALPHA)])
        self._xy = np.zeros((0, 2), np.float32)  # every point on the current axes
        self._class_order: np.ndarray | None = None  # point indices sorted by class (stable)
        self._class_for: tuple | None = None  # the (points, groups) that order is of
        self._drawn_index: np.ndarray | None = None  # the order `_all_points` was filled in
        self._drawn_xy: np.ndarray | None = None
        self._predicted: np.ndarray | None = None
        self._names: tuple[str, ...] = tuple(str(i) for i in range(10))
        self._latent_dim = 0
        self._labelled = True
        self.last_tip = ""

        # --- axis choice ---
        self._mode = QComboBox()
        self._mode.addItems([PCA_TEXT, DIMS_TEXT, UMAP_TEXT, TSNE_TEXT])
        self._mode.setToolTip("What the scatter's two axes show")
        self._map_requests: dict[str, object] = {}  # kind -> the MapRequest of the state's map
        self.map_controls = MapControls()
        self.map_controls.setVisible(False)
        self.map_controls.map_ready.connect(self._on_map_ready)
        self.map_controls.map_failed.connect(self._on_map_failed)
        self.map_controls.parameter_changed.connect(self._on_map_parameter)
        self.map_controls.stage_changed.connect(self._on_map_stage)
        self._map_hint: tuple[str, str] | None = None  # (map, view shown) while one computes
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
        controls.addWidget(self.map_controls, 4)  # the status gets the room, not the gap
        controls.addStretch(1)
        self.colours = ColourControls(state)
        self.colours.choice_changed.connect(self._on_colouring)
        colour_row = QHBoxLayout()
        colour_row.setContentsMargins(0, 0, 0, 0)
        colour_row.addWidget(self.colours)
        self.class_filter = ClassFilter()
        self.class_filter.changed.connect(self._on_class_filter)
        colour_row.addWidget(self.class_filter)
        colour_row.addStretch(1)
        self._colour_row = colour_row  # the training points' progress joins it
        self._hint = hint = QLabel(LABELLED_HINT)
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        # Room for the map's two-line hint always: a switch of axes must not resize the plot.
        hint.setMinimumHeight(2 * hint.fontMetrics().lineSpacing() + 4)

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
            axis.enableAutoSIPrefix(False)  # zoomed in: 0.001 on the ticks, not "x0.001" units
        # A fixed width for the tick labels: the plot must not shift under the mouse when longer
        # labels (a zoom, another map) are first painted.
        item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        self._legend = item.addLegend(
            offset=(-8, 8),
            colCount=2,
            brush=pg.mkBrush(255, 255, 255, 215),
            pen=pg.mkPen(180, 180, 180),
            labelTextColor=(30, 30, 30),
            verSpacing=-6,
        )
        self._items: list[ClassPoints] = []
        self._brushes: list[object] = []
        self.colour_bar: pg.ColorBarItem | None = None  # made with the first model's points
        self.histogram = Histogram()
        self.histogram.class_clicked.connect(self._on_bar_clicked)
        self.histogram.band_moved.connect(self._on_value_band)
        self._colour_index = np.zeros(0, np.int64)  # each value's colour, before the band
        self._class_counts: tuple[object, np.ndarray] | None = None  # (groups, their counts)
        self._all_points = AllPoints(size=POINT_SIZE)
        self._all_points.point_clicked.connect(self._on_point_clicked)
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
        self.hover = HoverPreview(item.getViewBox(), self._plot.viewport())
        self._hover_pos: QPointF | None = None  # where the cursor last was (scene)
        self._test_image = lambda index: decoded_mean(state, index)
        self.hover.set_image_source(self._hover_image)
        self.thumbnails = ThumbnailTools(item.getViewBox(), state, self)
        self.thumbnails.set_class_filter(self.shown_mask)
        self.thumbnails.layer.set_frames(self.frame_colours)
        self.lasso = LassoTool(item.getViewBox())
        self.training = TrainingTools(
            item.getViewBox(), state, self._class_colours, self._shown_classes, self
        )
        self.training.layer.covers.append(self._legend)
        self.thumbnails.layer.set_training_count(self._training_in_view)
        self.training.encoded.connect(self.thumbnails.layer.update)
        self.training.action.toggled.connect(self.thumbnails.layer.update)
        # The card is of the point under the cursor: a zoom or pan moves the points under it
        # (the card then shows the point there now, if any); hiding a layer or a class may
        # hide its point (the card goes; the next move finds anew).
        item.getViewBox().sigTransformChanged.connect(self._recheck_hover)  # after a zoom, pan
        self.training.action.toggled.connect(self._hide_hover)
        item.getViewBox().mouseClickEvent = empty_click_handler(self, item.getViewBox())
        skip_hover_while_dragging(self._plot.scene())

        map_page = QWidget()
        map_layout = QVBoxLayout(map_page)
        map_layout.setContentsMargins(0, 0, 0, 0)
        # The rows above the plot keep one height whatever they show (a map's progress bar and
        # Cancel, a new model's entries), so the plot never shifts under the mouse.
        for row in (controls, colour_row):
            holder = QWidget()
            holder.setLayout(row)
            holder.setFixedHeight(max(holder.sizeHint().height(), CONTROL_ROW_HEIGHT))
            map_layout.addWidget(holder)
        self._colour_row.insertWidget(2, self.training.controls)
        map_layout.addWidget(self._plot, 1)
        map_layout.addWidget(self.histogram)
        map_layout.addWidget(hint)
        self._placeholder = QLabel(NO_ENCODER)
        self._placeholder.setObjectName("scatterPlaceholder")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setWordWrap(True)
        self._placeholder.setMargin(24)
        self._pages = QStackedWidget()
        self._pages.addWidget(map_page)
        self._pages.addWidget(self._placeholder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._pages)

        state.events.model.connect(self._on_model)
        state.events.projection.connect(self._on_projection)
        state.events.z.connect(self._show_marker)
        if state.loaded:  # built on a state that already shows a model
            self._on_model()

    # --- state events --------------------------------------------------------------------
    def _on_model(self) -> None:
        state, points = self.state, self.state.points
        self.map_controls.cancel(quiet=True)
        self._map_requests = {}
        self._pages.setCurrentIndex(0 if points is not None else 1)
        if points is None:  # a decoder-only model: nothing to map, the placeholder says why
            self._legend.clear()
            self._all_points.clear()
            return
        predicted = points.predicted if state.model.can_classify else None
        self._prepare(state.latent_dim, points.labels, predicted, state.class_names)
        self._groups, self._values = self._labels, None
        self._show_colour_bar(False)
        self.colours.reset()
        self._on_projection()

    def _on_projection(self, _projection: object = None) -> None:
        state = self.state
        if state.points is None:
            return
        kind = state.projection.kind
        self._mode.blockSignals(True)
        self._mode.setCurrentIndex(MODE_KINDS.index(kind) if kind in MODE_KINDS else 1)
        self._mode.blockSignals(False)
        for combo in (self._dim_x, self._dim_y):
            combo.setEnabled(kind == "dims")
        self._show_dim_combos(kind)
        self._show_map_controls(kind)
        self._hint.setText(MAP_HINT if kind in MAP_KINDS else self._axes_hint())
        self.set_points(state.points_2d(), state.projection.titles)
        self._show_marker()

    def _show_marker(self, _z: object = None) -> None:
        self.set_marker(*self.state.current_point())

    # --- model and axes ------------------------------------------------------------------
    def _ensure_class_items(self, count: int) -> None:
        """One legend item per class (colours cycle past ten classes)."""
        while len(self._items) < count:
            colour = pg.mkColor(CLASS_COLOURS[len(self._items) % len(CLASS_COLOURS)])
            colour.setAlpha(POINT_ALPHA)
            self._brushes.append(pg.mkBrush(colour))
            scatter = ClassPoints(
                pxMode=True, size=POINT_SIZE, pen=None, brush=self._brushes[-1], tip=None
            )
            scatter.visibleChanged.connect(self._fill_all_points)
            self._items.append(scatter)

    def _prepare(
        self,
        latent_dim: int,
        labels: np.ndarray,
        predicted: np.ndarray | None,
        class_names: tuple[str, ...],
    ) -> None:
        """Prepare for a model: the axis choices it allows and the facts shown in hover tips.

        `predicted` is None for a plain model (no classifier, so no prediction to show).
        """
        self._latent_dim = latent_dim
        self._labelled = labelled = bool(class_names)
        # Unlabelled points are one class (whatever their stored labels), in one colour.
        self._labels = np.asarray(labels) if labelled else np.zeros(len(labels), np.uint8)
        self._predicted = None if predicted is None else np.asarray(predicted)
        self._names = tuple(class_names) or ("all points",)
        self.class_filter.set_names(tuple(class_names))
        self._legend.setVisible(labelled)
        self._hint.setText(self._axes_hint())
        self._ensure_class_items(len(self._names))
        plane = latent_dim <= 2
        for widget in (self._axes_label, self._mode, self._dim_x, self._versus, self._dim_y):
            widget.setVisible(not plane)
        self._plane.setVisible(plane)
        for combo in (self._mode, self._dim_x, self._dim_y):
            combo.blockSignals(True)
        self._mode.setCurrentIndex(0)
        for k, kind in enumerate(MODE_KINDS):  # a map needs a few points to have neighbours
            enabled = kind not in MAP_KINDS or len(labels) >= MIN_POINTS
            self._mode.model().item(k).setEnabled(enabled)
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
            scatter.setVisible(c < len(self._names))
            if c < len(self._names):
                self._legend.addItem(scatter, self._names[c])
                sample, label = self._legend.items[-1]
                label.mouseClickEvent = toggle_through(sample)  # the label toggles as the dot
        self._filling = False
        if self._all_points.scene() is None:
            plot.addItem(self._all_points)
        if self._marker.scene() is None:
            plot.addItem(self._marker, ignoreBounds=True)

    def set_points(
        self, points: np.ndarray, axis_labels: tuple[str, str], *, fit: bool = True
    ) -> None:
        """Place the test points (N, 2) on the current axes and fit the view to them."""
        points = np.asarray(points, dtype=np.float32)
        groups = self._groups
        if self._class_for is None or not (
            self._class_for[0] is points and self._class_for[1] is groups
        ):  # new points or new groups (a recolour by value keeps both: nothing to redo)
            self._xy = points
            order = np.argsort(np.asarray(groups), kind="stable")  # class by class
            starts = np.searchsorted(np.asarray(groups)[order], np.arange(len(self._names) + 1))
            for c, scatter in enumerate(self._items[: len(self._names)]):
                sel = order[starts[c] : starts[c + 1]]
                scatter.set_xy(points[sel, 0], points[sel, 1], sel)
            self._class_order = order[: starts[-1]]  # groups past the last name are not drawn
            self._class_for = (points, groups)
        self._fill_all_points()
        plot = self._plot.getPlotItem()
        for side, text in zip(("bottom", "left"), axis_labels, strict=False):
            axis = plot.getAxis(side)
            if axis.labelText != text or not axis.label.isVisible():  # else no redrawn axis
                plot.setLabel(side, text)
        view = plot.getViewBox()
        view.enableAutoRange(enable=False)
        if fit and len(self._all_points.indices):
            view.autoRange(items=[self._all_points], padding=0.04)

    def fit_view(self) -> None:
        """Zoom and pan so every visible point is in view (View > Fit)."""
        view = self._plot.getPlotItem().getViewBox()
        if len(self._all_points.indices):
            view.autoRange(items=[self._all_points], padding=0.04)

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
        return list(self._items[: len(self._names)])

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

    def is_labelled(self) -> bool:
        """Whether the points are coloured by class (with a legend) or all in one colour."""
        return self._labelled

    def has_map(self) -> bool:
        """Whether the scatter shows points, or (a decoder-only model) the placeholder."""
        return self._pages.currentIndex() == 0

    def placeholder_text(self) -> str:
        return self._placeholder.text()

    def scene_pos(self, x: float, y: float) -> QPointF:
        """Where a point of the current axes is in the plot's scene."""
        return self._all_points.mapToScene(QPointF(float(x), float(y)))

    def index_at(self, scene_pos: QPointF) -> int | None:
        """The visible test point under a scene position (the one drawn on top), if any."""
        return self._all_points.index_at(self._all_points.mapFromScene(scene_pos))

    def _fill_all_points(self) -> None:
        """The visible classes' points, in class order, into the layer that draws them: the
        class colours as levels, or the value levels with the greyed-out points first."""
        if self._filling:
            return
        self._hide_hover()  # a class hidden (or recoloured): the card's point may be gone
        self.thumbnails.layer.update()
        self.training.refresh()  # the training points follow the legend's toggles
        names = len(self._names)
        shown = np.array([item.isVisible() for item in self._items[:names]], bool)
        groups = np.asarray(self._groups)
        xy = self._xy
        index = self._class_order  # class by class, as drawn
        if not names or len(groups) != len(xy) or not shown.any() or index is None:
            self._all_points.clear()
            return
        if not shown.all():
            index = index[shown[groups[index]]]
        greyed = self.class_filter.greyed(groups[index])
        if self._values is None:
            palette = np.vstack(
                [rgba_palette([b.color() for b in self._brushes[:names]]), np.array(GREY, np.uint8)]
            )
            levels = groups[index]
            grey = greyed
            self._show_class_counts()
        else:
            palette, levels = self._level_palette, self._value_index[index]
            grey = levels == len(self._level_palette) - 1
            if greyed is not None:
                grey = grey | greyed
        if grey is not None and grey.any():
            index = np.concatenate([index[grey], index[~grey]])  # grey first: underneath
            levels = np.concatenate([np.full(int(grey.sum()), len(palette) - 1), levels[~grey]])
        layer = self._all_points
        layer.set_palette(palette)
        if index is self._drawn_index and layer.data["x"] is self._drawn_xy:
            layer.set_levels(levels)  # the same points in the same order: only new colours
        else:
            layer.set_points(xy[index, 0], xy[index, 1], levels, index)
            self._drawn_index, self._drawn_xy = index, layer.data["x"]

    # --- slots ---------------------------------------------------------------------------
    # --- colouring ---------------------------------------------------------------------------
    def set_images_source(self, test_images: object) -> None:
        """Where the points' images come from (the window's `TestImages`), for the colourings
        that measure them; the choices are listed again when the images arrive."""

        state = self.state  # not self: no reference cycle through the scatter's children

        def images() -> tuple[np.ndarray | None, str]:
            return points_images(state, test_images)

        self.colours.set_images_source(images)
        self._test_image = lambda index: point_image(state, test_images, index)
        self.hover.set_image_source(self._hover_image)
        self.thumbnails.set_images_source(images)
        changed = getattr(test_images, "changed", None)
        if changed is not None:
            changed.connect(self.colours.refresh)
            changed.connect(self.thumbnails.images_arrived)

    def add_view_actions(self, menu: object) -> None:
        """View > Fit points in view (Ctrl+0)."""
        from PySide6.QtGui import QAction, QKeySequence

        action = QAction("&Fit points in view", self)
        action.setShortcut(QKeySequence("Ctrl+0"))
        action.setStatusTip("Zoom and pan the scatter so every shown point is in view")
        action.triggered.connect(self.fit_view)
        menu.addAction(action)
        self.fit_action = action
        menu.addAction(self.thumbnails.action)
        menu.addAction(self.training.action)

    def _axes_hint(self) -> str:
        return LABELLED_HINT if self._labelled else UNLABELLED_HINT
