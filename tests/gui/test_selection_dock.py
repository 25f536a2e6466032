"""Lasso selection on the scatter and the Selection dock: real Shift-drags, A and B, export."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from latentlab.core.explore.selection import inside_polygon

LEFT = Qt.MouseButton.LeftButton
SHIFT = Qt.KeyboardModifier.ShiftModifier


def _send(widget, kind, pos: QPoint, buttons, modifiers) -> None:
    button = LEFT if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    local = QPointF(pos)
    event = QMouseEvent(kind, local, widget.mapToGlobal(local), button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def drag(window, loop_xy: np.ndarray, modifiers=SHIFT) -> None:
    """A real left-button drag through the scatter points `loop_xy` (plot coordinates)."""
    viewport = window.scatter.plot_widget.viewport()
    scatter = window.scatter
    pixels = [scatter.plot_widget.mapFromScene(scatter.scene_pos(x, y)) for x, y in loop_xy]
    _send(viewport, QEvent.Type.MouseButtonPress, pixels[0], LEFT, modifiers)
    for pos in pixels[1:]:
        _send(viewport, QEvent.Type.MouseMove, pos, LEFT, modifiers)
    _send(viewport, QEvent.Type.MouseButtonRelease, pixels[-1], Qt.MouseButton.NoButton, modifiers)


def square(cx: float, cy: float, r: float) -> np.ndarray:
    edge = np.linspace(-r, r, 6)
    path = [(cx + t, cy - r) for t in edge] + [(cx + r, cy + t) for t in edge]
    path += [(cx - t, cy + r) for t in edge] + [(cx - r, cy - t) for t in edge]
    return np.array(path, np.float32)


def test_a_shift_drag_selects_the_points_inside_its_loop(explorer_window, unthrottled_mouse):
    window = explorer_window
    tools = window.selection_tools
    view = window.scatter.plot_widget.getPlotItem().getViewBox()
    before = view.viewRange()
    xy = window.state.points_2d()
    loop = square(float(np.median(xy[:, 0])), float(np.median(xy[:, 1])), 0.6)
    drag(window, loop)
    assert tools.selection is not None
    # What the loop caught, vertex for vertex as the mouse drew it (pixels round the corners).
    drawn = tools.selection.indices
    expected = np.flatnonzero(inside_polygon(xy, loop))
    assert len(drawn) > 0
    assert len(np.setxor1d(drawn, expected)) <= max(2, len(expected) // 20)
    assert np.allclose(view.viewRange(), before)  # a lasso does not pan the view
    assert tools.dock.isVisible()
    assert f"{len(drawn)} point" in tools.panel.summary.text()
    assert tools.panel.members.isVisible()
    assert (
        tools.panel.mean_image.pixmap() is not None and not tools.panel.mean_image.pixmap().isNull()
    )
    rx, ry = tools.rings.getData()
    np.testing.assert_allclose(np.sort(ry), np.sort(xy[drawn, 1]))
    np.testing.assert_allclose(np.sort(rx), np.sort(xy[drawn, 0]))
    assert window.state.selected is None  # selecting points does not move the explorer


def test_a_ctrl_shift_drag_selects_a_rectangle(explorer_window, unthrottled_mouse):
    window = explorer_window
    tools = window.selection_tools
    xy = window.state.points_2d()
    cx, cy = float(np.median(xy[:, 0])), float(np.median(xy[:, 1]))
    # A wandering path from one corner to the other: only its two ends make the rectangle.
    path = np.array([(cx - 0.5, cy - 0.4), (cx + 0.9, cy + 0.9), (cx, cy), (cx + 0.5, cy + 0.4)])
    drag(window, path, SHIFT | Qt.KeyboardModifier.ControlModifier)
    assert tools.selection is not None
    inside = (np.abs(xy[:, 0] - cx) < 0.5) & (np.abs(xy[:, 1] - cy) < 0.4)
    edge = (np.abs(np.abs(xy[:, 0] - cx) - 0.5) < 0.02) | (
        np.abs(np.abs(xy[:, 1] - cy) - 0.4) < 0.02
    )
    drawn = np.zeros(len(xy), bool)
    drawn[tools.selection.indices] = True
    assert inside.sum() > 0
    assert not np.any((drawn != inside) & ~edge)  # pixels may round the very edge


def test_a_plain_drag_still_pans(explorer_window, unthrottled_mouse):
    window = explorer_window
    view = window.scatter.plot_widget.getPlotItem().getViewBox()
    before = np.array(view.viewRange())
    xy = window.state.points_2d()
    cx, cy = float(np.median(xy[:, 0])), float(np.median(xy[:, 1]))
    drag(
        window, np.array([(cx, cy), (cx + 0.3, cy), (cx + 0.6, cy)]), Qt.KeyboardModifier.NoModifier
    )
    assert window.selection_tools.selection is None
    assert not np.allclose(np.array(view.viewRange()), before)


def test_hidden_classes_are_not_selected(explorer_window):
    window = explorer_window
    tools = window.selection_tools
    labels = window.scatter._groups
    window.scatter.class_items()[int(labels[0])].setVisible(False)
    xy = window.state.points_2d()
    everything = np.array(
        [
            [xy[:, 0].min() - 1, xy[:, 1].min() - 1],
            [xy[:, 0].max() + 1, xy[:, 1].min() - 1],
            [xy[:, 0].max() + 1, xy[:, 1].max() + 1],
            [xy[:, 0].min() - 1, xy[:, 1].max() + 1],
        ]
    )
    window.scatter.lasso.drawn.emit(everything)
    np.testing.assert_array_equal(tools.selection.indices, np.flatnonzero(labels != labels[0]))


def test_a_and_b_give_the_direction_between_their_means(explorer_window):
    window = explorer_window
    tools = window.selection_tools
    points = window.state.points
    received = []
    tools.direction_sink = lambda name, unit, scale, source: received.append((name, unit, scale))
    xy = window.state.points_2d()
    left = np.array(
        [
            [xy[:, 0].min() - 1, -100],
            [np.median(xy[:, 0]), -100],
            [np.median(xy[:, 0]), 100],
            [xy[:, 0].min() - 1, 100],
        ]
    )
    right = left.copy()
    right[:, 0] = [np.median(xy[:, 0]), xy[:, 0].max() + 1, xy[:, 0].max() + 1, np.median(xy[:, 0])]
    assert not tools.panel.direction_button.isEnabled()
    window.scatter.lasso.drawn.emit(left)
    tools.panel.keep_a.click()
    a = tools.selection.indices
    window.scatter.lasso.drawn.emit(right)
    tools.panel.keep_b.click()
    b = tools.selection.indices
    assert tools.panel.direction_button.isEnabled()
    tools.panel.direction_button.click()
    ((name, unit, scale),) = received
    step = points.mu[b].mean(0) - points.mu[a].mean(0)
    np.testing.assert_allclose(unit, step / np.linalg.norm(step), rtol=1e-5)
    assert scale == pytest.approx(float(np.linalg.norm(step)), rel=1e-5)
    assert "A → B" in name and "apart" in tools.panel.direction_note.text()


def test_export_writes_the_indices(explorer_window, tmp_path, monkeypatch):
    window = explorer_window
    tools = window.selection_tools
    out = tmp_path / "chosen.txt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    xy = window.state.points_2d()
    window.scatter.lasso.drawn.emit(square(float(xy[0, 0]), float(xy[0, 1]), 0.5))
    tools.panel.export_button.click()
    np.testing.assert_array_equal(
        np.atleast_1d(np.loadtxt(out, dtype=int)), tools.selection.indices
    )
    assert "Saved" in tools.panel.direction_note.text()


def test_the_shortcut_and_a_new_model_clears_the_selection(explorer_window, vae2d_file, qtbot):
    window = explorer_window
    tools = window.selection_tools
    assert tools.action.shortcut().toString() == "Ctrl+Shift+L"
    xy = window.state.points_2d()
    window.scatter.lasso.drawn.emit(square(float(xy[0, 0]), float(xy[0, 1]), 0.5))
    tools.panel.keep_a.click()
    with qtbot.waitSignal(window.model_loaded, timeout=10_000):
        window.open_model(vae2d_file)
    assert tools.selection is None and tools.kept == {}
    assert len(tools.rings.getData()[0]) == 0


def test_kept_loops_stay_drawn_and_rings_keep_class_colours(explorer_window):
    window = explorer_window
    tools = window.selection_tools
    xy = window.state.points_2d()
    loop = square(float(np.median(xy[:, 0])), float(np.median(xy[:, 1])), 0.6)
    window.scatter.lasso.drawn.emit(loop)
    tools.panel.keep_a.click()
    curve, label = tools.kept_outlines["A"]
    x, _y = curve.getData()
    assert len(x) == len(loop) + 1 and label.isVisible()
    assert not tools.kept_outlines["B"][1].isVisible()
    # Each ringed point is filled with its class colour (the legend's), not grey.
    groups, colours = window.scatter.frame_colours()
    brushes = tools.rings.data["brush"]
    first = int(tools.selection.indices[0])
    assert brushes[0].color().name() == colours[int(groups[first])].name()
    window.scatter.set_axes_choice("dims", 0, 2)  # other axes: that loop means nothing there
    xs = curve.getData()[0]
    assert not label.isVisible() and (xs is None or len(xs) == 0)
