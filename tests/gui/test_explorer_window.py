"""The explorer window, driven through its real widgets (offscreen), checked against the core.

Every expected image or position is computed by an independent core `ExplorerState` on the file,
so the tests check the wiring (which widget changes which state, and what is shown), not numbers
copied from a run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from latentlab.core.explore.state import ExplorerState
from latentlab.core.vae.checkpoint import load_model
from latentlab.core.vae.latent_model import vae_document
from latentlab.gui import main_window as main_window_module
from latentlab.gui import settings
from latentlab.gui.image_view import to_ink_uint8
from latentlab.gui.main_window import MainWindow
from latentlab.gui.model_info_dialog import HISTORY_COLUMNS, ModelInfoDialog

from .conftest import LOAD_MS, SMALL_CVAE, make_record


class Recorder:
    """Collects a signal's emissions (or a patched function's calls)."""

    def __init__(self, signal=None) -> None:
        self.calls: list[tuple] = []
        if signal is not None:
            signal.connect(self)

    def __call__(self, *args, **kwargs):
        self.calls.append(args)
        return QMessageBox.StandardButton.Ok


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch) -> Recorder:
    """Error dialogs are recorded instead of blocking the test."""
    critical = Recorder()
    monkeypatch.setattr(QMessageBox, "critical", critical)
    return critical


def reference(path: Path) -> ExplorerState:
    """An independent state on the same file: what the window should show."""
    state = ExplorerState()
    state.open(vae_document(load_model(path), Path(path).resolve()))
    return state


def grey(image: np.ndarray) -> np.ndarray:
    """A decoded (H, W, 1) image as the view holds it, (H, W)."""
    return image[..., 0]


def shown(window: MainWindow) -> np.ndarray:
    return window.image_view.shown_image()


def viewport_pos(window: MainWindow, x: float, y: float) -> QPoint:
    """Where the scatter's point (x, y) is on the plot's viewport, in pixels."""
    return window.scatter.plot_widget.mapFromScene(window.scatter.scene_pos(x, y))


def isolated_point(points: np.ndarray) -> int:
    """The test point farthest from its nearest neighbour (a click on it cannot hit another)."""
    d = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
    np.fill_diagonal(d, np.inf)
    return int(np.argmax(d.min(axis=1)))


def click_point(qtbot, window: MainWindow, index: int) -> None:
    """A real left click on test point `index` of the scatter."""
    x, y = window.state.points_2d()[index]
    viewport = window.scatter.plot_widget.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=viewport_pos(window, x, y))


def legend(window: MainWindow) -> pg.LegendItem:
    return window.scatter.plot_widget.getPlotItem().legend


# --- class selector ---------------------------------------------------------------------------


def test_digit_buttons_and_keys_change_the_image(qtbot, explorer_window, cvae_file):
    window = explorer_window
    ref = reference(cvae_file)
    np.testing.assert_allclose(shown(window), grey(ref.decode()), atol=1e-6)
    buttons = window.selector.buttons()

    qtbot.mouseClick(buttons[3], Qt.MouseButton.LeftButton)
    ref.set_class(3)
    assert window.state.class_index == 3 and buttons[3].isChecked()
    np.testing.assert_allclose(shown(window), grey(ref.decode()), atol=1e-6)
    assert window.image_view.title() == "Decoded: 3"
    reading = ref.classify(ref.decode())
    assert window.image_view.caption() == f"reads as {reading[0]} — {reading[1]:.0%}"

    before = shown(window).copy()
    qtbot.keyClick(window, Qt.Key.Key_7)
    ref.set_class(7)
    assert window.selector.digit() == 7 and buttons[7].isChecked() and not buttons[3].isChecked()
    np.testing.assert_allclose(shown(window), grey(ref.decode()), atol=1e-6)
    assert not np.allclose(before, shown(window))


def test_the_image_pane_follows_any_state_change(explorer_window, cvae_file):
    """The pane is bound to the state: no widget is touched, yet every change is shown."""
    window = explorer_window
    ref = reference(cvae_file)
    window.state.set_class(6)
    ref.set_class(6)
    np.testing.assert_allclose(shown(window), grey(ref.decode()), atol=1e-6)
    assert window.image_view.title() == "Decoded: 6" and window.selector.digit() == 6

    z = np.linspace(-1.5, 1.5, ref.latent_dim).astype(np.float32)
    window.state.set_point(z, 2)
    ref.set_point(z, 2)
    np.testing.assert_allclose(shown(window), grey(ref.decode()), atol=1e-6)
    assert window.image_view.title() == "Decoded: 2"
    np.testing.assert_allclose(window.sliders.values(), z, atol=0.006)
    np.testing.assert_allclose(window.scatter.marker_position(), ref.current_point(), atol=1e-5)

    window.state.select(11)
    ref.select(11)
    np.testing.assert_allclose(shown(window), grey(ref.reconstruction(11)), atol=1e-6)
    assert window.image_view.title() == "Reconstruction of #11"
    window.state.reset()
    ref.reset()
    np.testing.assert_allclose(shown(window), grey(ref.decode()), atol=1e-6)
    assert window.image_view.title() == f"Decoded: {ref.class_names[ref.class_index]}"


class TopLevelShows(QObject):
    """Records every widget shown as a window of its own while installed on the application."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Show and isinstance(obj, QWidget) and obj.isWindow():
            self.shown.append(type(obj).__name__)
        return False


