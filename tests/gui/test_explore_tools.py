"""Morph, manifold grid and nearest test digits, driven through the real window and widgets.

Expected images, grids and neighbours come from the core functions run on an independent
`ExplorerState` of the same file, so these tests check the wiring: which control changes what,
and what the window then shows. The docks take a `Shell`, never the window: the last tests build
them around a bare QMainWindow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QMainWindow, QMessageBox, QWidget

from latentlab.core.errors import LatentlabError
from latentlab.core.explore.imaging import tile
from latentlab.core.explore.manifold import decode_manifold
from latentlab.core.explore.morph import morph
from latentlab.core.explore.neighbours import nearest
from latentlab.core.explore.state import ExplorerState
from latentlab.core.vae.checkpoint import load_model
from latentlab.core.vae.latent_model import vae_document
from latentlab.gui.explore_tools import ExploreTools
from latentlab.gui.image_pane import ImagePane
from latentlab.gui.insight_tools import InsightTools
from latentlab.gui.latent_scatter import LatentScatter
from latentlab.gui.main_window import MainWindow
from latentlab.gui.model_loader import ModelLoader
from latentlab.gui.shell import Shell
from latentlab.gui.test_images import TestImages as ImageSource  # not a test class

from ..factories import open_state

LOAD_MS = 10_000
WAIT_MS = 5_000


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch):
    calls: list[tuple] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a: calls.append(a))
    return calls


def missing_data(dataset: str):
    raise LatentlabError(f"no {dataset} data found")


@pytest.fixture
def make_window(open_explorer_window, qtbot):
    """The shared window, a little larger, opened on `path` once its test images are settled."""

    def make(path: Path, test_loader=missing_data) -> MainWindow:
        window = open_explorer_window(test_loader=test_loader)
        window.resize(1300, 850)
        with qtbot.waitSignal(window.test_images.changed, timeout=LOAD_MS):
            window.open_model(path)
        return window

    return make


def reference(path: Path) -> ExplorerState:
    return open_state(load_model(path))


def grey(image: np.ndarray) -> np.ndarray:
    """An (H, W, 1) model image as a grey view holds it: (H, W)."""
    return np.asarray(image)[..., 0]


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


# --- morph ------------------------------------------------------------------------------------


def set_ends(qtbot, window: MainWindow, i: int, j: int):
    tools = window.explore_tools
    panel = tools.morph_panel
    tools.morph_action.trigger()
    window.state.select(i)  # as a click on the scatter does
    click(qtbot, panel.set_a_button)
    window.state.select(j)
    click(qtbot, panel.set_b_button)
    return panel


def two_classes(ref: ExplorerState) -> tuple[int, int]:
    """Two test points the model reads as different classes."""
    predicted = ref.points.predicted
    i = 0
    j = int(np.flatnonzero(predicted != predicted[i])[0])
    return i, j


def test_set_a_and_b_from_clicked_points_and_the_strip_follows_the_steps(
    qtbot, make_window, cvae_file
):
    window = make_window(cvae_file)
    ref = reference(cvae_file)
    i, j = two_classes(ref)
    panel = set_ends(qtbot, window, i, j)
    a, b = panel.end("A"), panel.end("B")
    np.testing.assert_array_equal(a.z, ref.points.mu[i])
    np.testing.assert_array_equal(b.z, ref.points.mu[j])
    assert (a.digit, b.digit) == (int(ref.points.predicted[i]), int(ref.points.predicted[j]))
    assert panel.a_label.text() == f"A: test #{i} as {ref.class_names[a.digit]}"
    assert panel.strip.count() == panel.steps_spin.value()

    panel.steps_spin.setValue(7)
    assert panel.strip.count() == 7
    expected = morph(ref.model, a, b, 7, "linear")
    np.testing.assert_allclose(panel.current_morph().frames, expected.frames, atol=1e-6)
    # The class input moves from one-hot(A) to one-hot(B): the middle frame mixes the two.
    mid = panel.current_morph().class_probs[3]
    assert mid[a.digit] == pytest.approx(0.5) and mid[b.digit] == pytest.approx(0.5)

    panel.set_kind("slerp")
    expected = morph(ref.model, a, b, 7, "slerp")
    np.testing.assert_allclose(panel.current_morph().frames, expected.frames, atol=1e-6)

    click(qtbot, panel.swap_button)
    assert panel.end("A") is b and panel.end("B") is a
    # The path is drawn on the scatter from A to B.
    xs, ys = window.explore_tools.path_item.getData()
    np.testing.assert_allclose([xs[-1], ys[-1]], ref.projection.project(a.z), atol=1e-5)


def test_play_animates_the_live_image_and_stop_restores_it(qtbot, make_window, cvae_file):
    window = make_window(cvae_file)
    ref = reference(cvae_file)
    panel = set_ends(qtbot, window, *two_classes(ref))
    live = window.image_view.shown_image().copy()
    m = panel.current_morph()

    click(qtbot, panel.play_button)
    assert panel.is_playing() and panel.play_button.text() == "Stop"
    qtbot.waitUntil(lambda: panel.shown_index() >= 2, timeout=WAIT_MS)
    k = panel.shown_index()
    np.testing.assert_allclose(window.image_view.shown_image(), grey(m.frames[k]), atol=1e-6)
    assert window.image_view.title() == f"Morph: frame {k + 1} of {len(m)}"
    np.testing.assert_allclose(
        window.scatter.marker_position(), ref.projection.project(m.z[k]), atol=1e-4
    )
    assert panel.strip.current() == k
    # It loops: after B it starts again at A.
    qtbot.waitUntil(lambda: panel.shown_index() == 0, timeout=WAIT_MS)

    click(qtbot, panel.play_button)
    assert not panel.is_playing() and panel.play_button.text() == "Play"
    np.testing.assert_allclose(window.image_view.shown_image(), live, atol=1e-6)

    # Closing the panel stops the animation too.
    panel.play()
    qtbot.waitUntil(lambda: panel.shown_index() >= 1, timeout=WAIT_MS)
    window.explore_tools.morph_action.trigger()
    assert not window.explore_tools.morph_dock.isVisible() and not panel.is_playing()
    np.testing.assert_allclose(window.image_view.shown_image(), live, atol=1e-6)
    assert not window.explore_tools.path_item.isVisible()


def test_without_loop_play_stops_at_b_and_a_slider_move_stops_it(qtbot, make_window, cvae_file):
    window = make_window(cvae_file)
    ref = reference(cvae_file)
    panel = set_ends(qtbot, window, *two_classes(ref))
    panel.steps_spin.setValue(3)
    panel.loop_check.setChecked(False)
    panel.play()
    assert panel.is_playing()
    qtbot.waitUntil(lambda: not panel.is_playing(), timeout=WAIT_MS)
    assert panel.shown_index() == 2

    panel.loop_check.setChecked(True)
    panel.play()
    qtbot.waitUntil(lambda: panel.shown_index() >= 1, timeout=WAIT_MS)
    window.sliders.slider(0).setValue(77)
    assert not panel.is_playing()
    ref.set_point(window.state.z, window.state.class_index)
    np.testing.assert_allclose(window.image_view.shown_image(), grey(ref.decode()), atol=1e-6)


def test_clicking_a_strip_frame_shows_it(qtbot, make_window, cvae_file):
    window = make_window(cvae_file)
    panel = set_ends(qtbot, window, *two_classes(reference(cvae_file)))
    rect = panel.strip.cell_rect(4)
    qtbot.mouseClick(panel.strip, Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.shown_index() == 4
    np.testing.assert_allclose(
        window.image_view.shown_image(), grey(panel.current_morph().frames[4]), atol=1e-6
    )


@pytest.mark.parametrize("kind", ["gif", "png"])
def test_export_writes_every_frame(qtbot, make_window, cvae_file, tmp_path, monkeypatch, kind):
    window = make_window(cvae_file)
    panel = set_ends(qtbot, window, *two_classes(reference(cvae_file)))
    panel.steps_spin.setValue(6)
    target = tmp_path / f"walk.{kind}"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "walk"), "")
    )
    button = panel.export_gif_button if kind == "gif" else panel.export_png_button
    click(qtbot, button)
    with Image.open(target) as image:
        if kind == "gif":
            assert image.n_frames == 6
        else:
            assert image.width > 5 * image.height
    assert str(target) in panel.note.text()


def test_a_plain_model_morphs_without_a_class(qtbot, make_window, vae2d_file):
    window = make_window(vae2d_file)
    panel = set_ends(qtbot, window, 0, 1)
    assert panel.end("A").digit is None and panel.current_morph().class_probs is None
    assert panel.a_label.text() == "A: test #0"


def test_a_new_model_forgets_the_ends(qtbot, make_window, cvae_file, vae2d_file):
    window = make_window(cvae_file)
    panel = set_ends(qtbot, window, 0, 1)
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.open_model(vae2d_file)
    assert panel.end("A") is None and panel.current_morph() is None
    assert not panel.play_button.isEnabled()


# --- manifold grid ---------------------------------------------------------------------------


def grid_shown(window: MainWindow) -> np.ndarray:
    return np.asarray(window.explore_tools.manifold_view.image_item.image)


def expected_grid(window: MainWindow, ref: ExplorerState):
    view = window.explore_tools.manifold_view
    ref.set_point(window.state.z, window.state.class_index)
    return decode_manifold(
        ref.model,
        window.state.projection,
        ref.z,
        ref.condition(),
        size=view.size_spin.value(),
        half_range=view.range_spin.value(),
        spacing=view.spacing(),
    )


def flipped_tiles(images: np.ndarray) -> np.ndarray:
    """The grid as the y-up plot holds it: tiled as ink on paper, then upside down."""
    return tile(images, pad=0)[::-1]


def test_manifold_grid_follows_size_range_spacing_and_class(qtbot, make_window, cvae_file):
    window = make_window(cvae_file)
    ref = reference(cvae_file)
    tools = window.explore_tools
    view = tools.manifold_view
    tools.manifold_action.trigger()
    qtbot.waitUntil(lambda: view.manifold() is not None, timeout=WAIT_MS)
    size = view.size_spin.value()
    assert grid_shown(window).shape == (size * 28, size * 28)
    np.testing.assert_allclose(
        grid_shown(window), flipped_tiles(expected_grid(window, ref).images), atol=1e-6
    )

    view.size_spin.setValue(5)
    qtbot.waitUntil(lambda: grid_shown(window).shape == (140, 140), timeout=WAIT_MS)
    view.range_spin.setValue(1.0)
    qtbot.waitUntil(lambda: view.manifold().xs[-1] == pytest.approx(1.0), timeout=WAIT_MS)
    before = grid_shown(window).copy()
    click(qtbot, window.selector.buttons()[(window.state.class_index + 3) % 10])
    qtbot.waitUntil(lambda: not np.allclose(grid_shown(window), before), timeout=WAIT_MS)
    np.testing.assert_allclose(
        grid_shown(window), flipped_tiles(expected_grid(window, ref).images), atol=1e-6
    )

    view.set_spacing("gaussian")
    qtbot.waitUntil(lambda: view.manifold().spacing == "gaussian", timeout=WAIT_MS)
    assert not view.overlay_check.isEnabled()
    np.testing.assert_allclose(
        grid_shown(window), flipped_tiles(expected_grid(window, ref).images), atol=1e-6
    )


def test_moving_within_the_plane_does_not_redecode_but_leaving_it_does(
    qtbot, make_window, cvae_file
):
    window = make_window(cvae_file)
    tools = window.explore_tools
    view = tools.manifold_view
    tools.manifold_action.trigger()
    qtbot.waitUntil(lambda: view.manifold() is not None, timeout=WAIT_MS)
    decoded = []
    view.grid_changed.connect(lambda: decoded.append(True))
    window.scatter.marker.setPos(0.4, -0.3)  # as a drag of the scatter's ring does
    np.testing.assert_allclose(window.state.current_point(), [0.4, -0.3], atol=1e-5)
    tools.update_now()
    assert decoded == []
    np.testing.assert_allclose(view.marker.pos(), window.state.current_point(), atol=1e-5)
    window.sliders.slider(2).setValue(window.sliders.slider(2).value() + 50)
    tools.update_now()
    assert len(decoded) == 1


def test_clicking_a_grid_digit_moves_the_current_point_there(qtbot, make_window, cvae_file):
    window = make_window(cvae_file)
    tools = window.explore_tools
    view = tools.manifold_view
    tools.manifold_action.trigger()
    view.size_spin.setValue(4)
    qtbot.waitUntil(
        lambda: view.manifold() is not None and view.manifold().size == 4, timeout=WAIT_MS
    )
    m = view.manifold()
    scene = view.cell_centre_scene(row=0, col=3)  # the top right digit
    pos = view.plot_widget.mapFromScene(scene)
    qtbot.mouseClick(view.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    np.testing.assert_allclose(window.state.current_point(), [m.xs[3], m.ys[3]], atol=1e-4)
    np.testing.assert_allclose(window.sliders.values(), window.state.z, atol=0.006)


def test_overlay_and_export(qtbot, make_window, cvae_file, tmp_path, monkeypatch):
    window = make_window(cvae_file)
    tools = window.explore_tools
    view = tools.manifold_view
    tools.manifold_action.trigger()
    view.size_spin.setValue(6)
    qtbot.waitUntil(
        lambda: view.manifold() is not None and view.manifold().size == 6, timeout=WAIT_MS
    )
    assert not view.overlay_item.isVisible()
    view.overlay_check.setChecked(True)
    assert view.overlay_item.isVisible()
    assert view.overlay_item.scene() is window.scatter.plot_widget.scene()
    rect = view.overlay_item.mapRectToParent(view.overlay_item.boundingRect())
    step = view.manifold().xs[1] - view.manifold().xs[0]
    assert rect.left() == pytest.approx(view.manifold().xs[0] - step / 2, abs=1e-5)
    assert rect.width() == pytest.approx(6 * step, abs=1e-5)
    from latentlab.gui import settings

    (tmp_path / "before").mkdir()
    settings.remember_folder(tmp_path / "before" / "walk.gif")
    asked = []

    def save_name(parent, title, start, file_filter):
        asked.append(start)
        return str(tmp_path / "g"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    click(qtbot, view.export_button)
    with Image.open(tmp_path / "g.png") as image:
        assert image.size == (6 * 28 * 2, 6 * 28 * 2)
    assert asked == [str(tmp_path / "before" / "manifold.png")]  # starts in the last folder
    assert settings.last_folder() == str(tmp_path)  # and remembers the new one


# --- nearest test digits -----------------------------------------------------------------------


def fake_images(ref: ExplorerState):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (len(ref.points), 28, 28), dtype=np.uint8)
    return lambda dataset: (images, ref.points.labels.copy()), images


def test_neighbours_are_the_nearest_test_images_and_a_click_jumps_there(
    qtbot, make_window, cvae_file
):
    ref = reference(cvae_file)
    loader, images = fake_images(ref)
    window = make_window(cvae_file, test_loader=loader)
    tools = window.explore_tools
    panel = tools.neighbours_panel
    window.sliders.slider(1).setValue(90)
    tools.neighbours_action.trigger()
    qtbot.waitUntil(lambda: len(panel.indices()) == panel.k(), timeout=WAIT_MS)
    want, dist = nearest(ref.points.mu, window.state.z, panel.k())
    assert panel.indices() == want.tolist()
    assert panel.buttons()[0].text() == f"#{want[0]} · {dist[0]:.2f}"
    assert "test images" in panel.note.text()

    target = panel.indices()[2]
    click(qtbot, panel.buttons()[2])
    ref.select(target)
    assert window.state.selected == target
    np.testing.assert_allclose(window.sliders.values(), ref.z, atol=0.006)
    assert window.state.class_index == ref.class_index
    np.testing.assert_allclose(window.original_view.image(), images[target] / 255.0, atol=1e-6)
    # The current point is now that test point: it is its own nearest neighbour.
    qtbot.waitUntil(lambda: panel.indices()[:1] == [target], timeout=WAIT_MS)

    panel.k_spin.setValue(3)
    qtbot.waitUntil(lambda: len(panel.indices()) == 3, timeout=WAIT_MS)
    assert len(panel.buttons()) == 3 and all(b.isVisible() for b in panel.buttons())


def test_same_class_only_keeps_the_current_class(qtbot, make_window, cvae_file):
    ref = reference(cvae_file)
    loader, _ = fake_images(ref)
    window = make_window(cvae_file, test_loader=loader)
    tools = window.explore_tools
    panel = tools.neighbours_panel
    tools.neighbours_action.trigger()
    click(qtbot, window.selector.buttons()[6])
    panel.same_class_check.setChecked(True)
    qtbot.waitUntil(
        lambda: (
            bool(panel.indices()) and all(ref.points.predicted[i] == 6 for i in panel.indices())
        ),
        timeout=WAIT_MS,
    )
    want, _ = nearest(ref.points.mu, window.state.z, panel.k(), ref.points.predicted == 6)
    assert panel.indices() == want.tolist()


def test_without_test_images_reconstructions_are_shown_and_said(qtbot, make_window, vae2d_file):
    window = make_window(vae2d_file)  # its loader finds no data
    tools = window.explore_tools
    panel = tools.neighbours_panel
    tools.neighbours_action.trigger()
    qtbot.waitUntil(lambda: len(panel.indices()) > 0, timeout=WAIT_MS)
    assert "reconstructions" in panel.note.text() and "no MNIST data found" in panel.note.text()
    assert "reconstruction" in panel.buttons()[0].toolTip()
    assert not panel.same_class_check.isEnabled()  # a plain model has no classifier


def test_hidden_docks_do_no_work(qtbot, make_window, cvae_file):
    window = make_window(cvae_file)
    tools = window.explore_tools
    decoded = []
    tools.manifold_view.grid_changed.connect(lambda: decoded.append(True))
    window.sliders.slider(0).setValue(120)
    tools.update_now()
    assert decoded == [] and tools.manifold_view.manifold() is None
    assert tools.neighbours_panel.indices() == []
    for act in (tools.morph_action, tools.manifold_action, tools.neighbours_action):
        assert act.toolTip() and not act.shortcut().isEmpty()
        assert act in window.explore_menu.actions()


# --- the docks take a shell, not the window ------------------------------------------------------


@pytest.fixture
def bare_shell(qtbot):
    """The docks' shell around a plain QMainWindow and a state: no MainWindow anywhere."""
    host = QMainWindow()
    qtbot.addWidget(host)
    state = ExplorerState()
    loader = ModelLoader(host, missing_data)
    test_images = ImageSource(state, loader, host)
    image_pane = ImagePane(state, test_images)
    scatter = LatentScatter(state)
    central = QWidget()
    layout = QHBoxLayout(central)
    layout.addWidget(image_pane)
    layout.addWidget(scatter, 1)
    host.setCentralWidget(central)
    bar = host.menuBar()
    shell = Shell(
        state, test_images, image_pane, scatter, bar.addMenu("Explore"), bar.addMenu("Model"), host
    )
    host.resize(1200, 800)
    host.show()
    qtbot.waitExposed(host)
    yield shell
    loader.shutdown()


