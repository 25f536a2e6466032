"""The scatter's nonlinear maps from the GUI: computed in the background with progress and Cancel,
shown from the cache at once, and dragged in (the marker and a click on empty space move the point
through the map's inverse); the manifold grid on a map; zoomed-in ticks without SI prefixes.

t-SNE runs for real on the small test models (300 points, about a second); UMAP is shown from
a stored map (its first run in a process spends about 15 s compiling; tests/core runs it once).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from latentlab.core.explore import maps
from latentlab.core.explore.maps import MapRequest
from latentlab.core.explore.state import ExplorerState
from latentlab.core.vae.latent_model import vae_document
from latentlab.gui.latent_scatter import MODE_KINDS, LatentScatter
from latentlab.gui.manifold_view import GridState, ManifoldView

from .conftest import SMALL_CVAE, make_record

MAP_MS = 60_000  # t-SNE of 300 points takes about a second; a loaded CI machine gets slack


@pytest.fixture(autouse=True)
def _map_cache(tmp_path, monkeypatch):
    folder = tmp_path / "map-cache"
    monkeypatch.setenv(maps.CACHE_ENV, str(folder))
    return folder


def make_scatter(qtbot, n_test: int = 300) -> tuple[ExplorerState, LatentScatter]:
    state = ExplorerState()
    state.open(vae_document(make_record(SMALL_CVAE, n_test=n_test, seed=4)))
    scatter = LatentScatter(state)
    qtbot.addWidget(scatter)
    scatter.resize(700, 560)
    scatter.show()
    qtbot.waitExposed(scatter)
    return state, scatter


def choose(scatter: LatentScatter, kind: str) -> None:
    scatter.mode_combo().setCurrentIndex(MODE_KINDS.index(kind))


def drawn_points(scatter: LatentScatter) -> np.ndarray:
    """The scatter's drawn points, in test-index order."""
    item = scatter._all_points
    out = np.empty((len(item.indices), 2), np.float32)
    out[item.indices, 0], out[item.indices, 1] = item.data["x"], item.data["y"]
    return out


def viewport_pos(scatter: LatentScatter, x: float, y: float) -> QPoint:
    return scatter.plot_widget.mapFromScene(scatter.scene_pos(x, y))


def view_pos(scatter: LatentScatter, pos: QPoint) -> tuple[float, float]:
    """Where a viewport position is on the scatter's axes, now."""
    box = scatter.plot_widget.getPlotItem().getViewBox()
    p = box.mapSceneToView(scatter.plot_widget.mapToScene(pos))
    return p.x(), p.y()


def test_choosing_tsne_computes_it_in_the_background_with_progress(qtbot, _map_cache):
    state, scatter = make_scatter(qtbot)
    seen_threads: set[str] = set()
    controls = scatter.map_controls
    ready = []
    controls.map_ready.connect(lambda m: ready.append(threading.current_thread().name))
    stages: list[tuple[str, str]] = []  # each stage, and the line under the plot then
    controls.stage_changed.connect(lambda stage: stages.append((stage, scatter._hint.text())))
    choose(scatter, "tsne")
    assert controls.is_running and controls.progress.isVisible()
    assert controls.cancel_button.isVisible()
    assert state.projection.kind == "pca"  # the old view until the map is there
    hint = scatter._hint.text()  # ... and the line under the plot says so
    assert "Computing the t-SNE" in hint and "principal components view until" in hint
    qtbot.waitUntil(lambda: state.projection.kind == "tsne", timeout=MAP_MS)
    assert "nonlinear map" in scatter._hint.text()
    assert stages and all(f"({stage})" in hint for stage, hint in stages)
    seen_threads.update(ready)
    assert seen_threads == {threading.main_thread().name}  # handed over on the GUI thread
    assert state.projection.kind == "tsne"
    assert not controls.progress.isVisible()
    np.testing.assert_array_equal(drawn_points(scatter), state.projection.coords)
    assert "t-SNE" in scatter.plot_widget.getPlotItem().getAxis("bottom").labelText
    assert len(list(_map_cache.glob("tsne-*.npy"))) == 1
    # Back to PCA and to t-SNE again: the map is kept, nothing runs.
    choose(scatter, "pca")
    assert state.projection.kind == "pca"
    choose(scatter, "tsne")
    assert state.projection.kind == "tsne" and not controls.is_running
    # A new perplexity, then Cancel: the box goes back to the map shown.
    shown = controls.parameter.value()
    controls.parameter.setValue(shown + 7)
    qtbot.waitUntil(lambda: controls.is_running, timeout=MAP_MS)
    qtbot.mouseClick(controls.cancel_button, Qt.MouseButton.LeftButton)
    assert controls.parameter.value() == shown and state.projection.kind == "tsne"


def test_cancel_stops_the_map_and_keeps_the_view(qtbot):
    state, scatter = make_scatter(qtbot, n_test=3000)
    controls = scatter.map_controls
    choose(scatter, "tsne")
    assert controls.is_running
    with qtbot.waitSignal(controls.map_failed, timeout=MAP_MS) as failed:
        qtbot.mouseClick(controls.cancel_button, Qt.MouseButton.LeftButton)
    assert failed.args == ["map cancelled"]
    assert state.projection.kind == "pca" and "Computing" not in scatter._hint.text()
    assert MODE_KINDS[scatter.mode_combo().currentIndex()] == "pca"
    assert not controls.is_running and not controls.progress.isVisible()
    assert state.map_projection("tsne") is None