def test_opening_a_model_shows_no_stray_windows_and_keeps_the_keys(
    qtbot, open_explorer_window, cvae_file
):
    """Widgets shown before they are laid out flash up as windows and take the activation
    away: the window's keys (0-9, F1, Ctrl+K) would do nothing until it is clicked."""
    window = open_explorer_window()
    shows = TopLevelShows()
    QApplication.instance().installEventFilter(shows)
    try:
        with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
            window.open_model(cvae_file)
    finally:
        QApplication.instance().removeEventFilter(shows)
    assert shows.shown == []
    assert window.isActiveWindow()


# --- sliders ----------------------------------------------------------------------------------


def test_each_slider_changes_the_image_and_the_marker(explorer_window, cvae_file):
    window = explorer_window
    ref = reference(cvae_file)
    assert window.sliders.count() == ref.latent_dim
    for i in range(ref.latent_dim):
        image_before = shown(window).copy()
        marker_before = window.scatter.marker_position()
        slider = window.sliders.slider(i)
        slider.setValue(120 + 10 * i)  # ticks of 0.01
        for _ in range(3):  # and as a user's keyboard steps do
            slider.triggerAction(slider.SliderAction.SliderSingleStepAdd)
        ref.set_latent(i, (123 + 10 * i) / 100)
        np.testing.assert_allclose(window.state.z, ref.z, atol=1e-6)
        np.testing.assert_allclose(shown(window), grey(ref.decode()), atol=1e-6)
        np.testing.assert_allclose(window.scatter.marker_position(), ref.current_point(), atol=1e-5)
        assert window.sliders.spin_box(i).value() == pytest.approx((123 + 10 * i) / 100)
        assert not np.allclose(image_before, shown(window))
        assert not np.allclose(marker_before, window.scatter.marker_position())


def test_editing_a_value_box_moves_its_slider_and_the_image(explorer_window, cvae_file):
    window = explorer_window
    ref = reference(cvae_file)
    window.sliders.spin_box(1).setValue(-2.25)
    ref.set_latent(1, -2.25)
    assert window.sliders.slider(1).value() == -225
    np.testing.assert_allclose(shown(window), grey(ref.decode()), atol=1e-6)


def test_random_and_reset(qtbot, explorer_window, cvae_file):
    window = explorer_window
    ref = reference(cvae_file)
    moves = Recorder()
    window.state.events.z.connect(moves)  # one move per click: no echo from the marker or rows
    qtbot.mouseClick(window.sliders.random_button, Qt.MouseButton.LeftButton)
    assert len(moves.calls) == 1
    z = window.state.z
    assert np.all(np.abs(z) <= window.state.slider_range) and np.any(z != 0)
    np.testing.assert_allclose(window.sliders.values(), z, atol=0.006)
    ref.set_z(z)
    np.testing.assert_allclose(shown(window), grey(ref.decode()), atol=1e-6)
    np.testing.assert_allclose(window.scatter.marker_position(), ref.current_point(), atol=1e-5)

    qtbot.mouseClick(window.sliders.reset_button, Qt.MouseButton.LeftButton)
    ref.reset()
    assert window.sliders.values() == [0.0] * ref.latent_dim
    np.testing.assert_allclose(shown(window), grey(ref.decode()), atol=1e-6)
    assert len(moves.calls) == 2


