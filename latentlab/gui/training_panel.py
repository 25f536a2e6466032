"""The training dock: status, progress, elapsed time and ETA, cancel, and the run's plots.

The panel only shows what the controller hands it (plain event data from the worker). Labels
change at once; the loss curves and the sample grid (`TrainingPlots`) are redrawn a few times a
second, and always when a run ends.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.vae.config import Config
from latentlab.core.vae.events import Cancelled, EpochEnd, Failed, Finished, Started
from latentlab.core.vae.record import ModelRecord
from latentlab.core.vae.training_job import BatchReport

from .training_plots import TrainingPlots


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
        self._eta: float | None = None

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
        self._plots: TrainingPlots | None = None

        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.status_label)
        self._layout.addLayout(top)
        self._layout.addWidget(self.message_label)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)

    # --- the plots ---------------------------------------------------------------------------
    def _ensure_plots(self) -> TrainingPlots:
        """Build the loss plots and the sample grid, once."""
        if self._plots is None:
            self._plots = TrainingPlots()
            self._layout.addWidget(self._plots, 1)
        return self._plots

    @property
    def training_plots(self) -> TrainingPlots:
        return self._ensure_plots()

    # the plot items, by the names the panel has always had
    plots = property(lambda self: self.training_plots.plots)
    vae_plot = property(lambda self: self.training_plots.vae_plot)
    class_plot = property(lambda self: self.training_plots.class_plot)
    batch_curve = property(lambda self: self.training_plots.batch_curve)
    vae_train_curve = property(lambda self: self.training_plots.vae_train_curve)
    vae_test_curve = property(lambda self: self.training_plots.vae_test_curve)
    class_train_curve = property(lambda self: self.training_plots.class_train_curve)
    class_test_curve = property(lambda self: self.training_plots.class_test_curve)
    sample_image = property(lambda self: self.training_plots.sample_image)
    samples_plot = property(lambda self: self.training_plots.samples_plot)

    def showEvent(self, event: QShowEvent) -> None:
        self._ensure_plots()  # View > Training before any run: empty plots, not a blank panel
        super().showEvent(event)

    # --- what the tests and the controller read -------------------------------------------
    @property
    def sample_rows(self) -> int:
        """Epochs whose samples the panel holds (drawn at the next redraw)."""
        return 0 if self._plots is None else self._plots.sample_rows

    @property
    def sample_grid(self) -> np.ndarray:
        """The image on screen: one row of samples per epoch drawn so far."""
        return self._ensure_plots().sample_grid

    @property
    def offered_record(self) -> ModelRecord | None:
        return self._offered

    @property
    def is_running(self) -> bool:
        return self._running

    # --- one run, from start to end -------------------------------------------------------
    def reset(self, config: Config, dataset_title: str, device: str) -> None:
        """Clear everything for a new run of ``config``."""
        self._ensure_plots().reset(config)
        self._running = True
        self._epochs = config.epochs
        self._batches = 0
        self._dataset_title = dataset_title
        self._offered = None
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
        if self._plots is not None:
            self._plots.set_class_names(class_names)

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
        self._ensure_plots().add_batch(p.epoch - 1 + p.batch / p.batches, report.smoothed_loss)
        eta = eta_seconds(p.epoch, p.epochs, p.batch, p.batches, p.elapsed_s)
        self._show_time(eta)

    def show_epoch(self, ev: EpochEnd) -> None:
        self._ensure_plots().add_epoch(ev)
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
    def _show_time(self, eta: float | None) -> None:
        self._eta = eta
        text = f"Elapsed {format_duration(self._clock.elapsed() / 1000)}"
        if eta is not None:
            text += f" · ETA {format_duration(eta)}"
        self.time_label.setText(text)

    def _stop(self, status: str) -> None:
        self._running = False
        self._tick.stop()
        if self._plots is not None:
            self._plots.finish()
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
    def _on_cancel_clicked(self) -> None:
        self.cancel_requested.emit()

    @Slot()
    def _on_use_clicked(self) -> None:
        record = self._offered
        if record is not None:
            self.use_button.setVisible(False)
            self.use_record_requested.emit(record)
