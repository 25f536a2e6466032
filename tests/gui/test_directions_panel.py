"""The Directions dock in the explorer window: a direction from a measured attribute (in a
worker), from two classes, its slider moving the point along the unit vector only, its strip,
rename / remove / export, Cancel, and the directions coming back with the model file."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QScrollArea

from latentlab.core.explore import direction_store
from latentlab.core.explore.colouring import ColourChoice
from latentlab.core.explore.direction_store import read_metadata, store_for

from .conftest import LOAD_MS

N_TEST = 300  # make_record's encoded test set: labels 0..9 in turn


@pytest.fixture(autouse=True)
def _sidecars(tmp_path, monkeypatch):
    monkeypatch.setenv(direction_store.DIRECTIONS_ENV, str(tmp_path / "sidecars"))


def blocks(dataset: str):
    """Test images of one ink block each, of widths 2..15 (the stroke width varies), labelled as
    the encoded points are."""
    labels = (np.arange(N_TEST) % 10).astype(np.uint8)
    widths = 2 + np.arange(N_TEST) % 14
    images = np.zeros((N_TEST, 28, 28), np.uint8)
    for i, w in enumerate(widths):
        images[i, 8:20, 6 : 6 + w] = 255
    return images, labels


@pytest.fixture
def window(open_explorer_window, cvae_file, qtbot):
    w = open_explorer_window(cvae_file, test_loader=blocks)
    tools = w.direction_tools
    qtbot.waitUntil(lambda: w.test_images.image(0)[0] is not None, timeout=LOAD_MS)
    qtbot.waitUntil(tools.panel.attribute_button.isEnabled, timeout=LOAD_MS)
    return w


def test_ctrl_shift_d_opens_the_dock_from_the_view_menu(window, qtbot):
    tools = window.direction_tools
    assert tools.action in window.view_menu.actions()
    assert tools.action.shortcut().toString() == "Ctrl+Shift+D"
    assert not tools.dock.isVisible()
    QTest.keyClick(
        window,
        Qt.Key.Key_D,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(tools.dock.isVisible)


def test_a_direction_from_an_attribute_is_measured_in_a_worker_and_kept_in_the_file(
    window, qtbot, cvae_file
):
    tools = window.direction_tools
    dialog = tools.open_attribute_dialog()
    width = ColourChoice("stroke", name="width")
    dialog.combo.setCurrentIndex(dialog.choices.index(width))
    with qtbot.waitSignal(tools.changed, timeout=LOAD_MS):
        dialog.accept()  # the measures run in a worker; the list changes when they are back
    (made,) = tools.directions()
    assert made.name == "width" and made.kind == "regression" and made.source == "attribute width"
    assert tools.panel.table.item(0, 0).text() == "width"
    assert tools.panel.table.item(0, 2).text().startswith("R² ")
    # Kept in the (writable, latentlab) model file, and found there by a fresh store.
    qtbot.waitUntil(lambda: not tools.is_saving, timeout=LOAD_MS)
    assert direction_store.METADATA_KEY in read_metadata(cvae_file)
    assert [d.name for d in store_for(window.state.document).load()] == ["width"]
    # The other stroke measures came with it: a second direction needs no worker.
    tools.create_from_attribute(ColourChoice("stroke", name="area"))
    assert [d.name for d in tools.directions()] == ["width", "area"]
    assert not tools.is_computing
    # Every block is 12 rows tall: no direction, and the panel says why.
    tools.create_from_attribute(ColourChoice("stroke", name="height"))
    assert len(tools.directions()) == 2
    assert "same value (12) for every point" in tools.panel.status.text()


def test_a_direction_slider_moves_the_point_along_its_unit_only(window, qtbot):
    tools = window.direction_tools
    tools.create_from_classes(3, 8)
    (direction,) = tools.directions()
    sliders = tools.sliders
    assert sliders.isVisible() and sliders.count() == 1
    assert sliders.row(0).label.text().startswith("3 → 8: 3 ↔ 8")
    state = window.state
    state.select(5)
    start = state.z
    row = sliders.row(0)
    row.slider.sliderPressed.emit()  # a drag: every step from where it began
    for ticks in (40, 90, 150):
        row.slider.setValue(ticks)
    row.slider.sliderReleased.emit()
    moved = state.z - start
    assert direction.coordinate(state.z) == pytest.approx(1.5, abs=0.01)
    cos = float(moved @ direction.unit / np.linalg.norm(moved))
    assert cos == pytest.approx(1.0, abs=1e-4)  # nothing but the direction changed
    assert state.selected is None
    # The row follows the point whoever moves it.
    state.reset()
    assert row.spin.value() == pytest.approx(round(direction.coordinate(state.z), 2))
    # Its strip: images decoded along the direction.
    sliders.update_strips()
    assert row.strip.image() is not None and row.strip.image().width() == 7 * 28


def select_row(table, row: int) -> None:
    """As a click on the row does (`selectRow` needs the header laid out)."""
    flags = QItemSelectionModel.SelectionFlag
    table.selectionModel().select(table.model().index(row, 0), flags.ClearAndSelect | flags.Rows)


def test_rename_remove_and_export(window, qtbot, tmp_path, cvae_file):
    tools = window.direction_tools
    tools.action.trigger()
    qtbot.waitUntil(tools.dock.isVisible)
    scroll = tools.sliders.findChild(QScrollArea)
    tools.create_from_classes(1, 7)
    one_row = scroll.maximumHeight()
    tools.create_from_classes(4, 9, "logistic")
    two_rows = scroll.maximumHeight()
    assert two_rows > 1.5 * one_row
    table = tools.panel.table
    table.item(0, 0).setText("one to seven")  # as an edit in place commits it
    assert [d.name for d in tools.directions()] == ["one to seven", "4 → 9"]
    qtbot.waitUntil(lambda: not tools.is_saving, timeout=LOAD_MS)
    assert [d.name for d in store_for(window.state.document).load()] == ["one to seven", "4 → 9"]
    table.item(1, 0).setText("one to seven")  # a name already taken is refused
    assert tools.directions()[1].name == "4 → 9"
    assert table.item(1, 0).text() == "4 → 9"

    # A third row scrolls: the direction rows never squeeze the latent sliders away.
    tools.create_from_selections(range(0, 40), range(150, 200), "mine")
    assert tools.sliders.count() == 3 and tools.directions()[2].kind == "mean-difference"
    assert scroll.maximumHeight() == two_rows
    tools.remove([2])

    out = tmp_path / "exported.json"
    tools.ask_export_path = lambda suggested: str(out)
    select_row(table, 1)
    tools.panel.export_button.click()
    data = json.loads(out.read_text())
    assert [d["name"] for d in data["directions"]] == ["4 → 9"]
    assert len(data["directions"][0]["vector"]) == window.state.latent_dim

    select_row(table, 0)
    tools.panel.remove_button.click()
    assert [d.name for d in tools.directions()] == ["4 → 9"]
    assert table.rowCount() == 1 and tools.sliders.count() == 1
    qtbot.waitUntil(lambda: not tools.is_saving, timeout=LOAD_MS)
    assert [d.name for d in store_for(window.state.document).load()] == ["4 → 9"]


def test_cancel_leaves_no_direction(window, qtbot):
    tools = window.direction_tools
    tools.action.trigger()
    qtbot.waitUntil(tools.dock.isVisible)
    tools.create_from_attribute(ColourChoice("stroke", name="slant"))
    worker = tools._worker
    assert worker is not None and tools.panel.cancel_button.isVisible()
    with qtbot.waitSignal(worker.finished, timeout=LOAD_MS):
        tools.panel.cancel_button.click()
    assert tools.directions() == [] and not tools.is_computing
    assert tools.panel.status.text() == "Cancelled."
    assert not tools.panel.cancel_button.isVisible()


def test_directions_come_back_with_the_model(open_explorer_window, qtbot, cvae_file, vae2d_file):
    first = open_explorer_window(cvae_file)
    first.direction_tools.create_from_classes(2, 5)
    first.direction_tools.create_from_classes(3, 5)
    first.direction_tools.remove([1])
    first.shutdown()  # at once: a save still waiting is written before the window ends
    window = open_explorer_window(vae2d_file)
    assert (
        window.direction_tools.directions() == [] and not window.direction_tools.sliders.isVisible()
    )
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.open_model(cvae_file)
    assert [d.name for d in window.direction_tools.directions()] == ["2 → 5"]
    assert window.direction_tools.sliders.count() == 1


def test_an_unsaved_model_keeps_its_directions_once_saved(open_explorer_window, qtbot, tmp_path):
    from latentlab.core.vae.checkpoint import save_model

    from .conftest import make_record

    window = open_explorer_window()
    record = make_record()
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.adopt_record(record)
    tools = window.direction_tools
    tools.create_from_classes(0, 6)
    assert "save the model" in tools.panel.status.text()
    path = save_model(record, tmp_path / "trained.safetensors")
    with qtbot.waitSignal(tools.saved, timeout=LOAD_MS):
        window.state.update_document(window.state.document.saved_as(path))  # as Save as… does
    assert [d.name for d in store_for(window.state.document).load()] == ["0 → 6"]
    assert "Kept in the model file" in tools.panel.status.text()


def test_without_test_images_only_class_directions_are_offered(explorer_window, qtbot):
    tools = explorer_window.direction_tools
    button = tools.panel.attribute_button
    qtbot.waitUntil(lambda: "not available" in button.toolTip(), timeout=LOAD_MS)
    assert not button.isEnabled() and "No attributes to measure" in button.toolTip()
    assert tools.open_attribute_dialog() is None
    assert tools.panel.classes_button.isEnabled()
    assert "difference of the class means" in tools.panel.classes_button.toolTip()


def test_the_selection_docks_direction_becomes_a_named_direction(window, qtbot):
    from latentlab.core.explore.selection import Selection

    selections = window.selection_tools
    points = window.state.points
    a, b = np.flatnonzero(points.labels == 1), np.flatnonzero(points.labels == 7)
    selections.kept["A"], selections.kept["B"] = Selection(a, "A"), Selection(b, "B")
    selections.send_direction()
    (made,) = window.direction_tools.directions()
    step = points.mu[b].mean(axis=0) - points.mu[a].mean(axis=0)
    assert float(made.unit @ step / np.linalg.norm(step)) == pytest.approx(1.0, abs=1e-5)
    assert made.name == "selection A → B" and (made.low, made.high) == ("A", "B")
    coords = np.array([made.coordinate(z) for z in points.mu])
    assert abs(coords.mean()) < 1e-4 and coords.std() == pytest.approx(1.0, abs=1e-4)
    assert window.direction_tools.sliders.count() == 1