def test_each_action_decodes_exactly_once(qtbot, explorer_window, cvae_file, monkeypatch):
    window = explorer_window
    state = window.state
    calls: list[str] = []
    for name in ("decode", "reconstruction"):
        original = getattr(state, name)
        monkeypatch.setattr(
            state, name, lambda *a, _n=name, _f=original: (calls.append(_n), _f(*a))[1]
        )

    def count(action) -> list[str]:
        calls.clear()
        action()
        return list(calls)

    assert count(window.sliders.random_button.click) == ["decode"]
    assert count(window.sliders.reset_button.click) == ["decode"]
    assert count(lambda: window.sliders.slider(0).setValue(77)) == ["decode"]
    assert count(lambda: window.selector.buttons()[5].click()) == ["decode"]
    assert count(lambda: window.scatter.marker.setPos(0.3, -0.2)) == ["decode"]  # as a drag does
    index = isolated_point(window.state.points_2d())
    assert count(lambda: click_point(qtbot, window, index)) == ["reconstruction"]


# --- scatter ----------------------------------------------------------------------------------


def test_scatter_shows_every_test_point_by_class(explorer_window, cvae_file):
    window = explorer_window
    ref = reference(cvae_file)
    labels = ref.points.labels
    for c, item in enumerate(window.scatter.class_items()):
        x, y = item.getData()
        np.testing.assert_allclose(np.c_[x, y], ref.points_2d()[labels == c], atol=1e-6)
    total = sum(len(item.getData()[0]) for item in window.scatter.class_items())
    assert total == len(labels)
    bottom = window.scatter.plot_widget.getPlotItem().getAxis("bottom")
    assert bottom.labelText == ref.projection.titles[0] and "PC1" in bottom.labelText


def test_clicking_a_point_loads_its_reconstruction(qtbot, explorer_window, cvae_file):
    window = explorer_window
    ref = reference(cvae_file)
    index = isolated_point(ref.points_2d())
    click_point(qtbot, window, index)

    predicted = int(ref.points.predicted[index])
    assert window.selector.digit() == predicted and window.state.class_index == predicted
    np.testing.assert_allclose(window.sliders.values(), ref.points.mu[index], atol=0.006)
    np.testing.assert_allclose(window.state.z, ref.points.mu[index], atol=1e-6)
    np.testing.assert_allclose(shown(window), grey(ref.reconstruction(index)), atol=1e-6)
    assert window.image_view.title() == f"Reconstruction of #{index}"
    np.testing.assert_allclose(window.scatter.marker_position(), ref.points_2d()[index], atol=1e-5)
    # The test data is not installed in the test environment: the window says so.
    assert window.original_view.image() is None
    assert window.original_view.caption() in (
        "loading the test images…",
        "original not available (no MNIST data found; get it in File > Preferences…)",
    )


def test_a_scatter_click_selects_the_point_in_the_state_and_shows_its_reconstruction(
    qtbot, explorer_window, cvae_file
):
    window = explorer_window
    ref = reference(cvae_file)
    index = isolated_point(ref.points_2d())
    selections = Recorder()
    window.state.events.selection.connect(selections)
    click_point(qtbot, window, index)
    assert window.state.selected == index and selections.calls == [(index,)]
    ref.select(index)
    np.testing.assert_allclose(window.state.z, ref.z, atol=1e-6)
    assert window.state.class_index == ref.class_index
    np.testing.assert_allclose(shown(window), grey(ref.image()), atol=1e-6)
    np.testing.assert_allclose(shown(window), grey(ref.reconstruction(index)), atol=1e-6)
    assert window.image_view.title() == f"Reconstruction of #{index}"
    assert window.original_view.title() == f"Test image #{index}"
    window.sliders.slider(0).setValue(40)  # any other change ends the selection
    assert window.state.selected is None and selections.calls == [(index,), (None,)]
    assert window.image_view.title().startswith("Decoded")


def test_a_real_mouse_click_on_a_point(qtbot, explorer_window, cvae_file):
    window = explorer_window
    ref = reference(cvae_file)
    index = isolated_point(ref.points_2d())
    clicked = Recorder(window.scatter.point_clicked)
    click_point(qtbot, window, index)
    assert clicked.calls == [(index,)]
    np.testing.assert_allclose(window.sliders.values(), ref.points.mu[index], atol=0.006)
    assert window.selector.digit() == int(ref.points.predicted[index])


