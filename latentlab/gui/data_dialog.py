"""The dataset is missing: offer to download it, or to choose the folder that holds its files.

Every feature that reads images (training, Model > Evaluate, the test images, Preferences) opens
this dialog with the ``DataError`` text (what was looked for, where, and why each folder failed).
A chosen folder becomes the app's data folder setting (`settings.set_data_dir`), so every other
feature finds the files there too; a finished download tells them the same way. The download runs in a worker thread with a
progress bar and can be cancelled; if it fails, its error replaces the text and the user can still
choose a folder or give up.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Slot
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
from latentlab.core.data.download import DownloadProgress
from latentlab.core.errors import DataError
from latentlab.core.jobs import CancelToken, Throttle
from latentlab.core.text import one_line

from . import settings
from .workers import GeneratorWorker

PROGRESS_INTERVAL_S = 0.1
PREFERENCES_PLACE = "File > Preferences…"
DOWNLOAD_OFF_TIP = f'Downloading is off: turn on "Download missing datasets" in {PREFERENCES_PLACE}'


def download_job(
    dataset: str, data_dir: str | None, progress: Callable[[DownloadProgress], None]
) -> Callable[[CancelToken], str]:
    """The job for a `GeneratorWorker`: fetch ``dataset``, report throttled progress, return the
    folder now holding its files. Cancelled, ``fetch`` raises (a `JobCancelled`) and leaves no
    partial file behind."""
    throttle = Throttle(PROGRESS_INTERVAL_S)

    def report(p: DownloadProgress) -> None:
        if throttle.ready(force=p.total is not None and p.done >= p.total):
            progress(p)

    def job(token: CancelToken) -> str:
        return str(datasets.fetch(dataset, data_dir, progress=report, cancel=token))

    return job


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class DataDialog(QDialog):
    """After ``exec()`` returns Accepted, ``chosen_dir()`` is the folder to train from."""

    def __init__(
        self,
        dataset: str,
        data_dir: str | None,
        error: str,
        parent: QWidget | None = None,
        *,
        purpose: str = "Training needs",
    ) -> None:
        super().__init__(parent)
        self.dataset = dataset
        self.data_dir = data_dir
        self._chosen: str | None = None
        self._worker: GeneratorWorker | None = None
        try:
            spec = datasets.get_spec(dataset)
            title, has_mirrors = spec.title, bool(spec.mirrors) or _env_mirrors()
        except DataError:
            title, has_mirrors = dataset, False
        allowed = settings.downloads_allowed()
        target = data_dir or str(_cache_dir(dataset))
        self.setWindowTitle(f"{title} data not found")

        self.heading = QLabel(
            f"{purpose} the {title} dataset, but its files were not found. "
            + (
                "Download them, or choose the folder that holds them."
                if allowed and has_mirrors
                else "Choose the folder that holds them."
            )
        )
        self.heading.setWordWrap(True)
        self.details = QPlainTextEdit(_for_the_app(error, allowed))
        self.details.setReadOnly(True)
        self.details.setMinimumSize(560, 160)
        self.progress_bar = QProgressBar()
        self.progress_bar.setVisible(False)
        self.progress_label = QLabel()
        self.progress_label.setVisible(False)

        self.download_button = QPushButton("Download")
        if not has_mirrors:
            self.download_button.setToolTip(f"No download address is known for {title}")
        elif not allowed:
            self.download_button.setToolTip(DOWNLOAD_OFF_TIP)
        else:
            self.download_button.setToolTip(f"Download into {target} (internet needed)")
        self.download_button.setEnabled(has_mirrors and allowed)
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
        return self._worker is not None

    # --- closing --------------------------------------------------------------------------------
    def reject(self) -> None:
        """While downloading, Cancel (or Esc) stops the download and keeps the dialog open."""
        if self._worker is not None:
            self._worker.quit()
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
            self._worker.quit()
            self._worker.join(timeout_ms)

    # --- slots ------------------------------------------------------------------------------------
    @Slot()
    def _on_choose(self) -> None:
        start = self.data_dir or str(Path.home())
        folder = QFileDialog.getExistingDirectory(
            self, "Folder holding the dataset's IDX files", start
        )
        if folder:
            self._chosen = folder
            settings.set_data_dir(folder)  # every feature that reads images looks here now
            self.accept()

    @Slot()
    def _on_download(self) -> None:
        if self._worker is not None:
            return
        worker = GeneratorWorker(
            download_job(self.dataset, self.data_dir, lambda p: worker.report(p)),
            name="latentlab-download",
            parent=self,
        )
        worker.yielded.connect(self._on_progress)
        worker.returned.connect(self._on_succeeded)
        worker.errored.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        worker.finished.connect(self._on_worker_finished)
        self._worker = worker
        self.download_button.setEnabled(False)
        self.choose_button.setEnabled(False)
        self.cancel_button.setText("Cancel download")
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setVisible(True)
        self.progress_label.setText("Connecting…")
        self.progress_label.setVisible(True)
        worker.start()

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
        settings.data_notifier().changed.emit()  # the test images, Evaluate: try again

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, DataError) else one_line(exc)
        self.heading.setText(
            "The download failed. Choose the folder that holds the files, or try again later."
        )
        self.details.setPlainText(_for_the_app(message, True))
        self.progress_label.setVisible(False)  # no stale "Connecting…" under the error

    @Slot(object)
    def _on_cancelled(self, _partial: object) -> None:
        self.progress_label.setText("Download cancelled.")

    @Slot()
    def _on_worker_finished(self) -> None:
        """The worker's outcome has been delivered before this (same queue, same order)."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.deleteLater()
        if self._chosen is not None:
            self.accept()
            return
        self.progress_bar.setVisible(False)
        self.download_button.setEnabled(True)
        self.choose_button.setEnabled(True)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")


def _for_the_app(error: str, allowed: bool) -> str:
    """The core's text, with its "turn it on" pointing at the app's switch (or the button)."""
    lines = []
    for line in error.splitlines():
        if line.startswith("Downloading is off"):
            line = (
                "Press Download to fetch the files (needs internet access)."
                if allowed
                else f"{DOWNLOAD_OFF_TIP} (needs internet access)."
            )
        lines.append(line)
    return "\n".join(lines)


def _env_mirrors() -> bool:
    return bool(os.environ.get(datasets.MIRRORS_ENV, "").strip())


def _cache_dir(dataset: str) -> Path | str:
    try:
        return datasets.cache_dir(dataset)
    except DataError:
        return "the user cache"
