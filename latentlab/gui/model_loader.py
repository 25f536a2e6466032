"""Background loading: model files, trained records and the test images, off the GUI thread.

One worker QObject lives in one QThread and takes jobs in order. Reading and validating a file
(``load_model``) and building the explorer state (PCA of 10,000 latents) happen there; the result
crosses back in one queued signal carrying plain Python objects, and the window swaps models in
one step. The worker never touches a widget.

The newest request wins: every model request gets a number; a job whose number is no longer the
newest when the thread reaches it is skipped, and a result that arrives after a newer request was
made is dropped. So opening B while A is still loading shows B, never A after B.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from latentlab.core.errors import LatentlabError
from latentlab.core.explore.document import Document
from latentlab.core.vae.latent_model import vae_document
from latentlab.core.vae.record import ModelRecord

TestData = tuple[np.ndarray, np.ndarray]  # (N, H, W) uint8 images, (N,) uint8 labels
TestDataLoader = Callable[[str], TestData]


def load_test_data(dataset: str) -> TestData:
    """The test split of `dataset` from the usual data folders (no download)."""
    from latentlab.core.data.datasets import load_test_split

    return load_test_split(dataset)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _Worker(QObject):
    """Runs in the loader thread; talks only through signals."""

    model_ready = Signal(int, object, object)  # request id, source path (str | None), Explorer
    model_failed = Signal(int, object, str)  # request id, source path (str | None), message
    test_ready = Signal(int, object)  # request id, TestData
    test_failed = Signal(int, str)  # request id, message

    def __init__(self, latest: Callable[[], int], test_loader: TestDataLoader) -> None:
        super().__init__()
        self._latest = latest
        self._test_loader = test_loader

    @Slot(int, object, object)
    def build(self, request: int, path: str | None, record: ModelRecord | None) -> None:
        if request != self._latest():
            return  # a newer request is queued behind this one
        try:
            if record is None:
                from latentlab.core.vae.checkpoint import load_model

                record = load_model(path)
            explorer = vae_document(record, Path(path).resolve() if path else None, path is None)
        except LatentlabError as exc:
            self.model_failed.emit(request, path, _first_line(exc))
        except (ValueError, OSError) as exc:
            where = f"{path}: " if path else ""
            self.model_failed.emit(request, path, where + _first_line(exc))
        except Exception as exc:  # a bug, still reported rather than lost in the thread
            where = f"{path}: " if path else ""
            self.model_failed.emit(request, path, f"{where}unexpected error: {exc!r}")
        else:
            self.model_ready.emit(request, path, explorer)

    @Slot(int, str)
    def load_test(self, request: int, dataset: str) -> None:
        try:
            images, labels = self._test_loader(dataset)
        except Exception as exc:
            self.test_failed.emit(request, _first_line(exc))
        else:
            self.test_ready.emit(request, (images, labels))


class ModelLoader(QObject):
    """GUI-side handle of the loader thread: request jobs, receive only the newest results."""

    loaded = Signal(object, object)  # source path (str | None for a trained record), Explorer
    failed = Signal(object, str)  # source path (str | None), one-line message
    test_data_loaded = Signal(str, object)  # dataset name, TestData
    test_data_failed = Signal(str, str)  # dataset name, message
    busy_changed = Signal(bool)

    _request_build = Signal(int, object, object)
    _request_test = Signal(int, str)

    def __init__(
        self, parent: QObject | None = None, test_loader: TestDataLoader = load_test_data
    ) -> None:
        super().__init__(parent)
        self._model_request = 0
        self._test_request = 0
        self._test_dataset = ""
        self._pending = False
        self._thread = QThread()
        self._thread.setObjectName("latentlab-loader")
        self._worker = _Worker(lambda: self._model_request, test_loader)
        self._worker.moveToThread(self._thread)
        self._request_build.connect(self._worker.build)
        self._request_test.connect(self._worker.load_test)
        self._worker.model_ready.connect(self._on_model_ready)
        self._worker.model_failed.connect(self._on_model_failed)
        self._worker.test_ready.connect(self._on_test_ready)
        self._worker.test_failed.connect(self._on_test_failed)
        self._thread.start()

    @property
    def is_busy(self) -> bool:
        """True while a model request has not been answered yet."""
        return self._pending

    def load_path(self, path: str | Path) -> None:
        """Read, validate and prepare a model file; supersedes any earlier request."""
        self._submit(str(path), None)

    def load_record(self, record: ModelRecord) -> None:
        """Prepare an in-memory record (a freshly trained model) the same way as a file."""
        self._submit(None, record)

    def load_test_data(self, dataset: str) -> None:
        self._test_request += 1
        self._test_dataset = dataset
        self._request_test.emit(self._test_request, dataset)

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Stop the thread after its current job (a load takes at most a second or two)."""
        self._model_request += 1  # queued jobs become stale and are skipped
        self._test_request += 1
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait(timeout_ms)

    # --- internals ------------------------------------------------------------------------
    def _submit(self, path: str | None, record: ModelRecord | None) -> None:
        self._model_request += 1
        self._set_pending(True)
        self._request_build.emit(self._model_request, path, record)

    def _set_pending(self, pending: bool) -> None:
        if pending != self._pending:
            self._pending = pending
            self.busy_changed.emit(pending)

    @Slot(int, object, object)
    def _on_model_ready(self, request: int, path: str | None, explorer: Document) -> None:
        if request != self._model_request:
            return
        self._set_pending(False)
        self.loaded.emit(path, explorer)

    @Slot(int, object, str)
    def _on_model_failed(self, request: int, path: str | None, message: str) -> None:
        if request != self._model_request:
            return
        self._set_pending(False)
        self.failed.emit(path, message)

    @Slot(int, object)
    def _on_test_ready(self, request: int, data: TestData) -> None:
        if request == self._test_request:
            self.test_data_loaded.emit(self._test_dataset, data)

    @Slot(int, str)
    def _on_test_failed(self, request: int, message: str) -> None:
        if request == self._test_request:
            self.test_data_failed.emit(self._test_dataset, message)