def test_the_original_is_shown_beside_the_reconstruction_when_the_data_is_there(
    qtbot, open_explorer_window, cvae_file
):
    ref = reference(cvae_file)
    n = len(ref.points)
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    asked: list[str] = []

    def fake_loader(dataset: str):
        asked.append(dataset)
        return images, ref.points.labels.copy()

    window = open_explorer_window(test_loader=fake_loader)
    with qtbot.waitSignal(window.test_images.changed, timeout=LOAD_MS):
        window.open_model(cvae_file)
    assert asked == ["mnist"]
    window.state.select(7)
    np.testing.assert_allclose(window.original_view.image(), images[7] / 255.0, atol=1e-6)
    assert window.original_view.caption() == f"test image #7 — label {ref.points.labels[7]}"
    # Moving a slider leaves the reconstruction: the live decode is shown, the original cleared.
    window.sliders.slider(0).setValue(50)
    assert window.original_view.image() is None


def test_test_data_that_does_not_match_the_model_is_not_shown(
    qtbot, open_explorer_window, cvae_file
):
    images = np.zeros((5, 28, 28), np.uint8)
    window = open_explorer_window(test_loader=lambda name: (images, np.zeros(5, np.uint8)))
    with qtbot.waitSignal(window.test_images.changed, timeout=LOAD_MS):
        window.open_model(cvae_file)
    window.state.select(3)
    assert window.original_view.image() is None
    assert "does not match" in window.original_view.caption()


def test_hovering_a_point_names_it(qtbot, explorer_window, cvae_file, unthrottled_mouse):
    window = explorer_window
    ref = reference(cvae_file)
    index = isolated_point(ref.points_2d())
    viewport = window.scatter.plot_widget.viewport()
    qtbot.mouseMove(viewport, viewport_pos(window, *ref.points_2d()[index]))
    true, predicted = ref.points.labels[index], ref.points.predicted[index]
    expected = f"test image #{index}\ntrue label: {true}\npredicted: {predicted}"
    qtbot.waitUntil(lambda: window.scatter.last_tip == expected)
    hover = window.scatter.hover
    # Beside the cursor, without a click: the point's image (here its decoded mean, as the
    # tests have no MNIST files) and the same words.
    assert hover.shown and hover.index == index and hover.caption == expected
    assert hover.has_image()
    shown = hover._picture.pixmap().toImage()
    want = window.state.reconstruction(index)[..., 0]
    assert shown.width() == want.shape[1] * (84 // 28)
    dark_shown = shown.pixelColor(shown.width() // 2, shown.height() // 2).lightness() < 128
    assert dark_shown == (want[14, 14] > 0.5)  # ink is dark on paper
    assert window.state.selected is None  # hovering selects nothing
    qtbot.mouseMove(viewport, QPoint(2, viewport.height() - 2))  # the axes' corner: no point
    qtbot.waitUntil(lambda: window.scatter.last_tip == "")
    assert not hover.shown


def test_dragging_the_marker_moves_the_sliders_live(
    qtbot, explorer_window, cvae_file, unthrottled_mouse
):
    window = explorer_window
    ref = reference(cvae_file)
    viewport = window.scatter.plot_widget.viewport()
    marker = window.scatter.marker
    start = window.scatter.plot_widget.mapFromScene(marker.scenePos())
    moves = Recorder()
    window.state.events.z.connect(moves)
    images: list[np.ndarray] = []
    window.image_pane.refreshed.connect(lambda: images.append(shown(window).copy()))

    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(viewport, start + QPoint(8 * step, -6 * step))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(40, -30))

    assert len(moves.calls) >= 3  # the image followed the drag, not just its end
    assert len({img.tobytes() for img in images}) >= 3
    x, y = window.scatter.marker_position()
    assert x > 0.01 and y > 0.01  # right and up, in view coordinates
    ref.move_to(x, y)
    np.testing.assert_allclose(window.state.z, ref.z, atol=1e-4)
    np.testing.assert_allclose(window.sliders.values(), ref.z, atol=0.006)
    np.testing.assert_allclose(shown(window), grey(ref.decode()), atol=1e-5)
    np.testing.assert_allclose(window.state.current_point(), (x, y), atol=1e-4)


def test_a_marker_drag_does_no_hover_hit_tests_until_release(
    qtbot, explorer_window, cvae_file, unthrottled_mouse
):
    """pyqtgraph would hit-test every item under the cursor on each move of the drag."""
    window = explorer_window
    viewport = window.scatter.plot_widget.viewport()
    scene = window.scatter.plot_widget.scene()
    hit_tests: list[bool] = []
    near = scene.itemsNearEvent
    scene.itemsNearEvent = lambda *a, **k: hit_tests.append(True) or near(*a, **k)
    start = window.scatter.plot_widget.mapFromScene(window.scatter.marker.scenePos())
    moves = Recorder()
    window.state.events.z.connect(moves)

    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(8, -6))  # the move that starts the drag
    during = len(hit_tests)
    for step in range(2, 8):
        qtbot.mouseMove(viewport, start + QPoint(8 * step, -6 * step))
    assert len(moves.calls) >= 5 and len(hit_tests) == during
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(56, -42))
    assert len(hit_tests) > during  # hover state is brought up to date at the release
    qtbot.mouseMove(viewport, start + QPoint(70, -50))
    assert len(hit_tests) > during + 1  # and plain moves hit-test again


