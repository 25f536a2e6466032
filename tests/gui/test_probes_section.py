"""The report's "Probes and disentanglement" section: computed in the report's worker, shown in
two tables and a summary; unticked, the report runs without it."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread

from latentlab.core.explore.probe_report import full_job, run_to_end
from latentlab.core.jobs import JobCancelled
from latentlab.core.vae.latent_model import VaeModel
from latentlab.gui.probes_section import PLACEHOLDER, summary_text
from latentlab.gui.report_dialog import ReportDialog, evaluation_job

from .conftest import SMALL_CVAE, make_record

REPORT_MS = 60_000


@pytest.fixture
def record():
    return make_record(SMALL_CVAE, seed=8)


@pytest.fixture
def loader(tiny_dataset):
    threads = []

    def load(name: str):
        threads.append(QThread.currentThread())
        return tiny_dataset.arrays["test_images"], tiny_dataset.arrays["test_labels"]

    load.threads = threads
    return load


def _dialog(qtbot, record, loader):
    dialog = ReportDialog(record, "test", None, loader)
    qtbot.addWidget(dialog)
    dialog.k_spin.setValue(2)
    dialog.gen_spin.setValue(0)
    dialog.show()
    return dialog


def test_the_section_fills_from_the_reports_worker(qtbot, record, loader, tiny_dataset):
    dialog = _dialog(qtbot, record, loader)
    section = dialog.probes_section
    assert section.summary.text() == PLACEHOLDER and section.probe_table.rowCount() == 0
    assert dialog.probes_check.isChecked()
    stages = []
    dialog.start()
    assert not dialog.probes_check.isEnabled()  # not while it runs
    dialog._worker.yielded.connect(lambda p: stages.append(p.stage))
    qtbot.waitUntil(lambda: dialog.report is not None and not dialog.running, timeout=REPORT_MS)
    assert loader.threads and loader.threads[0] is not QThread.currentThread()  # in the worker
    assert "MIG, DCI and SAP" in stages  # the probe stages report progress
    report = dialog.report.probes
    images, labels = tiny_dataset.arrays["test_images"], tiny_dataset.arrays["test_labels"]
    expected = run_to_end(full_job(VaeModel(record), record.test_encoding, images, labels))
    assert report.as_dict() == expected.as_dict()
    # The probe table: one row per factor, the scores as the report has them.
    table = section.probe_table
    rows = [table.verticalHeaderItem(i).text() for i in range(table.rowCount())]
    assert rows == list(report.scores) + list(report.skipped)
    row = rows.index("class")
    assert table.item(row, 0).text() == f"{report.scores['class'].linear:.1%}"
    assert table.item(row, 1).text() == f"{report.scores['class'].mlp:.1%}"
    assert table.item(row, 2).text() == f"{report.scores['class'].chance:.1%}"
    slant = rows.index("slant")  # the tiny images' strokes are all alike
    assert table.item(slant, 0).text().startswith("skipped: the same value")
    # The per-dimension table: one row per latent dimension, its main factor first.
    dims = section.dimension_table
    assert dims.rowCount() == SMALL_CVAE.latent_dim
    for i in range(dims.rowCount()):
        name, share = report.dimensions.carrier(i)
        assert dims.item(i, 0).text() == name
        column = 1 + report.dimensions.factors.index(name)
        assert dims.item(i, column).text() == f"{share:.2f}" and dims.item(i, column).font().bold()
    assert section.summary.text() == summary_text(report)
    assert "MIG" in section.summary.text() and "DCI" in section.summary.text()


def test_unticked_the_report_has_no_probes(qtbot, record, loader):
    dialog = _dialog(qtbot, record, loader)
    dialog.probes_check.setChecked(False)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.report is not None and not dialog.running, timeout=REPORT_MS)
    assert dialog.report.probes is None
    assert dialog.probes_section.summary.text() == PLACEHOLDER
    assert dialog.probes_check.isEnabled()


def test_the_probe_stage_is_a_cancel_point(record, tiny_dataset):
    images, labels = tiny_dataset.arrays["test_images"], tiny_dataset.arrays["test_labels"]
    stop = threading.Event()
    job = evaluation_job(
        record, lambda name: (images, labels), k=1, generated_per_class=0, probes=True, cancel=stop
    )
    stages = []
    with pytest.raises(JobCancelled):
        for progress in job:
            stages.append(progress.stage)
            if progress.stage.startswith("probing"):
                stop.set()  # cancel once the probes have begun
    assert stages[-1].startswith("probing")  # it stopped there, not at the end
