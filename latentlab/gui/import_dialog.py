"""File > Import model…: pick ONNX graphs and a data set, see what was found, import with progress.

"Check" runs `inspect_import` on a worker (graphs are loaded and probed, the data's first image
read) and shows the detected shapes and layouts, or the error, in the dialog. "Import" runs
`run_import` on a worker with a progress bar and Cancel; the file is written atomically, so a
cancelled or failed import leaves nothing behind. ``imported(path)`` tells the window to open it.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.errors import LatentlabError
from latentlab.core.jobs import CancelToken, Progress, Throttle
from latentlab.core.text import first_line

from . import settings
from .workers import GeneratorWorker

JOIN_MS = 10_000
GRAPH_FILTER = "ONNX graphs (*.onnx);;All files (*)"
DATA_FILTER = "Image arrays and IDX files (*.npz *.npy *.gz *ubyte);;All files (*)"
SETTINGS_FOLDER = "import/folder"


def _pick_row(edit: QLineEdit, *buttons: QPushButton) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    for button in buttons:
        layout.addWidget(button)
    return row


def check_job(request: object) -> Generator[None, None, object]:
    """The worker's job for "Check": the plan, or the error it raises."""
    from latentlab.core.imported.importer import inspect_import

    yield
    return inspect_import(request)  # type: ignore[arg-type]


def import_job(plan: object, out: Path, token: CancelToken) -> Generator[Progress, None, Path]:
    """The worker's job for "Import": progress at most ten times a second, then the path."""
    from latentlab.core.imported.importer import run_import

    throttle = Throttle(0.1)
    job = run_import(plan, out, cancel=token)  # type: ignore[arg-type]
    while True:
        try:
            progress = next(job)
        except StopIteration as stop:
            return stop.value
        if throttle.ready(force=progress.stage != "encoding"):
            yield progress


# The core's messages name the command line's flags; in the dialog, its own fields.
DIALOG_WORDS = (
    ("give --encoder too", "choose an Encoder graph too"),
    ("give --data too", "choose the Data too"),
    ("pass --resize to scale", "tick \"Scale the data's images to the model's size\""),
    ("--class-names", "the class names"),
    (
        "say which with --layout and/or --image-shape",
        "the command line can say which (latentlab import --layout / --image-shape)",
    ),
    ("pass --output-range -1,1", 'choose "-1 … 1 (tanh)" for Decoder pixels'),
    ("pass --output logits", 'choose "logits" for Decoder pixels'),
    ("try --output logits", 'try "logits" for Decoder pixels'),
)


def in_dialog_words(message: str) -> str:
    for flag, words in DIALOG_WORDS:
        message = message.replace(flag, words)
    return message


