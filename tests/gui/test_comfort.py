"""Comfort: the light/dark theme, Help > Shortcuts and About, tooltips, crisp high-DPI digits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QMenu,
    QMessageBox,
    QSlider,
    QWidget,
)

from latentlab.gui import theme
from latentlab.gui.help_dialogs import ShortcutsDialog, package_version, shortcut_rows
from latentlab.gui.image_view import to_ink_uint8
from latentlab.gui.main_window import MainWindow, default_training_factory

NATIVE = QKeySequence.SequenceFormat.NativeText


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch):
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: QMessageBox.StandardButton.Ok)


@pytest.fixture(autouse=True)
def system_theme_afterwards():
    """The theme manager lives as long as the test QApplication: leave it as the next test expects."""
    yield
    themes = theme.manager()
    QApplication.instance().styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Unknown)
    themes.set_mode(theme.SYSTEM)


@pytest.fixture
def window(open_explorer_window, cvae_file):
    """The real window (training dock included) with a small model loaded."""
    return open_explorer_window(cvae_file, training_factory=default_training_factory)


def lightness(role: QPalette.ColorRole = QPalette.ColorRole.Window) -> int:
    return QApplication.instance().palette().color(role).lightness()


def theme_action(win: MainWindow, mode: str) -> QAction:
    action = win.findChild(QAction, f"theme_{mode}")
    assert action is not None and action.isCheckable()
    return action


def plot_colours_of(win: MainWindow) -> tuple[str, str, str]:
    """Background, left-axis text and first legend label colour of the scatter, as shown."""
    plot = win.scatter.plot_widget
    item = plot.getPlotItem()
    legend = next(i for i in plot.scene().items() if isinstance(i, pg.LegendItem))
    _, label = legend.items[0]
    return (
        plot.backgroundBrush().color().name(),
        item.getAxis("left").textPen().color().name(),
        # pyqtgraph writes the colour into the label's HTML when it (re)draws the text
        next(
            c for c in (theme.LIGHT_PLOTS.text, theme.DARK_PLOTS.text) if c in label.item.toHtml()
        ),
    )


# --- theme ------------------------------------------------------------------------------------


def test_view_theme_dark_and_light_recolour_widgets_and_plots_and_are_remembered(window):
    with_palette = theme.manager()
    assert with_palette.mode() == theme.SYSTEM and theme_action(window, theme.SYSTEM).isChecked()
    assert lightness() > 128  # the offscreen platform is light

    theme_action(window, theme.DARK).trigger()
    dark = theme.DARK_PLOTS
    assert lightness() < 128 and lightness(QPalette.ColorRole.WindowText) > 128
    assert plot_colours_of(window) == (dark.background, dark.text, dark.text)
    assert window.scatter.marker.pen.color().name() == dark.marker
    sheet = QApplication.instance().styleSheet()
    assert (theme.resources_dir() / "style-dark.qss").read_text(encoding="utf-8") in sheet
    assert QSettings().value(theme.SETTINGS_KEY) == theme.DARK and theme.saved_mode() == "dark"

    theme_action(window, theme.LIGHT).trigger()
    light = theme.LIGHT_PLOTS
    assert lightness() > 128
    assert plot_colours_of(window) == (light.background, light.text, light.text)
    assert theme.saved_mode() == "light" and theme_action(window, theme.LIGHT).isChecked()
    sheet = QApplication.instance().styleSheet()
    assert (theme.resources_dir() / "style-light.qss").read_text(encoding="utf-8") in sheet


def test_the_theme_shortcut_works_without_opening_the_menu(qtbot, window):
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert theme.manager().theme() == theme.DARK and lightness() < 128


def test_system_mode_follows_the_desktop_colour_scheme(qtbot, window):
    themes = theme.manager()
    hints = QApplication.instance().styleHints()
    with qtbot.waitSignal(themes.changed, timeout=2000) as changed:
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert changed.args == [theme.DARK] and lightness() < 128
    assert plot_colours_of(window)[0] == theme.DARK_PLOTS.background
    with qtbot.waitSignal(themes.changed, timeout=2000) as changed:
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert changed.args == [theme.LIGHT] and lightness() > 128

    theme_action(window, theme.LIGHT).trigger()  # a fixed choice ignores the desktop
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert themes.theme() == theme.LIGHT and lightness() > 128


def test_plots_added_after_the_theme_was_chosen_match_it(qtbot, window):
    theme_action(window, theme.DARK).trigger()
    late = pg.PlotWidget(background="w")
    late.getPlotItem().setTitle("late")
    holder = QWidget()
    holder.setParent(window, Qt.WindowType.Widget)  # a panel added to the window later on
    late.setParent(holder)
    holder.show()
    qtbot.waitUntil(lambda: late.backgroundBrush().color().name() == theme.DARK_PLOTS.background)
    assert late.getPlotItem().getAxis("bottom").textPen().color().name() == theme.DARK_PLOTS.text


def test_a_model_opened_in_the_dark_theme_is_drawn_dark(open_explorer_window, cvae_file):
    """The scatter's marker and legend entries are made when a model arrives, after the theme."""
    theme.manager().set_mode(theme.DARK)
    win = open_explorer_window(cvae_file)
    dark = theme.DARK_PLOTS
    assert win.scatter.marker.pen.color().name() == dark.marker
    assert plot_colours_of(win) == (dark.background, dark.text, dark.text)


