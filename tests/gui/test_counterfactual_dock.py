"""The Counterfactual dock and the decision map in the explorer window, on models with known answers.

`SideModel` draws z1 and z2 as the brightness of the image's left and right halves, and its
classifier reads "right" wherever z1 > 0; `InputModel` draws its class input as three bands
and z not at all, so only the class input can change what it reads.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from latentlab.core.explore.document import Document
from latentlab.core.explore.latent_model import ImageSpec
from latentlab.core.explore.points import EncodedPoints
from latentlab.gui.counterfactual_tools import MOVED, NO_CLASSIFIER

from ..factories import softmax as _softmax
from .conftest import LOAD_MS

WAIT_MS = 5_000


class SideModel:
    latent_dim = 2
    image_spec = ImageSpec(8, 8, 1)
    class_names = ("left", "right")
    conditional = False
    can_encode = False

    def __init__(self, can_classify: bool = True) -> None:
        self.can_classify = can_classify

    def condition(self, classes):
        raise ValueError("no class input")

    def decode(self, z, condition=None):
        s = 1 / (1 + np.exp(-np.asarray(z, np.float32)))
        images = np.empty((len(s), 8, 8, 1), np.float32)
        images[:, :, :4, 0] = s[:, 0, None, None]
        images[:, :, 4:, 0] = s[:, 1, None, None]
        return images

    def encode(self, images):
        raise NotImplementedError

    def classify(self, images):
        left = np.asarray(images, np.float32)[:, 0, 0, 0]
        logit = 8.0 * (left - 0.5)
        return _softmax(np.stack([-logit, logit], axis=1))


class InputModel:
    latent_dim = 2
    image_spec = ImageSpec(6, 6, 1)
    class_names = ("a", "b", "c")
    conditional = True
    can_encode = False
    can_classify = True

    def condition(self, classes):
        return np.eye(3, dtype=np.float32)[classes]

    def decode(self, z, condition=None):
        c = np.broadcast_to(np.asarray(condition, np.float32), (len(z), 3))
        return np.repeat(np.repeat(c[:, None, :, None], 6, axis=1), 2, axis=2).copy()

    def encode(self, images):
        raise NotImplementedError

    def classify(self, images):
        bands = np.asarray(images, np.float32)[:, 0, ::2, 0]
        return _softmax(10.0 * bands)


class Payload:
    def info_rows(self) -> list[tuple[str, str]]:
        return [("Model", "a test fake")]


def side_document(can_classify: bool = True) -> Document:
    model = SideModel(can_classify)
    mu = np.random.default_rng(0).uniform(-3, 3, size=(300, 2)).astype(np.float32)
    probs = model.classify(model.decode(mu)) if can_classify else None
    labels = (mu[:, 0] > 0).astype(np.uint8)
    points = EncodedPoints(mu, np.zeros_like(mu), labels, probs)
    return Document(model, points, payload=Payload(), source="live")


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch) -> list:
    shown: list = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *args: shown.append(args))
    return shown


@pytest.fixture
def show(open_explorer_window, qtbot):
    def open_on(document: Document):
        window = open_explorer_window()
        with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
            window.show_document(document)
        return window

    return open_on


def test_find_then_go_there_crosses_the_classifiers_boundary(show, qtbot):
    window = show(side_document())
    tools = window.counterfactual_tools
    tools.action.trigger()
    qtbot.waitUntil(tools.dock.isVisible, timeout=WAIT_MS)
    window.state.set_z(np.array([-1.5, 0.5], np.float32))
    panel = tools.panel
    panel.target_combo.setCurrentIndex(1)  # "right"
    assert not panel.move_combo.isVisible()  # a plain model has no class input to move
    panel.find_button.click()
    qtbot.waitUntil(lambda: tools.found is not None, timeout=WAIT_MS)
    found = tools.found
    assert found.start_class == 0 and found.target == 1
    assert 1.5 <= found.distance < 1.5 * 1.2  # the boundary is 1.5 away; the search gets near
    assert "Read as left here; as right" in panel.result.text()
    assert panel.strip.isVisible() and panel.strip.image() is not None
    assert tools.path_item.isVisible()
    np.testing.assert_allclose(window.state.z, [-1.5, 0.5])  # finding moves nothing

    panel.go_button.click()
    z = window.state.z
    assert z[0] > 0
    assert window.state.classify(window.state.decode())[0] == 1
    assert MOVED not in panel.result.text()  # it is where the search ended
    window.state.set_z(np.array([-2.0, 0.0], np.float32))
    assert "press Find" in panel.result.text()


def test_the_decision_map_paints_the_classifiers_reading_behind_the_points(show, qtbot):
    window = show(side_document())
    tools = window.counterfactual_tools
    tools.action.trigger()
    view = window.scatter.plot_widget.getPlotItem().getViewBox()
    view.setRange(xRange=(-2, 2), yRange=(-2, 2), padding=0)
    tools.panel.map_check.setChecked(True)
    qtbot.waitUntil(lambda: tools.decision is not None, timeout=WAIT_MS)
    qtbot.waitUntil(tools.map_item.isVisible, timeout=WAIT_MS)
    decision = tools.decision
    (x0, x1), _ = decision.x_range, decision.y_range
    xs = np.linspace(x0, x1, decision.shape[1] + 1)
    centres = (xs[:-1] + xs[1:]) / 2
    # The dims view shows z1 across: every column reads "right" exactly where z1 > 0.
    expected = np.tile((centres > 0).astype(np.int16), (decision.shape[0], 1))
    np.testing.assert_array_equal(decision.classes, expected)
    rect = tools.map_item.mapRectToParent(tools.map_item.boundingRect())
    assert rect.left() == pytest.approx(x0, abs=1e-4)
    assert rect.width() == pytest.approx(x1 - x0, abs=1e-4)
    assert tools.map_item.zValue() < min(item.zValue() for item in window.scatter.class_items())

    view.setRange(xRange=(1, 3), yRange=(-1, 1), padding=0)  # panning reads the new view
    qtbot.waitUntil(lambda: tools.decision.x_range[0] > 0.5, timeout=WAIT_MS)
    assert (tools.decision.classes == 1).all()
    tools.panel.map_check.setChecked(False)
    assert not tools.map_item.isVisible()


def test_a_conditional_model_can_move_its_class_input(show, qtbot):
    model = InputModel()
    window = show(Document(model, None, payload=Payload(), source="live"))
    tools = window.counterfactual_tools
    tools.action.trigger()
    panel = tools.panel
    assert panel.find_button.isEnabled()
    qtbot.waitUntil(panel.move_combo.isVisible, timeout=WAIT_MS)
    panel.target_combo.setCurrentIndex(2)
    panel.move_combo.setCurrentIndex(1)  # the class input
    panel.find_button.click()
    qtbot.waitUntil(lambda: tools.found is not None, timeout=WAIT_MS)
    assert 0.5 < tools.found.distance < 0.52
    assert "50% of the way from a to c" in panel.result.text()
    assert not panel.go_button.isEnabled()  # a mixed class input is not a place to go to

    panel.move_combo.setCurrentIndex(0)  # z: but with no points there is nothing to aim at
    panel.find_button.click()
    qtbot.waitUntil(lambda: "no encoded points" in panel.result.text(), timeout=WAIT_MS)
    assert tools.found is None


def test_a_model_without_a_classifier_says_why(show):
    window = show(side_document(can_classify=False))
    tools = window.counterfactual_tools
    assert tools.action.toolTip() == NO_CLASSIFIER
    assert not tools.panel.find_button.isEnabled()
    assert not tools.panel.map_check.isEnabled()
    assert tools.panel.result.text() == NO_CLASSIFIER


def test_the_shortcut_and_menu_entry(explorer_window):
    tools = explorer_window.counterfactual_tools
    assert tools.action.shortcut().toString() == "Ctrl+Shift+F"
    assert tools.action in explorer_window.explore_menu.actions()


def test_a_conditional_model_starts_on_its_class_input_and_a_class_it_does_not_read(show, qtbot):
    model = InputModel()
    window = show(Document(model, None, payload=Payload(), source="live"))
    panel = window.counterfactual_tools.panel
    assert panel.move == "class input"  # z holds style: moving it would be a dead end
    read = window.state.classify(window.state.decode())[0]
    assert panel.target != read
    window.state.set_class(2)
    assert panel.target != 2  # the new class is what it reads now: aim elsewhere


def test_a_result_goes_stale_when_the_class_changes(show, qtbot):
    model = InputModel()
    window = show(Document(model, None, payload=Payload(), source="live"))
    tools = window.counterfactual_tools
    tools.panel.target_combo.setCurrentIndex(2)
    tools.panel.find_button.click()
    qtbot.waitUntil(lambda: tools.found is not None, timeout=WAIT_MS)
    assert MOVED not in tools.panel.result.text()
    assert "mixed from two classes" in tools.panel.go_button.toolTip()
    window.state.set_class(1)  # z is unchanged, but the search was from class a
    assert tools.panel.result.text().endswith(MOVED)
