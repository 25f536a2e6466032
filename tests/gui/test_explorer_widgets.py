"""The explorer's widgets on their own: selector, sliders, image view, info dialog, settings."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from latentlab.core.data.datasets import get_spec
from latentlab.core.explore.state import ExplorerState
from latentlab.core.vae.latent_model import vae_document
from latentlab.gui import settings
from latentlab.gui.class_selector import PLAIN_REASON, ClassSelector, short_name
from latentlab.gui.image_view import DigitView, to_ink_uint8, to_qimage
from latentlab.gui.latent_sliders import TEXT_DELAY_MS, LatentSliders
from latentlab.gui.model_info_dialog import ModelInfoDialog, history_rows

from .conftest import SMALL_CVAE, SMALL_VAE_2D, make_record

FASHION = get_spec("fashion-mnist").class_names  # long word names, as the data set has them
DIGITS = tuple(str(i) for i in range(10))


class Recorder:
    """Collects the values a state event (or a Qt signal) announces."""

    def __init__(self, signal) -> None:
        self.calls: list[tuple] = []
        signal.connect(lambda *args: self.calls.append(args))


def record_reaching(extent: float, latent_dim: int = 4, conditional: bool = True, **changes):
    """A small model whose encoded means reach exactly `extent` (0: the prior's own range)."""
    config = SMALL_CVAE if conditional else SMALL_VAE_2D
    record = make_record(config.replace(latent_dim=latent_dim))
    mu = record.test_encoding.mu
    record.test_encoding.mu = (mu * (extent / np.abs(mu).max())).astype(np.float32)
    return replace(record, **changes) if changes else record


def make_selector(qtbot, record) -> tuple[ExplorerState, ClassSelector]:
    """A selector bound to a state, then a model opened on it (as the window does)."""
    state = ExplorerState()
    selector = ClassSelector(state)
    qtbot.addWidget(selector)
    state.open(vae_document(record))
    return state, selector


# --- class selector ---------------------------------------------------------------------------


def test_selector_buttons_are_exclusive_and_set_the_states_class(qtbot):
    state, selector = make_selector(qtbot, record_reaching(2.0))
    chosen = Recorder(state.events.class_index)
    qtbot.mouseClick(selector.buttons()[6], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(selector.buttons()[2], Qt.MouseButton.LeftButton)
    assert chosen.calls == [(6,), (2,)] and state.class_index == 2
    assert selector.digit() == 2 and not selector.buttons()[6].isChecked()
    state.set_class(9)  # from elsewhere (a key, a scatter click): shown, not set again
    assert selector.digit() == 9 and chosen.calls == [(6,), (2,), (9,)]
    selector.select(4)  # as the 0-9 keys do
    assert state.class_index == 4 and selector.buttons()[4].isChecked()


def test_selector_shows_word_class_names_whole_in_two_rows_with_tooltips(qtbot):
    state, selector = make_selector(qtbot, record_reaching(2.0, class_names=DIGITS))
    assert selector.rows() == 1
    state.open(vae_document(record_reaching(2.0, class_names=FASHION)))
    assert selector.rows() == 2
    assert [b.text() for b in selector.buttons()] == list(FASHION)
    assert selector.buttons()[0].toolTip() == "T-shirt/top (key 0)"
    assert selector.buttons()[9].toolTip() == "Ankle boot (key 9)"
    long_names = (*FASHION[:9], "Extraordinarily long coat")
    state.open(vae_document(record_reaching(2.0, class_names=long_names)))
    assert selector.buttons()[9].text() == short_name(long_names[9]) == "Extrao…"
    assert selector.buttons()[9].toolTip() == "Extraordinarily long coat (key 9)"
    state.open(vae_document(record_reaching(2.0, class_names=DIGITS)))
    assert selector.rows() == 1 and selector.buttons()[9].text() == "9"
    assert len(selector.buttons()) == 10


def test_selector_is_disabled_for_a_plain_model_and_says_why(qtbot):
    state, selector = make_selector(qtbot, record_reaching(2.0, latent_dim=2, conditional=False))
    assert len(selector.buttons()) == 10
    assert not any(b.isEnabled() for b in selector.buttons())
    assert selector.reason() == PLAIN_REASON and selector.digit() is None
    selector.select(3)  # a key does nothing without a class input
    assert state.class_index == 0 and selector.digit() is None
    state.open(vae_document(record_reaching(2.0)))
    assert all(b.isEnabled() for b in selector.buttons()) and selector.reason() == ""


# --- sliders ----------------------------------------------------------------------------------


def make_sliders(qtbot, record) -> tuple[ExplorerState, LatentSliders]:
    state = ExplorerState()
    sliders = LatentSliders(state)
    qtbot.addWidget(sliders)
    state.open(vae_document(record))
    return state, sliders


def test_sliders_are_built_from_the_dimension_count(qtbot):
    state, sliders = make_sliders(qtbot, record_reaching(2.0, latent_dim=10))
    assert sliders.count() == 10
    assert (sliders.slider(0).minimum(), sliders.slider(0).maximum()) == (-350, 350)
    assert sliders.spin_box(9).maximum() == pytest.approx(3.5)
    state.open(vae_document(record_reaching(2.0, latent_dim=2, conditional=False)))
    assert sliders.count() == 2 and sliders.values() == [0.0, 0.0]


def test_slider_and_value_box_stay_in_step_and_move_the_state_on_each_change(qtbot):
    state, sliders = make_sliders(qtbot, record_reaching(2.0, latent_dim=3))
    moves = Recorder(state.events.z)
    sliders.slider(1).setValue(-37)
    sliders.spin_box(2).setValue(1.25)
    assert len(moves.calls) == 2
    np.testing.assert_allclose(state.z, [0.0, -0.37, 1.25], atol=1e-6)
    assert sliders.spin_box(1).value() == pytest.approx(-0.37)
    assert sliders.slider(2).value() == 125
    for _ in range(4):  # a drag moves the state on every step, not only on release
        sliders.slider(0).triggerAction(sliders.slider(0).SliderAction.SliderSingleStepAdd)
    assert len(moves.calls) == 6
    np.testing.assert_allclose(state.z, [0.04, -0.37, 1.25], atol=1e-6)


def test_sliders_show_the_states_point_without_moving_it(qtbot):
    state, sliders = make_sliders(qtbot, record_reaching(2.0, latent_dim=3))
    moves = Recorder(state.events.z)
    state.set_z(np.array([0.5, -3.5, 2.333], np.float32))
    assert len(moves.calls) == 1  # the rows show it; they do not set it again, rounded
    np.testing.assert_array_equal(state.z, np.array([0.5, -3.5, 2.333], np.float32))
    assert sliders.values() == pytest.approx([0.5, -3.5, 2.33])
    assert [sliders.slider(i).value() for i in range(3)] == [50, -350, 233]
    with pytest.raises(ValueError):
        state.set_z(np.array([1.0], np.float32))


def test_sliders_reach_the_encoded_points_beyond_the_prior(qtbot):
    """Encoded points reaching 3.9 widen every slider: a point there shows 3.9, not 3.5."""
    record = record_reaching(3.9, latent_dim=3)
    state, sliders = make_sliders(qtbot, record)
    assert sliders.slider(0).maximum() >= 390 and sliders.spin_box(0).maximum() >= 3.9
    state.set_z(np.array([3.9, -3.9, 0.0], np.float32))
    assert sliders.values() == pytest.approx([3.9, -3.9, 0.0])
    assert [sliders.slider(i).value() for i in range(2)] == [390, -390]
    np.testing.assert_allclose(state.z, [3.9, -3.9, 0.0], atol=1e-6)  # not clipped either
    far = int(np.argmax(np.abs(record.test_encoding.mu).max(axis=1)))
    state.select(far)  # the encoded point itself, as a scatter click shows it
    np.testing.assert_allclose(sliders.values(), record.test_encoding.mu[far], atol=0.006)
    assert max(abs(v) for v in sliders.values()) == pytest.approx(3.9)


def test_random_and_reset_buttons_move_the_state(qtbot):
    state, sliders = make_sliders(qtbot, record_reaching(2.0, latent_dim=2, conditional=False))
    qtbot.mouseClick(sliders.random_button, Qt.MouseButton.LeftButton)
    z = state.z
    assert np.any(z != 0) and np.all(np.abs(z) <= state.slider_range)
    np.testing.assert_allclose(sliders.values(), z, atol=0.006)
    qtbot.mouseClick(sliders.reset_button, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(state.z, [0.0, 0.0])
    assert sliders.values() == [0.0, 0.0]


# --- image view -------------------------------------------------------------------------------


def drawn_grey(view: DigitView) -> int:
    """The grey the view draws at its centre (inside the image), as on screen."""
    view.resize(200, 260)
    view.show()
    QApplication.processEvents()
    image = view.grab().toImage()
    return image.pixelColor(image.width() // 2, image.height() // 2).red()


def test_image_is_row_major_with_dark_ink(qtbot):
    image = np.zeros((28, 28), np.float32)
    image[2, 20] = 1.0  # row 2 (near the top), column 20 (right)
    view = DigitView("t")
    qtbot.addWidget(view)
    view.set_image(image, "caption")
    np.testing.assert_array_equal(view.shown_image(), image)
    half = np.full((28, 28), 0.5, np.float32)  # drawn as 0.5, not stretched to full ink
    view.set_image(half)
    assert drawn_grey(view) == to_ink_uint8(half)[0, 0]
    qimage = to_qimage(image, scale=10)
    assert (qimage.width(), qimage.height()) == (280, 280)
    assert qimage.format() == QImage.Format.Format_Grayscale8
    ink = qimage.pixelColor(20 * 10 + 5, 2 * 10 + 5).red()
    paper = qimage.pixelColor(2 * 10 + 5, 20 * 10 + 5).red()
    assert ink < 40 and paper == 255
    grey = to_ink_uint8(np.array([[0.0, 0.5, 1.0]]))
    assert grey[0, 0] == 255 and grey[0, 0] > grey[0, 1] > grey[0, 2]


def test_cleared_view_shows_its_message(qtbot):
    view = DigitView("t")
    qtbot.addWidget(view)
    view.set_image(np.ones((28, 28), np.float32), "x")
    assert drawn_grey(view) < 40
    view.clear("nothing here")
    assert view.image() is None and view.caption() == "nothing here"
    assert drawn_grey(view) > 200  # the ink is gone: an empty frame


def test_the_view_shows_grey_and_colour_images_of_any_size(qtbot):
    view = DigitView("t")
    qtbot.addWidget(view)
    grey = np.linspace(0, 1, 32 * 20, dtype=np.float32).reshape(32, 20, 1)
    view.set_image(grey)
    assert view.image().shape == (32, 20)
    np.testing.assert_array_equal(view.image(), grey[..., 0])
    colour = np.zeros((16, 16, 3), np.float32)
    colour[..., 0] = 1.0  # pure red
    view.set_image(colour)
    np.testing.assert_array_equal(view.image(), colour)
    view.resize(200, 260)
    view.show()
    QApplication.processEvents()
    picture = view.grab().toImage()
    centre = picture.pixelColor(picture.width() // 2, picture.height() // 2)
    assert (centre.red(), centre.green(), centre.blue()) == (255, 0, 0)


# --- model info -------------------------------------------------------------------------------


def test_history_rows_give_losses_as_recon_plus_kl():
    record = make_record(SMALL_VAE_2D.replace(epochs=3))
    rows = history_rows(record.history)
    assert len(rows) == 3
    first = record.history[0]
    assert rows[0][0] == "1"
    assert float(rows[0][2]) == pytest.approx(
        first["test"]["recon"] + first["test"]["kl"], abs=1e-3
    )
    assert history_rows([{"epoch": 1}]) == [["1", "", "", "", "", "", ""]]


def test_info_dialog_lists_metrics(qtbot):
    record = make_record(SMALL_VAE_2D)
    dialog = ModelInfoDialog(record, "some/file.safetensors")
    qtbot.addWidget(dialog)
    tree = dialog.tree
    top = {
        tree.topLevelItem(i).text(0): tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
    }
    assert top["Kind"].text(1) == "plain VAE, 2 free latent dimensions"
    children = [top["Metrics"].child(i) for i in range(top["Metrics"].childCount())]
    assert {item.toolTip(0) for item in children} == set(record.metrics)  # the stored keys
    assert {item.text(0) for item in children} == {"Test loss (nats / image)", "Test accuracy"}


# --- settings ---------------------------------------------------------------------------------


def test_recent_models_are_newest_first_unique_and_capped(tmp_path):
    paths = [tmp_path / f"m{i}.safetensors" for i in range(10)]
    for path in paths:
        settings.add_recent_model(path)
    settings.add_recent_model(paths[5])
    recent = settings.recent_models()
    assert len(recent) == settings.MAX_RECENT
    assert recent[0] == str(paths[5].resolve()) and recent[1] == str(paths[9].resolve())
    assert len(set(recent)) == len(recent)
    settings.remove_recent_model(recent[0])
    assert str(paths[5].resolve()) not in settings.recent_models()


def test_during_a_drag_the_handles_follow_every_step_and_the_numbers_catch_up(qtbot):
    state, sliders = make_sliders(qtbot, record_reaching(2.0, latent_dim=3))
    qtbot.wait(TEXT_DELAY_MS + 20)  # the input: a pause after opening, as a hand makes
    state.set_z(np.array([0.5, 0.0, 0.0], np.float32))  # a lone change: numbers at once
    assert sliders.numbers() == pytest.approx([0.5, 0.0, 0.0])
    for step in range(1, 6):  # a drag: steps far closer together than TEXT_DELAY_MS
        state.set_z(np.array([0.5 + 0.1 * step, -0.1 * step, 0.0], np.float32))
        assert sliders.values() == pytest.approx([0.5 + 0.1 * step, -0.1 * step, 0.0])
    assert sliders.numbers() != pytest.approx([1.0, -0.5, 0.0])  # not repainted every step
    qtbot.waitUntil(lambda: sliders.numbers() == pytest.approx([1.0, -0.5, 0.0]), timeout=1000)
