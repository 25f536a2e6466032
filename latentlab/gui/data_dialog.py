"""The dataset is missing: offer to download it, or to choose the folder that holds its files.

Training never starts blind: the controller opens this dialog with the ``DataError`` text (what
was looked for, where, and why each folder failed). The download runs in a worker thread with a
progress bar and can be cancelled; if it fails, its error replaces the text and the user can still
choose a folder or give up.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.data import datasets
from latentlab.core.data.download import DownloadCancelled, DownloadProgress
from latentlab.core.errors import DataError

from .training_worker import one_line
from .workers import Throttle, WorkerThread, join

PROGRESS_INTERVAL_S = 0.1


class DownloadWorker(QObject):
    """Runs ``datasets.fetch`` in a worker thread; ``cancel()`` is thread-safe."""

    progress = Signal(object)  # DownloadProgress, throttled
    succeeded = Signal(str)  # the folder now holding the files
    failed = Signal(str)  # the DataError text
    cancelled = Signal()

    def __init__(self, dataset: str, data_dir: str | None) -> None:
        super().__init__()
        self.dataset = dataset
        self.data_dir = data_dir
        self._cancel = threading.Event()
        self._throttle = Throttle(PROGRESS_INTERVAL_S)

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        try:
            folder = datasets.fetch(
                self.dataset, self.data_dir, progress=self._report, cancel=self._cancel
            )
        except DownloadCancelled:
            self.cancelled.emit()
        except DataError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:
            self.failed.emit(one_line(exc))
        else:
            self.succeeded.emit(str(folder))

    def _report(self, p: DownloadProgress) -> None:
        if self._throttle.ready(force=p.total is not None and p.done >= p.total):
            self.progress.emit(p)


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class DataDialog(QDialog):
    """After ``exec()`` returns Accepted, ``chosen_dir()`` is the folder to train from."""

    def __init__(
        self, dataset: str, data_dir: str | None, error: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.dataset = dataset
        self.data_dir = data_dir
        self._chosen: str | None = None
        self._thread: WorkerThread | None = None
        self._worker: DownloadWorker | None = None
        try:
            spec = datasets.get_spec(dataset)
            title, can_download = spec.title, bool(spec.mirrors) or _env_mirrors()
        except DataError:
            title, can_download = dataset, False
        target = data_dir or str(_cache_dir(dataset))
        self.setWindowTitle(f"{title} data not found")

        self.heading = QLabel(
            f"Training needs the {title} dataset, but its files were not found. "
            "Download them, or choose the folder that holds them."
        )
        self.heading.setWordWrap(True)
        self.details = QPlainTextEdit(error)
        self.details.setReadOnly(True)
        self.details.setMinimumSize(560, 160)
        self.progress_bar = QProgressBar()
        self.progress_bar.setVisible(False)
        self.progress_label = QLabel()
        self.progress_label.setVisible(False)

        self.download_button = QPushButton("Download")
        self.download_button.setToolTip(f"Download into {target} (internet needed)")
        self.download_button.setEnabled(can_download)
        self.choose_button = QPushButton("Choose folder…")
        self.choose_button.setToolTip("A folder holding the four IDX files, gzipped or not")
        self.buttons = QDialogButtonBox()
        self.buttons.addButton(self.download_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.choose_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.download_button.clicked.connect(self._on_download)
        self.choose_button.clicked.connect(self._on_choose)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.details, 1)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.buttons)

    def chosen_dir(self) -> str | None:
        return self._chosen

    @property
    def downloading(self) -> bool:
        return self._thread is not None

    # --- closing --------------------------------------------------------------------------------
    def reject(self) -> None:
        """While downloading, Cancel (or Esc) stops the download and keeps the dialog open."""
        if self._worker is not None:
            self._worker.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Cancelling the download…")
            return
        super().reject()

    def done(self, result: int) -> None:
        self.stop_download()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._worker is not None:
            self.reject()  # first close cancels the download
            event.ignore()
            return
        super().closeEvent(event)

    def stop_download(self, timeout_ms: int = 5000) -> None:
        """Cancel a running download and join its thread (the partial file is removed by fetch)."""
        if self._worker is not None:
            self._worker.cancel()
        join(self._thread, timeout_ms)

    # --- slots ------------------------------------------------------------------------------------
    @Slot()
    def _on_choose(self) -> None:
        start = self.data_dir or str(Path.home())
        folder = QFileDialog.getExistingDirectory(
            self, "Folder holding the dataset's IDX files", start
        )
        if folder:
            self._chosen = folder
            self.accept()

    @Slot()
    def _on_download(self) -> None:
        if self._thread is not None:
            return
        self._worker = DownloadWorker(self.dataset, self.data_dir)
        self._worker.progress.connect(self._on_progress)
        self._worker.succeeded.connect(self._on_succeeded)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._thread = WorkerThread(self._worker.run, "latentlab-download")
        self._thread.finished.connect(self._on_thread_finished)
        self.download_button.setEnabled(False)
        self.choose_button.setEnabled(False)
        self.cancel_button.setText("Cancel download")
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setVisible(True)
        self.progress_label.setText("Connecting…")
        self.progress_label.setVisible(True)
        self._thread.start()

    @Slot(object)
    def _on_progress(self, p: DownloadProgress) -> None:
        if p.total:
            self.progress_bar.setRange(0, p.total)
            self.progress_bar.setValue(min(p.done, p.total))
            self.progress_label.setText(
                f"{p.filename}: {_megabytes(p.done)} of {_megabytes(p.total)}"
            )
        else:
            self.progress_bar.setRange(0, 0)
            self.progress_label.setText(f"{p.filename}: {_megabytes(p.done)}")

    @Slot(str)
    def _on_succeeded(self, folder: str) -> None:
        self._chosen = folder
        self.progress_label.setText(f"Downloaded into {folder}")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.heading.setText(
            "The download failed. Choose the folder that holds the files, or try again later."
        )
        self.details.setPlainText(message)

    @Slot()
    def _on_cancelled(self) -> None:
        self.progress_label.setText("Download cancelled.")

    @Slot()
    def _on_thread_finished(self) -> None:
        """The worker's last signal has been delivered before this (same queue, same order)."""
        if self._thread is None:
            return
        self._thread.wait(5000)  # it has emitted `finished`; let it leave its last few lines
        self._thread = None
        self._worker = None
        if self._chosen is not None:
            self.accept()
            return
        self.progress_bar.setVisible(False)
        self.download_button.setEnabled(True)
        self.choose_button.setEnabled(True)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")


def _env_mirrors() -> bool:
    return bool(os.environ.get(datasets.MIRRORS_ENV, "").strip())


def _cache_dir(dataset: str) -> Path | str:
    try:
        return datasets.cache_dir(dataset)
    except DataError:
        return "the user cache"
