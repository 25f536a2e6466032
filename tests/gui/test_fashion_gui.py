"""A Fashion-MNIST model in the explorer: class names (not digits) on every control and caption."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from latentlab.core.data.datasets import FASHION_MNIST
from latentlab.core.explorer import Explorer
from latentlab.core.vae.checkpoint import save_model
from latentlab.gui.main_window import MainWindow

from .conftest import SMALL_CVAE, make_record

LOAD_MS = 10_000
NAMES = FASHION_MNIST.class_names


@pytest.fixture
def fashion_window(qtbot, tmp_path, monkeypatch):
    """The window on a small random model whose config says Fashion-MNIST (no names stored)."""
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: QMessageBox.StandardButton.Ok)
    record = make_record(SMALL_CVAE.replace(dataset="fashion-mnist"), seed=3)
    path = save_model(record, tmp_path / "small-fashion.safetensors")
    window = MainWindow(training_factory=None)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.open_model(path)
    yield window
    window.shutdown()


def test_the_selector_shows_fashion_class_names(fashion_window):
    selector = fashion_window.selector
    assert [b.text() for b in selector.buttons()] == list(NAMES)
    assert [b.toolTip() for b in selector.buttons()] == [
        f"{name} (key {i})" for i, name in enumerate(NAMES)
    ]
    assert selector.rows() == 2  # two rows of five, so "T-shirt/top" fits whole


def test_choosing_a_class_names_it_in_the_title_and_the_reading(qtbot, fashion_window):
    window = fashion_window
    qtbot.mouseClick(window.selector.buttons()[1], Qt.MouseButton.LeftButton)
    assert window.image_view.title() == "Decoded: Trouser"
    ref = Explorer(window.explorer.record)
    ref.set_digit(1)
    reading = ref.classify(ref.decode())
    assert window.image_view.caption() == f"reads as {NAMES[reading[0]]} — {reading[1]:.0%}"
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_9)  # number keys still choose the class
    assert window.image_view.title() == "Decoded: Ankle boot"


def test_legend_hover_and_status_bar_use_the_names(fashion_window):
    window = fashion_window
    plot = window.scatter.plot_widget
    legend = next(i for i in plot.scene().items() if isinstance(i, pg.LegendItem))
    assert [label.text for _, label in legend.items] == list(NAMES)

    enc = window.explorer.encoding
    points = window.explorer.points()
    d = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    index = int(np.argmax(d.min(axis=1)))  # a point no other point hides
    window.scatter._on_mouse_moved(window.scatter.scene_pos(*points[index]))
    true, predicted = NAMES[int(enc.labels[index])], NAMES[int(enc.predicted[index])]
    assert window.scatter.last_tip == (
        f"test image #{index}\ntrue label: {true}\npredicted: {predicted}"
    )
    assert "Fashion-MNIST" in window.status_model.text()


def test_clicking_a_point_captions_its_reconstruction_with_its_name(fashion_window):
    window = fashion_window
    window.scatter.point_clicked.emit(7)
    assert window.image_view.title() == "Reconstruction of #7"
    ref = Explorer(window.explorer.record)
    reading = ref.classify(ref.reconstruction(7))
    assert window.image_view.caption() == f"reads as {NAMES[reading[0]]} — {reading[1]:.0%}"
    chosen = int(window.explorer.encoding.predicted[7])
    assert window.selector.digit() == chosen
    assert window.selector.buttons()[chosen].text() == NAMES[chosen]
