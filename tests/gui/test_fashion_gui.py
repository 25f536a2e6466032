"""A Fashion-MNIST model in the explorer: class names (not digits) on every control and caption."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from latentlab.core.data.datasets import FASHION_MNIST
from latentlab.core.vae.checkpoint import save_model
from latentlab.gui.main_window import MainWindow

from ..factories import open_state
from .conftest import SMALL_CVAE, make_record

NAMES = FASHION_MNIST.class_names


@pytest.fixture
def fashion_window(open_explorer_window, tmp_path, monkeypatch):
    """The window on a small random model whose config says Fashion-MNIST (no names stored)."""
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: QMessageBox.StandardButton.Ok)
    record = make_record(SMALL_CVAE.replace(dataset="fashion-mnist"), seed=3)
    path = save_model(record, tmp_path / "small-fashion.safetensors")
    return open_explorer_window(path)


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
    ref = open_state(window.document.payload)
    ref.set_class(1)
    reading = ref.classify(ref.decode())
    assert window.image_view.caption() == f"reads as {NAMES[reading[0]]} — {reading[1]:.0%}"
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # window shortcuts need the active window
    qtbot.keyClick(window, Qt.Key.Key_9)  # number keys still choose the class
    assert window.image_view.title() == "Decoded: Ankle boot"


def lonely_point(window: MainWindow) -> int:
    """A test point no other point hides on the scatter."""
    points = window.state.points_2d()
    d = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    return int(np.argmax(d.min(axis=1)))


def settle_layout(widget) -> None:
    """Paint once and let the layout follow: the axes size themselves to their tick labels on
    their first paint, which shifts where every point is drawn."""
    widget.grab()
    QApplication.processEvents()
    widget.grab()


def viewport_pos(window: MainWindow, index: int):
    """Where test point `index` is drawn, in the scatter's viewport (for the mouse)."""
    scatter = window.scatter
    scene = scatter.scene_pos(*window.state.points_2d()[index])
    return scatter.plot_widget.mapFromScene(scene)


def test_legend_hover_and_status_bar_use_the_names(qtbot, fashion_window):
    window = fashion_window
    plot = window.scatter.plot_widget
    legend = next(i for i in plot.scene().items() if isinstance(i, pg.LegendItem))
    assert [label.text for _, label in legend.items] == list(NAMES)

    enc = window.state.points
    index = lonely_point(window)
    settle_layout(plot)
    qtbot.mouseMove(plot.viewport(), viewport_pos(window, index))
    true, predicted = NAMES[int(enc.labels[index])], NAMES[int(enc.predicted[index])]
    tip = f"test image #{index}\ntrue label: {true}\npredicted: {predicted}"
    qtbot.waitUntil(lambda: window.scatter.last_tip == tip)
    assert window.scatter.tip_for(index) == tip
    assert "Fashion-MNIST" in window.status_model.text()


def test_clicking_a_point_captions_its_reconstruction_with_its_name(qtbot, fashion_window):
    window = fashion_window
    index = lonely_point(window)
    with qtbot.waitSignal(window.scatter.point_clicked) as clicked:
        qtbot.mouseClick(
            window.scatter.plot_widget.viewport(),
            Qt.MouseButton.LeftButton,
            pos=viewport_pos(window, index),
        )
    assert clicked.args == [index] and window.state.selected == index
    assert window.image_view.title() == f"Reconstruction of #{index}"
    ref = open_state(window.document.payload)
    reading = ref.classify(ref.reconstruction(index))
    assert window.image_view.caption() == f"reads as {NAMES[reading[0]]} — {reading[1]:.0%}"
    chosen = int(window.state.points.predicted[index])
    assert window.selector.digit() == chosen
    assert window.selector.buttons()[chosen].text() == NAMES[chosen]