def test_the_docks_need_only_a_shell_and_follow_the_state(qtbot, bare_shell, cvae_file):
    shell, state = bare_shell, bare_shell.state
    explore, insight = ExploreTools(shell), InsightTools(shell)
    assert not insight.evaluate_action.isEnabled()
    for act in (explore.morph_action, explore.manifold_action, explore.neighbours_action):
        assert act in shell.explore_menu.actions()
    assert insight.draw_action in shell.explore_menu.actions()
    assert insight.evaluate_action in shell.model_menu.actions()

    record = load_model(cvae_file)
    with qtbot.waitSignal(shell.test_images.changed, timeout=LOAD_MS):
        state.open(vae_document(record, cvae_file))  # the images are looked for, not found
    assert insight.evaluate_action.isEnabled() and insight.draw_action.isEnabled()

    # The morph panel was set up for the opened model: ends from the state's points morph.
    ref = open_state(record)
    i, j = two_classes(ref)
    panel = explore.morph_panel
    explore.morph_action.trigger()
    state.select(i)
    click(qtbot, panel.set_a_button)
    state.select(j)
    click(qtbot, panel.set_b_button)
    expected = morph(ref.model, panel.end("A"), panel.end("B"), panel.steps_spin.value())
    np.testing.assert_allclose(panel.current_morph().frames, expected.frames, atol=1e-6)
    assert explore.path_item.isVisible()

    # The neighbours follow the state's selection; a click on one selects that point.
    neighbours = explore.neighbours_panel
    explore.neighbours_action.trigger()
    state.select(i)
    qtbot.waitUntil(lambda: neighbours.indices()[:1] == [i], timeout=WAIT_MS)
    want, _ = nearest(ref.points.mu, ref.points.mu[i], neighbours.k())
    assert neighbours.indices() == want.tolist()
    other = neighbours.indices()[1]
    click(qtbot, neighbours.buttons()[1])
    assert state.selected == other
    np.testing.assert_array_equal(state.z, ref.points.mu[other])
    assert shell.image_pane.decoded.title() == f"Reconstruction of #{other}"
    qtbot.waitUntil(lambda: neighbours.indices()[:1] == [other], timeout=WAIT_MS)

    # A grid click moves the state's point.
    explore.manifold_action.trigger()
    view = explore.manifold_view
    qtbot.waitUntil(lambda: view.manifold() is not None, timeout=WAIT_MS)
    m = view.manifold()
    pos = view.plot_widget.mapFromScene(view.cell_centre_scene(row=0, col=0))
    qtbot.mouseClick(view.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert state.selected is None
    np.testing.assert_allclose(state.current_point(), [m.xs[0], m.ys[-1]], atol=1e-4)

    # Another document on the same state: the morph's ends are forgotten.
    state.open(vae_document(load_model(cvae_file), cvae_file))  # its images are known by now
    assert panel.end("A") is None and panel.current_morph() is None