def test_axes_combo_switches_to_two_latent_dimensions(explorer_window, cvae_file):
    window = explorer_window
    ref = reference(cvae_file)
    mu, labels = ref.points.mu, ref.points.labels
    window.sliders.slider(2).setValue(100)
    mode = window.scatter.mode_combo()
    dim_x, dim_y = window.scatter.dim_combos()
    assert not dim_x.isEnabled() and not dim_x.isVisible()  # only where they choose the axes

    mode.setCurrentIndex(1)
    assert dim_x.isEnabled() and window.state.projection.titles == ("z1", "z2")
    assert dim_x.isVisible() and dim_y.isVisible()
    item = window.scatter.class_items()[4]
    np.testing.assert_allclose(np.c_[item.getData()], mu[labels == 4][:, [0, 1]], atol=1e-6)

    dim_y.setCurrentIndex(2)
    assert window.state.projection.titles == ("z1", "z3")
    np.testing.assert_allclose(np.c_[item.getData()], mu[labels == 4][:, [0, 2]], atol=1e-6)
    assert window.scatter.marker_position() == pytest.approx((0.0, 1.0), abs=1e-6)
    axis = window.scatter.plot_widget.getPlotItem().getAxis("left")
    assert axis.labelText == "z3"

    dim_x.setCurrentIndex(2)  # the same dimension twice is not allowed: the other one moves
    assert dim_y.currentIndex() != 2 and window.state.projection.kind == "dims"

    mode.setCurrentIndex(0)
    assert window.state.projection.kind == "pca" and not dim_x.isEnabled()
    assert not dim_y.isVisible()
    np.testing.assert_allclose(np.c_[item.getData()], ref.points_2d()[labels == 4], atol=1e-6)


def test_legend_click_hides_a_class(qtbot, explorer_window):
    window = explorer_window
    sample, _ = legend(window).items[2]
    plot = window.scatter.plot_widget
    pos = plot.mapFromScene(sample.mapToScene(sample.boundingRect().center()))
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert not window.scatter.class_items()[2].isVisible()
    assert window.scatter.class_items()[3].isVisible()


def ink_at(window: MainWindow, pos: QPoint) -> int:
    """How far the plot's pixel at `pos` is from white paper (0: nothing drawn there)."""
    QApplication.processEvents()
    image = window.scatter.plot_widget.viewport().grab().toImage()
    ratio = image.devicePixelRatio()
    colour = image.pixelColor(round(pos.x() * ratio), round(pos.y() * ratio))
    return 3 * 255 - (colour.red() + colour.green() + colour.blue())


def test_the_points_drawn_follow_the_legend_and_the_view(qtbot, explorer_window, cvae_file):
    """The points are drawn from a cached pixmap: hiding a class or panning must draw anew."""
    window = explorer_window
    ref = reference(cvae_file)
    index = isolated_point(ref.points_2d())
    label = int(ref.points.labels[index])
    x, y = ref.points_2d()[index]
    window.scatter.set_marker(x + 1e3, y + 1e3)  # out of the way
    assert ink_at(window, viewport_pos(window, x, y)) > 100
    window.scatter.class_items()[label].setVisible(False)
    assert ink_at(window, viewport_pos(window, x, y)) < 40
    window.scatter.class_items()[label].setVisible(True)
    here = viewport_pos(window, x, y)
    assert ink_at(window, here) > 100
    plot = window.scatter.plot_widget
    axis = plot.getPlotItem().getAxis("bottom")  # its tick labels, kept as a pixmap too
    labels = plot.mapFromScene(axis.sceneBoundingRect()).boundingRect()
    before = plot.viewport().grab(labels).toImage()
    view = plot.getPlotItem().getViewBox()
    (x0, x1), _ = view.viewRange()
    view.setXRange(x0 + (x1 - x0) / 3, x1 + (x1 - x0) / 3, padding=0)
    # The view applies its new range in the event loop.
    qtbot.waitUntil(lambda: (viewport_pos(window, x, y) - here).manhattanLength() > 20)
    assert ink_at(window, viewport_pos(window, x, y)) > 100
    assert plot.viewport().grab(labels).toImage() != before  # new ticks, not the old pixmap


