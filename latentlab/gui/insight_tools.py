"""Draw a digit, which dimensions matter, and the model report: wired to the explorer window.

Like `explore_tools`, this module only listens to the window (`model_loaded`, `view_changed`)
and answers through its public paths (`show_latent`). It gives the sliders the model's slider
bases (KL per direction, raw or principal-component directions) and the source of their decoded
strips, builds the Draw dock with its scatter overlay, and adds Model > Evaluate….
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow

from latentlab.core.explore.dimensions import SliderBasis, decode_strips, dims_basis, pca_basis
from latentlab.core.explore.drawing import Reading
from latentlab.core.explorer import SLIDER_RANGE, Explorer

from .draw_panel import DrawingOverlay, DrawPanel

if TYPE_CHECKING:  # the report (and, through it, the data and training modules) loads on use
    from .report_dialog import ReportDialog, TestLoader

UNSAVED_NAME = "untitled (unsaved)"


class InsightTools(QObject):
    """Builds the Draw dock, the slider insight and Model > Evaluate on `window`."""

    def __init__(self, window: QMainWindow, test_loader: TestLoader | None = None) -> None:
        super().__init__(window)
        self.window: Any = window
        self._test_loader = test_loader  # None: the report's default (the dataset's files)
        self.report_dialog: ReportDialog | None = None

        self.draw_panel = DrawPanel()
        self.draw_dock = QDockWidget("Draw a digit", window)
        self.draw_dock.setObjectName("drawDock")
        self.draw_dock.setWidget(self.draw_panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.draw_dock)
        self.draw_dock.hide()
        self.draw_action = self.draw_dock.toggleViewAction()
        self.draw_action.setText("&Draw a digit")
        self.draw_action.setShortcut(QKeySequence("Ctrl+D"))
        tip = "Show the Draw panel: write a digit and see where the model puts it"
        self.draw_action.setToolTip(tip)
        self.draw_action.setStatusTip(tip)
        window.explore_menu.addAction(self.draw_action)
        self.overlay = DrawingOverlay(window.scatter.plot_widget.getPlotItem())

        self.evaluate_action = QAction("&Evaluate…", window)
        self.evaluate_action.setShortcut(QKeySequence("Ctrl+Shift+I"))
        tip = "Test ELBO, IWAE likelihood, classifier confusion matrix, conditional generation"
        self.evaluate_action.setToolTip(tip)
        self.evaluate_action.setStatusTip(tip)
        self.evaluate_action.setEnabled(False)
        self.evaluate_action.triggered.connect(self.open_report)
        self._model_menu().addAction(self.evaluate_action)

        self.draw_panel.reading_changed.connect(self._on_reading)
        self.draw_panel.edit_requested.connect(self._on_edit_requested)
        self.draw_dock.visibilityChanged.connect(self._on_draw_visibility)
        window.sliders.z_changed.connect(self._on_sliders_z)
        window.model_loaded.connect(self._on_model_loaded)
        window.view_changed.connect(self._on_view_changed)

    # --- construction --------------------------------------------------------------------------
    def _model_menu(self) -> Any:
        """The window's Model menu (the one holding Model info)."""
        for obj in self.window.info_action.associatedObjects():
            if hasattr(obj, "addAction") and obj is not self.window:
                return obj
        return self.window.menuBar().addMenu("&Model")

    # --- state ---------------------------------------------------------------------------------
    @property
    def explorer(self) -> Explorer | None:
        return self.window.explorer

    def strips(self, basis: SliderBasis) -> np.ndarray:
        """The sliders' strips for the window's current point and class (one batched decode)."""
        e = self.explorer
        assert e is not None
        return decode_strips(e.net, basis, e.z, e.class_input())

    # --- slots ---------------------------------------------------------------------------------
    @Slot(object)
    def _on_model_loaded(self, explorer: Explorer) -> None:
        sliders = self.window.sliders
        sliders.set_bases(
            [dims_basis(explorer.encoding), pca_basis(explorer.encoding)], self.strips
        )
        sliders.set_values(explorer.z)
        sliders.request_strips()
        self.evaluate_action.setEnabled(True)
        if self.report_dialog is not None:
            self.report_dialog.close()
        self.draw_panel.set_explorer(explorer)

    @Slot()
    def _on_view_changed(self) -> None:
        self.window.sliders.request_strips()
        self._place_overlay()

    @Slot(object)
    def _on_reading(self, reading: Reading | None) -> None:
        self._place_overlay()

    @Slot(bool)
    def _on_draw_visibility(self, visible: bool) -> None:
        self._place_overlay()

    def _place_overlay(self) -> None:
        e = self.explorer
        reading = self.draw_panel.reading
        shown = e is not None and reading is not None and self.draw_dock.isVisible()
        self.overlay.show(reading if shown else None, e.axes if e is not None else None)

    @Slot(object)
    def _on_sliders_z(self, z: np.ndarray) -> None:
        self.window.show_latent(z)

    @Slot(object, object)
    def _on_edit_requested(self, mu: np.ndarray, digit: int | None) -> None:
        if self.explorer is None:
            return
        z = np.clip(mu, -SLIDER_RANGE, SLIDER_RANGE).astype(np.float32)
        self.window.show_latent(z, digit)

    @Slot()
    def open_report(self) -> None:
        """Model > Evaluate…: one report dialog for the current model."""
        e = self.explorer
        if e is None:
            return
        if self.report_dialog is not None:
            self.report_dialog.raise_()
            self.report_dialog.activateWindow()
            return
        from .report_dialog import ReportDialog, default_test_loader

        path = self.window.model_path
        loader = self._test_loader or default_test_loader
        dialog = ReportDialog(e.record, path.name if path else UNSAVED_NAME, self.window, loader)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(self._on_report_closed)
        self.report_dialog = dialog
        dialog.show()

    @Slot()
    def _on_report_closed(self) -> None:
        self.report_dialog = None

    def shutdown(self) -> None:
        """Stop a running evaluation and wait for it (window closing, app quitting)."""
        if self.report_dialog is not None:
            self.report_dialog.shutdown()
