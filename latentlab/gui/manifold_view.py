"""The manifold grid view: decoded digits tiled over the scatter's axes, beside or on the scatter.

The view shows one ImageItem placed in axis coordinates, so its axes read like the scatter's;
with even spacing the same picture can also lie under the scatter's points (`overlay_item`).
Gaussian-quantile spacing is not even in axis units, so the picture is drawn with equal cells and
the ticks name each column's and row's real coordinate; the overlay is then unavailable.
Clicking a cell asks to move the current point there (`point_chosen`). On a UMAP or t-SNE map
the grid is decoded through the map's inverse (the blend of the nearest points' latents that a
marker drag uses), so each cell shows what that region of the map decodes to.

The view decodes through the core (`decode_request`) when `update_grid` is called with the
current state; it skips the decode when the core's `grid_key` says nothing that shapes the grid
changed. The cell maths (Gaussian warping, which cell was clicked) is the core's too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.explore.imaging import tile
from latentlab.core.explore.latent_model import LatentModel
from latentlab.core.explore.manifold import (
    MAX_SIZE,
    MIN_SIZE,
    GridRequest,
    Manifold,
    cell_at,
    cell_centres,
    decode_request,
    grid_key,
    save_manifold_png,
    to_cells,
)
from latentlab.core.explore.projection import Projection
from latentlab.core.text import about_path

from . import settings
from .latent_scatter import marker_path

DEFAULT_SIZE = 15
DEFAULT_RANGE = 2.5  # most of the test set on PCA axes; +-2.5 sigma on raw ones
SPACING_TEXTS = {"even": "Even", "gaussian": "Gaussian quantiles (Kingma & Welling)"}
OVERLAY_OPACITY = 0.55
EXPORT_SCALE = 2


@dataclass(frozen=True)
class GridState:
    """What the grid is decoded from: the model, the scatter's axes and the current point."""

    model: LatentModel
    axes: Projection  # linear axes, or a nonlinear map (the grid is then its inverse)
    z: np.ndarray
    class_probs: np.ndarray | None


