"""Counterfactuals and the decision map, bound to the explorer state.

Explore > Counterfactual and decision map opens a dock: choose a class, press Find, and a
worker searches for the smallest move from the current point that the model's classifier reads
as that class (core `find_counterfactual`); the dock shows the strip from here to there and
the scatter a dashed path to it; Go there moves the explorer. The decision map paints the
scatter's background by the classifier's reading over the visible view, recomputed in a worker
(newest request wins) a moment after the view, the point or the class changes.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Slot
from PySide6.QtGui import QKeySequence

from latentlab.core.explore.counterfactual import (
    CLASS_INPUT_MOVE,
    Counterfactual,
    NoCounterfactual,
    find_counterfactual,
)
from latentlab.core.explore.decision_map import DecisionMap, decision_map, decision_rgba
from latentlab.core.explore.latent_model import decode_batch
from latentlab.core.explore.state import ExplorerState
from latentlab.core.jobs import CancelToken
from latentlab.core.text import first_line

from .counterfactual_panel import CounterfactualPanel
from .scatter_items import CLASS_COLOURS
from .shell import Shell
from .workers import LatestJob

STRIP_STEPS = 8
MAP_DELAY_MS = 120  # a pan, zoom or drag settles this long before the map is read again
PATH_COLOUR = "#222222"
MOVED = " The point or class has changed since: press Find to search from here."
TIP = "Find the smallest move that changes the classifier's reading; colour the map by it"
NO_CLASSIFIER = "This model has no classifier, so there is no decision to change."
NO_POINTS = "This model has no encoder, so there are no points to aim at."


def counterfactual_reason(state: ExplorerState) -> str:
    """Why the dock is off for the model shown ("" when it can search)."""
    model = state.model
    if model is None:
        return "No model loaded."
    if not model.can_classify:
        return NO_CLASSIFIER
    if state.points is None and not model.conditional:
        return NO_POINTS
    return ""


def describe(found: Counterfactual, names: tuple[str, ...]) -> str:
    """The result in words: from what to what, how far, by which route."""
    was, now = names[found.start_class], names[found.target]
    if found.move == CLASS_INPUT_MOVE:
        how = f"with {found.method}"
    else:
        how = f"after moving {found.distance:.2f} in z, {found.method}"
    return f"Read as {was} here; as {now} (p = {found.probability:.2f}) {how}."


class CounterfactualTools(QObject):
    """Builds the Counterfactual dock through `shell` and runs its two kinds of background work."""

    def __init__(self, shell: Shell) -> None:
        super().__init__(shell.host)
        self.shell = shell
        self.state: ExplorerState = shell.state
        self.found: Counterfactual | None = None
        self.decision: DecisionMap | None = None
        self._found_at: tuple[bytes, int] | None = None
        self._last_class: int | None = None

        self.panel = CounterfactualPanel()
        self.dock = shell.add_dock(
            "Counterfactual",
            "counterfactualDock",
            self.panel,
            Qt.DockWidgetArea.RightDockWidgetArea,
        )
        self.action = self.dock.toggleViewAction()
        self.action.setText("Counter&factual and decision map")
        self.action.setShortcut(QKeySequence("Ctrl+Shift+F"))
        self.action.setToolTip(TIP)
        self.action.setStatusTip(TIP)
        shell.explore_menu.addAction(self.action)

        plot = shell.scatter.plot_widget.getPlotItem()
        self.map_item = pg.ImageItem(axisOrder="row-major")
        self.map_item.setZValue(-20)  # behind every point
        self.map_item.hide()
        plot.addItem(self.map_item, ignoreBounds=True)
        self.path_item = pg.PlotDataItem(
            pen=pg.mkPen(PATH_COLOUR, width=2, style=Qt.PenStyle.DotLine),
            symbol="x",
            symbolSize=10,
            symbolPen=pg.mkPen(PATH_COLOUR, width=2),
        )
        self.path_item.setZValue(45)
        self.path_item.hide()
        plot.addItem(self.path_item, ignoreBounds=True)

        self.search = LatestJob("latentlab-counterfactual", self)
        self.search.returned.connect(self._on_found)
        self.search.errored.connect(self._on_search_failed)
        self.mapping = LatestJob("latentlab-decision-map", self)
        self.mapping.returned.connect(self._on_map)
        self.mapping.errored.connect(self._on_map_failed)
        self._map_timer = QTimer(self)
        self._map_timer.setSingleShot(True)
        self._map_timer.setInterval(MAP_DELAY_MS)
        self._map_timer.timeout.connect(self.refresh_map)

        self.panel.find_requested.connect(self.find)
        self.panel.go_requested.connect(self.go_there)
        self.panel.map_toggled.connect(self._on_map_toggled)
        self.dock.visibilityChanged.connect(self._on_map_toggled)
        plot.getViewBox().sigRangeChanged.connect(self._schedule_map)
        self.state.events.model.connect(self._on_model)
        self.state.events.changed.connect(self._on_point_changed)
        self.state.events.projection.connect(self._on_projection)

    # --- the search ---------------------------------------------------------------------------
    @Slot()
    def find(self) -> None:
        """Search from the current point for the panel's target class, in the background."""
        state = self.state
        if counterfactual_reason(state):
            return
        model, points, z = state.model, state.points, state.z
        condition, class_index = state.condition(), state.class_index
        target, move, limit = self.panel.target, self.panel.move, state.box_limit()

        def job(token: CancelToken) -> tuple[Counterfactual, np.ndarray]:
            found = find_counterfactual(
                model,
                points,
                z,
                condition,
                target,
                move=move,
                class_index=class_index,
                limit=limit,
                token=token,
            )
            path_z, path_c = found.path(STRIP_STEPS)
            if path_c is None:
                strip = decode_batch(model, path_z, condition)
            else:
                strip = model.decode(path_z, path_c)
            return found, strip

        self._found_at = (z.tobytes(), class_index)
        self.panel.show_busy()
        self.search.submit(job)

    @Slot(object, object)
    def _on_found(self, _context: object, result: tuple[Counterfactual, np.ndarray]) -> None:
        found, strip = result
        self.found = found
        names = self.state.class_names
        self.panel.show_found(describe(found, names), strip, found.move != CLASS_INPUT_MOVE)
        self._show_path()

    @Slot(object, object)
    def _on_search_failed(self, _context: object, exc: BaseException) -> None:
        self.found = None  # `_found_at` stays: the refusal was for that point and class
        self._show_path()
        words = str(exc) if isinstance(exc, NoCounterfactual) else f"The search failed: {exc}"
        self.panel.show_failed(first_line(words[:1].upper() + words[1:]) + ".")

    @Slot()
    def go_there(self) -> None:
        found = self.found
        if found is not None and found.move != CLASS_INPUT_MOVE and self.state.loaded:
            self.state.set_z(found.end)

    def _show_path(self) -> None:
        found, state = self.found, self.state
        if found is None or found.move == CLASS_INPUT_MOVE or not state.loaded:
            self.path_item.hide()
            return
        ends = state.projection.project(np.stack([found.start, found.end]))
        self.path_item.setData(ends[:, 0], ends[:, 1])
        self.path_item.show()

    # --- the decision map ---------------------------------------------------------------------
    @property
    def map_wanted(self) -> bool:
        return self.panel.map_check.isChecked() and self.dock.isVisible() and self.state.loaded

    @Slot()
    def refresh_map(self) -> None:
        """Read the visible view again (in the background), if the map is on."""
        if not self.map_wanted or counterfactual_reason(self.state):
            return
        state = self.state
        (x0, x1), (y0, y1) = self.shell.scatter.plot_widget.getPlotItem().getViewBox().viewRange()
        model, axes, z, condition = state.model, state.projection, state.z, state.condition()
        self.panel.map_note.setText("Reading the view…")

        def job(token: CancelToken) -> DecisionMap:
            return decision_map(model, axes, z, condition, (x0, x1), (y0, y1), token=token)

        self.mapping.submit(job)

    @Slot(object, object)
    def _on_map(self, _context: object, decision: DecisionMap) -> None:
        if not self.map_wanted:
            return
        self.decision = decision
        colours = np.array([pg.mkColor(c).getRgb()[:3] for c in CLASS_COLOURS], np.uint8)
        k = max(len(self.state.class_names), 1)
        colours = colours[np.arange(k) % len(colours)]
        rgba = decision_rgba(decision, colours)[::-1]  # row 0 at the bottom, as y grows up
        (x0, x1), (y0, y1) = decision.x_range, decision.y_range
        self.map_item.setImage(np.ascontiguousarray(rgba), levels=(0, 255))
        self.map_item.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.map_item.show()
        cells = decision.shape[0] * decision.shape[1]
        note = (
            f"Background: the classifier's reading of {cells} images decoded over this view "
            "(faded where it is unsure)."
        )
        read = np.unique(decision.classes)
        if len(read) == 1:
            name = self.state.class_names[int(read[0])]
            note += f" All of it reads as {name}"
            note += (
                ": this model keeps the class in its class input, not in z."
                if self.state.conditional
                else "."
            )
        self.panel.map_note.setText(note)

    @Slot(object, object)
    def _on_map_failed(self, _context: object, exc: BaseException) -> None:
        self.map_item.hide()
        self.panel.map_note.setText(f"The decision map failed: {first_line(str(exc))}")

    @Slot()
    def _on_map_toggled(self, _on: bool = False) -> None:
        if self.map_wanted:
            self.refresh_map()
        else:
            self._map_timer.stop()
            self.map_item.hide()
            self.decision = None
            self.panel.map_note.setText("")

    def _schedule_map(self, *_args: object) -> None:
        if self.map_wanted:
            self._map_timer.start()

    # --- the state ----------------------------------------------------------------------------
    def _on_model(self, _model: object = None) -> None:
        state = self.state
        self.found = None
        self._show_path()
        self._found_at = None
        self._last_class = state.class_index if state.loaded else None
        if state.loaded:
            self.panel.set_classes(state.class_names, state.conditional)
            if state.conditional:  # its z holds style: only the class input changes the reading
                self.panel.move_combo.setCurrentIndex(1)
            if not counterfactual_reason(state):
                self._suggest_target()
        why = counterfactual_reason(state)
        self.panel.set_unavailable(why)
        self.action.setToolTip(why or TIP)
        self.action.setStatusTip(why or TIP)
        self._on_map_toggled()

    def _on_point_changed(self) -> None:
        """A result (or a refusal) found from another point or class is marked as stale."""
        found, state = self.found, self.state
        here = (state.z.tobytes(), state.class_index)
        went_there = (
            found is not None
            and found.move != CLASS_INPUT_MOVE
            and state.class_index == self._found_at[1]
            and np.array_equal(state.z, found.end)
        )
        if self._found_at is not None and here != self._found_at and not went_there:
            text = self.panel.result.text()
            if not text.endswith(MOVED):
                self.panel.result.setText(text + MOVED)
        if state.class_index != self._last_class:
            self._last_class = state.class_index
            panel = self.panel  # no decode here: a class button must decode once, not twice
            if state.conditional and panel.target == state.class_index:
                panel.target_combo.setCurrentIndex((state.class_index + 1) % len(state.class_names))
        self._schedule_map()

    def _suggest_target(self) -> None:
        """Aim at the class the classifier finds next likeliest here (never the one it reads);
        one decode, so only when a model opens."""
        state, panel = self.state, self.panel
        if not state.loaded or not state.model.can_classify:
            return
        probs = np.asarray(state.model.classify(state.decode()[None]), np.float32)[0]
        order = np.argsort(-probs)
        if panel.target in (int(order[0]), -1) and len(order) > 1:
            panel.target_combo.setCurrentIndex(int(order[1]))

    def _on_projection(self, _projection: object = None) -> None:
        self._show_path()
        self._schedule_map()

    def shutdown(self) -> None:
        """Stop a running search or map and wait for them (window closing)."""
        self._map_timer.stop()
        self.search.shutdown()
        self.mapping.shutdown()
