"""The first hour, polished: docks that never grow the window or hide the sliders, Morph Play
moving the sliders, tools off without a model, Help and About, readable Model > Info, the KL
bar on a dark theme, whole class names in Evaluate, file dialogs that remember the folder."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QFileDialog

from latentlab.core.bundled import bundled_models
from latentlab.core.vae.checkpoint import load_model
from latentlab.gui import settings
from latentlab.gui.main_window import NO_MODEL_TIP, SLIDERS_MIN_HEIGHT
from latentlab.gui.model_info_dialog import info_dialog, readable_key
from latentlab.gui.report_dialog import ReportDialog
from latentlab.gui.slider_rows import KlBar
from latentlab.gui.theme import resources_dir

from .test_explore_tools import reference, set_ends, two_classes

WAIT_MS = 5_000
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea


def test_opening_every_dock_keeps_the_window_size_and_two_slider_rows(
    qtbot, open_explorer_window, cvae_file
):
    window = open_explorer_window(cvae_file)
    window.resize(1280, 820)
    qtbot.waitUntil(lambda: window.size().toTuple() == (1280, 820))
    tools, insight = window.explore_tools, window.insight_tools
    for action in (
        tools.morph_action,
        insight.draw_action,
        tools.neighbours_action,
        tools.manifold_action,
    ):
        action.trigger()
        # Qt widens the window at once when a dock does not fit; it is shrunk back right after.
        qtbot.waitUntil(lambda: window.size().toTuple() == (1280, 820), timeout=WAIT_MS)
        assert window.sliders.height() >= SLIDERS_MIN_HEIGHT, action.text()
    docks = (tools.morph_dock, insight.draw_dock, tools.neighbours_dock, tools.manifold_dock)
    assert all(dock.isVisible() for dock in docks)
    # Side by side the bottom docks would need far more than 1280 px: they are tabbed.
    assert set(window.tabifiedDockWidgets(tools.morph_dock)) >= {
        insight.draw_dock,
        tools.neighbours_dock,
    }
    # The manifold dock did not fit beside the explorer at this width: it joined the tabs.
    assert window.dockWidgetArea(tools.manifold_dock) == BOTTOM
    assert not tools.manifold_dock.visibleRegion().isEmpty()  # brought to the front


def test_morph_play_moves_the_sliders_with_the_image(qtbot, open_explorer_window, cvae_file):
    window = open_explorer_window(cvae_file)
    window.resize(1300, 850)
    ref = reference(cvae_file)
    panel = set_ends(qtbot, window, *two_classes(ref))
    own = list(window.sliders.values())
    m = panel.current_morph()
    panel.play()
    qtbot.waitUntil(lambda: panel.shown_index() >= 3, timeout=WAIT_MS)
    k = panel.shown_index()
    want = window.state.slider_basis.project(m.z[k].astype(np.float64))
    np.testing.assert_allclose(window.sliders.values(), want, atol=0.006)
    assert not np.allclose(window.sliders.values(), own, atol=0.01)
    panel.stop()
    np.testing.assert_allclose(window.sliders.values(), own, atol=1e-9)  # the state's point


def test_explore_tools_are_off_until_a_model_is_open(qtbot, open_explorer_window, cvae_file):
    window = open_explorer_window()
    tools, insight = window.explore_tools, window.insight_tools
    actions = (
        tools.morph_action,
        tools.manifold_action,
        tools.neighbours_action,
        insight.draw_action,
    )
    for action in actions:
        assert not action.isEnabled() and action.toolTip() == NO_MODEL_TIP
    tools.morph_action.trigger()
    assert not tools.morph_dock.isVisible()
    with qtbot.waitSignal(window.model_loaded, timeout=WAIT_MS * 2):
        window.open_model(cvae_file)
    for action in actions:
        assert action.isEnabled() and action.toolTip() != NO_MODEL_TIP, action.text()


def test_help_explains_the_mixed_colours_and_about_names_licence_and_models(
    qtbot, open_explorer_window
):
    window = open_explorer_window()
    window.help.scatter_action.trigger()
    box = window.help.scatter_help
    assert box is not None and box.isVisible()
    assert "independent of the class by design" in box.text()
    box.close()
    window.help.about_action.trigger()
    about = window.help.about
    text = about.text()
    assert "MIT licence" in text and "models/README.md" in text
    for path in bundled_models():
        assert path.stem in text
    about.close()


def test_the_window_icon_file_is_a_256_px_icon():
    icon = QIcon(str(resources_dir() / "latentlab.png"))
    assert not icon.isNull()
    assert icon.availableSizes()[0].toTuple() == (256, 256)


def test_model_info_speaks_words_not_keys(qtbot, cvae_file):
    from latentlab.core.vae.latent_model import vae_document

    document = vae_document(load_model(cvae_file), cvae_file)
    dialog = info_dialog(document, str(cvae_file))
    qtbot.addWidget(dialog)
    names = []
    for i in range(dialog.tree.topLevelItemCount()):
        group = dialog.tree.topLevelItem(i)
        names += [group.child(j).text(0) for j in range(group.childCount())]
    assert (
        "KL weight (beta)" in names
        and "Learning rate" in names
        and "Test loss (nats / image)" in names
    )
    assert not [name for name in names if "_" in name]
    assert readable_key("iwae_nll") == "Iwae nll" and readable_key("mean_kl_s") == "Mean KL (s)"


@pytest.mark.parametrize(
    ("window", "text"), [((45, 45, 45), (230, 230, 230)), ((240, 240, 240), (0, 0, 0))]
)
def test_the_kl_bar_track_is_a_shade_of_the_window(qtbot, window, text):
    bar = KlBar()
    qtbot.addWidget(bar)
    palette = bar.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(*window))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(*text))
    bar.setPalette(palette)
    bar.set_kl(0.01, 1.0)  # collapsed
    track, _fill, ink = bar.colours()
    assert abs(track.lightness() - QColor(*window).lightness()) < 40  # dark on dark, light on light
    assert abs(ink.lightness() - track.lightness()) > 60  # the number stays readable
    bar.set_kl(1.0, 1.0)
    assert bar.colours()[1] == QColor("#1f77b4")


def test_evaluate_shows_fashion_class_names_whole_and_closes(qtbot):
    fashion = next(p for p in bundled_models() if p.stem == "fashion-cvae")
    record = load_model(fashion)
    dialog = ReportDialog(record, "fashion-cvae")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    header = dialog.confusion_table.horizontalHeader()
    metrics = header.fontMetrics()
    for column, name in enumerate(record.class_names):
        assert header.sectionSize(column) >= metrics.horizontalAdvance(name), name
    dialog.close_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_morph_export_starts_in_the_last_folder_and_remembers_the_new_one(
    qtbot, open_explorer_window, cvae_file, tmp_path, monkeypatch
):
    window = open_explorer_window(cvae_file)
    panel = set_ends(qtbot, window, *two_classes(reference(cvae_file)))
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    settings.remember_folder(tmp_path / "before" / "model.safetensors")
    asked = []

    def save_name(parent, title, start, file_filter):
        asked.append(start)
        return str(tmp_path / "after" / "walk.gif"), file_filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    panel.export_gif_button.click()
    assert asked == [str(tmp_path / "before" / "morph.gif")]
    assert (tmp_path / "after" / "walk.gif").is_file()
    assert settings.last_folder() == str(tmp_path / "after")
    assert window.files.start_folder() == tmp_path / "after"  # File > Open starts there too
