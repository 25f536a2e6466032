"""Draw a digit and the model report, bound to the explorer state.

The Draw dock reads drawings with the state's model and shows where they land on the scatter;
*Edit style* moves the state to the drawing's latent mean. Model > Evaluate… opens the report on
the state's document. Both reach the window only through the `Shell`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence

from latentlab.core.explore.drawing import Reading
from latentlab.core.explore.state import ExplorerState

from .capabilities import draw_reason, evaluate_reason
from .draw_panel import DrawingOverlay, DrawPanel
from .shell import Shell

if TYPE_CHECKING:  # the report (and, through it, the data and training modules) loads on use
    from .report_dialog import ReportDialog, TestLoader

DRAW_TIP = "Show the Draw panel: write a digit and see where the model puts it"
EVALUATE_TIP = "Test ELBO, IWAE likelihood, classifier confusion matrix, conditional generation"


class InsightTools(QObject):
    """Builds the Draw dock and Model > Evaluate through `shell`."""

    def __init__(self, shell: Shell, test_loader: TestLoader | None = None) -> None:
        super().__init__(shell.host)
        self.shell = shell
        self.state: ExplorerState = shell.state
        self._test_loader = test_loader  # None: the report's default (the dataset's files)
        self.report_dialog: ReportDialog | None = None

        self.draw_panel = DrawPanel()
        self.draw_dock = shell.add_dock(
            "Draw a digit", "drawDock", self.draw_panel, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.draw_action = self.draw_dock.toggleViewAction()
        self.draw_action.setText("&Draw a digit")
        self.draw_action.setShortcut(QKeySequence("Ctrl+D"))
        self.draw_action.setToolTip(DRAW_TIP)
        self.draw_action.setStatusTip(DRAW_TIP)
        shell.explore_menu.addAction(self.draw_action)
        self.overlay = DrawingOverlay(shell.scatter.plot_widget.getPlotItem())

        self.evaluate_action = QAction("&Evaluate…", shell.host)
        self.evaluate_action.setShortcut(QKeySequence("Ctrl+Shift+I"))
        self.evaluate_action.setToolTip(EVALUATE_TIP)
        self.evaluate_action.setStatusTip(EVALUATE_TIP)
        self.evaluate_action.setEnabled(False)
        self.evaluate_action.triggered.connect(self.open_report)
        shell.model_menu.addAction(self.evaluate_action)

        self.draw_panel.reading_changed.connect(self._on_reading)
        self.draw_panel.edit_requested.connect(self._on_edit_requested)
        self.draw_dock.visibilityChanged.connect(self._on_draw_visibility)
        self.state.events.model.connect(self._on_model_loaded)
        self.state.events.projection.connect(self._place_overlay)

    # --- slots ---------------------------------------------------------------------------------
    def _on_model_loaded(self) -> None:
        state = self.state
        why_not = evaluate_reason(state.document)
        self.evaluate_action.setEnabled(not why_not)
        self.evaluate_action.setToolTip(why_not or EVALUATE_TIP)
        self.evaluate_action.setStatusTip(why_not or EVALUATE_TIP)
        if self.report_dialog is not None:
            self.report_dialog.close()
        why_not = draw_reason(state.model)
        self.draw_action.setEnabled(not why_not)
        self.draw_action.setToolTip(why_not or DRAW_TIP)
        self.draw_action.setStatusTip(why_not or DRAW_TIP)
        if why_not:
            self.draw_dock.hide()
        self.draw_panel.set_explorer(None if why_not else state)

    @Slot(object)
    def _on_reading(self, reading: Reading | None) -> None:
        self._place_overlay()

    @Slot(bool)
    def _on_draw_visibility(self, visible: bool) -> None:
        self._place_overlay()

    def _place_overlay(self, _projection: object = None) -> None:
        state = self.state
        reading = self.draw_panel.reading
        shown = state.loaded and reading is not None and self.draw_dock.isVisible()
        self.overlay.show(reading if shown else None, state.projection if state.loaded else None)

    @Slot(object, object)
    def _on_edit_requested(self, mu: np.ndarray, digit: int | None) -> None:
        if self.state.loaded:
            self.state.set_point(mu, digit)

    @Slot()
    def open_report(self) -> None:
        """Model > Evaluate…: one report dialog for the current model."""
        document = self.state.document
        if document is None or evaluate_reason(document):
            return
        if self.report_dialog is not None:
            self.report_dialog.raise_()
            self.report_dialog.activateWindow()
            return
        from .report_dialog import ReportDialog, default_test_loader

        loader = self._test_loader or default_test_loader
        parent = self.shell.dialog_parent
        dialog = ReportDialog(document.payload, document.name, parent, loader)
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