def test_a_click_after_hovering_goes_to_the_point_or_to_the_legend_above_it(
    qtbot, explorer_window, cvae_file, unthrottled_mouse
):
    """Hovering a point claims the click for it, unless the legend is under the cursor too."""
    window = explorer_window
    ref = reference(cvae_file)
    viewport = window.scatter.plot_widget.viewport()
    index = isolated_point(ref.points_2d())
    clicked = Recorder(window.scatter.point_clicked)
    pos = viewport_pos(window, *ref.points_2d()[index])
    qtbot.mouseMove(viewport, pos)
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    assert clicked.calls == [(index,)]

    # Pan the view so that the point lies under the legend's first entry, then click there.
    sample, _ = legend(window).items[0]
    view = window.scatter.plot_widget.getPlotItem().getViewBox()
    target = view.mapSceneToView(sample.mapToScene(sample.boundingRect().center()))
    x, y = (float(v) for v in ref.points_2d()[index])
    (x0, x1), (y0, y1) = view.viewRange()
    dx, dy = x - target.x(), y - target.y()
    view.setRange(xRange=(x0 + dx, x1 + dx), yRange=(y0 + dy, y1 + dy), padding=0)
    QApplication.processEvents()
    pos = viewport_pos(window, x, y)
    assert window.scatter.index_at(window.scatter.scene_pos(x, y)) == index
    qtbot.mouseMove(viewport, pos)
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    assert clicked.calls == [(index,)]  # no second point click
    assert not window.scatter.class_items()[0].isVisible()  # the legend took it


def test_no_tip_while_a_button_is_down(qtbot, explorer_window, cvae_file, unthrottled_mouse):
    """A move with a button down starts a drag or a pan: it shows no tip, the next hover does."""
    window = explorer_window
    ref = reference(cvae_file)
    viewport = window.scatter.plot_widget.viewport()
    index = isolated_point(ref.points_2d())
    pos = viewport_pos(window, *ref.points_2d()[index])
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseMove(viewport, pos + QPoint(1, 0))
    assert window.scatter.last_tip == ""
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=pos + QPoint(1, 0))
    qtbot.mouseMove(viewport, pos + QPoint(0, 1))
    qtbot.waitUntil(lambda: window.scatter.last_tip.startswith(f"test image #{index}\n"))


def test_a_hidden_class_takes_no_clicks_and_is_not_drawn(qtbot, explorer_window, cvae_file):
    window = explorer_window
    ref = reference(cvae_file)
    index = isolated_point(ref.points_2d())
    label = int(ref.points.labels[index])
    x, y = ref.points_2d()[index]
    window.scatter.set_marker(x + 1e3, y + 1e3)  # out of the way
    assert window.scatter.index_at(window.scatter.scene_pos(x, y)) == index
    assert ink_at(window, viewport_pos(window, x, y)) > 100
    window.scatter.class_items()[label].setVisible(False)  # what the legend click does
    assert window.scatter.index_at(window.scatter.scene_pos(x, y)) is None
    assert ink_at(window, viewport_pos(window, x, y)) < 40
    clicked = Recorder(window.scatter.point_clicked)
    click_point(qtbot, window, index)
    assert clicked.calls == []
    window.scatter.class_items()[label].setVisible(True)
    click_point(qtbot, window, index)
    assert clicked.calls == [(index,)]


# --- loading ----------------------------------------------------------------------------------


def test_a_broken_file_leaves_the_previous_model_active(
    qtbot, explorer_window, cvae_file, tmp_path, no_modal_dialogs
):
    window = explorer_window
    document, title = window.document, window.windowTitle()
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"this is not a model file" * 10)
    with qtbot.waitSignal(window.load_failed, timeout=LOAD_MS) as failed:
        window.open_model(bad)
    assert "x.safetensors" in failed.args[0]
    assert window.document is document and window.windowTitle() == title
    assert window.model_path == Path(cvae_file).resolve()
    assert len(no_modal_dialogs.calls) == 1
    parent, heading, text = no_modal_dialogs.calls[0]
    assert parent is window and heading == "Could not open the model"
    assert "x.safetensors" in text
    assert not window.busy_bar.isVisible()


def test_the_newest_load_request_wins(qtbot, open_explorer_window, cvae_file, vae2d_file):
    window = open_explorer_window()
    loaded = Recorder(window.model_loaded)
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.open_model(cvae_file)
        window.open_model(vae2d_file)
    assert len(loaded.calls) == 1
    assert window.model_path == Path(vae2d_file).resolve() and window.state.latent_dim == 2


