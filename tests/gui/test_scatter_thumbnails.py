"""Images on the map: the atlas packing, when thumbnails are drawn, and the toggle in the window."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRectF

from latentlab.gui.scatter_thumbnails import (
    ATLAS_BYTES,
    MAX_SHOWN,
    TILE,
    atlas_tiles,
    pack_atlas,
    tile_side,
    visible_indices,
)

from .conftest import LOAD_MS


def test_tiles_are_ink_on_paper_and_shrink_to_fit():
    images = np.zeros((2, 56, 40, 1), np.float32)
    images[1] = 1.0  # all ink
    tiles = atlas_tiles(images, tile=28)
    # 56 x 40 in 2 x 2 blocks is 28 x 20, padded with paper to 28 x 28.
    assert tiles.shape == (2, 28, 28, 1)
    assert (tiles[0] == 255).all()  # empty image: paper
    assert (tiles[1, :, 4:24] < 50).all()  # ink is dark
    assert (tiles[1, :, :4] == 255).all() and (tiles[1, :, 24:] == 255).all()  # padding


def test_colour_tiles_keep_their_colour():
    images = np.zeros((1, 8, 8, 3), np.float32)
    images[..., 0] = 1.0
    tiles = atlas_tiles(images, tile=8)
    assert tiles.shape == (1, 8, 8, 3)
    r, g, b = tiles[0, 4, 4]
    assert r > 200 and g < 60 and b < 60


def test_the_atlas_puts_tile_i_at_its_row_and_column():
    tiles = np.stack([np.full((3, 3, 1), i, np.uint8) for i in range(7)])
    atlas = pack_atlas(tiles, columns=3)
    assert atlas.shape == (9, 9, 1)
    for i in range(7):
        r, c = divmod(i, 3)
        assert (atlas[r * 3 : r * 3 + 3, c * 3 : c * 3 + 3] == i).all()
    assert (atlas[6:9, 3:9] == 255).all()  # the unused cells are paper


def test_tiles_shrink_so_a_million_points_fit_the_memory_ceiling():
    assert tile_side(10_000, 1) == TILE
    side = tile_side(1_000_000, 1)
    assert side < TILE and 1_000_000 * side * side <= ATLAS_BYTES


def test_thumbnails_only_where_they_stand_apart():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, size=(5000, 2)).astype(np.float32)
    wide = QRectF(0, 0, 100, 100)
    index, why = visible_indices(xy, wide, (8.0, 8.0))
    assert len(index) == 0 and "zoom in" in why and "5000 points" in why
    small = QRectF(10, 10, 8, 8)  # about 32 points in a 64 x 64 pixel view: they would pile up
    index, why = visible_indices(xy, small, (8.0, 8.0))
    assert len(index) == 0 and why
    index, why = visible_indices(xy, small, (100.0, 100.0))  # the same view, zoomed in far
    inside = np.flatnonzero(
        (xy[:, 0] >= 10) & (xy[:, 0] <= 18) & (xy[:, 1] >= 10) & (xy[:, 1] <= 18)
    )
    assert why == "" and 0 < len(index) <= MAX_SHOWN
    np.testing.assert_array_equal(index, inside)


@pytest.fixture
def window(open_explorer_window, cvae_file, qtbot):
    images = (np.random.default_rng(0).uniform(size=(300, 28, 28)) * 255).astype(np.uint8)
    labels = (np.arange(300) % 10).astype(np.uint8)
    window = open_explorer_window(test_loader=lambda name: (images, labels))
    with qtbot.waitSignal(window.test_images.changed, timeout=LOAD_MS):
        window.open_model(cvae_file)
    return window


def test_the_toggle_draws_the_points_in_view_as_images(window, qtbot):
    tools = window.scatter.thumbnails
    assert tools.action in window.view_menu.actions()
    assert tools.action.shortcut().toString() == "Ctrl+Shift+M"
    tools.action.setChecked(True)
    qtbot.waitUntil(lambda: tools.layer.has_atlas, timeout=LOAD_MS)
    assert tools.source == "images"  # the data's own images, not decoded means
    xy = window.state.points_2d()
    view = window.scatter.plot_widget.getPlotItem().getViewBox()

    view.autoRange(padding=0)
    window.scatter.plot_widget.grab()  # paint
    assert len(tools.layer.drawn) == 0  # 300 points in a small plot: they would pile up
    assert "zoom in" in tools.note.textItem.toPlainText()

    cx, cy = (float(v) for v in xy[0])
    view.setRange(xRange=(cx - 0.3, cx + 0.3), yRange=(cy - 0.3, cy + 0.3), padding=0)
    window.scatter.plot_widget.grab()
    (x0, x1), (y0, y1) = view.viewRange()
    inside = np.flatnonzero(
        (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    )
    assert 0 in tools.layer.drawn
    np.testing.assert_array_equal(np.sort(tools.layer.drawn), inside)
    assert not tools.note.isVisible()

    # The whole thumbnail answers the pointer: near its corner, well off the point itself.
    scatter = window.scatter
    drawn = tools.layer.drawn
    pixels = np.array(
        [scatter.plot_widget.mapFromScene(scatter.scene_pos(*xy[i])).toTuple() for i in drawn]
    )
    gaps = np.abs(pixels[:, None] - pixels[None]).max(axis=-1) + np.eye(len(drawn)) * 1e9
    lone = int(np.argmax(gaps.min(axis=1)))
    assert gaps[lone].min() > 2 * 30  # a thumbnail with no other one within its reach
    centre = QPoint(*(int(v) for v in pixels[lone]))
    corner = scatter.plot_widget.mapToScene(centre + QPoint(13, -13))
    assert scatter.index_at(corner) is None  # the point's own symbol is far smaller
    assert tools.layer.index_at(corner) == drawn[lone]
    scatter._on_mouse_moved(corner)
    assert scatter.hover.shown and scatter.hover.index == drawn[lone]
    assert tools.layer.index_at(scatter.plot_widget.mapToScene(centre + QPoint(17, 0))) is None

    # A class hidden from the legend is not drawn as images either.
    hidden = int(window.state.points.labels[0])
    window.scatter.class_items()[hidden].setVisible(False)
    window.scatter.plot_widget.grab()
    assert 0 not in tools.layer.drawn

    tools.action.setChecked(False)
    assert not tools.layer.isVisible()
