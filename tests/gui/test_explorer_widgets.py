"""The explorer's widgets on their own: selector, sliders, image view, info dialog, settings."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from latentlab.gui import settings
from latentlab.gui.class_selector import PLAIN_REASON, ClassSelector, short_name
from latentlab.gui.image_view import DigitView, to_ink_uint8, to_qimage
from latentlab.gui.latent_sliders import LatentSliders
from latentlab.gui.model_info_dialog import ModelInfoDialog, history_rows

from .conftest import SMALL_VAE_2D, make_record

FASHION = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


class Recorder:
    def __init__(self, signal) -> None:
        self.calls: list[tuple] = []
        signal.connect(lambda *args: self.calls.append(args))


# --- class selector ---------------------------------------------------------------------------


def test_selector_buttons_are_exclusive_and_emit_the_digit(qtbot):
    selector = ClassSelector()
    qtbot.addWidget(selector)
    selector.set_classes([str(i) for i in range(10)], conditional=True)
    chosen = Recorder(selector.digit_selected)
    qtbot.mouseClick(selector.buttons()[6], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(selector.buttons()[2], Qt.MouseButton.LeftButton)
    assert chosen.calls == [(6,), (2,)]
    assert selector.digit() == 2 and not selector.buttons()[6].isChecked()
    selector.set_digit(9)  # programmatic: shown, not emitted
    assert selector.digit() == 9 and chosen.calls == [(6,), (2,)]


def test_selector_shows_word_class_names_whole_in_two_rows_with_tooltips(qtbot):
    selector = ClassSelector()
    qtbot.addWidget(selector)
    selector.set_classes([str(i) for i in range(10)], conditional=True)
    assert selector.rows() == 1
    selector.set_classes(FASHION, conditional=True)
    assert selector.rows() == 2
    assert [b.text() for b in selector.buttons()] == list(FASHION)
    assert selector.buttons()[0].toolTip() == "T-shirt/top (key 0)"
    assert selector.buttons()[9].toolTip() == "Ankle boot (key 9)"
    long_names = [*FASHION[:9], "Extraordinarily long coat"]
    selector.set_classes(long_names, conditional=True)
    assert selector.buttons()[9].text() == short_name(long_names[9]) == "Extrao…"
    assert selector.buttons()[9].toolTip() == "Extraordinarily long coat (key 9)"
    selector.set_classes([str(i) for i in range(10)], conditional=True)
    assert selector.rows() == 1 and selector.buttons()[9].text() == "9"


def test_selector_is_disabled_for_a_plain_model_and_says_why(qtbot):
    selector = ClassSelector()
    qtbot.addWidget(selector)
    selector.set_classes([str(i) for i in range(10)], conditional=False)
    assert not any(b.isEnabled() for b in selector.buttons())
    assert selector.reason() == PLAIN_REASON and selector.digit() is None
    selector.set_classes([str(i) for i in range(10)], conditional=True)
    assert all(b.isEnabled() for b in selector.buttons()) and selector.reason() == ""


# --- sliders ----------------------------------------------------------------------------------


def test_sliders_are_built_from_the_dimension_count(qtbot):
    sliders = LatentSliders()
    qtbot.addWidget(sliders)
    sliders.set_dimension(10)
    assert sliders.count() == 10
    assert (sliders.slider(0).minimum(), sliders.slider(0).maximum()) == (-350, 350)
    assert sliders.spin_box(9).maximum() == pytest.approx(3.5)
    sliders.set_dimension(2)
    assert sliders.count() == 2 and sliders.values() == [0.0, 0.0]


def test_slider_and_value_box_stay_in_step_and_emit_each_change(qtbot):
    sliders = LatentSliders()
    qtbot.addWidget(sliders)
    sliders.set_dimension(3)
    changes = Recorder(sliders.value_changed)
    sliders.slider(1).setValue(-37)
    sliders.spin_box(2).setValue(1.25)
    assert changes.calls == [(1, -0.37), (2, 1.25)]
    assert sliders.spin_box(1).value() == pytest.approx(-0.37)
    assert sliders.slider(2).value() == 125
    for _ in range(4):  # a drag emits on every step, not only on release
        sliders.slider(0).triggerAction(sliders.slider(0).SliderAction.SliderSingleStepAdd)
    assert len(changes.calls) == 6 and changes.calls[-1] == (0, 0.04)


def test_set_values_shows_all_rows_without_emitting(qtbot):
    sliders = LatentSliders()
    qtbot.addWidget(sliders)
    sliders.set_dimension(3)
    changes = Recorder(sliders.value_changed)
    sliders.set_values([0.5, -3.5, 2.333])
    assert changes.calls == []
    assert sliders.values() == pytest.approx([0.5, -3.5, 2.33])
    assert [sliders.slider(i).value() for i in range(3)] == [50, -350, 233]
    with pytest.raises(ValueError):
        sliders.set_values([1.0])


def test_random_and_reset_buttons_only_ask(qtbot):
    sliders = LatentSliders()
    qtbot.addWidget(sliders)
    sliders.set_dimension(2)
    randoms, resets = Recorder(sliders.random_requested), Recorder(sliders.reset_requested)
    qtbot.mouseClick(sliders.random_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(sliders.reset_button, Qt.MouseButton.LeftButton)
    assert len(randoms.calls) == 1 and len(resets.calls) == 1


# --- image view -------------------------------------------------------------------------------


def test_image_is_row_major_with_dark_ink(qtbot):
    image = np.zeros((28, 28), np.float32)
    image[2, 20] = 1.0  # row 2 (near the top), column 20 (right)
    view = DigitView("t")
    qtbot.addWidget(view)
    view.set_image(image, "caption")
    np.testing.assert_array_equal(view.shown_image(), image)
    assert view._item.levels is not None and list(view._item.levels) == [0, 1]
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
    view.clear("nothing here")
    assert view.image() is None and view.caption() == "nothing here"
    assert not view._item.isVisible()


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
    metrics = {top["Metrics"].child(i).text(0) for i in range(top["Metrics"].childCount())}
    assert metrics == set(record.metrics)


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
