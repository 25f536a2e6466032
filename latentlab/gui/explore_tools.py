"""Morph, manifold grid and nearest test images: three docks bound to the explorer state.

The docks listen to the state's events (`model`, `changed`) and the test images, and act on the
state: a neighbour click selects that point, a grid click moves the point there. Work for a
hidden dock is skipped, and bursts of changes (a slider drag) are folded into one update by a
short single-shot timer, so dragging stays as fluid as without the docks.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QWidget

from latentlab.core.explore.morph import MorphEnd
from latentlab.core.explore.neighbours import nearest
from latentlab.core.explore.state import ExplorerState

from .capabilities import NO_ENCODER, NO_POINTS_NEIGHBOURS
from .manifold_view import GridState, ManifoldView
from .morph_panel import MorphPanel
from .neighbours_panel import Neighbour, NeighboursPanel
from .shell import Shell

UPDATE_DELAY_MS = 15  # fold a drag's many changes into one update of the docks
PATH_COLOUR = "#d62728"
NEIGHBOURS_TIP = "Show the test images nearest to the current point in latent space"


class ExploreTools(QObject):
    """Builds the three docks and their menu actions through `shell` and keeps them up to date."""

    def __init__(self, shell: Shell) -> None:
        super().__init__(shell.host)
        self.shell = shell
        self.state: ExplorerState = shell.state
        self._neighbour_key: tuple | None = None

        self.morph_panel = MorphPanel()
        self.manifold_view = ManifoldView()
        self.neighbours_panel = NeighboursPanel()
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.morph_dock = self._dock("Morph", "morphDock", self.morph_panel, bottom)
        self.neighbours_dock = self._dock(
            "Nearest test images", "neighboursDock", self.neighbours_panel, bottom
        )
        self.manifold_dock = self._dock("Manifold grid", "manifoldDock", self.manifold_view, right)

        self.morph_action = self._action(
            self.morph_dock,
            "&Morph between two points",
            "Ctrl+M",
            "Show the Morph panel: decode a path from A to B, play it, export a GIF",
        )
        self.manifold_action = self._action(
            self.manifold_dock,
            "Manifold &grid",
            "Ctrl+G",
            "Show the grid of images decoded over the scatter's axes",
        )
        self.neighbours_action = self._action(
            self.neighbours_dock, "&Nearest test images", "Ctrl+N", NEIGHBOURS_TIP
        )
        menu = shell.explore_menu
        menu.addSeparator()
        for act in (self.morph_action, self.manifold_action, self.neighbours_action):
            menu.addAction(act)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(UPDATE_DELAY_MS)
        self._timer.timeout.connect(self.update_now)

        # Drawn on the scatter: the morph's path and the grid overlay.
        plot = shell.scatter.plot_widget.getPlotItem()
        self.path_item = pg.PlotDataItem(
            pen=pg.mkPen(PATH_COLOUR, width=3, style=Qt.PenStyle.DashLine),
            symbol="o",
            symbolSize=7,
            symbolBrush=PATH_COLOUR,
            symbolPen=None,
        )
        self.path_item.setZValue(50)
        self.end_labels = {
            which: pg.TextItem(
                which,
                color="w",
                fill=pg.mkBrush(PATH_COLOUR),
                border=pg.mkPen("w"),
                anchor=(0.5, 1.3),
            )
            for which in "AB"
        }
        for item in self.end_labels.values():
            font = item.textItem.font()
            font.setBold(True)
            item.setFont(font)
        plot.addItem(self.path_item, ignoreBounds=True)
        for item in self.end_labels.values():
            item.setZValue(51)
            plot.addItem(item, ignoreBounds=True)
        plot.addItem(self.manifold_view.overlay_item, ignoreBounds=True)
        self._show_path(False)

        self.morph_panel.set_current_provider(self.current_end)
        self.morph_panel.frame_shown.connect(self._on_morph_frame)
        self.morph_panel.playing_changed.connect(self._on_playing_changed)
        self.morph_panel.morph_changed.connect(self._update_path)
        self.manifold_view.settings_changed.connect(self.schedule)
        self.manifold_view.overlay_check.toggled.connect(self.schedule)
        self.manifold_view.point_chosen.connect(self.state.move_to)
        self.neighbours_panel.settings_changed.connect(self._on_neighbour_settings)
        self.neighbours_panel.index_clicked.connect(self.state.select)
        self.state.events.model.connect(self._on_model_loaded)
        self.state.events.changed.connect(self._on_view_changed)
        shell.test_images.changed.connect(self._on_test_data_changed)
        for dock in (self.morph_dock, self.manifold_dock, self.neighbours_dock):
            dock.visibilityChanged.connect(self.schedule)
        self.morph_dock.visibilityChanged.connect(self._update_path)
        self.morph_dock.visibilityChanged.connect(self._on_morph_dock_visible)

    # --- construction --------------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        return self.shell.add_dock(title, name, widget, area)

    def _action(self, dock: QDockWidget, text: str, shortcut: str, tip: str) -> QAction:
        act = dock.toggleViewAction()
        act.setText(text)
        act.setShortcut(QKeySequence(shortcut))
        act.setToolTip(tip)
        act.setStatusTip(tip)
        return act

    # --- state ---------------------------------------------------------------------------------
    @property
    def explorer(self) -> ExplorerState | None:
        """The state, once a model is open."""
        return self.state if self.state.loaded else None

    def current_end(self) -> MorphEnd | None:
        """The state's current point as a morph end, named after its point if it is one."""
        e = self.explorer
        if e is None:
            return None
        digit = e.class_index if e.conditional else None
        i = e.selected
        if i is not None:
            label = f"test #{i}"
        elif e.points is None:  # no scatter to place it on: say where the sliders are
            values = ", ".join(f"{v:.2f}" for v in e.slider_values()[:3])
            label = f"sliders ({values}{', …' if e.latent_dim > 3 else ''})"
        else:
            x, y = e.current_point()
            label = f"point ({x:.2f}, {y:.2f})"
        if digit is not None and digit < len(e.class_names):
            label += f" as {e.class_names[digit]}"
        return MorphEnd(e.z, digit, label)

    # --- updates -------------------------------------------------------------------------------
    @Slot()
    def schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def update_now(self) -> None:
        """Bring the visible docks (and the overlay) up to date with the explorer."""
        self._timer.stop()
        e = self.explorer
        if e is None:
            return
        view = self.manifold_view
        if self.manifold_dock.isVisible() or view.overlay_check.isChecked():
            view.update_grid(
                GridState(e.model, e.projection, e.z, e.condition()), e.projection.titles
            )
        if self.neighbours_dock.isVisible() and e.points is not None:
            self._update_neighbours(e)

    def _update_neighbours(self, e: ExplorerState) -> None:
        panel = self.neighbours_panel
        same = panel.same_class_only()
        key = (e.z.tobytes(), e.class_index, panel.k(), same)
        if key == self._neighbour_key:
            return
        self._neighbour_key = key
        points = e.points
        only = (points.predicted == e.class_index) if same else None
        indices, distances = nearest(points.mu, e.z, panel.k(), only)
        reasons: set[str] = set()
        shown: list[Neighbour] = []
        names = e.class_names
        for i, d in zip(indices.tolist(), distances.tolist(), strict=True):
            image, reason = self.shell.test_images.image(i)
            what = "test image"
            if image is None:
                image, what = e.reconstruction(i), "reconstruction"
                reasons.add(reason)
            label = int(points.labels[i])
            labelled = f", label {names[label]}" if label < len(names) else ""
            shown.append(
                Neighbour(
                    i,
                    image,
                    f"#{i} · {d:.2f}",
                    f"{what} #{i}{labelled}\ndistance {d:.3f} in latent space\nclick to jump there",
                )
            )
        named = same and e.class_index < len(names)
        scope = f" read as {names[e.class_index]}" if named else ""
        if reasons:
            note = (
                f"Showing the model's reconstructions, not the test images: "
                f"{'; '.join(sorted(reasons))}."
            )
        else:
            note = f"The {len(shown)} test images{scope} nearest to the current point (latent distance)."
        panel.show_neighbours(shown, note)

    # --- slots ---------------------------------------------------------------------------------
    def _on_model_loaded(self) -> None:
        self._neighbour_key = None
        self.morph_panel.set_model(self.state.model)
        self.manifold_view.clear()
        self.neighbours_panel.set_conditional(self.state.conditional)
        self.neighbours_panel.clear()
        has_points = self.state.points is not None
        self.manifold_view.set_overlay_reason("" if has_points else NO_ENCODER)
        self.neighbours_action.setEnabled(has_points)
        tip = NEIGHBOURS_TIP if has_points else NO_POINTS_NEIGHBOURS
        self.neighbours_action.setToolTip(tip)
        self.neighbours_action.setStatusTip(tip)
        if not has_points:
            self.neighbours_dock.hide()
            self.neighbours_panel.clear(NO_POINTS_NEIGHBOURS)
        self.morph_panel.set_scatter(has_points)
        self.schedule()

    @Slot()
    def _on_view_changed(self) -> None:
        if self.morph_panel.is_playing():
            self.morph_panel.stop()  # the user changed something: show it, not the morph
        self._update_path()
        self.schedule()

    @Slot()
    def _on_test_data_changed(self) -> None:
        self._neighbour_key = None
        self.schedule()

    @Slot()
    def _on_neighbour_settings(self) -> None:
        self._neighbour_key = None
        self.schedule()

    @Slot(int)
    def _on_morph_frame(self, index: int) -> None:
        e, m = self.explorer, self.morph_panel.current_morph()
        if e is None or m is None:
            return
        a, b = self.morph_panel.end("A"), self.morph_panel.end("B")
        caption = f"{a.label} → {b.label}" if a and b else ""
        if m.class_probs is not None:
            probs = m.class_probs[index]
            top = np.argsort(probs)[::-1][:2]
            names = e.class_names
            mix = " + ".join(
                f"{probs[c]:.0%} {names[c] if c < len(names) else c}" for c in top if probs[c] > 0
            )
            caption += f"\nclass input: {mix}"
        self.shell.image_pane.show_preview(
            m.frames[index], f"Morph: frame {index + 1} of {len(m)}", caption
        )
        self.shell.scatter.set_marker(*e.projection.project(m.z[index]))

    @Slot(bool)
    def _on_morph_dock_visible(self, visible: bool) -> None:
        if not visible:
            self.morph_panel.stop()  # no animation behind a closed panel

    @Slot(bool)
    def _on_playing_changed(self, playing: bool) -> None:
        if not playing:
            self.shell.image_pane.refresh()  # back to the state's own point
            self.shell.scatter.set_marker(*self.state.current_point())

    @Slot()
    def _update_path(self) -> None:
        e, m = self.explorer, self.morph_panel.current_morph()
        if e is None or m is None or not self.morph_dock.isVisible():
            self._show_path(False)
            return
        points = e.projection.project(m.z)
        self.path_item.setData(points[:, 0], points[:, 1])
        self.end_labels["A"].setPos(*points[0])
        self.end_labels["B"].setPos(*points[-1])
        self._show_path(True)

    def _show_path(self, visible: bool) -> None:
        self.path_item.setVisible(visible)
        for item in self.end_labels.values():
            item.setVisible(visible)