class ImportDialog(QDialog):
    """The import form; emits ``imported(path)`` once a model file has been written."""

    imported = Signal(object)  # Path of the written model file
    running_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import model")
        self.setMinimumWidth(760)
        self._worker: GeneratorWorker | None = None
        self._plan: object = None

        self.decoder_edit = QLineEdit(placeholderText="required: z (N, d) [+ one-hot] -> images")
        self.encoder_edit = QLineEdit(placeholderText="optional: images -> mean [, log-variance]")
        self.classifier_edit = QLineEdit(placeholderText="optional: images -> class scores")
        self.data_edit = QLineEdit(placeholderText="optional: image folder, .npz, .npy or IDX file")
        self.attributes_edit = QLineEdit(placeholderText="optional: .csv, one row per image")
        self.names_edit = QLineEdit(
            placeholderText="optional: cat,dog,owl (else the folders' names)"
        )
        self.out_edit = QLineEdit(placeholderText="where to write the model file")
        self.range_combo = QComboBox()
        for text, value in (
            ("0 … 1 (sigmoid)", "0,1"),
            ("-1 … 1 (tanh)", "-1,1"),
            ("logits", "logits"),
        ):
            self.range_combo.addItem(text, value)
        self.resize_check = QCheckBox("Scale the data's images to the model's size")

        form = QFormLayout()
        form.addRow(
            "Decoder:", _pick_row(self.decoder_edit, self._browse(self.decoder_edit, GRAPH_FILTER))
        )
        form.addRow(
            "Encoder:", _pick_row(self.encoder_edit, self._browse(self.encoder_edit, GRAPH_FILTER))
        )
        form.addRow(
            "Classifier:",
            _pick_row(self.classifier_edit, self._browse(self.classifier_edit, GRAPH_FILTER)),
        )
        folder = QPushButton("Folder…")
        folder.clicked.connect(self._pick_data_folder)
        form.addRow(
            "Data:", _pick_row(self.data_edit, folder, self._browse(self.data_edit, DATA_FILTER))
        )
        form.addRow(
            "Attributes:",
            _pick_row(
                self.attributes_edit,
                self._browse(self.attributes_edit, "CSV files (*.csv);;All files (*)"),
            ),
        )
        form.addRow("Class names:", self.names_edit)
        form.addRow("Decoder pixels:", self.range_combo)
        form.addRow("", self.resize_check)
        save = QPushButton("Choose…")
        save.clicked.connect(self._pick_out)
        form.addRow("Save as:", _pick_row(self.out_edit, save))

        self.summary = QPlainTextEdit(readOnly=True)
        self.summary.setFont(QFont("monospace"))
        self.summary.setPlaceholderText(
            "Press Check to see what latentlab finds in the graphs and the data."
        )
        self.summary.setMinimumHeight(130)
        self.error_label = QLabel(wordWrap=True)
        self.error_label.setObjectName("importError")
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.hide()
        self.progress = QProgressBar()
        self.progress.hide()

        self.buttons = QDialogButtonBox()
        self.check_button = self.buttons.addButton("Check", QDialogButtonBox.ButtonRole.ActionRole)
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.check_button.clicked.connect(self.check)
        self.import_button.clicked.connect(self.start_import)
        self.cancel_button.clicked.connect(self._on_cancel)
        self.import_button.setEnabled(False)
        for edit in (
            self.decoder_edit,
            self.encoder_edit,
            self.classifier_edit,
            self.data_edit,
            self.attributes_edit,
            self.names_edit,
        ):
            edit.textChanged.connect(self._invalidate)
        self.range_combo.currentIndexChanged.connect(self._invalidate)
        self.resize_check.toggled.connect(self._invalidate)
        self.out_edit.textChanged.connect(self._update_buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("What was found:"))
        layout.addWidget(self.summary, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)

    # --- the form ---------------------------------------------------------------------------
    def _browse(self, edit: QLineEdit, filter_text: str) -> QPushButton:
        button = QPushButton("File…")

        def pick() -> None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Choose a file", self._folder(), filter_text
            )
            if path:
                self._remember(path)
                edit.setText(path)

        button.clicked.connect(pick)
        return button

    def _folder(self) -> str:
        """The import's own last folder, else the app's last folder (File > Open…), else ""."""
        value = settings.settings().value(SETTINGS_FOLDER, "")
        if isinstance(value, str) and value and Path(value).is_dir():
            return value
        return settings.last_folder() or ""

    def _remember(self, path: str, *, is_folder: bool = False) -> None:
        folder = Path(path) if is_folder else Path(path).parent
        settings.settings().setValue(SETTINGS_FOLDER, str(folder))
        settings.remember_folder(path, is_folder=is_folder)

    @Slot()
    def _pick_data_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose an image folder", self._folder())
        if path:
            self._remember(path, is_folder=True)
            self.data_edit.setText(path)

    @Slot()
    def _pick_out(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save the imported model as",
            self._folder(),
            "latentlab models (*.latentlab *.safetensors)",
        )
        if path:
            self._remember(path)
            self.out_edit.setText(path)

    def request(self) -> object:
        """The `ImportRequest` the form describes (LatentlabError when it is incomplete)."""
        from latentlab.core.imported.importer import ImportRequest

        def path(edit: QLineEdit) -> Path | None:
            text = edit.text().strip()
            return Path(text).expanduser() if text else None

        decoder = path(self.decoder_edit)
        if decoder is None:
            raise LatentlabError("choose the decoder graph (.onnx) first")
        names = self.names_edit.text().strip()
        return ImportRequest(
            decoder=decoder,
            encoder=path(self.encoder_edit),
            classifier=path(self.classifier_edit),
            data=path(self.data_edit),
            attributes=path(self.attributes_edit),
            class_names=tuple(n.strip() for n in names.split(",")) if names else None,
            output_range=self.range_combo.currentData(),
            resize=self.resize_check.isChecked(),
        )

    @Slot()
    def _invalidate(self) -> None:
        """The form changed: what was checked no longer holds."""
        if self._worker is None:
            self._plan = None
            self.summary.clear()
            self._update_buttons()

    @Slot()
    def _update_buttons(self) -> None:
        running = self._worker is not None
        self.check_button.setEnabled(not running)
        self.import_button.setEnabled(
            not running and self._plan is not None and bool(self.out_edit.text().strip())
        )
        self.import_button.setToolTip(
            "" if self._plan is not None else "Check the graphs and data first"
        )

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    # --- running ----------------------------------------------------------------------------
    @Slot()
    def check(self) -> None:
        """Inspect the graphs and data in the background and show what was found."""
        if self._worker is not None:
            return
        try:
            request = self.request()
        except LatentlabError as exc:
            self._show_error(first_line(exc))
            return
        self._show_error("")
        self.summary.setPlainText("Checking…")
        self._run(lambda token: check_job(request), self._on_checked)

    @Slot()
    def start_import(self) -> None:
        """Encode the data and write the model file in the background."""
        if self._worker is not None or self._plan is None:
            return
        out = Path(self.out_edit.text().strip()).expanduser()
        if out.exists() and not self.confirm_overwrite(out):
            return
        self._show_error("")
        self.progress.setRange(0, 0)
        self.progress.show()
        plan = self._plan
        self._run(lambda token: import_job(plan, out, token), self._on_imported)

    def confirm_overwrite(self, out: Path) -> bool:
        """Ask before an import replaces a file that is already there (a model, most likely)."""
        answer = QMessageBox.question(
            self,
            "Replace the file?",
            f"{out.name} already exists in {out.parent}.\nReplace it with the imported model?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _run(self, job, on_returned) -> None:
        worker = GeneratorWorker(job, name="latentlab-import", parent=self)
        worker.yielded.connect(self._on_progress)
        worker.returned.connect(on_returned)
        worker.errored.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        worker.finished.connect(self._on_finished)
        self._worker = worker
        self._update_buttons()
        self.running_changed.emit(True)
        worker.start()

    @Slot(object)
    def _on_progress(self, progress: object) -> None:
        if isinstance(progress, Progress) and progress.total > 0:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)
            self.progress.setFormat(f"{progress.stage} %v / %m")

    @Slot(object)
    def _on_checked(self, plan: object) -> None:
        self._plan = plan
        self.summary.setPlainText("\n".join(plan.summary()))  # type: ignore[attr-defined]
        if not self.out_edit.text().strip():
            decoder = Path(self.decoder_edit.text().strip())
            self.out_edit.setText(str(decoder.with_name(decoder.stem + ".latentlab")))

    @Slot(object)
    def _on_imported(self, path: object) -> None:
        self.progress.hide()
        self.imported.emit(path)
        self.accept()

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self.progress.hide()
        if self.summary.toPlainText() == "Checking…":
            self.summary.clear()
        message = (
            first_line(exc)
            if isinstance(exc, LatentlabError | ValueError | OSError)
            else f"unexpected error: {exc!r}"
        )
        self._show_error(in_dialog_words(message))

    @Slot(object)
    def _on_cancelled(self, _partial: object) -> None:
        self.progress.hide()
        self._show_error("Import cancelled; nothing was written.")

    @Slot()
    def _on_finished(self) -> None:
        self._worker = None
        self._update_buttons()
        self.running_changed.emit(False)

    @Slot()
    def _on_cancel(self) -> None:
        if self._worker is not None:
            self._worker.quit()
        else:
            self.reject()

    def shutdown(self) -> None:
        """Cancel a running job and wait for its thread (closing, quitting)."""
        if self._worker is not None:
            self._worker.quit()
            self._worker.join(JOIN_MS)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def reject(self) -> None:
        self.shutdown()
        super().reject()