def test_startup_shows_loading_then_the_model(qtbot, open_explorer_window, cvae_file, monkeypatch):
    monkeypatch.setattr(main_window_module, "default_model_path", lambda: Path(cvae_file))
    window = open_explorer_window()
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.start()
        assert window.stack.currentIndex() == 0
        assert window.message_page.title.text() == "Loading model…"
        assert window.busy_bar.isVisibleTo(window)
    assert window.stack.currentIndex() == 1 and not window.busy_bar.isVisibleTo(window)
    assert window.windowTitle() == "small-cvae.safetensors[*] — latentlab"
    assert settings.recent_models() == [str(Path(cvae_file).resolve())]


def test_a_missing_default_model_is_explained_in_the_window(
    open_explorer_window, tmp_path, monkeypatch
):
    missing = tmp_path / "nowhere" / "mnist-cvae.safetensors"
    monkeypatch.setattr(main_window_module, "default_model_path", lambda: missing)
    window = open_explorer_window(training_factory=main_window_module.default_training_factory)
    window.start()
    assert window.stack.currentIndex() == 0 and window.document is None
    detail = window.message_page.detail.text()
    assert str(missing) in detail and "Model > Train new model" in detail
    assert "File > Open model" in detail
    assert window.message_page.open_button.isVisibleTo(window)
    assert window.message_page.train_button.isEnabled()
    assert not window.info_action.isEnabled() and not window.export_image_action.isEnabled()


# --- plain 2-D model --------------------------------------------------------------------------


def test_a_plain_2d_model(qtbot, open_explorer_window, vae2d_file):
    window = open_explorer_window(vae2d_file)
    ref = reference(vae2d_file)
    assert not any(b.isEnabled() for b in window.selector.buttons())
    assert window.selector.reason() == "Plain VAE: no class input"
    assert window.sliders.count() == 2
    assert window.state.projection.titles == ("z1", "z2")
    assert not window.scatter.mode_combo().isVisibleTo(window)
    item = window.scatter.class_items()[1]
    labels = ref.points.labels
    np.testing.assert_allclose(np.c_[item.getData()], ref.points.mu[labels == 1], atol=1e-6)
    before = shown(window).copy()
    qtbot.keyClick(window, Qt.Key.Key_4)  # keys do nothing without a class input
    np.testing.assert_array_equal(before, shown(window))
    window.sliders.slider(1).setValue(-80)
    ref.set_latent(1, -0.8)
    np.testing.assert_allclose(shown(window), grey(ref.decode()), atol=1e-6)
    assert window.scatter.marker_position() == pytest.approx((0.0, -0.8), abs=1e-6)
    assert window.image_view.caption() == "plain VAE: no classifier to read it"


# --- settings ---------------------------------------------------------------------------------


def test_window_state_is_saved_and_restored(qtbot, open_explorer_window, cvae_file):
    first = open_explorer_window(cvae_file)
    first.resize(780, 560)
    first.splitter.setSizes([300, 470])
    sizes = first.splitter.sizes()
    first.close()
    assert not first.isVisible()

    second = open_explorer_window(cvae_file)
    assert (second.width(), second.height()) == (780, 560)
    assert second.splitter.sizes() == sizes
    second.recent_menu.aboutToShow.emit()
    names = [a.text() for a in second.recent_menu.actions()]
    assert names == [Path(cvae_file).name]


# --- trained models, saving, quitting ------------------------------------------------------------


def test_a_trained_model_becomes_the_unsaved_active_one(
    qtbot, open_explorer_window, cvae_file, tmp_path
):
    window = open_explorer_window(
        cvae_file, training_factory=main_window_module.default_training_factory
    )
    assert window.training is not None and not window.training_dock.isVisible()
    window.training.running_changed.emit(True)
    assert window.training_dock.isVisible()

    record = make_record(SMALL_CVAE.replace(latent_dim=3), seed=9)
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.training.model_trained.emit(record)
    assert window.document.payload is record and window.sliders.count() == 3
    assert window.windowTitle() == "untitled (unsaved)[*] — latentlab"
    assert window.isWindowModified() and window.save_action.isEnabled()


def test_save_as_writes_the_model_and_clears_the_unsaved_mark(
    qtbot, open_explorer_window, tmp_path, monkeypatch
):
    window = open_explorer_window()
    record = make_record(seed=3)
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.adopt_record(record)
    target = tmp_path / "mine"  # the suffix is added
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.save_action.trigger()
    saved = tmp_path / "mine.safetensors"
    assert load_model(saved).config == record.config
    assert not window.isWindowModified() and not window.save_action.isEnabled()
    assert window.windowTitle() == "mine.safetensors[*] — latentlab"


