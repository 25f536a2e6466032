"""Select and compare: the lasso's points in a dock, kept as A and B, and the direction A -> B.

Explore > Selection (Ctrl+Shift+L) shows what the last lasso caught (Shift-drag on the scatter):
how many points, of which classes, their mean image and a strip of members; the selected
points are ringed on the scatter, on whichever axes or map it shows. Two selections kept as A
and B give the latent direction between their means, which goes to the Directions panel
(`direction_sink`) as a named direction.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from latentlab.core.explore.selection import (
    Selection,
    direction_between,
    inside_polygon,
    save_indices,
)
from latentlab.core.explore.state import ExplorerState
from latentlab.core.text import first_line

from .scatter_hover import point_image
from .selection_panel import SelectionPanel
from .shell import Shell

MEAN_OF_AT_MOST = 2000  # images averaged for the mean image (an even sample of bigger ones)
STRIP_MEMBERS = 12
RING_COLOUR = (0, 0, 0, 200)
MAX_COLOURED_RINGS = 20_000  # beyond, one brush for all (per-point brushes cost)
OUTLINE_COLOUR = "#333333"
KEPT_COLOURS = ("#1f4e9c", "#b03a2e")  # A's and B's loops (dark blue, dark red)
TIP = "Show the Selection panel: Shift-drag on the scatter to select points and compare them"

DirectionSink = Callable[[str, np.ndarray, float, str], None]  # name, unit, scale, source


class SelectionTools(QObject):
    """Builds the Selection dock through `shell`; listens to the scatter's lasso."""

    def __init__(self, shell: Shell) -> None:
        super().__init__(shell.host)
        self.shell = shell
        self.state: ExplorerState = shell.state
        self.selection: Selection | None = None
        self.kept: dict[str, Selection] = {}
        self.direction_sink: DirectionSink | None = None
        self.last_direction: tuple[str, np.ndarray, float] | None = None

        self.panel = SelectionPanel()
        self.dock = shell.add_dock(
            "Selection", "selectionDock", self.panel, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.action = self.dock.toggleViewAction()
        self.action.setText("&Selection")
        self.action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.action.setToolTip(TIP)
        self.action.setStatusTip(TIP)
        shell.explore_menu.addAction(self.action)

        self.rings = pg.ScatterPlotItem(
            size=7, symbol="o", pen=pg.mkPen(RING_COLOUR, width=1), brush=None, pxMode=True
        )
        self.rings.setZValue(40)
        self.outline = pg.PlotCurveItem(
            pen=pg.mkPen(OUTLINE_COLOUR, width=1.5, style=Qt.PenStyle.DashLine)
        )
        self.outline.setZValue(41)
        plot = shell.scatter.plot_widget.getPlotItem()
        plot.addItem(self.rings, ignoreBounds=True)
        plot.addItem(self.outline, ignoreBounds=True)
        self._loop: tuple[np.ndarray, object] | None = None  # the last lasso and its axes
        self.kept_loops: dict[str, tuple[np.ndarray, object]] = {}
        self.kept_outlines: dict[str, tuple[pg.PlotCurveItem, pg.TextItem]] = {}
        for which, colour in (("A", KEPT_COLOURS[0]), ("B", KEPT_COLOURS[1])):
            curve = pg.PlotCurveItem(pen=pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DotLine))
            label = pg.TextItem(which, color=colour, anchor=(0.5, 1.0))
            curve.setZValue(41)
            label.setZValue(41)
            plot.addItem(curve, ignoreBounds=True)
            plot.addItem(label, ignoreBounds=True)
            label.hide()
            self.kept_outlines[which] = (curve, label)

        shell.scatter.lasso.drawn.connect(self.select_inside)
        self.panel.keep_requested.connect(self.keep)
        self.panel.direction_requested.connect(self.send_direction)
        self.panel.export_requested.connect(self.export)
        self.panel.clear_requested.connect(self.clear)
        self.state.events.model.connect(self._on_model)
        self.state.events.projection.connect(self._place_rings)

    # --- selecting ----------------------------------------------------------------------------
    @Slot(object)
    def select_inside(self, polygon: np.ndarray) -> None:
        """The shown points inside the lasso's loop become the selection."""
        state = self.state
        if not state.loaded or state.points is None:
            return
        inside = inside_polygon(state.points_2d(), polygon) & self.shell.scatter.shown_mask()
        self.set_selection(Selection(np.flatnonzero(inside), "lasso"))
        loop = np.vstack([polygon, polygon[:1]])
        self.outline.setData(loop[:, 0], loop[:, 1])  # until the axes change
        self._loop = (np.asarray(polygon, np.float32), state.projection)
        if not self.dock.isVisible():
            self.dock.show()

    def set_selection(self, selection: Selection | None) -> None:
        self.selection = selection
        self._place_rings()
        if selection is None or len(selection) == 0:
            self.panel.show_empty(
                "The loop caught no points." if selection is not None else self.panel.summary.text()
            )
            return
        self.panel.show_selection(self._summary(selection), *self._pictures(selection))

    def _summary(self, selection: Selection) -> str:
        state = self.state
        n = len(selection)
        words = f"{n:,} point{'s' if n != 1 else ''} selected"
        names = state.class_names
        if names and state.points is not None:
            labels = state.points.predicted if state.model.can_classify else state.points.labels
            counts = selection.class_counts(labels, len(names))
            order = np.argsort(-counts, kind="stable")
            parts = [f"{names[k]}: {counts[k]}" for k in order[:5] if counts[k]]
            rest = int(counts[order[5:]].sum()) if len(order) > 5 else 0
            if rest:
                parts.append(f"others: {rest}")
            read = "read as" if state.model.can_classify else "labelled"
            words += f"\n{read} " + " · ".join(parts)
        return words

    def _pictures(self, selection: Selection) -> tuple[np.ndarray | None, np.ndarray]:
        state, images = self.state, self.shell.test_images
        idx = selection.indices
        if len(idx) > MEAN_OF_AT_MOST:
            idx = idx[np.linspace(0, len(idx) - 1, MEAN_OF_AT_MOST).astype(int)]
        sample = idx
        pictures = [
            p for p in (point_image(state, images, int(i)) for i in sample) if p is not None
        ]
        if not pictures:
            return None, np.zeros((0, 1, 1, 1), np.float32)
        stack = np.stack(pictures)
        shown = stack[np.linspace(0, len(stack) - 1, min(STRIP_MEMBERS, len(stack))).astype(int)]
        return stack.mean(axis=0), shown

    def _place_rings(self, _projection: object = None) -> None:
        selection, state = self.selection, self.state
        if _projection is not None or selection is None:
            self.outline.setData([], [])  # the loop was drawn on other axes
            self._draw_kept_loops()
        if selection is None or len(selection) == 0 or not state.loaded or state.points is None:
            self.rings.clear()
            return
        xy = state.points_2d()[selection.indices]
        frames = self.shell.scatter.frame_colours()
        if frames is None or len(selection) > MAX_COLOURED_RINGS:
            self.rings.setData(xy[:, 0], xy[:, 1], brush=pg.mkBrush(255, 255, 255, 150))
            return
        groups, colours = frames  # each selected point keeps its class colour, ringed in black
        brushes = [pg.mkBrush(colour) for colour in colours]
        picked = [brushes[int(g) % len(brushes)] for g in groups[selection.indices]]
        self.rings.setData(xy[:, 0], xy[:, 1], brush=picked)

    # --- comparing ----------------------------------------------------------------------------
    @Slot(str)
    def keep(self, which: str) -> None:
        if self.selection is None or len(self.selection) == 0:
            return
        self.kept[which] = Selection(self.selection.indices, which)
        if self._loop is not None:
            self.kept_loops[which] = self._loop
        else:
            self.kept_loops.pop(which, None)
        self._show_kept()
        self._draw_kept_loops()

    def _draw_kept_loops(self) -> None:
        """A's and B's loops, labelled, while the scatter shows the axes they were drawn on."""
        state = self.state
        for which, (curve, label) in self.kept_outlines.items():
            kept = self.kept_loops.get(which)
            if kept is None or not state.loaded or kept[1] is not state.projection:
                curve.setData([], [])
                label.hide()
                continue
            polygon = kept[0]
            loop = np.vstack([polygon, polygon[:1]])
            curve.setData(loop[:, 0], loop[:, 1])
            top = polygon[np.argmax(polygon[:, 1])]
            label.setPos(float(top[0]), float(top[1]))
            label.show()

    def _show_kept(self) -> None:
        a, b = self.kept.get("A"), self.kept.get("B")
        self.panel.show_kept(
            "none" if a is None else f"{len(a):,} points",
            "none" if b is None else f"{len(b):,} points",
            a is not None and b is not None,
        )

    @Slot()
    def send_direction(self) -> None:
        """The direction from A's mean to B's, to the Directions panel."""
        a, b, points = self.kept.get("A"), self.kept.get("B"), self.state.points
        if a is None or b is None or points is None:
            return
        try:
            unit, distance = direction_between(points, a, b)
        except ValueError as exc:
            self.panel.direction_note.setText(f"No direction: {exc}.")
            return
        name = "selection A → B"
        self.last_direction = (name, unit, distance)
        source = f"{len(a)} points → {len(b)} points"
        if self.direction_sink is not None:
            self.direction_sink(name, unit, distance, source)
            where = "added to the Directions panel"
        else:
            where = "open the Directions panel to use it"
        self.panel.direction_note.setText(
            f"Direction A → B: the means are {distance:.2f} apart in z; {where}."
        )

    @Slot()
    def export(self) -> None:
        selection = self.selection
        if selection is None or len(selection) == 0:
            return
        path, _ = QFileDialog.getSaveFileName(
            self.shell.dialog_parent, "Export selected indices", "selection.txt", "Text (*.txt)"
        )
        if not path:
            return
        try:
            save_indices(selection, Path(path))
        except OSError as exc:
            QMessageBox.warning(
                self.shell.dialog_parent,
                "Export failed",
                f"{Path(path).name}: the indices could not be saved ({first_line(str(exc))}).",
            )
            return
        self.panel.direction_note.setText(f"Saved {len(selection):,} indices to {Path(path).name}.")

    @Slot()
    def clear(self) -> None:
        self.set_selection(None)
        self.panel.show_empty()

    def _on_model(self, _model: object = None) -> None:
        self.kept = {}
        self.kept_loops = {}
        self._loop = None
        self._draw_kept_loops()
        self.last_direction = None
        self.selection = None
        self.rings.clear()
        self.panel.show_empty()
        self._show_kept()
        self.panel.direction_note.setText("")
        has_points = self.state.points is not None
        self.action.setEnabled(has_points)
        if not has_points:
            self.dock.hide()