def test_a_stored_umap_is_shown_at_once(qtbot):
    state, scatter = make_scatter(qtbot)
    coords = np.random.default_rng(0).normal(0, 1, (len(state.points), 2)).astype(np.float32)
    maps.store(state.points.mu, MapRequest.default("umap"), coords)
    with qtbot.waitSignal(state.events.projection, timeout=10_000):
        choose(scatter, "umap")
    assert state.projection.kind == "umap"
    np.testing.assert_array_equal(drawn_points(scatter), coords)
    assert "stored" in scatter.map_controls.status.text()


def show_stored_map(qtbot, state, scatter, kind="umap") -> np.ndarray:
    coords = np.random.default_rng(1).uniform(-2, 2, (len(state.points), 2)).astype(np.float32)
    maps.store(state.points.mu, MapRequest.default(kind), coords)
    with qtbot.waitSignal(state.events.projection, timeout=10_000):
        choose(scatter, kind)
    QApplication.sendPostedEvents()  # any re-layout the new axes asked for, done now
    return coords


def test_dragging_the_marker_onto_a_point_on_a_map_reaches_its_latent(qtbot, unthrottled_mouse):
    state, scatter = make_scatter(qtbot)
    coords = show_stored_map(qtbot, state, scatter)
    target = 37
    viewport = scatter.plot_widget.viewport()
    start = scatter.plot_widget.mapFromScene(scatter.marker.scenePos())
    end = viewport_pos(scatter, *coords[target])
    moves = []
    state.events.z.connect(moves.append)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for t in (0.25, 0.5, 0.75, 1.0):
        qtbot.mouseMove(viewport, start + (end - start) * t)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert len(moves) >= 3  # the latent (and the image) followed the drag
    x, y = scatter.marker_position()
    # The marker sits where the mouse left it: within a pixel of the point's place ...
    pixel = scatter._all_points.pixelVectors()[0].length()
    assert abs(x - coords[target, 0]) < 2 * pixel and abs(y - coords[target, 1]) < 2 * pixel
    # ... and the latent is that point's, up to the pixel the mouse can miss it by.
    spread = np.linalg.norm(state.points.mu.std(axis=0))
    assert np.linalg.norm(state.z - state.points.mu[target]) < 0.1 * spread
    np.testing.assert_allclose(state.current_point(), (x, y), atol=1e-5)


def test_a_click_on_empty_space_moves_the_point_through_the_inverse(qtbot):
    state, scatter = make_scatter(qtbot)
    coords = show_stored_map(qtbot, state, scatter)
    where = coords.min(axis=0) - 0.01  # beyond every point (bottom left, away from the legend)
    moves = []
    state.events.z.connect(moves.append)
    qtbot.mouseClick(
        scatter.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=viewport_pos(scatter, *where)
    )
    assert len(moves) == 1
    assert state.selected is None
    x, y = scatter.marker_position()
    clicked = view_pos(scatter, viewport_pos(scatter, *where))
    assert np.hypot(x - clicked[0], y - clicked[1]) < 1e-4  # where the click was, exactly
    assert np.hypot(x - where[0], y - where[1]) < 0.05  # the place aimed at
    np.testing.assert_allclose(state.z, state.projection.lift(np.array([x, y])), atol=1e-5)


def test_the_manifold_grid_decodes_the_maps_inverse(qtbot):
    state, scatter = make_scatter(qtbot)
    show_stored_map(qtbot, state, scatter)
    view = ManifoldView()
    qtbot.addWidget(view)
    view.size_spin.setValue(4)
    with qtbot.waitSignal(view.grid_changed, timeout=5000):
        view.update_grid(
            GridState(state.model, state.projection, state.z, state.condition()),
            state.projection.titles,
        )
    m = view.manifold()
    corner = state.projection.lift(np.array([m.xs[0], m.ys[-1]]))  # row 0 is the top
    expected = state.model.decode(corner[None], state.condition()[None])[0]
    np.testing.assert_allclose(m.images[0, 0], expected, atol=1e-5)


def test_zoomed_in_ticks_have_no_si_prefix_and_fit_shows_every_point(qtbot):
    state, scatter = make_scatter(qtbot)
    plot = scatter.plot_widget.getPlotItem()
    view = plot.getViewBox()
    view.setRange(xRange=(0.1, 0.1004), yRange=(0.2, 0.2004), padding=0)
    for side in ("bottom", "left"):
        axis = plot.getAxis(side)
        assert axis.autoSIPrefixScale == 1.0
        assert "x0.001" not in axis.labelString() and "(m" not in axis.labelString()
    scatter.fit_view()
    (x0, x1), (y0, y1) = view.viewRange()
    pts = state.points_2d()
    assert x0 <= pts[:, 0].min() and x1 >= pts[:, 0].max()
    assert y0 <= pts[:, 1].min() and y1 >= pts[:, 1].max()
