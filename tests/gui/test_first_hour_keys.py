"""Digit keys drive the class selector wherever the window put the focus, unless the user is
typing in a text field (a field clicked into, or reached with Tab, keeps its digits)."""

from __future__ import annotations

from PySide6.QtCore import Qt


def _manifold_spin(qtbot, window):
    tools = window.explore_tools
    tools.manifold_action.trigger()
    qtbot.waitUntil(tools.manifold_dock.isVisible)
    return tools.manifold_view.size_spin


def test_a_spin_box_the_window_focused_by_itself_does_not_swallow_digits(qtbot, explorer_window):
    window = explorer_window
    spin = _manifold_spin(qtbot, window)
    before = spin.value()
    spin.setFocus(Qt.FocusReason.ActiveWindowFocusReason)  # as at start-up, with the dock open
    qtbot.waitUntil(spin.hasFocus)
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_4)
    assert window.selector.digit() == 4 and window.state.class_index == 4
    assert spin.value() == before
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_2)
    assert window.selector.digit() == 2


def test_a_spin_box_the_user_clicked_into_keeps_its_digits(qtbot, explorer_window):
    window = explorer_window
    window.selector.select(1)
    spin = _manifold_spin(qtbot, window)
    spin.setFocus(Qt.FocusReason.MouseFocusReason)  # what a click into the field does
    qtbot.waitUntil(spin.hasFocus)
    spin.selectAll()
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_9)
    assert spin.lineEdit().text().startswith("9")
    assert window.selector.digit() == 1  # the class stayed


def test_tab_into_a_slider_value_box_types_there(qtbot, explorer_window):
    window = explorer_window
    window.selector.select(5)
    box = window.sliders.findChildren(type(window.explore_tools.manifold_view.range_spin))[0]
    box.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(box.hasFocus)
    box.selectAll()
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_1)
    assert box.lineEdit().text().startswith("1")
    assert window.selector.digit() == 5
    # Focus moved away and back by the window (not the user): digits choose the class again.
    window.image_view.setFocus(Qt.FocusReason.OtherFocusReason)
    box.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_3)
    assert window.selector.digit() == 3
