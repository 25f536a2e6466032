"""Model > Evaluate…: the model's report card, computed in a worker thread with progress and cancel.

`evaluation_job`, on a `GeneratorWorker`, loads the test images and runs
`latentlab.core.vae.report.run_report` (torch, imported in the worker, so the app still starts
without it); every chunk is a progress report and a cancel point. Results come back as one
plain `ModelReport`; the dialog shows the test negative ELBO with its reconstruction / KL split,
the IWAE estimate of the test NLL, the classifier's accuracy and confusion matrix, and how often
a digit generated for each class is read as that class; with "Probes and disentanglement"
ticked, the same worker then probes z (`probes_section.probe_job`) for the section below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.errors import DataError, LatentlabError
from latentlab.core.jobs import Cancel, Progress, Throttle, check_cancelled
from latentlab.core.text import one_line
from latentlab.core.vae.record import ModelRecord

from .probes_section import TITLE as PROBES_TITLE
from .probes_section import ProbesSection, probe_job, throttled
from .workers import GeneratorWorker

if TYPE_CHECKING:
    from latentlab.core.vae.report import ModelReport

log = logging.getLogger(__name__)

TestLoader = Callable[[str], tuple[np.ndarray, np.ndarray]]
DEFAULT_K = 100
DEFAULT_GENERATED = 500
PROGRESS_INTERVAL_S = 0.1
JOIN_MS = 15_000


def default_test_loader(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """The test split from the app's data folder setting (else the usual folders)."""
    from latentlab.core.data.datasets import load_test_split

    from .settings import data_dir

    return load_test_split(dataset, data_dir())


def evaluation_job(
    record: ModelRecord,
    test_loader: TestLoader,
    *,
    k: int,
    generated_per_class: int,
    device: str = "cpu",
    probes: bool = False,
    cancel: Cancel = None,
) -> Generator[Progress, None, ModelReport]:
    """Load the test images, evaluate, yield throttled progress, return the report.

    Each chunk is a cancel point (`JobCancelled`); torch is imported here, on the worker thread.
    """
    yield Progress(0, 0, "loading the test images")
    images, labels = test_loader(record.config.dataset)
    check_cancelled(cancel)
    import torch

    from latentlab.core.vae.report import ModelReport, run_report
    from latentlab.core.vae.threads import limit_torch_threads

    limit_torch_threads(torch)
    throttle = Throttle(PROGRESS_INTERVAL_S)
    items = run_report(
        record,
        images,
        labels,
        k=k,
        generated_per_class=generated_per_class,
        device=device,
        cancel=cancel,
    )
    for item in items:
        if isinstance(item, ModelReport):
            if probes:
                job = probe_job(record, images, labels, cancel)
                item.probes = yield from throttled(job, throttle)
            return item
        if throttle.ready(force=item.done in (0, item.total)):
            yield item
    raise RuntimeError("the evaluation ended without a report")  # pragma: no cover


