"""The scatter at scale (issue 17 §5): level of detail by the count in view, colours per point
right after a recolour, the training points encoded in a worker and clickable, and a large
imported document (200,000 points here: 1,000,000 is for the benchmark, not for CI)."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from latentlab.core.explore.colouring import ColourChoice
from latentlab.core.explore.document import Document
from latentlab.core.explore.points import EncodedPoints
from latentlab.core.explore.projection import NonlinearProjection
from latentlab.core.explore.state import ExplorerState
from latentlab.core.vae.latent_model import vae_document
from latentlab.gui.latent_scatter import LatentScatter
from latentlab.gui.point_cloud import PointCloud
from latentlab.gui.scatter_colours import level_indices, value_range

from .conftest import SMALL_CVAE, make_record
from .test_any_model import FieldModel, Payload

WAIT_MS = 30_000


def make_scatter(qtbot, n_test: int = 200):
    state = ExplorerState()
    state.open(vae_document(make_record(SMALL_CVAE, n_test=n_test, seed=6)))
    scatter = LatentScatter(state)
    qtbot.addWidget(scatter)
    scatter.resize(700, 600)
    scatter.show()
    qtbot.waitExposed(scatter)
    return state, scatter


def painted_mode(scatter: LatentScatter, layer: PointCloud) -> str:
    layer.mode = ""
    layer.update()  # past Qt's cached pixmap of the layer
    scatter.plot_widget.grab()  # paints the scene now
    return layer.mode


def test_level_of_detail_follows_the_count_of_points_in_view(qtbot):
    state, scatter = make_scatter(qtbot)
    layer = scatter._all_points
    layer.lod_points = 50  # 200 points: the whole view holds more than that
    scatter.fit_view()
    QApplication.processEvents()
    assert layer.count_in_view() == len(state.points)
    assert painted_mode(scatter, layer) == "density"
    before = scatter.plot_widget.grab().toImage()
    row = [before.pixelColor(x, 300).name() for x in range(0, 700, 3)]
    assert any(c != "#ffffff" for c in row)  # the density image is drawn
    # A recolour in density mode reuses the points' cells but shows the new colours.
    scatter.colours.choose(ColourChoice("latent", 1))
    assert painted_mode(scatter, layer) == "density"
    after = scatter.plot_widget.grab().toImage()
    assert row != [after.pixelColor(x, 300).name() for x in range(0, 700, 3)]
    # Zoomed in around one point: a handful in view, drawn as symbols.
    x, y = (float(v) for v in state.points_2d()[0])
    box = scatter.plot_widget.getPlotItem().getViewBox()
    box.setRange(xRange=(x - 0.05, x + 0.05), yRange=(y - 0.05, y + 0.05), padding=0)
    QApplication.processEvents()
    assert 1 <= layer.count_in_view() <= 50
    assert painted_mode(scatter, layer) == "points"
    box.setRange(xRange=(x - 100, x + 100), yRange=(y - 100, y + 100), padding=0)
    QApplication.processEvents()
    assert painted_mode(scatter, layer) == "density"


def test_each_point_has_its_values_colour_right_after_a_recolour_and_its_class_after(qtbot):
    state, scatter = make_scatter(qtbot)
    layer = scatter._all_points
    for dim in (0, 2):
        scatter.colours.choose(ColourChoice("latent", dim))
        values = state.points.mu[:, dim]
        low, high = value_range(values)
        want = scatter._level_palette[level_indices(values, low, high)]
        got = np.empty_like(want)
        got[layer.indices] = layer.point_colours()
        assert len(layer.indices) == len(values)
        np.testing.assert_array_equal(got, want)
    scatter.colours.choose(ColourChoice("class"))
    classes = [b.color().getRgb() for b in scatter._brushes]
    got = np.empty((len(state.points), 4), np.uint8)
    got[layer.indices] = layer.point_colours()
    want = np.array([classes[k] for k in state.points.labels], np.uint8)
    np.testing.assert_array_equal(got, want)


def test_hit_test_finds_the_topmost_point_under_the_cursor_through_the_grid(qtbot):
    state, scatter = make_scatter(qtbot, n_test=3000)
    points = state.points_2d()
    layer = scatter._all_points
    for i in (0, 17, 2999):
        expected_on_top = layer.position_at(layer.mapFromScene(scatter.scene_pos(*points[i])))
        assert expected_on_top is not None
        found = int(layer.indices[expected_on_top])
        # The brute-force answer: the last drawn of the points whose square covers the spot.
        pos = layer.mapFromScene(scatter.scene_pos(*points[i]))
        px, py = (v.length() * layer.size / 2 for v in layer.pixelVectors())
        x, y = layer.data["x"], layer.data["y"]
        hits = np.flatnonzero((np.abs(x - pos.x()) < px) & (np.abs(y - pos.y()) < py))
        assert found == int(layer.indices[hits[-1]])
        assert i in layer.indices[hits]


def test_training_points_are_encoded_in_a_worker_and_a_click_goes_to_one(qtbot, unthrottled_mouse):
    state, scatter = make_scatter(qtbot)
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (300, 28, 28, 1), dtype=np.uint8)
    labels = (np.arange(300) % 10).astype(np.uint8)
    calls: list[str] = []
    tools = scatter.training

    def loader(dataset: str):
        calls.append(dataset)
        return images, labels

    tools._loader = loader
    assert tools.action.isEnabled()
    with qtbot.waitSignal(tools.encoded, timeout=WAIT_MS):
        tools.action.setChecked(True)
    assert calls == ["mnist"]
    mu, _var = state.model.encode(images.astype(np.float32) / 255)
    np.testing.assert_allclose(tools.points.mu, mu, rtol=1e-5, atol=1e-5)
    assert len(tools.layer) == 300 and tools.layer.isVisible()
    assert not tools.controls.isVisible()  # the progress went once it finished
    # A training point far from every test point: a click there hits only it.
    train_xy = state.projection.project(tools.points.mu)
    test_xy = state.points_2d()
    gap = np.linalg.norm(train_xy[:, None] - test_xy[None], axis=-1).min(axis=1)
    index = int(np.argmax(gap))
    view = scatter.plot_widget
    box = view.getPlotItem().getViewBox()
    x, y = (float(v) for v in train_xy[index])
    box.setRange(xRange=(x - 0.2, x + 0.2), yRange=(y - 0.2, y + 0.2), padding=0)
    QApplication.processEvents()
    pos = view.mapFromScene(scatter.scene_pos(x, y))
    assert scatter.index_at(view.mapToScene(pos)) is None  # no test point there
    qtbot.mouseMove(view.viewport(), pos)
    qtbot.waitUntil(lambda: scatter.hover.shown, timeout=WAIT_MS)  # its image beside it
    assert scatter.hover.caption.startswith("training image #") and scatter.hover.has_image()
    with qtbot.waitSignal(tools.point_clicked, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    hit = blocker.args[0]
    np.testing.assert_allclose(train_xy[hit], train_xy[index], atol=0.02)
    np.testing.assert_allclose(state.z, state.box_limit()(tools.points.mu[hit]), atol=1e-6)
    assert state.selected is None and state.class_index == int(labels[hit])


def test_training_points_follow_a_nonlinear_map_projected_in_a_worker(qtbot):
    state, scatter = make_scatter(qtbot)
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (120, 28, 28, 1), dtype=np.uint8)
    labels = (np.arange(120) % 10).astype(np.uint8)
    tools = scatter.training
    tools._loader = lambda _dataset: (images, labels)
    with qtbot.waitSignal(tools.encoded, timeout=WAIT_MS):
        tools.action.setChecked(True)
    coords = rng.normal(0, 5, (len(state.points), 2)).astype(np.float32)
    state.add_map(NonlinearProjection("umap", coords, state.points.mu, ("UMAP 1", "UMAP 2")))
    with qtbot.waitSignal(tools.encoded, timeout=WAIT_MS):
        state.set_projection("umap")
    want = state.projection.project(tools.points.mu)
    got = np.empty_like(want)
    got[tools.layer.indices] = np.stack([tools.layer.data["x"], tools.layer.data["y"]], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_cancelling_the_training_encode_draws_nothing_and_unticks_the_action(qtbot):
    _state, scatter = make_scatter(qtbot)
    tools = scatter.training
    release = threading.Event()

    def held_loader(_dataset: str):
        release.wait(WAIT_MS / 1000)  # until the test has pressed Cancel
        return np.zeros((20_000, 28, 28, 1), np.uint8), np.zeros(20_000, np.uint8)

    tools._loader = held_loader
    tools.action.setChecked(True)
    assert tools.controls.isVisible() and tools.is_running()
    tools.controls.cancel.click()
    release.set()
    qtbot.waitUntil(lambda: not tools.action.isChecked(), timeout=WAIT_MS)
    assert tools.points is None and len(tools.layer) == 0 and not tools.controls.isVisible()


def test_a_document_of_200000_points_opens_and_draws_a_density_image(qtbot, open_explorer_window):
    n = 200_000
    model = FieldModel(28, 28, 1, 4, tuple("0123456789"))
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    mu = (rng.normal(0, 2, (10, 4))[labels] + rng.normal(0, 0.5, (n, 4))).astype(np.float32)
    points = EncodedPoints(mu, np.full_like(mu, -1.0), labels)
    document = Document(model, points, payload=Payload(), source="onnx")
    window = open_explorer_window()
    with qtbot.waitSignal(window.model_loaded, timeout=WAIT_MS):
        window.show_document(document)
    QApplication.processEvents()
    scatter = window.scatter
    layer = scatter._all_points
    assert len(layer) == n and layer.count_in_view() == n
    assert painted_mode(scatter, layer) == "density"
    xy = window.state.points_2d()
    i = int(np.argmax(xy[:, 0]))  # the rightmost point: nothing drawn over it
    assert scatter.index_at(scatter.scene_pos(*xy[i])) == i
