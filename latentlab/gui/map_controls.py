"""The scatter's map controls: UMAP's neighbours or t-SNE's perplexity, and the map's progress.

A map is computed by `core.explore.maps.map_job` in a `GeneratorWorker` (never on the GUI
thread; the layout itself in a child process, whose GIL umap's numba code may hold): the progress bar follows its stages and epochs, Cancel stops it at its next cancel
point, and a cached map comes back at once. One map at a time: a new request cancels the one
running (whose outcome is then dropped). The finished map is handed on as `map_ready`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from latentlab.core.explore.maps import (
    DEFAULT_PARAMETER,
    METHOD_NAMES,
    PARAMETER_NAMES,
    PARAMETER_RANGE,
    LatentMap,
    MapRequest,
    map_job,
)
from latentlab.core.jobs import Progress
from latentlab.core.text import first_line

from .workers import GeneratorWorker

PARAMETER_DEBOUNCE_MS = 600  # a new parameter starts a map once the spin box rests this long
PROGRESS_WIDTH = 110  # pixels: the progress bar's fixed width (it must not widen the row)
PARAMETER_TIPS = {
    "umap": "UMAP's neighbourhood size: small shows local detail, large the global layout",
    "tsne": "t-SNE's perplexity: about how many neighbours each point keeps close",
}


class ElidedLabel(QLabel):
    """A one-line label that asks for no width: it shows what fits, with "…", and the whole
    text in its tooltip (a long status must not widen the window)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setMinimumWidth(0)  # it asks for its text's width, and shrinks to nothing

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self):
        hint = super().minimumSizeHint()
        hint.setWidth(0)
        return hint

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        self.style().drawItemText(
            painter,
            rect,
            align,
            self.palette(),
            self.isEnabled(),
            text,
            QPalette.ColorRole.WindowText,
        )
        painter.end()


class MapControls(QWidget):
    """Parameter box, progress bar, Cancel and a one-line status, for one map at a time."""

    map_ready = Signal(object)  # LatentMap, for the points the request was made for
    map_failed = Signal(str)  # the map was cancelled or failed: why, in one line
    parameter_changed = Signal(str, int)  # method, new parameter (after the debounce)
    stage_changed = Signal(str)  # what the running map is doing now ("finding neighbours")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._method = "umap"
        self._parameters = dict(DEFAULT_PARAMETER)
        self._worker: GeneratorWorker | None = None
        self._request: MapRequest | None = None

        self._name = QLabel()
        self.parameter = QSpinBox()
        self.parameter.valueChanged.connect(self._on_parameter)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(PROGRESS_WIDTH)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop computing the map")
        self.cancel_button.clicked.connect(self.cancel)
        self.status = ElidedLabel()
        self.status.setObjectName("hint")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._name)
        layout.addWidget(self.parameter)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.status, 1)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(PARAMETER_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit_parameter)
        self._show_running(False)
        self.set_method("umap")
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # --- what is shown -------------------------------------------------------------------------
    def set_method(self, method: str) -> None:
        """Show the parameter of `method` ("umap" or "tsne")."""
        self._method = method
        low, high = PARAMETER_RANGE[method]
        self._name.setText(f"{PARAMETER_NAMES[method].capitalize()}:")
        self.parameter.blockSignals(True)
        self.parameter.setRange(low, high)
        self.parameter.setValue(self._parameters[method])
        self.parameter.blockSignals(False)
        self.parameter.setToolTip(PARAMETER_TIPS[method])

    def set_parameter(self, method: str, value: int) -> None:
        """Show `value` as `method`'s parameter without asking for a map (a cancelled change
        goes back to the map shown)."""
        self._parameters[method] = int(value)
        if method == self._method:
            self.parameter.blockSignals(True)
            self.parameter.setValue(int(value))
            self.parameter.blockSignals(False)
        self._debounce.stop()

    def request(self, method: str | None = None) -> MapRequest:
        """The map the controls ask for, for `method` (default: the one shown)."""
        method = method or self._method
        return MapRequest(method, int(self._parameters[method]))

    def minimumSizeHint(self):
        """As wide as the parameter's name and box: the progress bar, Cancel and the status
        that come while a map is computed never raise the window's minimum width."""
        hint = super().minimumSizeHint()
        spacing = max(self.layout().spacing(), 0)
        hint.setWidth(self._name.sizeHint().width() + spacing + self.parameter.sizeHint().width())
        return hint

    @property
    def is_running(self) -> bool:
        return self._worker is not None

    # --- the job -------------------------------------------------------------------------------
    def compute(self, mu: np.ndarray, request: MapRequest) -> None:
        """Start the map of `mu` (cancelling any running one); `map_ready` when it is done."""
        self.cancel(quiet=True)
        self._request = request
        mu = np.ascontiguousarray(mu, dtype=np.float32)
        # Parented, so the worker's Qt object is never freed by Python's garbage collector
        # (which may run on any thread): it goes with deleteLater once it has finished.
        worker = GeneratorWorker(
            lambda token: map_job(mu, request, token, isolated=True),
            name="latentlab-map",
            parent=self,
        )
        worker.finished.connect(worker.deleteLater)
        worker.yielded.connect(lambda p: self._on_progress(worker, p))
        worker.returned.connect(lambda m: self._on_returned(worker, m))
        worker.errored.connect(lambda e: self._on_ended(worker, f"the map failed: {first_line(e)}"))
        worker.cancelled.connect(lambda _p: self._on_ended(worker, "map cancelled"))
        self._worker = worker
        self.progress.setRange(0, 0)  # busy until the job says how far it is
        self.progress.setFormat(f"{METHOD_NAMES[request.method]}…")
        self.status.setText(f"computing {request.title}…")
        self._show_running(True)
        worker.start()

    @Slot()
    def cancel(self, quiet: bool = False) -> None:
        """Stop the running map (its outcome is dropped)."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.quit()
        self._show_running(False)
        if not quiet:
            self.status.setText("map cancelled")
            self.map_failed.emit("map cancelled")

    @Slot()
    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the running map and wait for its thread (at quit)."""
        worker, self._worker = self._worker, None
        if worker is None:
            return True
        worker.quit()
        return worker.join(timeout_ms)

    # --- slots ---------------------------------------------------------------------------------
    def _on_progress(self, worker: GeneratorWorker, progress: Progress) -> None:
        if worker is not self._worker or not isinstance(progress, Progress):
            return
        if progress.total > 0:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)
            self.progress.setFormat("%p%")
        if progress.stage != self.status.text():
            self.status.setText(progress.stage)
            self.stage_changed.emit(progress.stage)

    def _on_returned(self, worker: GeneratorWorker, latent_map: LatentMap) -> None:
        if worker is not self._worker:
            return
        self._worker = None
        self._show_running(False)
        self.status.setText(
            f"{latent_map.request.title}"
            + (" (stored)" if latent_map.from_cache else ", computed and stored")
        )
        self.map_ready.emit(latent_map)

    def _on_ended(self, worker: GeneratorWorker, why: str) -> None:
        if worker is not self._worker:
            return
        self._worker = None
        self._show_running(False)
        self.status.setText(why)
        self.map_failed.emit(why)

    def _show_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)

    @Slot(int)
    def _on_parameter(self, value: int) -> None:
        self._parameters[self._method] = int(value)
        self._debounce.start()

    @Slot()
    def _emit_parameter(self) -> None:
        self.parameter_changed.emit(self._method, int(self._parameters[self._method]))