def confusion_colour(fraction: float, diagonal: bool) -> QColor:
    """Cell shading: blue for correct answers, red for mistakes, stronger for more."""
    strength = round(min(max(fraction, 0.0), 1.0) * 255)
    if diagonal:
        return QColor(255 - strength * 200 // 255, 255 - strength * 120 // 255, 255)
    strength = min(255, round(255 * (fraction / 0.05) ** 0.5))  # a 5% mistake is full red
    return QColor(255, 255 - strength * 150 // 255, 255 - strength * 150 // 255)


class ReportDialog(QDialog):
    """Choose k and the generation sample size, run, watch progress, read the report."""

    report_ready = Signal(object)  # ModelReport
    report_failed = Signal(str)
    running_changed = Signal(bool)

    def __init__(
        self,
        record: ModelRecord,
        source: str,
        parent: QWidget | None = None,
        test_loader: TestLoader = default_test_loader,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Evaluate — {source}")
        self.record = record
        self.report = None
        self._test_loader = test_loader
        self._worker: GeneratorWorker | None = None
        self.data_dialog: QDialog | None = None  # the data was missing: locate or download it
        conditional = record.config.conditional

        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 5000)
        self.k_spin.setValue(DEFAULT_K)
        self.k_spin.setToolTip(
            "Importance samples per test image for the IWAE estimate of -log p(x): more is "
            "tighter and slower (time grows linearly with k)"
        )
        self.gen_spin = QSpinBox()
        self.gen_spin.setRange(0, 5000)
        self.gen_spin.setValue(DEFAULT_GENERATED if conditional else 0)
        self.gen_spin.setEnabled(conditional)
        self.gen_spin.setToolTip(
            "Images generated per class (styles from the model's class mixtures where it has "
            "them, else the prior), to check that the independent judge CNN (digits) or the "
            "model's own classifier (other data) reads them as the class asked for (0: skip)"
        )
        self.run_button = QPushButton("Evaluate")
        self.run_button.setToolTip("Compute the report on the test set (in the background)")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the evaluation after the current chunk")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        settings_form = QFormLayout()
        settings_form.addRow("Importance samples k", self.k_spin)
        settings_form.addRow("Generated per class", self.gen_spin)
        self.probes_check = QCheckBox(PROBES_TITLE)
        self.probes_check.setChecked(True)
        self.probes_check.setToolTip(
            "Also probe z for each label and stroke measure (linear and MLP, held-out) and "
            "score MIG, DCI and SAP (measuring the strokes takes a few seconds)"
        )
        settings_form.addRow("", self.probes_check)
        buttons = QHBoxLayout()
        buttons.addLayout(settings_form)
        buttons.addStretch(1)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        self.close_button = QPushButton("Close")
        self.close_button.setToolTip("Close the report (a running evaluation is cancelled)")
        self.close_button.clicked.connect(self.close)
        buttons.addWidget(self.close_button)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.status = QLabel("Press Evaluate to compute the report on the test set.")
        self.status.setWordWrap(True)

        self.values: dict[str, QLabel] = {}
        figures = QFormLayout()
        for key, title, tip in (
            ("test_size", "Test images", "How many test images were evaluated"),
            (
                "neg_elbo",
                "Negative ELBO",
                "recon + KL, nats per image (lower is better), as the trainer reports it; a "
                "conditional model's decoder reads the classifier's softmax here",
            ),
            ("recon", "  reconstruction", "-log p(x|z), one posterior sample per image"),
            ("kl", "  KL", "KL(q(z|x) || N(0, I)), analytic"),
            (
                "iwae",
                "IWAE NLL",
                "Importance-weighted bound on -log p(x) (Burda et al. 2015); a conditional "
                "model's class is marginalised out (sum over y of p(y) p(x|y))",
            ),
            ("iwae_se", "  standard error", "Of the test-set mean of the IWAE estimate"),
            ("likelihood", "  comparable with", "Which published figures the likelihood matches"),
            ("accuracy", "Classifier accuracy", "The model's classifier on the test images"),
            ("generation", "Conditional generation", "Generated for class c, read as c"),
            ("judge", "  read by", "Who read the generated images"),
            (
                "density_gain",
                "Aggregate posterior",
                "How much more likely the model's class mixtures find the test set's z ~ q(z|x) "
                "than the prior N(0, I), nats per image: how far q(z) is from the prior",
            ),
        ):
            label = QLabel("—")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setToolTip(tip)
            name = QLabel(title)
            name.setToolTip(tip)
            figures.addRow(name, label)
            self.values[key] = label
        figures_box = QGroupBox("Test set")
        figures_box.setLayout(figures)

        names = list(record.class_names)
        self.confusion_table = QTableWidget(len(names), len(names))
        self.confusion_table.setHorizontalHeaderLabels(names)
        self.confusion_table.setVerticalHeaderLabels(names)
        self.confusion_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.confusion_table.setToolTip("Rows: true class; columns: the classifier's answer")
        for header in (
            self.confusion_table.horizontalHeader(),
            self.confusion_table.verticalHeader(),
        ):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            header.setMinimumSectionSize(24)
        # Long class names (Fashion-MNIST's "Ankle boot") are shown whole, not cut to "Ank…":
        # the columns are at least as wide as the widest name, the dialog as wide as the table.
        texts = [*names, "100%", "1000"]  # a share and a count must show whole, not "10…"
        widest = max(self.fontMetrics().horizontalAdvance(t) for t in texts) + 14
        self.confusion_table.horizontalHeader().setMinimumSectionSize(max(24, widest))
        self.confusion_table.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideNone)
        self.confusion_table.verticalHeader().setTextElideMode(Qt.TextElideMode.ElideNone)
        self._min_table_width = (
            len(names) * max(24, widest)
            + self.fontMetrics().horizontalAdvance("read as asked")
            + 40
        )
        self.generation_table = QTableWidget(1, len(names))
        self.generation_table.setHorizontalHeaderLabels(names)
        self.generation_table.setVerticalHeaderLabels(["read as asked"])
        self.generation_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.generation_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Stretch
        )
        self.generation_table.horizontalHeader().setMinimumSectionSize(max(24, widest))
        self.generation_table.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideNone)
        self.generation_table.setToolTip(
            "Per class: the share of generated images the classifier reads as that class"
        )
        self.generation_table.setFixedHeight(
            self.generation_table.horizontalHeader().sizeHint().height()
            + self.generation_table.verticalHeader().defaultSectionSize()
            + 4
        )
        confusion_box = QGroupBox("Confusion matrix (rows: true, columns: predicted)")
        box_layout = QVBoxLayout(confusion_box)
        box_layout.addWidget(self.confusion_table, 1)
        box_layout.addWidget(QLabel("Conditional generation, per class"))
        box_layout.addWidget(self.generation_table)
        confusion_box.setVisible(conditional)

        results_widget = QWidget()
        results = QHBoxLayout(results_widget)
        results.setContentsMargins(0, 0, 0, 0)
        results.addWidget(figures_box, 0)
        results.addWidget(confusion_box, 1)
        self.probes_section = ProbesSection()
        self.splitter = QSplitter(Qt.Orientation.Vertical)  # the probes below the figures
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(results_widget)
        self.splitter.addWidget(self.probes_section)
        self.splitter.setSizes([470, 390])
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status)
        layout.addWidget(self.splitter, 1)
        self.resize(max(900, (self._min_table_width + 340) if conditional else 0), 960)

    # --- public --------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._worker is not None

    @Slot()
    def start(self) -> None:
        """Run the evaluation in the background (ignored while one runs)."""
        if self.running:
            return
        record, loader = self.record, self._test_loader
        k = self.k_spin.value()
        generated = self.gen_spin.value() if self.gen_spin.isEnabled() else 0
        probes = self.probes_check.isChecked()
        worker = GeneratorWorker(
            lambda token: evaluation_job(
                record, loader, k=k, generated_per_class=generated, probes=probes, cancel=token
            ),
            name="latentlab-evaluate",
            parent=self,
        )
        worker.yielded.connect(self._on_progress)
        worker.returned.connect(self._on_finished)
        worker.errored.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        worker.finished.connect(self._on_worker_finished)
        self._worker = worker
        self._set_running(True)
        self.status.setText("Starting…")
        self.progress_bar.setRange(0, 0)
        worker.start()

    @Slot()
    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.quit()
            self.status.setText("Cancelling…")

    def shutdown(self) -> None:
        """Cancel a running evaluation and wait for its thread (dialog closing, app quitting)."""
        if self.data_dialog is not None:
            self.data_dialog.stop_download()
        if self._worker is not None:
            self._worker.quit()
            self._worker.join(JOIN_MS)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def reject(self) -> None:  # Escape
        self.shutdown()
        super().reject()

    # --- slots ---------------------------------------------------------------------------
    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.k_spin.setEnabled(not running)
        self.gen_spin.setEnabled(not running and self.record.config.conditional)
        self.probes_check.setEnabled(not running)
        self.running_changed.emit(running)

    @Slot(object)
    def _on_progress(self, progress: Progress) -> None:
        done, total, stage = progress.done, progress.total, progress.stage
        if total <= 0:
            self.progress_bar.setRange(0, 0)
        else:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(done)
        self.status.setText(f"{stage}…")

    @Slot(object)
    def _on_finished(self, report) -> None:
        self.report = report
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        self.status.setText(
            f"Done: {report.test_size} test images, k = {report.k} importance samples"
            + (
                f", {report.generated_per_class} generated images per class."
                if report.generated_per_class
                else "."
            )
        )
        self._show(report)
        self.report_ready.emit(report)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, LatentlabError | OSError):
            log.error("evaluation failed", exc_info=exc)
        message = one_line(exc)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.status.setText(f"Could not evaluate: {message}")
        self.report_failed.emit(message)
        if isinstance(exc, DataError):
            self._offer_data(str(exc))

    def _offer_data(self, error: str) -> None:
        """The test images are missing: offer to locate or download them, then evaluate."""
        from .data_dialog import DataDialog
        from .settings import data_dir

        if self.data_dialog is not None:
            return
        dialog = DataDialog(
            self.record.config.dataset, data_dir(), error, self, purpose="Evaluating needs"
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self.start)  # the folder is the setting now
        dialog.destroyed.connect(self._on_data_dialog_closed)
        self.data_dialog = dialog
        dialog.open()

    @Slot()
    def _on_data_dialog_closed(self) -> None:
        self.data_dialog = None

    @Slot(object)
    def _on_cancelled(self, _partial: object) -> None:
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.status.setText("Cancelled.")

    @Slot()
    def _on_worker_finished(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.deleteLater()
        self._set_running(False)

    def _show(self, report) -> None:
        self.probes_section.show_report(getattr(report, "probes", None))
        v = self.values
        v["test_size"].setText(str(report.test_size))
        v["neg_elbo"].setText(f"{report.neg_elbo:.2f} nats")
        v["recon"].setText(f"{report.recon:.2f} nats")
        v["kl"].setText(f"{report.kl:.2f} nats")
        v["iwae"].setText(
            "—" if report.iwae_nll is None else f"{report.iwae_nll:.2f} nats (k = {report.k})"
        )
        v["iwae_se"].setText("—" if report.iwae_se is None else f"± {report.iwae_se:.2f} nats")
        v["likelihood"].setText(report.likelihood_note)
        v["likelihood"].setWordWrap(True)
        v["judge"].setText(
            "—"
            if report.generation_accuracy is None
            else f"{report.generation_judge}; styles from {report.generation_styles}"
        )
        v["judge"].setWordWrap(True)
        v["density_gain"].setText(
            "— (no class density in the file)"
            if report.density_gain is None
            else f"{report.density_gain:+.2f} nats per image over N(0, I)"
        )
        v["accuracy"].setText("—" if report.accuracy is None else f"{report.accuracy:.2%}")
        v["generation"].setText(
            "—" if report.generation_accuracy is None else f"{report.generation_accuracy:.1%}"
        )
        if report.confusion is not None:
            counts = np.asarray(report.confusion)
            rows = counts.sum(axis=1, keepdims=True).clip(min=1)
            for i in range(counts.shape[0]):
                for j in range(counts.shape[1]):
                    item = QTableWidgetItem(str(int(counts[i, j])))
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    item.setBackground(confusion_colour(counts[i, j] / rows[i, 0], i == j))
                    item.setForeground(QColor(20, 20, 20))
                    self.confusion_table.setItem(i, j, item)
        if report.generation_per_class is not None:
            for j, share in enumerate(report.generation_per_class):
                item = QTableWidgetItem(f"{share:.0%}")
                name = self.generation_table.horizontalHeaderItem(j).text()
                item.setToolTip(f"{share:.1%} of the images generated as {name} read as {name}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(confusion_colour(float(share), True))
                item.setForeground(QColor(20, 20, 20))
                self.generation_table.setItem(0, j, item)