def test_quitting_with_an_unsaved_model_asks_first(qtbot, open_explorer_window):
    window = open_explorer_window()
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.adopt_record(make_record(seed=4))
    asked = []

    def answer(button):
        def ask(allow_cancel=True):
            asked.append(allow_cancel)
            return button

        return ask

    window.files.ask_unsaved = answer(QMessageBox.StandardButton.Cancel)
    assert not window.close() and window.isVisible()
    window.files.ask_unsaved = answer(QMessageBox.StandardButton.Discard)
    assert window.close() and not window.isVisible()
    assert asked == [True, True]


def test_opening_another_model_over_an_unsaved_one_asks(qtbot, open_explorer_window, cvae_file):
    window = open_explorer_window()
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.adopt_record(make_record(seed=4))
    record = window.document.payload
    window.files.ask_unsaved = lambda allow_cancel=True: QMessageBox.StandardButton.Cancel
    window.files.open_confirmed(str(cvae_file))
    assert not window.loader.is_busy and window.document.payload is record
    window.files.ask_unsaved = lambda allow_cancel=True: QMessageBox.StandardButton.Discard
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.files.open_confirmed(str(cvae_file))
    assert not window.isWindowModified()


# --- export and info ------------------------------------------------------------------------------


def test_export_image_writes_the_digit_scaled_up(explorer_window, cvae_file, tmp_path, monkeypatch):
    window = explorer_window
    target = tmp_path / "digit.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.export_image_action.trigger()
    image = QImage(str(target))
    assert (image.width(), image.height()) == (280, 280)
    grey = to_ink_uint8(window.image_view.image())
    for row, col in ((0, 0), (14, 14), (5, 20), (27, 3)):
        pixel = image.pixelColor(col * 10 + 5, row * 10 + 5)  # x = column, y = row
        assert pixel.red() == grey[row, col]


def test_export_scatter_writes_a_png(explorer_window, cvae_file, tmp_path, monkeypatch):
    window = explorer_window
    target = tmp_path / "scatter.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.export_scatter_action.trigger()
    image = QImage(str(target))
    assert image.width() >= 400 and image.height() > 100


def test_model_info_shows_config_metrics_and_history(explorer_window, cvae_file):
    window = explorer_window
    window.info_action.trigger()
    dialog = window.findChild(ModelInfoDialog)
    assert dialog is not None and dialog.isVisible()
    tree = dialog.tree
    top = {
        tree.topLevelItem(i).text(0): tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
    }
    assert top["File"].text(1) == str(Path(cvae_file).resolve())
    config = {
        top["Config"].child(i).text(0): top["Config"].child(i).text(1)
        for i in range(top["Config"].childCount())
    }
    assert config["Latent dimensions"] == "4" and config["Activation"] == "relu"
    history = window.document.payload.history
    assert dialog.table.rowCount() == len(history)
    assert dialog.table.columnCount() == len(HISTORY_COLUMNS)
    assert dialog.table.item(1, 0).text() == str(history[1]["epoch"])


# --- the entry point --------------------------------------------------------------------------


def test_run_opens_the_window_and_loads_the_default_model(cvae_file):
    """The real entry point, in its own process: `app.exec()` and `quit()` would leave the shared
    test QApplication closing down, and later worker threads would never report back."""
    code = (
        "from pathlib import Path\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from latentlab.gui import app as app_module, main_window\n"
        f"main_window.default_model_path = lambda: Path({str(cvae_file)!r})\n"
        "def poll():\n"
        "    for w in QApplication.topLevelWidgets():\n"
        "        if isinstance(w, main_window.MainWindow) and w.isVisible() and w.document:\n"
        "            print('TITLE', w.windowTitle()); w.close(); QApplication.quit(); return\n"
        "    QTimer.singleShot(20, poll)\n"
        "QTimer.singleShot(0, poll)\n"
        "raise SystemExit(app_module.run())\n"
    )
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "TITLE small-cvae.safetensors[*] — latentlab" in result.stdout.splitlines()


def test_starting_the_window_does_not_import_torch():
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from latentlab.gui.app import configure\n"
        "from latentlab.gui.main_window import MainWindow\n"
        "app = QApplication([]); configure(app); w = MainWindow(); w.show(); w.start()\n"
        "w.shutdown()\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
