"""File > Import model…: the dialog checks the graphs on a worker, shows what it found or why
not, imports with progress and writes a file that opens."""

from __future__ import annotations

import pytest

from latentlab.core.model_files import open_document
from latentlab.gui.import_dialog import ImportDialog
from tests import onnx_factory as f


@pytest.fixture
def dialog(qtbot):
    d = ImportDialog()
    qtbot.addWidget(d)
    yield d
    d.shutdown()


def test_check_shows_the_detected_shapes_and_import_writes_the_file(qtbot, dialog, tmp_path):
    dec = f.write(tmp_path / "dec.onnx", f.decoder(4, 12, 10, 3, classes=3))
    dialog.decoder_edit.setText(str(dec))
    dialog.names_edit.setText("cat,dog,owl")
    assert not dialog.import_button.isEnabled()  # nothing checked yet
    dialog.check_button.click()
    qtbot.waitUntil(lambda: "decoder" in dialog.summary.toPlainText(), timeout=10_000)
    text = dialog.summary.toPlainText()
    assert "(N, 3, 12, 10) NCHW, 12 x 10 RGB" in text and "cat, dog, owl" in text
    assert dialog.out_edit.text().endswith("dec.latentlab")  # proposed beside the decoder
    qtbot.waitUntil(dialog.import_button.isEnabled)
    with qtbot.waitSignal(dialog.imported, timeout=10_000) as signal:
        dialog.import_button.click()
    document = open_document(signal.args[0])
    assert document.model.image_spec.shape == (12, 10, 3)
    assert document.model.class_names == ("cat", "dog", "owl")


def test_a_mismatch_is_shown_in_the_dialog_naming_the_graph(qtbot, dialog, tmp_path):
    dialog.decoder_edit.setText(str(f.write(tmp_path / "dec.onnx", f.decoder(4))))
    dialog.encoder_edit.setText(str(f.write(tmp_path / "enc8.onnx", f.encoder(8))))
    dialog.check_button.click()
    qtbot.waitUntil(lambda: dialog.error_label.isVisibleTo(dialog), timeout=10_000)
    assert "enc8.onnx" in dialog.error_label.text() and "4-D" in dialog.error_label.text()
    assert not dialog.import_button.isEnabled()


def test_an_empty_form_says_what_is_missing(qtbot, dialog):
    dialog.check_button.click()
    assert dialog.error_label.isVisibleTo(dialog) and "decoder" in dialog.error_label.text()


def test_changing_the_form_after_a_check_asks_for_a_new_check(qtbot, dialog, tmp_path):
    dialog.decoder_edit.setText(str(f.write(tmp_path / "dec.onnx", f.decoder(4))))
    dialog.check_button.click()
    qtbot.waitUntil(dialog.import_button.isEnabled, timeout=10_000)
    dialog.names_edit.setText("a,b")
    assert not dialog.import_button.isEnabled() and dialog.summary.toPlainText() == ""


def test_file_import_opens_the_imported_model_in_the_window(qtbot, tmp_path, explorer_window):
    window = explorer_window
    dialog = window.open_import_dialog()
    assert window.open_import_dialog() is dialog  # one at a time
    dialog.decoder_edit.setText(str(f.write(tmp_path / "dec.onnx", f.decoder(4, 16, 16, 3))))
    dialog.out_edit.setText(str(tmp_path / "mine.latentlab"))
    dialog.check_button.click()
    qtbot.waitUntil(dialog.import_button.isEnabled, timeout=10_000)
    with qtbot.waitSignal(window.model_loaded, timeout=10_000):
        dialog.import_button.click()
    assert window.document.source == "onnx" and window.model_path.name == "mine.latentlab"
    assert window.image_view.image().shape[:2] == (16, 16)


def test_importing_over_an_existing_file_asks_first(qtbot, dialog, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    out = tmp_path / "mine.latentlab"
    out.write_bytes(b"an earlier model")
    dialog.decoder_edit.setText(str(f.write(tmp_path / "dec.onnx", f.decoder(4))))
    dialog.out_edit.setText(str(out))
    dialog.check_button.click()
    qtbot.waitUntil(dialog.import_button.isEnabled, timeout=10_000)
    asked = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Cancel,
    )
    dialog.import_button.click()
    assert asked and out.read_bytes() == b"an earlier model" and dialog.import_button.isEnabled()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(dialog.imported, timeout=10_000):
        dialog.import_button.click()
    assert open_document(out).source == "onnx"


def test_errors_in_the_dialog_name_its_fields_not_the_command_lines_flags(qtbot, dialog, tmp_path):
    import numpy as np
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(np.zeros((9, 9, 3), np.uint8)).save(folder / "a.png")
    dialog.decoder_edit.setText(str(f.write(tmp_path / "dec.onnx", f.decoder(4))))
    dialog.data_edit.setText(str(folder))
    dialog.check_button.click()
    qtbot.waitUntil(lambda: dialog.error_label.isVisibleTo(dialog), timeout=10_000)
    assert (
        "choose an Encoder graph too" in dialog.error_label.text()
        and "--" not in dialog.error_label.text()
    )
    dialog.encoder_edit.setText(str(f.write(tmp_path / "enc.onnx", f.encoder(4))))
    dialog.error_label.clear()
    dialog.check_button.click()
    qtbot.waitUntil(lambda: "Scale the data" in dialog.error_label.text(), timeout=10_000)
    assert "9 x 9" in dialog.error_label.text() and "--resize" not in dialog.error_label.text()
