"""File menu work: open, recent and bundled models, Save as…, exports, and the unsaved guard.

The actions read and change the explorer state's document (its path and saved flag); loading
goes through the window's loader, off the GUI thread. File dialogs start in the folder the user
last used (remembered between runs).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from latentlab.core.bundled import bundled_models
from latentlab.core.errors import LatentlabError
from latentlab.core.explore.state import ExplorerState
from latentlab.core.text import about_path

from . import settings
from .capabilities import record_of, save_reason
from .image_view import to_qimage

MODEL_FILTER = "latentlab models (*.safetensors *.latentlab);;All files (*)"
PNG_FILTER = "PNG images (*.png)"
EXPORT_SCALE = 10  # exported images: each model pixel a crisp 10 x 10 block
LAST_FOLDER_KEY = settings.LAST_FOLDER_KEY
Answer = QMessageBox.StandardButton
UnsavedQuestion = Callable[[bool], QMessageBox.StandardButton]  # allow_cancel -> answer


def ask_unsaved(parent: QWidget, allow_cancel: bool) -> QMessageBox.StandardButton:
    """Save / Discard (/ Cancel) for a model that was never saved."""
    buttons = Answer.Save | Answer.Discard
    if allow_cancel:
        buttons |= Answer.Cancel
    return QMessageBox.question(
        parent,
        "Unsaved model",
        "The trained model has not been saved. Save it before it is closed?",
        buttons,
        Answer.Save,
    )


class FileActions(QObject):
    """What the File menu does, for the window `parent`."""

    def __init__(
        self,
        parent: QWidget,
        state: ExplorerState,
        open_model: Callable[[str], None],
        ask: UnsavedQuestion | None = None,
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self.state = state
        self._open_model = open_model
        # Who answers "save the unsaved model?": a dialog, or a test's answer.
        self.ask_unsaved: UnsavedQuestion = ask or (lambda cancel: ask_unsaved(parent, cancel))
        self.status: Callable[[str], None] = lambda message: None

    # --- folders ----------------------------------------------------------------------------
    def start_folder(self) -> Path:
        """Where a file dialog opens: the last folder used, else the model's, else home."""
        remembered = settings.last_folder()
        if remembered is not None:
            return Path(remembered)
        document = self.state.document
        if document is not None and document.path is not None:
            return document.path.parent
        return Path.home()

    def remember_folder(self, path: str | Path) -> None:
        settings.remember_folder(path)

    # --- opening ----------------------------------------------------------------------------
    @Slot()
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self._parent, "Open model", str(self.start_folder()), MODEL_FILTER
        )
        if path:
            self.remember_folder(path)
            self.open_confirmed(path)

    def open_confirmed(self, path: str) -> None:
        """Open `path` once the unsaved model (if any) is saved or given up."""
        if self.confirm_discard():
            self._open_model(path)

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        recent = settings.recent_models()
        for path in recent:
            act = menu.addAction(Path(path).name)
            act.setToolTip(path)
            act.setStatusTip(path)
            act.triggered.connect(lambda _=False, p=path: self.open_confirmed(p))
        if not recent:
            menu.addAction("(none yet)").setEnabled(False)
        menu.setToolTipsVisible(True)

    def fill_bundled_menu(self, menu: QMenu) -> None:
        menu.clear()
        models = bundled_models()
        for path in models:
            act = menu.addAction(path.name)
            act.triggered.connect(lambda _=False, p=str(path): self.open_confirmed(p))
        if not models:
            menu.addAction("(no bundled models found)").setEnabled(False)

    # --- saving -----------------------------------------------------------------------------
    @Slot()
    def save_as(self) -> bool:
        """Save the current model (atomically); True when it was written."""
        document = self.state.document
        if document is None or record_of(document) is None:
            if document is not None:
                self.status(save_reason(document))
            return False
        name = document.path.name if document.path else "untitled.safetensors"
        path, _ = QFileDialog.getSaveFileName(
            self._parent, "Save model as", str(self.start_folder() / name), MODEL_FILTER
        )
        if not path:
            return False
        target = Path(path)
        if target.suffix != ".safetensors":
            target = target.with_name(target.name + ".safetensors")
        return self.save_to(target)

    def save_to(self, target: Path) -> bool:
        from latentlab.core.vae.checkpoint import save_model

        document = self.state.document
        record = record_of(document)
        if document is None or record is None:
            self.status(save_reason(document))
            return False
        try:
            save_model(record, target)
        except (OSError, LatentlabError) as exc:
            QMessageBox.critical(self._parent, "Could not save the model", about_path(target, exc))
            return False
        self.remember_folder(target)
        settings.add_recent_model(target)
        self.state.update_document(document.saved_as(target.resolve()))
        self.status(f"Saved {target}")
        return True

    def confirm_discard(self, allow_cancel: bool = True) -> bool:
        """True when it is fine to close the current model (saved, or the user chose)."""
        document = self.state.document
        if document is None or not document.unsaved or record_of(document) is None:
            return True  # saved, or (a live model) nothing the app could save it to
        answer = self.ask_unsaved(allow_cancel)
        if answer == Answer.Save:
            return self.save_as() or not allow_cancel
        return answer == Answer.Discard or not allow_cancel

    # --- exports ----------------------------------------------------------------------------
    def export_image(self, image: object) -> None:
        if image is None:
            return
        path = self._ask_png_path("Export image", "image.png")
        if path and not to_qimage(image, EXPORT_SCALE).save(path, "PNG"):
            QMessageBox.critical(
                self._parent, "Could not export the image", f"{path}: could not write"
            )

    def export_scatter(self, export: Callable[[str], None]) -> None:
        path = self._ask_png_path("Export scatter", "latent-scatter.png")
        if not path:
            return
        try:
            export(path)
        except Exception as exc:  # pyqtgraph's exporter raises plain exceptions
            QMessageBox.critical(self._parent, "Could not export the scatter", f"{path}: {exc}")

    def _ask_png_path(self, title: str, name: str) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self._parent, title, str(self.start_folder() / name), PNG_FILTER
        )
        if path and not path.lower().endswith(".png"):
            path += ".png"
        if path:
            self.remember_folder(path)
        return path


def discard_unsaved(allow_cancel: bool) -> QMessageBox.StandardButton:
    """An `ask_unsaved` that never asks: for scripts and benchmarks that close the window."""
    return Answer.Discard
