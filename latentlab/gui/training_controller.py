"""Training from the menu: the dialog, the worker thread, the panel, and what happens at the end.

The main window owns one controller, puts ``controller.panel`` in a dock, connects
``model_trained`` to loading the new model and calls ``shutdown()`` when it closes. One run at a
time: asking for a second while one runs is refused with a message. The GUI thread never waits on
the run, except in ``shutdown()``, which cancels it first (the trainer stops within one batch).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QDialog, QMessageBox, QPushButton, QWidget

from latentlab.core.data import datasets
from latentlab.core.errors import DataError
from latentlab.core.text import first_line, one_line
from latentlab.core.vae.config import Config
from latentlab.core.vae.events import BatchProgress, Cancelled, EpochEnd, Failed, Finished, Started
from latentlab.core.vae.record import ModelRecord
from latentlab.core.vae.snapshots import SNAPSHOT_EVERY, LatentSnapshot
from latentlab.core.vae.training_job import BatchReport, DataMissing

from .data_dialog import DataDialog
from .train_dialog import TrainDialog
from .training_panel import TrainingPanel
from .training_worker import training_worker
from .workers import GeneratorWorker

log = logging.getLogger(__name__)

_run_ids = itertools.count(1)


@dataclass(frozen=True)
class _Run:
    """What was asked for, so a run can be restarted once its data is found."""

    id: int
    config: Config
    device: str
    data_dir: str | None


def _dataset_title(name: str) -> str:
    try:
        return datasets.get_spec(name).title
    except DataError:
        return name


class TrainingController(QObject):
    """Starts, shows, cancels and joins training runs; see the module docstring."""

    model_trained = Signal(object)  # ModelRecord
    running_changed = Signal(bool)
    run_started = Signal(object)  # Config: a new run began (the live view starts a new replay)
    snapshot_received = Signal(object)  # LatentSnapshot (throttled by the job)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._window = parent
        self.panel = TrainingPanel()
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.use_record_requested.connect(self._on_use_record)
        self._run: _Run | None = None
        self._worker: GeneratorWorker | None = None
        self._outcome: object | None = None  # the run's final event, acted on once it has ended
        self._progress: BatchProgress | None = None
        self._epochs_done = 0
        self._closing = False
        self._dialog: TrainDialog | None = None
        self._data_dialog: DataDialog | None = None
        self.message_box: QMessageBox | None = None  # the last message shown (tests read it)
        self.snapshot_every = SNAPSHOT_EVERY  # steps between live-view snapshots; 0: none
        self.follow_live = True  # the live training view opens and follows each run
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # --- public interface ------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._worker is not None

    @property
    def epochs_done(self) -> int:
        """Epochs of the current (or last) run that have finished, as the panel shows them."""
        return self._epochs_done

    @property
    def thread(self) -> QThread | None:
        """The running training thread (None when idle)."""
        return self._worker.thread if self._worker is not None else None

    @property
    def dialog(self) -> TrainDialog | None:
        """The Train dialog while it is open."""
        return self._dialog

    def open_dialog(self) -> None:
        """Model ▸ Train new model…: show the dialog (window-modal, not blocking); Start trains."""
        if self._closing or self._refuse_if_running():
            return
        if self._dialog is not None:
            self._dialog.raise_()
            self._dialog.activateWindow()
            return
        dialog = TrainDialog(self._window)
        dialog.finished.connect(self._on_dialog_finished)
        self._dialog = dialog
        dialog.open()

    def start(self, config: Config, *, device: str = "auto", data_dir: str | None = None) -> bool:
        """Start training ``config`` in a worker thread; False (with a message) if refused."""
        if self._closing:
            return False
        if self._refuse_if_running():
            return False
        run = _Run(next(_run_ids), config, device, data_dir)
        worker = training_worker(
            config, device=device, data_dir=data_dir, snapshot_every=self.snapshot_every
        )
        # The run's id rides along: a late signal of a run that was shut down is recognisable.
        worker.yielded.connect(lambda ev: self._on_event(run.id, ev))
        worker.returned.connect(lambda outcome: self._on_outcome(run.id, outcome))
        worker.cancelled.connect(lambda record: self._on_outcome(run.id, Cancelled.after(record)))
        worker.errored.connect(lambda exc: self._on_error(run.id, exc))
        worker.finished.connect(lambda: self._on_worker_finished(run.id))
        self._run, self._worker = run, worker
        self._outcome = None
        self._progress = None
        self._epochs_done = 0
        title = _dataset_title(config.dataset)
        self.panel.reset(config, title, device)
        with contextlib.suppress(DataError):  # an unknown dataset: the worker reports it
            self.panel.set_class_names(list(datasets.get_spec(config.dataset).class_names))
        worker.start()
        self.run_started.emit(config)
        self.running_changed.emit(True)
        return True

    def cancel(self) -> None:
        """Stop the run before its next batch; the weights of the last finished epoch are kept."""
        if self._worker is not None and not self._worker.token.cancelled:
            self._worker.quit()
            self.panel.show_cancelling()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel and join everything this controller started; safe to call twice.

        Afterwards the controller shows nothing more and refuses new runs (the window is closing).
        """
        self._closing = True
        if self._data_dialog is not None:
            self._data_dialog.done(QDialog.DialogCode.Rejected)  # joins a running download
        if self._dialog is not None:
            self._dialog.reject()
        if self._worker is not None:
            self._worker.quit()
            if self._worker.join(timeout_ms):
                self._end_run()

    # --- messages --------------------------------------------------------------------------------
    def _refuse_if_running(self) -> bool:
        if not self.is_running:
            return False
        where = ""
        if self._progress is not None:
            where = f" (epoch {self._progress.epoch} of {self._progress.epochs})"
        self._show_message(
            QMessageBox.Icon.Information,
            "Training already running",
            f"A model is already being trained{where}. Only one training run at a time: cancel it in "
            "the Training panel, or wait until it finishes, then start the new one.",
        )
        return True

    def _show_message(
        self, icon: QMessageBox.Icon, title: str, text: str, use: ModelRecord | None = None
    ) -> QMessageBox:
        """A window-modal box that does not block (``open``, not ``exec``)."""
        if self.message_box is not None:
            self.message_box.close()
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Close, self._window)
        if use is not None:
            epoch = use.history[-1]["epoch"] if use.history else 0
            button = box.addButton(
                f"Use model from epoch {epoch}", QMessageBox.ButtonRole.AcceptRole
            )
            button.setObjectName("useRecordButton")
            button.clicked.connect(lambda: self._on_use_record(use))
        box.open()
        self.message_box = box
        return box

    def use_button(self) -> QPushButton | None:
        """The "Use model from epoch k" button of the current message box, if it has one."""
        if self.message_box is None:
            return None
        return self.message_box.findChild(QPushButton, "useRecordButton")

    # --- worker signals (GUI thread) ---------------------------------------------------------
    def _current(self, run_id: int) -> bool:
        """False for a late signal of a run that was shut down (or of an earlier run)."""
        return not self._closing and self._run is not None and run_id == self._run.id

    def _on_event(self, run_id: int, ev: object) -> None:
        if not self._current(run_id):
            return
        match ev:
            case Started():
                self.panel.show_started(ev)
            case BatchReport():
                self._progress = ev.progress
                self.panel.show_batch(ev)
            case EpochEnd():
                self._epochs_done = ev.epoch
                self.panel.show_epoch(ev)
            case LatentSnapshot():
                self.snapshot_received.emit(ev)
            case _:
                log.warning("unknown training event %r", ev)

    def _on_outcome(self, run_id: int, outcome: object) -> None:
        """How the run ended; shown at once, acted on once its thread has ended."""
        if not self._current(run_id):
            return
        self._outcome = outcome
        match outcome:
            case Finished():
                self.panel.show_finished(outcome)
            case Cancelled():
                self.panel.show_cancelled(outcome)
            case Failed():
                self.panel.show_failed(outcome)
            case DataMissing():
                self.panel.show_data_missing(_dataset_title(outcome.dataset))

    def _on_error(self, run_id: int, exc: BaseException) -> None:
        log.error("training failed", exc_info=exc)
        self._on_outcome(run_id, Failed(one_line(exc), None))

    def _on_worker_finished(self, run_id: int) -> None:
        if self._worker is None or self._run is None or run_id != self._run.id:
            return  # already handled by shutdown(), or a late signal of an earlier run
        run, outcome = self._run, self._outcome
        self._end_run()
        if self._closing:
            return
        match outcome:
            case Finished():
                self.model_trained.emit(outcome.record)
            case Failed():
                self._show_message(
                    QMessageBox.Icon.Warning, "Training failed", outcome.message, outcome.record
                )
            case DataMissing():
                self._offer_data(run, outcome)
            case Cancelled():
                pass  # the panel offers the last finished epoch
            case None:
                self.panel.show_failed(Failed("training ended without a result", None))

    def _end_run(self) -> None:
        if self._worker is None:
            return
        self._worker = None
        self.running_changed.emit(False)

    def _offer_data(self, run: _Run, missing: DataMissing) -> None:
        """Ask for the data; train from the folder the user gets it into."""
        dialog = DataDialog(missing.dataset, missing.data_dir, missing.message, self._window)
        self._data_dialog = dialog
        try:
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
        finally:
            self._data_dialog = None
        folder = dialog.chosen_dir()
        if self._closing:
            return
        if accepted and folder:
            self.start(run.config, device=run.device, data_dir=folder)
        else:
            first = first_line(missing.message) or "data not found"
            self.panel.show_message(f"{first}. Training did not start.", error=True)

    # --- slots --------------------------------------------------------------------------------
    @Slot(int)
    def _on_dialog_finished(self, result: int) -> None:
        dialog, self._dialog = self._dialog, None
        if dialog is None:
            return
        dialog.deleteLater()
        config = dialog.config()
        if result == QDialog.DialogCode.Accepted and config is not None and not self._closing:
            self.follow_live = dialog.follow_live()
            self.start(config, device=dialog.device(), data_dir=dialog.data_dir())

    @Slot(object)
    def _on_use_record(self, record: ModelRecord) -> None:
        if not self._closing:
            self.model_trained.emit(record)
