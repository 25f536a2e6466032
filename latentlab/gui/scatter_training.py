"""View > Show training points: the model's training images encoded in a worker and drawn as a
faint layer under the test points; a click on one moves the point to its latent.

The training set is not in the model file: it is read from the data folder (the one that gives
the test images) and encoded chunk by chunk in a `GeneratorWorker`, with a progress bar and a
Cancel button beside the colour choice. The points are a separate layer (`TrainingPoints`, not
the document's `EncodedPoints`), so every feature that indexes the test points is unchanged.
They are drawn in their class's colour, fainter, and hidden with their class in the legend;
60,000 of them in view are drawn as a density image (see `point_cloud`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (
    QGraphicsItem,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from latentlab.core.data.train_split import load_training_split
from latentlab.core.explore.projection import NonlinearProjection
from latentlab.core.explore.state import ExplorerState
from latentlab.core.explore.training_points import TrainingPoints, encode_training_job
from latentlab.core.jobs import Progress
from latentlab.core.text import first_line

from .map_controls import PROGRESS_WIDTH, ElidedLabel
from .point_cloud import PointCloud
from .workers import GeneratorWorker, LatestJob

TRAINING_ALPHA = 80  # fainter than the test points (190)
TRAINING_TIP = (
    "Encode the model's training images (read from the data folder) and show them, fainter, "
    "under the test points; click one to go to its latent"
)
Loader = Callable[[str], tuple[np.ndarray, np.ndarray]]


def default_loader(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """The training split from the app's data folder setting (run on the worker thread)."""
    from .settings import data_dir

    return load_training_split(dataset, data_dir())


