"""Scatter fixes found under Xvfb: the rows above the plot never widen the window, the hover card
goes when the view or the layers change, a clicked training point shows its image, the
thumbnails' note counts what is drawn and sits bottom-left, and the training layer never shows a
stale layout."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QTransform
from PySide6.QtWidgets import QApplication, QStyleOptionGraphicsItem

from latentlab.core.explore.projection import NonlinearProjection
from latentlab.core.jobs import Progress
from latentlab.gui.point_cloud import PointCloud

from .test_scatter_scale import WAIT_MS, make_scatter


def min_width(window) -> int:
    QApplication.processEvents()
    # The central widget's hint is the one computed now (the window's may be from the last
    # layout pass); the docks are closed.
    return max(window.minimumSizeHint().width(), window.centralWidget().minimumSizeHint().width())


def test_a_map_computing_does_not_raise_the_windows_minimum_width(
    qtbot, open_explorer_window, cvae_file
):
    window = open_explorer_window(cvae_file)
    scatter = window.scatter
    scatter._show_map_controls("umap")
    before = min_width(window)
    controls = scatter.map_controls
    controls.progress.setRange(0, 0)
    controls.status.setText("computing UMAP (15 neighbours) of 10,000 points: epoch 120 of 500…")
    controls._show_running(True)
    training = scatter.training.controls
    training.show_progress(Progress(5, 60, "encoding the training images, chunk 5 of 60 (60,000)"))
    assert controls.progress.isVisible() and training.isVisible()
    assert min_width(window) <= before
    assert controls.status.toolTip() == controls.status.text()  # the whole text, where cut


def show_training(qtbot, n: int = 300, seed: int = 8):
    """A scatter with `n` training points drawn (random images, classes in turn)."""
    state, scatter = make_scatter(qtbot)
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    tools = scatter.training
    tools._loader = lambda _dataset: (images, labels)
    with qtbot.waitSignal(tools.encoded, timeout=WAIT_MS):
        tools.action.setChecked(True)
    return state, scatter, images, labels


def lone_training_point(state, scatter) -> int:
    """The training point farthest from every test point, zoomed in on."""
    tools = scatter.training
    train_xy = state.projection.project(tools.points.mu)
    gap = np.linalg.norm(train_xy[:, None] - state.points_2d()[None], axis=-1).min(axis=1)
    index = int(np.argmax(gap))
    x, y = (float(v) for v in train_xy[index])
    box = scatter.plot_widget.getPlotItem().getViewBox()
    box.setRange(xRange=(x - 0.2, x + 0.2), yRange=(y - 0.2, y + 0.2), padding=0)
    QApplication.processEvents()
    return index


def hover_over(qtbot, scatter, x: float, y: float) -> None:
    view = scatter.plot_widget
    qtbot.mouseMove(view.viewport(), QPoint(2, 2))  # from elsewhere: a move, even to the same spot
    qtbot.mouseMove(view.viewport(), view.mapFromScene(scatter.scene_pos(x, y)))
    qtbot.waitUntil(lambda: scatter.hover.shown, timeout=WAIT_MS)


def hover_over_the_first_point(qtbot, state, scatter):
    """Zoom in on test point 0 and hover it: (the view box, its x, its y)."""
    box = scatter.plot_widget.getPlotItem().getViewBox()
    x, y = (float(v) for v in state.points_2d()[0])
    box.setRange(xRange=(x - 0.2, x + 0.2), yRange=(y - 0.2, y + 0.2), padding=0)
    QApplication.processEvents()
    hover_over(qtbot, scatter, x, y)
    return box, x, y


def test_the_hover_card_goes_on_a_zoom_and_when_its_layer_or_class_is_hidden(
    qtbot, unthrottled_mouse
):
    state, scatter, _images, labels = show_training(qtbot)
    box, x, y = hover_over_the_first_point(qtbot, state, scatter)
    assert scatter.hover.caption.startswith("test image #")
    # A mouse-wheel step about another spot: the point moves away from the still cursor.
    cursor = scatter.scene_pos(x, y)
    box.scaleBy((0.5, 0.5), center=(x + 0.15, y + 0.15))
    QApplication.processEvents()
    under = scatter.index_at(cursor)
    assert under != 0
    assert scatter.hover.index == under and scatter.hover.shown == (under is not None)
    # A training point's card goes when the training points are hidden ...
    index = lone_training_point(state, scatter)
    hover_over(qtbot, scatter, *scatter.training.xy(index))
    assert scatter.hover.caption.startswith("training image #")
    scatter.training.action.setChecked(False)
    assert not scatter.hover.shown
    # ... and when its class is hidden from the legend.
    scatter.training.action.setChecked(True)
    qtbot.waitUntil(lambda: len(scatter.training.layer) == len(labels), timeout=WAIT_MS)
    hover_over(qtbot, scatter, *scatter.training.xy(index))
    scatter.class_items()[int(labels[index])].setVisible(False)
    assert not scatter.hover.shown
    # The cursor leaves the spot (a later test's first move to a view's centre must be a move).
    qtbot.mouseMove(scatter.plot_widget.viewport(), QPoint(2, 2))


def test_a_clicked_training_point_shows_its_image_until_the_point_moves(
    qtbot, open_explorer_window, cvae_file
):
    window = open_explorer_window(cvae_file)
    state, tools, pane = window.state, window.scatter.training, window.image_pane
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, (40, 28, 28, 1), dtype=np.uint8)
    labels = (np.arange(40) % 10).astype(np.uint8)
    tools._loader = lambda _dataset: (images, labels)
    with qtbot.waitSignal(tools.encoded, timeout=WAIT_MS):
        tools.action.setChecked(True)
    tools.layer.point_clicked.emit(7)  # as a click on training point 7
    assert pane.decoded.title() == "Reconstruction of training image #7"
    assert pane.original.title() == "Training image #7"
    np.testing.assert_allclose(pane.original.image(), images[7, ..., 0] / 255.0, atol=1e-6)
    assert state.class_names[int(labels[7])] in pane.original.caption()
    state.set_z(np.asarray(state.z) + 0.5)  # a slider moved: no longer that image's latent
    assert pane.original.title() == "Test image" and pane.original.image() is None
    assert not pane.decoded.title().startswith("Reconstruction")


def test_the_zoom_in_note_counts_the_training_points_and_keeps_clear_of_the_legend(
    qtbot, open_explorer_window, cvae_file
):
    images = (np.random.default_rng(0).uniform(size=(300, 28, 28)) * 255).astype(np.uint8)
    labels = (np.arange(300) % 10).astype(np.uint8)
    window = open_explorer_window(test_loader=lambda name: (images, labels))
    with qtbot.waitSignal(window.test_images.changed, timeout=WAIT_MS):
        window.open_model(cvae_file)
    window.resize(900, 700)  # a narrow scatter: a note at the top left ran under the legend
    scatter = window.scatter
    tools, training = scatter.thumbnails, scatter.training
    training._loader = lambda _dataset: (images[:, :, :, None], labels)
    with qtbot.waitSignal(training.encoded, timeout=WAIT_MS):
        training.action.setChecked(True)
    tools.action.setChecked(True)
    qtbot.waitUntil(lambda: tools.layer.has_atlas, timeout=WAIT_MS)
    scatter.fit_view()
    scatter.plot_widget.grab()  # paint
    in_view = training.layer.count_in_view()
    assert in_view > 0
    text = tools.note.textItem.toPlainText()
    assert text == f"zoom in to see the images (300 test and {in_view} training points in view)"
    assert tools.note.isVisible()
    note = tools.note.sceneBoundingRect()
    view = scatter.plot_widget.getPlotItem().getViewBox().sceneBoundingRect()
    assert not note.intersects(scatter._legend.sceneBoundingRect())
    assert note.left() < view.center().x() and note.top() > view.center().y()  # bottom left
    assert view.contains(note)
    # Hidden classes are not counted: they are not drawn.
    scatter.class_items()[0].setVisible(False)
    scatter.plot_widget.grab()
    assert tools.note.textItem.toPlainText().startswith("zoom in to see the images (270 test and")


def test_the_old_training_layout_goes_as_soon_as_a_map_is_chosen(qtbot):
    state, scatter, _images, labels = show_training(qtbot, n=120)
    tools = scatter.training
    assert len(tools.layer) == len(labels)
    coords = np.random.default_rng(4).normal(0, 5, (len(state.points), 2)).astype(np.float32)
    state.add_map(NonlinearProjection("umap", coords, state.points.mu, ("UMAP 1", "UMAP 2")))
    with qtbot.waitSignal(tools.encoded, timeout=WAIT_MS):
        state.set_projection("umap")
        assert len(tools.layer) == 0  # the PCA layout is not drawn under the map meanwhile
    assert len(tools.layer) == len(labels)


def painted(layer: PointCloud, patch: QRectF | None, size: tuple[int, int]) -> QImage:
    """The layer painted as the scene paints it, into an image; only `patch` exposed."""
    image = QImage(*size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setTransform(layer.deviceTransform(QTransform()))
    option = QStyleOptionGraphicsItem()
    option.exposedRect = patch if patch is not None else layer.boundingRect()
    if patch is not None:
        painter.setClipRect(patch)
    layer.paint(painter, option, None)
    painter.end()
    return image


def test_a_partial_repaint_of_the_density_image_shows_the_same_cells_as_a_full_one(qtbot):
    _state, scatter, _images, _labels = show_training(qtbot, n=600)
    layer = scatter.training.layer
    layer.lod_points = 50  # 600 points in view: the density image
    scatter.fit_view()
    QApplication.processEvents()
    assert layer.draws_density()
    size = (scatter.plot_widget.viewport().width(), scatter.plot_widget.viewport().height())
    full = painted(layer, None, size)
    to_device = layer.deviceTransform(QTransform())
    centre = to_device.map(layer.viewRect().center())
    # A patch (as under the marker) at odd device pixels, in the middle of the points: a
    # density image made of the patch alone has its cells and their spread cut differently.
    device = QRect(int(centre.x()) | 1, int(centre.y()) | 1, 61, 47)
    patch = to_device.inverted()[0].mapRect(QRectF(device))
    part = painted(layer, patch, size)
    inner = device.adjusted(1, 1, -1, -1)
    pixels = [
        (x, y)
        for x in range(inner.left(), inner.right())
        for y in range(inner.top(), inner.bottom())
    ]
    assert any(full.pixel(x, y) for x, y in pixels)  # points there
    assert [p for p in pixels if part.pixel(*p) != full.pixel(*p)] == []


def test_a_press_hides_the_hover_card_and_a_still_hover_brings_it_back(qtbot, unthrottled_mouse):
    state, scatter, _images, _labels = show_training(qtbot)
    _box, x, y = hover_over_the_first_point(qtbot, state, scatter)
    viewport = scatter.plot_widget.viewport()
    here = scatter.plot_widget.mapFromScene(scatter.scene_pos(x, y))
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=here)  # a drag (a pan) begins
    assert not scatter.hover.shown
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=here)
    qtbot.mouseMove(viewport, here + QPoint(1, 0))  # the same point under the cursor
    qtbot.waitUntil(lambda: scatter.hover.shown, timeout=WAIT_MS)
    assert scatter.hover.index == 0