class ManifoldView(QWidget):
    """Grid size, range, spacing and centre; the decoded grid on the scatter's axes; export."""

    settings_changed = Signal()  # the owner should call update_grid with the current state
    point_chosen = Signal(float, float)  # a cell was clicked: its centre on the scatter's axes
    grid_changed = Signal()  # a new grid was decoded

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._manifold: Manifold | None = None
        self._key: tuple | None = None
        self._state: GridState | None = None
        self._no_overlay = ""  # why the scatter cannot take the overlay ("" when it can)

        self.size_spin = QSpinBox()
        self.size_spin.setRange(MIN_SIZE, MAX_SIZE)
        self.size_spin.setValue(DEFAULT_SIZE)
        self.size_spin.setToolTip("Images per row and per column")
        self.range_spin = QDoubleSpinBox()
        self.range_spin.setRange(0.25, 6.0)
        self.range_spin.setSingleStep(0.25)
        self.range_spin.setValue(DEFAULT_RANGE)
        self.range_spin.setPrefix("± ")
        self.range_spin.setToolTip("Half-width of the grid in the scatter's axis units")
        self.spacing_combo = QComboBox()
        for spacing, text in SPACING_TEXTS.items():
            self.spacing_combo.addItem(text, spacing)
        self.spacing_combo.setToolTip(
            "Even: a linear grid. Gaussian quantiles: normal quantiles of evenly spaced "
            "probabilities, denser near the centre, as in Kingma & Welling's figure"
        )
        self.centre_check = QCheckBox("Centre on current point")
        self.centre_check.setToolTip("Centre the grid on the marker instead of the axes' origin")
        self.overlay_check = QCheckBox("Overlay on scatter")
        self.overlay_check.setToolTip("Draw the grid under the scatter's points, at the same scale")
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setToolTip("Save the grid as a PNG image")
        for spin in (self.size_spin, self.range_spin):
            spin.valueChanged.connect(self.settings_changed)
        self.spacing_combo.currentIndexChanged.connect(self._on_spacing_changed)
        self.centre_check.toggled.connect(self.settings_changed)
        self.overlay_check.toggled.connect(self._update_overlay)
        self.export_button.clicked.connect(self._on_export)

        self._plot = pg.PlotWidget(background="w")
        self._plot.setMenuEnabled(False)
        plot = self._plot.getPlotItem()
        plot.hideButtons()
        plot.setAspectLocked(True)
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setPen(pg.mkPen(90, 90, 90))
            axis.setTextPen(pg.mkPen(40, 40, 40))
        self._image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self._image)
        self._marker = pg.TargetItem(
            pos=(0, 0),
            size=18,
            symbol=marker_path(),
            pen=pg.mkPen("#d62728", width=2.5),
            brush=pg.mkBrush(255, 255, 255, 60),
            movable=False,
        )
        self._marker.setZValue(10)
        plot.addItem(self._marker, ignoreBounds=True)
        self._plot.scene().sigMouseClicked.connect(self._on_scene_clicked)
        # The same picture, for the scatter's plot (the owner adds it there).
        self.overlay_item = pg.ImageItem(axisOrder="row-major")
        self.overlay_item.setOpacity(OVERLAY_OPACITY)
        self.overlay_item.setZValue(-10)
        self.overlay_item.setVisible(False)

        self.note = QLabel()
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)
        row1 = QHBoxLayout()
        row1.addWidget(QLabel("Size:"))
        row1.addWidget(self.size_spin)
        row1.addWidget(QLabel("Range:"))
        row1.addWidget(self.range_spin)
        row1.addWidget(QLabel("Spacing:"))
        row1.addWidget(self.spacing_combo, 1)
        row2 = QHBoxLayout()
        row2.addWidget(self.centre_check)
        row2.addWidget(self.overlay_check)
        row2.addStretch(1)
        row2.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(row1)
        layout.addLayout(row2)
        layout.addWidget(self._plot, 1)
        layout.addWidget(self.note)
        self._update_enabled()

    # --- access ---------------------------------------------------------------------------
    @property
    def plot_widget(self) -> pg.PlotWidget:
        return self._plot

    @property
    def image_item(self) -> pg.ImageItem:
        return self._image

    @property
    def marker(self) -> pg.TargetItem:
        return self._marker

    def manifold(self) -> Manifold | None:
        return self._manifold

    def spacing(self) -> str:
        return str(self.spacing_combo.currentData())

    def set_spacing(self, spacing: str) -> None:
        self.spacing_combo.setCurrentIndex(self.spacing_combo.findData(spacing))

    # --- updates ---------------------------------------------------------------------------
    def clear(self) -> None:
        """No model: no grid."""
        self._manifold = self._key = self._state = None
        self._image.clear()
        self.overlay_item.clear()
        self.overlay_item.setVisible(False)
        self.note.setText("No model loaded.")
        self._update_enabled()

    def request(self) -> GridRequest:
        """The grid as the controls set it up."""
        return GridRequest(
            self.size_spin.value(),
            self.range_spin.value(),
            self.spacing(),
            self.centre_check.isChecked(),
        )

    def update_grid(self, state: GridState, axis_labels: tuple[str, str]) -> None:
        """Show the grid for this state, decoding only when something that shapes it changed."""
        self._state = state
        request = self.request()
        key = grid_key(state.model, state.axes, state.z, state.class_probs, request)
        if key != self._key:
            self._manifold = decode_request(
                state.model, state.axes, state.z, state.class_probs, request
            )
            self._key = key
            self._show_picture(axis_labels)
            self.grid_changed.emit()
        self.set_marker(*state.axes.project(state.z))
        self._update_enabled()

    def set_marker(self, x: float, y: float) -> None:
        """The current point, in the view's own coordinates (warped for Gaussian spacing)."""
        m = self._manifold
        if m is None:
            return
        self._marker.setPos(*self._to_view(float(x), float(y)))

    # --- drawing --------------------------------------------------------------------------
    def _cells(self) -> tuple[np.ndarray, np.ndarray, float, float]:
        """Where each column / row is drawn (centres) and the cell width and height."""
        assert self._manifold is not None
        cx, cy = cell_centres(self._manifold)
        return cx, cy, float(cx[1] - cx[0]), float(cy[1] - cy[0])

    def _rect(self) -> QRectF:
        cx, cy, w, h = self._cells()
        return QRectF(cx[0] - w / 2, cy[0] - h / 2, w * len(cx), h * len(cy))

    def _to_view(self, x: float, y: float) -> tuple[float, float]:
        assert self._manifold is not None
        return to_cells(self._manifold, x, y)

    def _show_picture(self, axis_labels: tuple[str, str]) -> None:
        m = self._manifold
        assert m is not None
        # Row 0 of the picture is the top (largest y); a y-up plot draws row 0 at the bottom.
        picture = np.ascontiguousarray(tile(m.images, pad=0)[::-1])  # ink on paper, or colour
        rect = self._rect()
        self._image.setImage(picture, autoLevels=False, levels=(0, 255))
        self._image.setRect(rect)
        plot = self._plot.getPlotItem()
        plot.setLabel("bottom", axis_labels[0])
        plot.setLabel("left", axis_labels[1])
        cx, cy, _, _ = self._cells()
        for side, centres, coords in (("bottom", cx, m.xs), ("left", cy, m.ys)):
            axis = plot.getAxis(side)
            if m.evenly_spaced:
                axis.setTicks(None)
            else:
                every = max(1, m.size // 6)
                major = [(float(c), f"{v:.2f}") for c, v in zip(centres, coords, strict=True)]
                axis.setTicks([major[::every], major])
        # Square model pixels: a cell is one axis unit square, so non-square images stretch x.
        image_h, image_w = m.images.shape[2:4]
        plot.setAspectLocked(True, ratio=image_w / image_h)
        plot.getViewBox().setRange(rect, padding=0.02)
        self.overlay_item.setImage(picture, autoLevels=False, levels=(0, 255))
        self.overlay_item.setRect(rect)
        self._update_overlay()
        spacing = SPACING_TEXTS[m.spacing].lower()
        self.note.setText(
            f"{m.size} x {m.size} images, {spacing} spacing, x {m.xs[0]:.2f}..{m.xs[-1]:.2f}, "
            f"y {m.ys[0]:.2f}..{m.ys[-1]:.2f}. Click an image to move the current point there."
        )

    def set_overlay_reason(self, reason: str) -> None:
        """Why there is no scatter to overlay the grid on ("" when there is one)."""
        self._no_overlay = reason
        if reason:
            self.overlay_check.setChecked(False)
        self._update_overlay()

    @Slot()
    def _update_overlay(self) -> None:
        m = self._manifold
        can = (m is None or m.evenly_spaced) and not self._no_overlay
        self.overlay_check.setEnabled(can)
        if self._no_overlay:
            tip = self._no_overlay
        elif m is None or m.evenly_spaced:
            tip = "Draw the grid under the scatter's points, at the same scale"
        else:
            tip = "Only an evenly spaced grid lines up with the scatter"
        self.overlay_check.setToolTip(tip)
        self.overlay_item.setVisible(can and m is not None and self.overlay_check.isChecked())

    def _update_enabled(self) -> None:
        self.export_button.setEnabled(self._manifold is not None)

    # --- slots ----------------------------------------------------------------------------------
    @Slot(int)
    def _on_spacing_changed(self, _index: int) -> None:
        self.settings_changed.emit()

    @Slot(object)
    def _on_scene_clicked(self, event) -> None:
        if self._manifold is None or event.button() != Qt.MouseButton.LeftButton:
            return
        point = self._plot.getPlotItem().getViewBox().mapSceneToView(event.scenePos())
        x, y = point.x(), point.y()
        if not self._rect().contains(point):
            return
        self.point_chosen.emit(*cell_at(self._manifold, x, y))

    def cell_centre_scene(self, row: int, col: int):
        """Scene position of cell (row from the top, col from the left), for tests."""
        cx, cy, _, _ = self._cells()
        m = self._manifold
        assert m is not None
        y = cy[m.size - 1 - row]
        box = self._plot.getPlotItem().getViewBox()
        return box.mapViewToScene(pg.Point(float(cx[col]), float(y)))

    def _on_export(self) -> None:
        if self._manifold is None:
            return
        start = settings.last_folder()
        suggested = str(Path(start) / "manifold.png") if start else "manifold.png"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export manifold grid", suggested, "PNG images (*.png)"
        )
        if not path:
            return
        settings.remember_folder(path)
        if not path.lower().endswith(".png"):
            path += ".png"
        try:
            self.export(path)
        except OSError as exc:
            QMessageBox.critical(self, "Could not export the grid", about_path(path, exc))
            return
        self.note.setText(f"Saved {path}")

    def export(self, path: str) -> None:
        if self._manifold is None:
            raise ValueError("no grid to export")
        save_manifold_png(self._manifold, path, scale=EXPORT_SCALE)
