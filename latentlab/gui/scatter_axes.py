"""The scatter's axis choice, bound to its widgets: principal components, two latent
dimensions, or a nonlinear map (UMAP, t-SNE) computed in the background and cached by the
state; the state's projection follows the choice.

A mixin of `LatentScatter` (one concern per module): it reads the scatter's combos and map
controls and sets the state's projection; the scatter follows the state's events.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QComboBox

from latentlab.core.explore.maps import LatentMap, as_projection

PCA_TEXT = "Principal components (PC1, PC2)"
DIMS_TEXT = "Two latent dimensions"
UMAP_TEXT = "UMAP (nonlinear map)"
TSNE_TEXT = "t-SNE (nonlinear map)"
MODE_KINDS = ("pca", "dims", "umap", "tsne")  # the axis choice's entries, in order
MAP_KINDS = ("umap", "tsne")
VIEW_NAMES = {"pca": "principal components", "dims": "latent dimensions", "umap": "UMAP"}
VIEW_NAMES["tsne"] = "t-SNE"
MAP_HINT = (
    "A nonlinear map: near points are near in latent space, distances far apart mean little. "
    "Drag the ring or click empty space: the point moves through the map's inverse "
    "(a blend of the nearest points' latents)."
)


class AxesMixin:
    """What `LatentScatter` does when its axis choice changes, and its inverse for clicks."""

    def axes_choice(self) -> tuple[str, int, int]:
        """("pca", 0, 1), ("dims", i, j), ("umap", 0, 1) or ("tsne", 0, 1) as chosen."""
        kind = MODE_KINDS[self._mode.currentIndex()]
        if self._latent_dim <= 2 and kind == "pca":
            kind = "dims"
        if kind != "dims":
            return kind, 0, 1
        return "dims", self._dim_x.currentIndex(), self._dim_y.currentIndex()

    def set_axes_choice(self, kind: str, i: int = 0, j: int = 1) -> None:
        """Select axes as a user would (the state's projection follows; a map is computed in
        the background first, unless the state has it)."""
        if kind != "dims":
            self._mode.setCurrentIndex(MODE_KINDS.index(kind))
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

    @Slot(int)
    def _on_mode_changed(self, mode: int) -> None:
        for combo in (self._dim_x, self._dim_y):
            combo.setEnabled(mode == 1)
        kind = MODE_KINDS[mode]
        self._show_dim_combos(kind)
        self._show_map_controls(kind)
        if kind in MAP_KINDS:
            self._show_map(kind)
        else:
            self.map_controls.cancel(quiet=True)
            self._emit_axes()

    def _show_map_controls(self, kind: str) -> None:
        is_map = kind in MAP_KINDS
        if is_map:
            self.map_controls.set_method(kind)
        self.map_controls.setVisible(is_map)

    def _show_map(self, kind: str) -> None:
        """Show the state's map of this kind, or compute it (in the background) first."""
        state = self.state
        if not state.loaded or state.points is None:
            return
        request = self.map_controls.request(kind)
        if state.map_projection(kind) is not None and self._map_requests.get(kind) == request:
            self.map_controls.cancel(quiet=True)
            state.set_projection(kind)
            return
        self.map_controls.compute(state.points.mu, request)
        shown = VIEW_NAMES.get(state.projection.kind, "current")
        self._map_hint = (request.title, shown)
        self._show_map_stage("starting")

    def _show_dim_combos(self, kind: str) -> None:
        """The two dimension choices only where they choose the axes (Two latent dimensions):
        shown but disabled, they crowded the map's controls out of the row."""
        shown = kind == "dims" and self._latent_dim > 2
        for widget in (self._dim_x, self._versus, self._dim_y):
            widget.setVisible(shown)

    @Slot(object)
    def _on_map_ready(self, latent_map: LatentMap) -> None:
        state = self.state
        points = state.points
        if points is None or len(points) != len(latent_map.coords):
            return
        kind = latent_map.request.method
        state.add_map(as_projection(latent_map, points.mu))
        self._map_requests[kind] = latent_map.request
        if MODE_KINDS[self._mode.currentIndex()] == kind:
            state.set_projection(kind)

    @Slot(str)
    def _on_map_stage(self, stage: str) -> None:
        """The line under the plot says what the map is doing (the row has little room)."""
        if self.map_controls.is_running and self._map_hint is not None:
            self._show_map_stage(stage)

    def _show_map_stage(self, stage: str) -> None:
        title, shown = self._map_hint
        self._hint.setText(
            f"Computing the {title} map in the background ({stage}); the scatter shows the "
            f"{shown} view until it is ready (Cancel stops it)."
        )

    @Slot(str)
    def _on_map_failed(self, _why: str) -> None:
        # A parameter changed and then cancelled goes back to the one of the map shown.
        for kind, request in self._map_requests.items():
            self.map_controls.set_parameter(kind, request.parameter)
        if self.state.loaded and self.state.points is not None:
            self._on_projection()  # the axis choice goes back to what is shown

    @Slot(str, int)
    def _on_map_parameter(self, kind: str, _value: int) -> None:
        if MODE_KINDS[self._mode.currentIndex()] == kind:
            self._show_map(kind)

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
        if self._latent_dim >= 2 and self._dim_x.currentIndex() >= 0 and self.state.loaded:
            self.state.set_projection(*self.axes_choice())

    def _on_view_clicked(self, ev: object) -> bool:
        """A left click on empty space moves the point there (through the map's inverse)."""
        if ev.button() != Qt.MouseButton.LeftButton or not self.state.loaded or not self.has_map():
            return False
        ev.accept()
        thumbnail = self.thumbnails.layer.index_at(ev.scenePos())
        if thumbnail is not None:  # a click on a point's image, off the point itself
            self._on_point_clicked(thumbnail)
            return True
        pos = self._plot.getPlotItem().getViewBox().mapSceneToView(ev.scenePos())
        self.state.move_to(float(pos.x()), float(pos.y()))
        return True
