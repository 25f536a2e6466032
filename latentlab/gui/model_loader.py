"""Background loading: model files, trained records and the test images, off the GUI thread.

Reading and validating a file (``load_model``) and preparing it (by default the explorer state:
the PCA of 10,000 latents) happen on a worker thread; the result crosses back in one signal
carrying plain Python objects, and the window swaps models in one step. The worker never touches
a widget.

The newest request wins (`LatestJob`): a request made while another is in flight supersedes it;
the older one stops at its next cancel point (before the file is read), is skipped if it
had not started, and its result is dropped. So opening B while A is still loading shows B, never
A after B. Test images have their own queue, with the same rule.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from latentlab.core.errors import LatentlabError
from latentlab.core.jobs import CancelToken
from latentlab.core.text import first_line
from latentlab.core.vae.record import ModelRecord

from .workers import LatestJob

TestData = object  # an ImageSet, or an (images, labels) pair of arrays
TestDataLoader = Callable[[str], TestData]
Prepare = Callable[[ModelRecord, str | None], object]  # record, its file -> payload
OpenFile = Callable[[str], object]  # a model file of any kind -> payload


def load_test_data(dataset: str) -> TestData:
    """The test split of `dataset` from the app's data folder setting, else the usual data
    folders (no download). QSettings may be read from this worker thread."""
    from latentlab.core.data.datasets import load_test_images

    from .settings import data_dir

    return load_test_images(dataset, data_dir())


def prepare_document(record: ModelRecord, path: str | None) -> object:
    """The default payload of ``loaded``: ``record`` opened for exploring, as a `Document`
    (a record from a file is saved; a freshly trained one is not)."""
    from latentlab.core.vae.latent_model import vae_document

    return vae_document(record, Path(path).resolve() if path else None, unsaved=path is None)


def open_document_file(path: str) -> object:
    """The default payload of ``loaded`` for a file: any kind of model file, as a `Document`."""
    from latentlab.core.model_files import open_document

    return open_document(path)


def _failure_message(exc: BaseException, path: str | None) -> str:
    """One line for ``failed``: our own errors name the file already; others get its path."""
    if isinstance(exc, LatentlabError):
        return first_line(exc)
    where = f"{path}: " if path else ""
    if isinstance(exc, ValueError | OSError):
        return where + first_line(exc)
    return f"{where}unexpected error: {exc!r}"  # a bug, still reported rather than lost


class ModelLoader(QObject):
    """GUI-side handle of the loader: request jobs, receive only the newest results.

    ``open_file`` (a model file of any kind) and ``prepare`` (an in-memory trained record) run
    on the worker thread and make the payload of ``loaded`` (default: a `Document`).
    """

    loaded = Signal(object, object)  # source path (str | None for a trained record), payload
    failed = Signal(object, str)  # source path (str | None), one-line message
    test_data_loaded = Signal(str, object)  # dataset name, TestData
    test_data_failed = Signal(str, str)  # dataset name, message
    busy_changed = Signal(bool)

    def __init__(
        self,
        parent: QObject | None = None,
        test_loader: TestDataLoader = load_test_data,
        *,
        prepare: Prepare = prepare_document,
        open_file: OpenFile = open_document_file,
    ) -> None:
        super().__init__(parent)
        self._test_loader = test_loader
        self._prepare = prepare
        self._open_file = open_file
        self._pending = False
        self._models = LatestJob("latentlab-loader", self)
        self._models.returned.connect(self._on_model_ready)
        self._models.errored.connect(self._on_model_failed)
        self._tests = LatestJob("latentlab-test-data", self)
        self._tests.returned.connect(self._on_test_ready)
        self._tests.errored.connect(self._on_test_failed)

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
        loader = self._test_loader
        self._tests.submit(lambda _token: loader(dataset), dataset)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop after the current job (a load takes at most a second or two); drop the rest.

        True when both worker threads have ended (safe to call again: then it only checks)."""
        models = self._models.shutdown(timeout_ms)
        tests = self._tests.shutdown(timeout_ms)
        return models and tests

    # --- internals ------------------------------------------------------------------------
    def _submit(self, path: str | None, record: ModelRecord | None) -> None:
        prepare, open_file = self._prepare, self._open_file

        def job(token: CancelToken) -> Generator[None, None, object]:
            yield  # a cancel point: a newer request skips the costly part
            if record is None:
                return open_file(path)  # type: ignore[arg-type]
            return prepare(record, path)

        self._set_pending(True)
        self._models.submit(job, path)

    def _set_pending(self, pending: bool) -> None:
        if pending != self._pending:
            self._pending = pending
            self.busy_changed.emit(pending)

    @Slot(object, object)
    def _on_model_ready(self, path: str | None, payload: object) -> None:
        self._set_pending(False)
        self.loaded.emit(path, payload)

    @Slot(object, object)
    def _on_model_failed(self, path: str | None, exc: BaseException) -> None:
        self._set_pending(False)
        self.failed.emit(path, _failure_message(exc, path))

    @Slot(object, object)
    def _on_test_ready(self, dataset: str, data: TestData) -> None:
        self.test_data_loaded.emit(dataset, data)

    @Slot(object, object)
    def _on_test_failed(self, dataset: str, exc: BaseException) -> None:
        self.test_data_failed.emit(dataset, first_line(exc))
