"""One data folder setting (File > Preferences…) used by the test images, Evaluate and training;
missing data opens a dialog that locates or downloads it, and names the switch for downloads."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from latentlab.core.vae.checkpoint import save_model
from latentlab.gui import settings
from latentlab.gui.data_dialog import DOWNLOAD_OFF_TIP, DataDialog
from latentlab.gui.model_loader import load_test_data

from .conftest import SMALL_CVAE, make_record

WAIT_MS = 10_000


@pytest.fixture
def tiny_model(tmp_path, tiny_dataset):
    """A small CVAE whose encoded test set is the tiny dataset's (same count, same labels)."""
    record = make_record(SMALL_CVAE.replace(dataset="tiny"), n_test=100)
    labels = tiny_dataset.arrays["test_labels"]
    encoding = dataclasses.replace(record.test_encoding, labels=labels)
    record = dataclasses.replace(record, test_encoding=encoding)
    return save_model(record, tmp_path / "tiny-cvae.safetensors")


def test_preferences_remember_the_folder_and_the_training_dialog_shows_it(
    qtbot, open_explorer_window, tmp_path
):
    window = open_explorer_window()
    dialog = window.open_preferences()
    assert dialog.data_dir_edit.text() == "" and dialog.download_check.isChecked()
    dialog.data_dir_edit.setText(str(tmp_path))
    dialog.download_check.setChecked(False)
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert settings.data_dir() == str(tmp_path) and not settings.downloads_allowed()
    again = window.open_preferences()
    assert again.data_dir_edit.text() == str(tmp_path) and not again.download_check.isChecked()
    again.reject()

    from latentlab.gui.train_dialog import TrainDialog

    train = TrainDialog()
    qtbot.addWidget(train)
    assert train.data_dir() == str(tmp_path)  # one setting, shown in both places


def test_the_test_images_follow_the_data_setting(
    qtbot, open_explorer_window, tiny_model, tiny_dataset
):
    window = open_explorer_window(tiny_model, test_loader=load_test_data)
    window.state.select(3)
    qtbot.waitUntil(lambda: "not available" in window.original_view.caption(), timeout=WAIT_MS)
    assert "File > Preferences" in window.original_view.caption()

    dialog = window.open_preferences()
    dialog.data_dir_edit.setText(str(tiny_dataset.dir))
    dialog.accept()
    qtbot.waitUntil(lambda: window.original_view.image() is not None, timeout=WAIT_MS)
    want = tiny_dataset.arrays["test_images"][3].astype(np.float32) / 255.0
    shown = np.asarray(window.original_view.image(), dtype=np.float32).reshape(want.shape)
    np.testing.assert_allclose(shown, want, atol=1e-6)
    assert window.original_view.caption().startswith("test image #3")


def test_evaluate_without_data_offers_the_folder_then_evaluates(
    qtbot, open_explorer_window, tiny_model, tiny_dataset, monkeypatch, caplog
):
    pytest.importorskip("torch")
    window = open_explorer_window(tiny_model)
    tools = window.insight_tools
    tools.evaluate_action.trigger()
    report = tools.report_dialog
    report.k_spin.setValue(2)
    report.gen_spin.setValue(0)
    with (
        caplog.at_level(logging.DEBUG, logger="latentlab"),
        qtbot.waitSignal(report.report_failed, timeout=WAIT_MS),
    ):
        report.start()
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING]
    assert report.status.text().startswith("Could not evaluate: Tiny data not found")
    qtbot.waitUntil(lambda: report.data_dialog is not None and report.data_dialog.isVisible())
    data = report.data_dialog
    assert data.heading.text().startswith("Evaluating needs the Tiny dataset")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tiny_dataset.dir))
    with qtbot.waitSignal(report.report_ready, timeout=60_000):
        data.choose_button.click()
    assert settings.data_dir() == str(tiny_dataset.dir)
    assert report.report.test_size == 100
    report.close_button.click()
    qtbot.waitUntil(lambda: tools.report_dialog is None, timeout=WAIT_MS)


def test_with_downloads_off_the_dialog_names_the_switch(qtbot, tmp_path):
    from latentlab.core.data import datasets
    from latentlab.core.errors import DataError

    settings.set_downloads_allowed(False)
    with pytest.raises(DataError) as info:
        datasets.locate("mnist", tmp_path)
    error = str(info.value)
    assert "latentlab data fetch --dataset mnist" in error  # the CLI's way, in the core's text
    dialog = DataDialog("mnist", None, error)
    qtbot.addWidget(dialog)
    assert not dialog.download_button.isEnabled()
    assert dialog.download_button.toolTip() == DOWNLOAD_OFF_TIP
    assert "File > Preferences…" in dialog.details.toPlainText()
    assert "latentlab data fetch" not in dialog.details.toPlainText()

    settings.set_downloads_allowed(True)
    dialog = DataDialog("mnist", None, error)
    qtbot.addWidget(dialog)
    assert dialog.download_button.isEnabled()
    assert "Press Download" in dialog.details.toPlainText()


def test_a_failed_download_leaves_no_connecting_line(qtbot, tmp_path):
    """The test mirror does not exist: the download fails at once, offline."""
    dialog = DataDialog("mnist", str(tmp_path / "target"), "MNIST data not found")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.download_button.click()
    assert dialog.progress_label.text() == "Connecting…"
    qtbot.waitUntil(lambda: not dialog.downloading, timeout=WAIT_MS)
    assert dialog.heading.text().startswith("The download failed")
    assert not dialog.progress_label.isVisible()
    assert dialog.download_button.isEnabled()


def test_preferences_get_data_says_where_it_is_or_offers_to_locate_it(
    qtbot, open_explorer_window, tiny_dataset, monkeypatch
):
    window = open_explorer_window()
    prefs = window.open_preferences()
    dialog = prefs.get_data("tiny")  # not in the usual folders
    assert dialog is not None and dialog.isVisible()
    assert prefs.status.text() == "Tiny: not found"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tiny_dataset.dir))
    dialog.choose_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert prefs.data_dir_edit.text() == str(tiny_dataset.dir) == settings.data_dir()
    assert prefs.get_data("tiny") is None  # found now: no dialog, the folder is said
    assert prefs.status.text() == f"Tiny: found in {tiny_dataset.dir}"
    prefs.reject()
