"""The training dock: progress, elapsed time and ETA, live loss curves and the per-epoch samples.

The panel only shows what the controller hands it (plain event data from the worker). Every plot
item is created once in ``__init__`` and updated with ``setData`` / ``setImage``. Labels change at
once; the plots are redrawn at most ten times a second (a tiny dataset can finish an epoch every
few milliseconds, and redrawing axes costs milliseconds each), and always when a run ends.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.vae.config import Config
from latentlab.core.vae.events import Cancelled, EpochEnd, Failed, Finished, Started
from latentlab.core.vae.record import ModelRecord
from latentlab.core.vae.training_job import BatchReport

TRAIN_PEN = pg.mkPen("#4c9be8", width=2)
TEST_PEN = pg.mkPen("#f28e2b", width=2)
BATCH_PEN = pg.mkPen("#4c9be8", width=1, style=Qt.PenStyle.DotLine)
TRAIN_BRUSH = pg.mkBrush("#4c9be8")
TEST_BRUSH = pg.mkBrush("#f28e2b")
TILE = 28  # pixels per sample image side
REDRAW_INTERVAL_MS = 250  # the batch curve follows at 4 Hz: each redraw costs the GUI thread
MAX_ROW_LABELS = 12


def format_duration(seconds: float) -> str:
    """12s, 1m12s, 1h02m: short enough for a status line."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def eta_seconds(
    epoch: int, epochs: int, batch: int, batches: int, elapsed_s: float
) -> float | None:
    """Time left if the rest goes as fast as what is done; None before anything is done."""
    done = ((epoch - 1) + batch / max(batches, 1)) / max(epochs, 1)
    if done <= 0:
        return None
    return elapsed_s * (1.0 - done) / done


def sample_strip(samples: np.ndarray, columns: int = 10) -> np.ndarray:
    """(n, 28, 28) images side by side as one (28, 28 * columns) float32 row, padded with black."""
    tiles = np.asarray(samples, dtype=np.float32).reshape(-1, TILE, TILE)[:columns]
    if len(tiles) < columns:
        pad = np.zeros((columns - len(tiles), TILE, TILE), np.float32)
        tiles = np.concatenate([tiles, pad])
    return np.concatenate(list(tiles), axis=1)


