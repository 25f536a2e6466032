"""File > Preferences…: the one data folder every feature reads images from, and the download switch.

The folder is `settings.data_dir` (the training dialog's folder field shows the same value); the
test images, Model > Evaluate and training all look there first, then in the usual folders
(``LATENTLAB_DATA_DIR``, the user cache, system folders). *Get the data…* opens the data dialog
for a dataset: locate its folder, or download it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.data import datasets
from latentlab.core.errors import DataError

from . import settings

USUAL_FOLDERS = "the usual folders (LATENTLAB_DATA_DIR, the user cache, system folders)"
DATASETS = ("mnist", "fashion-mnist")


class PreferencesDialog(QDialog):
    """Edits the settings in place: OK saves them (and tells every reader of data)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.data_dialog: QDialog | None = None

        self.data_dir_edit = QLineEdit(settings.data_dir() or "")
        self.data_dir_edit.setPlaceholderText("none: search the usual folders")
        self.data_dir_edit.setToolTip(
            "Folder holding the IDX files of MNIST or Fashion-MNIST (or a <name> subfolder for "
            "each); used by the test images, Model > Evaluate and training. Empty: search "
            + USUAL_FOLDERS
        )
        self.data_dir_edit.setMinimumWidth(380)
        self.choose_button = QPushButton("Choose…")
        self.choose_button.clicked.connect(self._on_choose)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip(f"Search {USUAL_FOLDERS}")
        self.clear_button.clicked.connect(self.data_dir_edit.clear)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.data_dir_edit, 1)
        folder_row.addWidget(self.choose_button)
        folder_row.addWidget(self.clear_button)

        self.download_check = QCheckBox("Download missing datasets (needs internet access)")
        self.download_check.setChecked(settings.downloads_allowed())
        self.download_check.setToolTip(
            "When a dataset is not found, offer to download it from its public mirrors "
            "(checksummed) into the chosen folder or the user cache"
        )

        get_row = QHBoxLayout()
        self.get_buttons: dict[str, QPushButton] = {}
        for name in DATASETS:
            title = _title(name)
            button = QPushButton(f"Get {title}…")
            button.setToolTip(f"Find the {title} files, or download them")
            button.clicked.connect(lambda _checked=False, n=name: self.get_data(n))
            get_row.addWidget(button)
            self.get_buttons[name] = button
        get_row.addStretch(1)

        form = QFormLayout()
        form.addRow("Data folder", folder_row)
        form.addRow("", self.download_check)
        form.addRow("Datasets", get_row)
        note = QLabel(
            "The test images beside the scatter, Model > Evaluate and training read the data "
            "from this folder first."
        )
        note.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.status)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def chosen_data_dir(self) -> str | None:
        return self.data_dir_edit.text().strip() or None

    def accept(self) -> None:
        self.apply()
        super().accept()

    def apply(self) -> None:
        settings.set_downloads_allowed(self.download_check.isChecked())
        settings.set_data_dir(self.chosen_data_dir())

    @Slot()
    def _on_choose(self) -> None:
        start = self.chosen_data_dir() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Folder holding the datasets", start)
        if folder:
            self.data_dir_edit.setText(folder)

    def get_data(self, dataset: str) -> QDialog | None:
        """Look for `dataset`; found, say where; missing, open the data dialog (locate or
        download it) and return it."""
        from .data_dialog import DataDialog

        self.apply()  # the dialog reads the switch and the folder
        title = _title(dataset)
        try:
            folder = datasets.locate(dataset, self.chosen_data_dir())
        except DataError as exc:
            error = str(exc)
        else:
            self.status.setText(f"{title}: found in {folder}")
            return None
        self.status.setText(f"{title}: not found")
        dialog = DataDialog(dataset, self.chosen_data_dir(), error, self, purpose="latentlab uses")
        dialog.accepted.connect(lambda: self._on_data_found(title, dialog))
        self.data_dialog = dialog
        dialog.open()
        return dialog

    def _on_data_found(self, title: str, dialog: QDialog) -> None:
        self.data_dir_edit.setText(settings.data_dir() or "")  # a chosen folder is the setting
        self.status.setText(f"{title}: in {dialog.chosen_dir()}")  # type: ignore[attr-defined]

    def done(self, result: int) -> None:
        if self.data_dialog is not None:
            self.data_dialog.stop_download()  # type: ignore[attr-defined]
        super().done(result)


def _title(name: str) -> str:
    try:
        return datasets.get_spec(name).title
    except DataError:
        return name