class TrainingControls(QWidget):
    """A progress bar, what is being done, and Cancel: shown only while encoding."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # The row always holds this widget (so its spacing is always counted) and what shows
        # or hides is the content inside it: the colour row must not ask for more width while
        # encoding, not even a spacing's worth; the label gives way.
        self.content = QWidget()
        outer.addWidget(self.content)
        layout = QHBoxLayout(self.content)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = ElidedLabel("")  # a long stage is cut, never widening the window
        self.bar = QProgressBar()
        self.bar.setFixedWidth(PROGRESS_WIDTH)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop encoding the training images")
        for widget in (self.label, self.bar, self.cancel):
            layout.addWidget(widget)
        layout.setStretch(0, 1)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setVisible(False)

    def setVisible(self, visible: bool) -> None:
        """Shows or hides the progress (the widget itself stays in the row)."""
        super().setVisible(True)
        self.content.setVisible(visible)

    def isVisible(self) -> bool:
        return super().isVisible() and not self.content.isHidden()

    def show_progress(self, progress: Progress) -> None:
        self.label.setText(progress.stage)
        self.bar.setRange(0, max(progress.total, 0))
        self.bar.setValue(progress.done)
        self.setVisible(True)


class TrainingTools(QObject):
    """The action, the worker and the layer of training points for one scatter."""

    point_clicked = Signal(int)  # index of the training point clicked
    encoded = Signal()  # the training points of the shown model are drawn
    failed = Signal(str)  # why they could not be shown

    def __init__(
        self,
        view: pg.ViewBox,
        state: ExplorerState,
        palette: Callable[[], list[QColor]],
        shown: Callable[[], np.ndarray],
        parent: QObject | None = None,
        *,
        size: float = 5.0,
        loader: Loader = default_loader,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self._palette = palette
        self._shown = shown
        self._loader = loader
        self.layer = PointCloud(size=size)
        self.layer.setZValue(-1)  # under the test points
        # No cached pixmap: the layer's bounds jump when a map's projection arrives, and Qt's
        # device cache then kept a stale patch (a rectangle without points) until the next
        # zoom. A partial repaint reuses the view's density image (see `PointCloud.paint`).
        self.layer.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        self.layer.setVisible(False)
        view.addItem(self.layer, ignoreBounds=True)
        self.layer.point_clicked.connect(self._on_clicked)
        self.controls = TrainingControls()
        self.controls.cancel.clicked.connect(self.cancel)
        self.action = QAction("Show &training points", self)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("Ctrl+Shift+A"))  # all the points
        self.action.setToolTip(TRAINING_TIP)
        self.action.setStatusTip(TRAINING_TIP)
        self.action.toggled.connect(self._on_toggled)
        self.points: TrainingPoints | None = None
        self._for: object = None  # the document the points (or the running job) are of
        self._xy = np.zeros((0, 2), np.float32)
        self._drawn: tuple | None = None  # what the layer shows now
        self._worker: GeneratorWorker | None = None
        self.message = ""
        self._projector = LatestJob("latentlab-training-map", self)
        self._projector.returned.connect(self._on_projected)
        state.events.model.connect(self._on_model)
        state.events.projection.connect(self._on_projection)
        self._on_model()

    # --- what the scatter asks -------------------------------------------------------------
    def is_running(self) -> bool:
        return self._worker is not None and self._worker.is_running

    def refresh(self) -> None:
        """Redraw with the classes shown now (the legend's toggles)."""
        points = self.points
        if points is None or len(self._xy) != len(points):
            self._drawn = None
            self.layer.clear()
            return
        colours = self._palette()
        count = max(len(colours), 1)
        labels = np.asarray(points.labels, np.int64)
        if not self.state.class_names:
            labels = np.zeros(len(labels), np.int64)
        shown = np.asarray(self._shown(), bool)
        key = (self._xy, points, tuple(shown.tolist()), tuple(c.rgba() for c in colours))
        if self._drawn is not None and all(
            a is b if isinstance(a, np.ndarray | TrainingPoints) else a == b
            for a, b in zip(key, self._drawn, strict=True)
        ):
            return  # a recolour by value: the training points are drawn as they were
        self._drawn = key
        if len(shown) == count:
            keep = np.flatnonzero((labels < count) & shown[np.minimum(labels, count - 1)])
        else:
            keep = np.arange(len(labels))
        faint = []
        for colour in colours or [QColor(120, 120, 120)]:
            c = QColor(colour)
            c.setAlpha(TRAINING_ALPHA)
            faint.append(c)
        self.layer.set_palette(faint)
        self.layer.set_points(self._xy[keep, 0], self._xy[keep, 1], labels[keep], keep)

    def index_at(self, scene_pos: object) -> int | None:
        """The shown training point under a scene position, if any."""
        if not self.layer.isVisible() or not len(self.layer):
            return None
        return self.layer.index_at(self.layer.mapFromScene(scene_pos))

    def xy(self, index: int) -> tuple[float, float]:
        x, y = self._xy[index]
        return float(x), float(y)

    def image(self, index: int) -> np.ndarray | None:
        """Training image `index` (H, W, C) in [0, 1], for the hover card."""
        points = self.points
        if points is None or points.images is None or not 0 <= index < len(points):
            return None
        image = np.asarray(points.images[index], np.float32) / 255.0
        return image if image.ndim == 3 else image[..., None]

    def tip_for(self, index: int) -> str:
        points, names = self.points, self.state.class_names
        if points is None:
            return ""
        label = int(points.labels[index])
        if not names or not 0 <= label < len(names):
            return f"training image #{index}"
        return f"training image #{index}\nlabel: {names[label]}"

    # --- slots -----------------------------------------------------------------------------
    @Slot(bool)
    def _on_toggled(self, on: bool) -> None:
        self.layer.setVisible(on)
        if on:
            self._start()
        else:
            self.cancel()

    def _available(self) -> str:
        """Why there are no training points to show for the model, or ""."""
        document = self.state.document
        if document is None or document.points is None or not self.state.model.can_encode:
            return "this model has no encoder"
        if not document.dataset or document.images is not None:
            return "this model's training images are not known to latentlab"
        return ""

    def _start(self) -> None:
        document = self.state.document
        why = self._available()
        if why:
            self._fail(why)
            return
        if self._for is document and (self.points is not None or self.is_running()):
            return
        self.cancel()
        self._for, self.points = document, None
        model, dataset, loader = document.model, document.dataset, self._loader
        worker = GeneratorWorker(
            lambda token: encode_training_job(model, dataset, lambda: loader(dataset), token),
            name="latentlab-training-points",
            parent=self,
        )
        worker.yielded.connect(self._on_progress)
        worker.returned.connect(lambda result: self._on_encoded(document, result))
        worker.errored.connect(lambda exc: self._on_error(document, exc))
        worker.cancelled.connect(lambda _partial: self._on_cancelled(document))
        worker.finished.connect(lambda: self._on_finished(worker))
        self._worker = worker
        self.controls.show_progress(Progress(0, 0, "reading the training images"))
        worker.start()

    def cancel(self) -> None:
        """Stop a running encode (nothing is drawn; ticking the action again starts over)."""
        if self._worker is not None:
            self._worker.quit()
            self._worker = None
            if self.points is None:
                self._for = None
        self.controls.setVisible(False)

    def shutdown(self) -> None:
        worker = self._worker
        self.cancel()
        if worker is not None:
            worker.join()
        self._projector.shutdown()

    @Slot(object)
    def _on_progress(self, progress: object) -> None:
        if isinstance(progress, Progress) and self._worker is not None:
            self.controls.show_progress(progress)

    def _on_encoded(self, document: object, points: TrainingPoints) -> None:
        if document is not self.state.document:
            return
        self.points = points
        self.controls.setVisible(False)
        self.message = f"{len(points):,} training points"
        self._on_projection()

    def _on_error(self, document: object, exc: BaseException) -> None:
        if document is self.state.document:
            self._for = None
            self._fail(first_line(str(exc)) or type(exc).__name__)

    def _on_cancelled(self, document: object) -> None:
        if document is self.state.document and self.points is None:
            self._for = None
            self.action.setChecked(False)

    def _on_finished(self, worker: GeneratorWorker) -> None:
        if worker is self._worker:
            self._worker = None
        self.controls.setVisible(self._worker is not None)
        worker.deleteLater()

    def _fail(self, why: str) -> None:
        self.message = f"no training points: {why}"
        self.controls.setVisible(False)
        self.failed.emit(self.message)
        self.action.setChecked(False)

    def _on_model(self, _model: object = None) -> None:
        if self._for is not self.state.document:
            self.cancel()
            self.points, self._for = None, None
            self._xy = np.zeros((0, 2), np.float32)
            self.layer.clear()
        why = self._available() if self.state.loaded else "no model"
        self.action.setEnabled(not why)
        if not why and self.action.isChecked():
            self._start()

    def _on_projection(self, _projection: object = None) -> None:
        points = self.points
        if points is None or not self.state.loaded:
            return
        projection = self.state.projection
        if isinstance(projection, NonlinearProjection):  # a k-d tree query per point: a job
            mu = points.mu
            # The old layout must not stand under the new map until the job is back.
            self._xy = np.zeros((0, 2), np.float32)
            self.refresh()
            self._projector.submit(lambda _token: projection.project(mu), (points, projection))
            return
        self._show(projection.project(points.mu))

    def _on_projected(self, context: tuple, xy: np.ndarray) -> None:
        points, projection = context
        if points is self.points and projection is self.state.projection:
            self._show(xy)

    def _show(self, xy: np.ndarray) -> None:
        self._xy = np.asarray(xy, np.float32)
        self.refresh()
        self.encoded.emit()

    @Slot(int)
    def _on_clicked(self, index: int) -> None:
        """Go to the training point's latent (and, for a conditional model, its class)."""
        points = self.points
        if points is None or not 0 <= index < len(points):
            return
        label = int(points.labels[index])
        names = self.state.class_names
        self.state.set_point(points.mu[index], label if 0 <= label < len(names) else None)
        self.message = f"training image #{index}"
        self.point_clicked.emit(index)