class TrainingPanel(QWidget):
    """Shows one training run at a time; ``reset`` starts a new one."""

    cancel_requested = Signal()
    use_record_requested = Signal(object)  # ModelRecord offered after a cancelled or failed run

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._epochs = 0
        self._batches = 0
        self._dataset_title = ""
        self._offered: ModelRecord | None = None
        self._clock = QElapsedTimer()
        self._running = False
        self._conditional = True
        self._eta: float | None = None
        self._drawn_epochs = -1  # epoch points last given to the curves
        self._history: dict[str, list[float]] = {
            k: [] for k in ("epoch", "vae_train", "vae_test", "cls_train", "cls_test")
        }
        self._batch_x: list[float] = []
        self._batch_y: list[float] = []
        self._rows: list[np.ndarray] = []  # one (28, 280) strip of samples per finished epoch
        self._grid = np.zeros((0, 10 * TILE), np.float32)

        self.status_label = QLabel("No training run yet. Model ▸ Train new model… starts one.")
        self.status_label.setObjectName("trainingStatus")
        font = self.status_label.font()
        font.setBold(True)
        self.status_label.setFont(font)
        self.status_label.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(True)
        self.time_label = QLabel("")
        self.time_label.setMinimumWidth(190)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop training after the current batch")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.use_button = QPushButton()
        self.use_button.setToolTip("Load the weights saved at the end of that epoch")
        self.use_button.setVisible(False)
        self.use_button.clicked.connect(self._on_use_clicked)
        self.message_label = QLabel()
        self.message_label.setObjectName("trainingMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setVisible(False)

        top = QHBoxLayout()
        top.addWidget(self.progress_bar, 1)
        top.addWidget(self.time_label)
        top.addWidget(self.cancel_button)
        top.addWidget(self.use_button)

        # The plots are built when first needed (a run starts, or the dock is shown): the panel
        # exists from start-up, hidden, and three pyqtgraph plots would cost it ~70 ms there.
        self._plots_built = False
        self._splitter = QSplitter(Qt.Orientation.Horizontal)
        self._splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addLayout(top)
        layout.addWidget(self.message_label)
        layout.addWidget(self._splitter, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_INTERVAL_MS)
        self._redraw.timeout.connect(self._on_redraw)

    # --- construction helpers ----------------------------------------------------------------
    def _ensure_plots(self) -> None:
        """Build the loss plots and the sample grid, once."""
        if self._plots_built:
            return
        self._plots_built = True
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setMinimumSize(320, 260)
        # Side by side: the dock is wide and short, so each plot keeps a readable height.
        self.vae_plot = self._make_plot("VAE loss (recon + KL)", "nats / image", col=0)
        self.class_plot = self._make_plot("Classifier loss", "cross-entropy", col=1)
        self.vae_plot.addLegend(offset=(-8, 8), labelTextSize="8pt")
        self.class_plot.addLegend(offset=(-8, 8), labelTextSize="8pt")
        self.batch_curve = self.vae_plot.plot(pen=BATCH_PEN, name="train objective (smoothed)")
        self.vae_train_curve = self._epoch_curve(self.vae_plot, TRAIN_PEN, TRAIN_BRUSH, "train")
        self.vae_test_curve = self._epoch_curve(self.vae_plot, TEST_PEN, TEST_BRUSH, "test")
        self.class_train_curve = self._epoch_curve(self.class_plot, TRAIN_PEN, TRAIN_BRUSH, "train")
        self.class_test_curve = self._epoch_curve(self.class_plot, TEST_PEN, TEST_BRUSH, "test")

        self.samples = pg.GraphicsLayoutWidget()
        self.samples.setMinimumSize(200, 120)
        self.samples_plot = self.samples.addPlot(title="Samples after each epoch")
        self.samples_plot.setMenuEnabled(False)
        self.samples_plot.setMouseEnabled(x=False, y=False)
        self.samples_plot.hideButtons()
        self.samples_plot.getViewBox().setAspectLocked(True)
        self.samples_plot.getViewBox().invertY(True)
        self.samples_plot.getAxis("left").setStyle(tickLength=0)
        self.samples_plot.getAxis("bottom").setStyle(tickLength=0)
        self.sample_image = pg.ImageItem(axisOrder="row-major")
        self.samples_plot.addItem(self.sample_image)
        self._set_sample_ticks([str(d) for d in range(10)])

        self._splitter.addWidget(self.plots)
        self._splitter.addWidget(self.samples)
        self._splitter.setStretchFactor(0, 3)
        self._splitter.setStretchFactor(1, 2)

    def _make_plot(self, title: str, units: str, col: int) -> pg.PlotItem:
        plot = self.plots.addPlot(row=0, col=col, title=title)
        plot.setLabel("left", units)
        plot.getAxis("left").enableAutoSIPrefix(False)  # "cross-entropy (x0.001)" reads badly
        plot.setLabel("bottom", "epoch")
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setMenuEnabled(False)
        return plot

    @staticmethod
    def _epoch_curve(plot: pg.PlotItem, pen, brush, name: str) -> pg.PlotDataItem:
        return plot.plot(pen=pen, symbol="o", symbolSize=6, symbolBrush=brush, name=name)

    def _set_sample_ticks(self, class_names: list[str]) -> None:
        ticks = [((i + 0.5) * TILE, name[:6]) for i, name in enumerate(class_names)]
        self.samples_plot.getAxis("bottom").setTicks([ticks])

    def _set_row_ticks(self, rows: int) -> None:
        """Epoch numbers beside the rows; every k-th only, when there are many."""
        step = -(-rows // MAX_ROW_LABELS) if rows else 1
        labels = [((r + 0.5) * TILE, str(r + 1)) for r in range(step - 1, rows, step)]
        self.samples_plot.getAxis("left").setTicks([labels])

    def showEvent(self, event: QShowEvent) -> None:
        self._ensure_plots()  # View > Training before any run: empty plots, not a blank panel
        super().showEvent(event)

    # --- what the tests and the controller read -------------------------------------------
    @property
    def sample_rows(self) -> int:
        """Epochs whose samples the panel holds (drawn at the next redraw)."""
        return len(self._rows)

    @property
    def sample_grid(self) -> np.ndarray:
        """The image on screen: one row of samples per epoch drawn so far."""
        return self._grid

    @property
    def offered_record(self) -> ModelRecord | None:
        return self._offered

    @property
    def is_running(self) -> bool:
        return self._running

    # --- one run, from start to end -------------------------------------------------------
    def reset(self, config: Config, dataset_title: str, device: str) -> None:
        """Clear everything for a new run of ``config``."""
        self._ensure_plots()
        self._running = True
        self._epochs = config.epochs
        self._batches = 0
        self._dataset_title = dataset_title
        self._offered = None
        for values in self._history.values():
            values.clear()
        self._batch_x.clear()
        self._batch_y.clear()
        self._rows.clear()
        self._drawn_epochs = -1
        self.vae_plot.enableAutoRange(axis="y")  # until the first fit gives it a range of ours
        for plot in (self.vae_plot, self.class_plot):  # fixed for the run: no re-layout per batch
            plot.setXRange(0, config.epochs, padding=0.02)
        self._redraw.stop()
        self._on_redraw()
        self._conditional = config.conditional
        self._show_class_plot(config.conditional)
        self._set_sample_ticks([str(d) for d in range(10)] if config.conditional else [""] * 10)
        self.samples_plot.setTitle(
            "Samples after each epoch (one style, classes 0-9)"
            if config.conditional
            else "Samples after each epoch (10 draws from the prior)"
        )
        self.status_label.setText(f"Loading {dataset_title}…")
        self.progress_bar.setRange(0, 0)  # busy until the trainer reports its size
        self.time_label.setText("")
        self._eta = None
        self.message_label.setVisible(False)
        self.use_button.setVisible(False)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setEnabled(True)
        self._clock.start()
        self._tick.start()

    def set_class_names(self, class_names: list[str]) -> None:
        """Label the sample columns with the dataset's classes (conditional models)."""
        if self._conditional and self._plots_built:
            self._set_sample_ticks(class_names)

    def show_started(self, ev: Started) -> None:
        self._epochs, self._batches = ev.epochs, ev.batches_per_epoch
        self.progress_bar.setRange(0, ev.epochs * ev.batches_per_epoch)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("%p%")
        self.status_label.setText(
            f"Epoch 1 of {ev.epochs} — {self._dataset_title}, "
            f"{ev.train_size:,} images, on {ev.device}"
        )

    def show_batch(self, report: BatchReport) -> None:
        p = report.progress
        self.progress_bar.setValue((p.epoch - 1) * p.batches + p.batch)
        self.status_label.setText(
            f"Epoch {p.epoch} of {p.epochs} — batch {p.batch} of {p.batches}, loss {p.loss:.1f}"
        )
        self._batch_x.append(p.epoch - 1 + p.batch / p.batches)
        self._batch_y.append(report.smoothed_loss)
        self._request_redraw()
        eta = eta_seconds(p.epoch, p.epochs, p.batch, p.batches, p.elapsed_s)
        self._show_time(eta)

    def show_epoch(self, ev: EpochEnd) -> None:
        h = self._history
        h["epoch"].append(ev.epoch)
        h["vae_train"].append(ev.train.elbo_loss)
        h["vae_test"].append(ev.test.elbo_loss)
        h["cls_train"].append(ev.train.classifier)
        h["cls_test"].append(ev.test.classifier)
        self._rows.append(sample_strip(ev.samples))
        self._request_redraw()
        acc = f", test accuracy {ev.test_accuracy:.3f}" if ev.test_accuracy is not None else ""
        self.status_label.setText(
            f"Epoch {ev.epoch} of {ev.epochs} done — test loss {ev.test.elbo_loss:.1f} nats{acc}"
        )
        if self._batches:
            self.progress_bar.setValue(ev.epoch * self._batches)
        self._show_time(eta_seconds(ev.epoch, ev.epochs, 1, 1, ev.elapsed_s))

    def show_finished(self, ev: Finished) -> None:
        metrics = ev.record.metrics
        parts = [f"Done in {format_duration(self._clock.elapsed() / 1000)}"]
        details = []
        if metrics.get("test_accuracy") is not None:
            details.append(f"test accuracy {metrics['test_accuracy']:.3f}")
        if metrics.get("test_loss") is not None:
            details.append(f"test loss {metrics['test_loss']:.1f} nats")
        text = parts[0] + (" — " + ", ".join(details) if details else "")
        self._stop(text)
        self.progress_bar.setValue(self.progress_bar.maximum())

    def show_cancelled(self, ev: Cancelled) -> None:
        if ev.epochs_done:
            text = f"Cancelled after {ev.epochs_done} of {self._epochs} epochs"
        else:
            text = "Cancelled before the first epoch finished; nothing to keep"
        self._stop(text)
        self._offer(ev.record)

    def show_failed(self, ev: Failed) -> None:
        self._stop("Training failed")
        self.show_message(ev.message, error=True)
        self._offer(ev.record)

    def show_cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.status_label.setText(self.status_label.text() + " — cancelling after this batch…")

    def show_data_missing(self, dataset_title: str) -> None:
        self._stop(f"{dataset_title} data not found — training did not start")

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet("color: #d62728;" if error else "")
        self.message_label.setVisible(bool(text))

    # --- internals ----------------------------------------------------------------------------
    def _request_redraw(self) -> None:
        if not self._redraw.isActive():
            self._redraw.start()

    def _draw_samples(self) -> None:
        rows = len(self._rows)
        if rows == self._grid.shape[0] // TILE:
            return
        if rows == 0:
            self._grid = np.zeros((0, 10 * TILE), np.float32)
            self.sample_image.clear()
        else:
            self._grid = np.ascontiguousarray(np.concatenate(self._rows, axis=0))
            self.sample_image.setImage(self._grid, autoLevels=False, levels=(0.0, 1.0))
        self._set_row_ticks(rows)
        self.samples_plot.getViewBox().setRange(
            xRange=(0, 10 * TILE), yRange=(0, max(rows, 1) * TILE), padding=0.02
        )

    def _show_time(self, eta: float | None) -> None:
        self._eta = eta
        text = f"Elapsed {format_duration(self._clock.elapsed() / 1000)}"
        if eta is not None:
            text += f" · ETA {format_duration(eta)}"
        self.time_label.setText(text)

    def _show_class_plot(self, show: bool) -> None:
        """Plain VAEs have no classifier: remove its plot from the layout, not leave it empty."""
        layout = self.plots.ci
        present = self.class_plot in layout.items
        if show and not present:
            layout.addItem(self.class_plot, row=0, col=1)
        elif not show and present:
            layout.removeItem(self.class_plot)

    def _stop(self, status: str) -> None:
        self._running = False
        self._tick.stop()
        self._redraw.stop()
        self._on_redraw()
        if self.progress_bar.maximum() == 0:
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(0)
        self.status_label.setText(status)
        self.time_label.setText(f"Elapsed {format_duration(self._clock.elapsed() / 1000)}")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancel")

    def _offer(self, record: ModelRecord | None) -> None:
        self._offered = record
        if record is None:
            self.use_button.setVisible(False)
            return
        epoch = record.history[-1]["epoch"] if record.history else 0
        self.use_button.setText(f"Use model from epoch {epoch}")
        self.use_button.setToolTip("Load the weights saved at the end of that epoch")
        self.use_button.setVisible(True)

    # --- slots ------------------------------------------------------------------------------------
    @Slot()
    def _on_tick(self) -> None:
        if self._running:  # keep "Elapsed" ticking between (throttled) progress reports
            self._show_time(self._eta)

    @Slot()
    def _on_redraw(self) -> None:
        if not self._plots_built:  # nothing was ever run or shown: nothing to draw
            return
        # A redraw runs on the GUI thread while the user explores: it touches only what changed
        # (the epoch points and the class plot once an epoch) and keeps the axes' ranges unless
        # the data leaves them, since a range change re-lays and repaints every axis and grid.
        h = self._history
        self.batch_curve.setData(self._batch_x, self._batch_y)
        if self._drawn_epochs != len(h["epoch"]):
            self._drawn_epochs = len(h["epoch"])
            self.vae_train_curve.setData(h["epoch"], h["vae_train"])
            self.vae_test_curve.setData(h["epoch"], h["vae_test"])
            self.class_train_curve.setData(h["epoch"], h["cls_train"])
            self.class_test_curve.setData(h["epoch"], h["cls_test"])
        self._fit_vae_range()
        self._draw_samples()

    def _fit_vae_range(self) -> None:
        """Fit the y axis to the epoch points and the batch curve from mid-epoch 1 on.

        The first batches' loss (several hundred nats above the rest) would otherwise flatten
        every later difference into one line; headroom on top keeps the legend off the curves.
        The range changes only when the data leaves it or fills less than half of it.
        """
        h = self._history
        batch_y = np.asarray(self._batch_y, dtype=np.float64)
        if h["epoch"]:
            settled = batch_y[np.asarray(self._batch_x) >= 0.5]
            values = np.concatenate([settled, h["vae_train"], h["vae_test"]])
        else:
            values = batch_y
        values = values[np.isfinite(values)]
        if len(values) == 0:
            return
        low, high = float(values.min()), float(values.max())
        span = max(high - low, 1.0)
        want_low, want_high = low - 0.05 * span, high + 0.45 * span
        shown_low, shown_high = self.vae_plot.getViewBox().viewRange()[1]
        fits = shown_low <= low and high <= shown_high
        loose = shown_high - shown_low > 2.0 * (want_high - want_low)
        ours = not self.vae_plot.getViewBox().autoRangeEnabled()[1]  # setYRange turns auto off
        if ours and fits and not loose:
            return
        self.vae_plot.setYRange(want_low, want_high, padding=0)

    @Slot()
    def _on_cancel_clicked(self) -> None:
        self.cancel_requested.emit()

    @Slot()
    def _on_use_clicked(self) -> None:
        record = self._offered
        if record is not None:
            self.use_button.setVisible(False)
            self.use_record_requested.emit(record)