# --- shortcuts and about ----------------------------------------------------------------------


def menu_actions(menu: QMenu, skip: tuple[QMenu, ...]) -> list[QAction]:
    found: list[QAction] = []
    for action in menu.actions():
        sub = action.menu()
        if isinstance(sub, QMenu):
            if sub not in skip:
                found += menu_actions(sub, skip)
        elif not action.isSeparator():
            found.append(action)
    return found


def all_menu_actions(win: MainWindow) -> list[QAction]:
    """Every menu item, except the lists of files made when their menu opens."""
    skip = (win.recent_menu, win.bundled_menu)
    return [
        action
        for top in win.menuBar().actions()
        if isinstance(top.menu(), QMenu)
        for action in menu_actions(top.menu(), skip)
    ]


def test_every_menu_action_has_a_keyboard_shortcut(window):
    missing = [a.text() for a in all_menu_actions(window) if a.shortcut().isEmpty()]
    assert not missing, f"menu items without a shortcut: {missing}"


def test_no_two_actions_share_a_shortcut(window):
    keys = [a.shortcut().toString() for a in all_menu_actions(window)]
    keys += [s.key().toString() for s in window.digit_shortcuts]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_the_shortcuts_dialog_lists_what_the_window_really_has(qtbot, window):
    window.help.shortcuts_action.trigger()
    dialog = window.help.dialog
    assert isinstance(dialog, ShortcutsDialog) and dialog.isVisible()
    shown = dialog.texts()
    for action in all_menu_actions(window):
        expected = (action.shortcut().toString(NATIVE), action.text().replace("&", ""))
        assert expected in [(keys, command) for keys, command, _ in shown]
    assert ("0–9", "Choose the class with that number", "Window") in shown
    assert ("Ctrl+K, D", "Dark", "View > Theme") in shown
    mouse = [command for keys, command, where in shown if where == "Scatter (mouse)"]
    assert "Select the points inside a rectangle" in mouse and len(mouse) >= 10
    dialog.reject()

    # A key added later shows up the next time: the list is read, not written down.
    extra = QAction("Frobnicate", window)
    extra.setShortcut(QKeySequence("Ctrl+Alt+F"))
    window.explore_menu.addAction(extra)
    rows = shortcut_rows(window)
    assert any(r.command == "Frobnicate" and r.where == "Explore" for r in rows)
    window.explore_menu.removeAction(extra)
    assert not any(r.command == "Frobnicate" for r in shortcut_rows(window))


def test_f1_opens_the_shortcuts_and_about_names_the_versions(qtbot, window):
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: window.help.dialog is not None and window.help.dialog.isVisible())
    window.help.dialog.reject()
    window.help.about_action.trigger()
    box = window.help.about
    assert box is not None and box.isVisible()
    text = box.text()
    assert package_version("latentlab") in text and "PySide6" in text and "Qt " in text
    box.close()


# --- tooltips ---------------------------------------------------------------------------------


def controls(root: QWidget) -> list[QWidget]:
    kinds = (QAbstractButton, QSlider, QComboBox, QAbstractSpinBox)
    return [w for w in root.findChildren(QWidget) if isinstance(w, kinds)]


def describe(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, QAbstractButton) else ""
    parents = []
    parent = widget.parentWidget()
    while parent is not None:
        parents.append(type(parent).__name__)
        parent = parent.parentWidget()
    return f"{type(widget).__name__} {text!r} in {'/'.join(parents[:3])}"


def test_every_control_in_the_window_has_a_tooltip(window):
    found = controls(window)
    assert len(found) > 20  # buttons, sliders, value boxes, combos: the walk sees them
    missing = [describe(w) for w in found if not w.toolTip().strip()]
    assert not missing, "controls without a tooltip:\n" + "\n".join(missing)


def test_every_field_of_the_train_dialog_has_a_tooltip(qtbot):
    from PySide6.QtWidgets import QDialogButtonBox

    from latentlab.gui.train_dialog import TrainDialog

    dialog = TrainDialog()
    qtbot.addWidget(dialog)
    boxes = dialog.findChildren(QDialogButtonBox)  # OK / Cancel say what they do
    fields = [w for w in controls(dialog) if not any(box.isAncestorOf(w) for box in boxes)]
    assert len(fields) >= 10
    missing = [describe(w) for w in fields if not w.toolTip().strip()]
    assert not missing, "train dialog fields without a tooltip:\n" + "\n".join(missing)


# --- high DPI ---------------------------------------------------------------------------------

CRISP_SCRIPT = """
import json
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from latentlab.gui import app as app_module
app_module.prepare_high_dpi()
app = QApplication([])
assert QGuiApplication.highDpiScaleFactorRoundingPolicy() == (
    Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
from latentlab.gui.image_view import DigitView, to_ink_uint8
view = DigitView("t"); view.resize(300, 340); view.show(); app.processEvents()
view.set_image((np.indices((28, 28)).sum(0) % 2).astype(np.float32)); app.processEvents()
image = view._view.grab().toImage()
w, h = image.width(), image.height()
rows = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())
pixels = rows[:, : 4 * w].reshape(h, w, 4)[h // 5 : 4 * h // 5, w // 5 : 4 * w // 5, :3]
print(json.dumps({"ratio": app.devicePixelRatio(), "greys": np.unique(pixels).tolist()}))
"""


def test_digits_stay_crisp_at_a_fractional_scale_factor():
    """At 150 % (kept at 1.5 by the PassThrough policy) a checkerboard digit shows only its two
    greys: no interpolated pixels. Run in its own process, since the scale is set at start-up."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "1.5"}
    result = subprocess.run(
        [sys.executable, "-c", CRISP_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown["ratio"] == 1.5
    paper_and_ink = to_ink_uint8(np.array([[0.0, 1.0]], np.float32)).ravel().tolist()
    assert shown["greys"] == sorted(paper_and_ink)


def test_the_training_plots_are_built_on_first_show_and_drawn_in_the_theme(qtbot, window):
    """The hidden training panel costs start-up nothing; shown later, it matches the theme."""
    panel = window.training.panel
    assert panel.findChildren(pg.GraphicsView) == []  # not built while the dock is hidden
    theme_action(window, theme.DARK).trigger()
    window.training_dock.toggleViewAction().trigger()
    qtbot.waitUntil(lambda: len(panel.findChildren(pg.GraphicsView)) == 2)
    views = panel.findChildren(pg.GraphicsView)
    qtbot.waitUntil(
        lambda: all(
            v.backgroundBrush().color().name() == theme.DARK_PLOTS.background for v in views
        )
    )
    axis = panel.vae_plot.getAxis("bottom")
    assert axis.textPen().color().name() == theme.DARK_PLOTS.text
