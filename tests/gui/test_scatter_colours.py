"""Colouring the scatter from the GUI: continuous values with a colour bar, a range filter that
greys the rest, predicted classes in the legend, legend labels that toggle, the class histogram
and its show-only class filter, and the colourings that measure the images (strokes,
reconstruction error) computed in a worker."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from latentlab.core.explore.colouring import ColourChoice, point_kl
from latentlab.core.explore.morphometry import measure
from latentlab.core.explore.state import ExplorerState
from latentlab.core.vae.latent_model import vae_document
from latentlab.gui.latent_scatter import LatentScatter
from latentlab.gui.scatter_colours import GREY, LEVELS, colour_map

from .conftest import SMALL_CVAE, make_record

JOB_MS = 60_000


class FakeTestImages:
    """What the window's TestImages offers the scatter: image(i) -> (H, W, C) in [0, 1]."""

    def __init__(self, images: np.ndarray) -> None:
        self.images = images

    def image(self, index: int):
        return self.images[index][..., None] / 255.0, f"test image #{index}"


def make_scatter(qtbot, images: np.ndarray | None = None):
    state = ExplorerState()
    state.open(vae_document(make_record(SMALL_CVAE, n_test=200, seed=6)))
    scatter = LatentScatter(state)
    if images is not None:
        scatter.set_images_source(FakeTestImages(images))
    qtbot.addWidget(scatter)
    scatter.resize(700, 600)
    scatter.show()
    qtbot.waitExposed(scatter)
    return state, scatter


def drawn_colours(scatter: LatentScatter) -> dict[int, tuple[int, int, int]]:
    """Each drawn point's colour (without alpha), by test index."""
    item = scatter._all_points
    return {
        int(i): tuple(int(v) for v in rgba[:3])
        for i, rgba in zip(item.indices, item.point_colours(), strict=True)
    }


def test_colour_by_kl_shows_a_colour_bar_and_a_range_filter_greys_the_rest(qtbot):
    state, scatter = make_scatter(qtbot)
    # Coloured by class, the histogram counts the classes (and the bar's column is kept).
    assert scatter.histogram.isVisible() and scatter.histogram.kind == "classes"
    labels = np.asarray(state.points.labels)
    np.testing.assert_array_equal(
        scatter.histogram.counts, np.bincount(labels, minlength=len(state.class_names))
    )
    assert f"{state.class_names[0]}: {int((labels == 0).sum()):,}" in scatter.histogram.toolTip()
    box = scatter.plot_widget.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: box.width() > 0)
    size = (box.width(), box.height())
    choice = ColourChoice("kl")
    scatter.colours.choose(choice)
    kl = point_kl(state.points)
    np.testing.assert_allclose(scatter.colour_values(), kl)
    assert scatter.colour_bar.isVisible() and scatter.histogram.kind == "values"
    assert scatter._legend.opacity() < 1.0  # no longer the colour key, still the toggles
    assert scatter.histogram.counts.sum() == len(kl)
    colours = drawn_colours(scatter)
    table = colour_map().getLookupTable(0.0, 1.0, LEVELS, alpha=False)
    top, bottom = int(np.argmax(kl)), int(np.argmin(kl))
    assert colours[top] == tuple(int(c) for c in table[-1])  # above the 99th percentile
    assert colours[bottom] == tuple(int(c) for c in table[0])
    # The histogram's band as a show-only filter, in the values' units: the upper half only.
    assert not any(c == GREY[:3] for c in colours.values())  # the band spans them all
    middle = float(np.median(kl))
    scatter.histogram.band.setRegion((middle, float(kl.max())))  # the lower edge dragged up
    low, high = scatter.histogram.band.getRegion()
    assert low == pytest.approx(middle)
    colours = drawn_colours(scatter)
    grey = [i for i, c in colours.items() if c == GREY[:3]]
    assert grey and sorted(grey) == sorted(np.flatnonzero((kl < low) | (kl > high)).tolist())
    note = scatter.histogram.band_note  # the band's bounds and count, in words
    assert (
        note.isVisible() and f"{len(kl) - len(grey):,} of {len(kl):,} points" in note.toPlainText()
    )
    order = scatter._all_points.indices
    assert set(order[: len(grey)].tolist()) == set(grey)  # grey underneath, drawn first
    # The colours of the points shown stay where they were: the colour map does not stretch.
    assert colours[top] == tuple(int(c) for c in table[-1])
    bars = scatter.histogram.bars.opts["brushes"]
    centres = scatter.histogram._centres
    assert all(
        (b.color().getRgb()[:3] == GREY[:3]) == (not low <= x <= high)
        for b, x in zip(bars, centres, strict=True)
    )
    scatter.histogram.band.setRegion((float(kl.min()), float(kl.max())))
    assert not any(c == GREY[:3] for c in drawn_colours(scatter).values())
    assert not scatter.histogram.band_note.isVisible()
    # Back to classes: no bar, the class colours, the class histogram.
    scatter.colours.choose(ColourChoice("class"))
    assert scatter.colour_values() is None and scatter.histogram.kind == "classes"
    assert not scatter.colour_bar.isVisible() and scatter._legend.opacity() == 1.0
    qtbot.wait_exposed(scatter.plot_widget)
    # Neither colouring moved the plot: a new layout would redraw a million points anew.
    assert (box.width(), box.height()) == size


def test_the_class_histogram_greys_a_class_hidden_from_the_legend(qtbot):
    _state, scatter = make_scatter(qtbot)
    bars = scatter.histogram.bars
    grey = pg.mkBrush(*GREY).color().getRgb()
    assert grey not in [b.color().getRgb() for b in bars.opts["brushes"]]
    scatter.class_items()[2].setVisible(False)
    colours = [b.color().getRgb() for b in bars.opts["brushes"]]
    assert colours[2] == grey and colours.count(grey) == 1


def test_predicted_class_groups_the_legend_by_what_the_classifier_reads(qtbot):
    state, scatter = make_scatter(qtbot)
    predicted = state.points.predicted
    assert not np.array_equal(predicted, state.points.labels)  # the fixture disagrees somewhere
    scatter.colours.choose(ColourChoice("predicted"))
    scatter.class_items()[3].setVisible(False)
    shown = set(scatter._all_points.indices.tolist())
    assert shown == set(np.flatnonzero(predicted != 3).tolist())


def test_clicking_a_legend_label_toggles_its_class_as_the_dot_does(qtbot):
    state, scatter = make_scatter(qtbot)
    _sample, label = scatter._legend.items[2]
    view = scatter.plot_widget
    centre = view.mapFromScene(label.sceneBoundingRect().center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert not scatter.class_items()[2].isVisible()
    assert 2 not in set(state.points.labels[scatter._all_points.indices].tolist())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert scatter.class_items()[2].isVisible()


def test_stroke_measures_are_computed_in_the_background_and_kept(qtbot):
    rng = np.random.default_rng(2)
    images = np.zeros((200, 28, 28), np.uint8)
    for i in range(200):  # bars of random width and lean
        width, lean = int(rng.integers(2, 7)), int(rng.integers(-6, 7))
        for r in range(4, 24):
            c = 12 + round(lean * (23 - r) / 19)
            images[i, r, c : c + width] = 255
    _state, scatter = make_scatter(qtbot, images)
    slant = ColourChoice("stroke", name="slant")
    assert slant in scatter.colours.choices()
    scatter.colours.choose(slant)
    assert scatter.colours.is_computing
    qtbot.waitUntil(lambda: scatter.colouring() == slant, timeout=JOB_MS)
    np.testing.assert_allclose(scatter.colour_values(), measure(images)["slant"], atol=1e-5)
    thickness = ColourChoice("stroke", name="thickness")
    scatter.colours.choose(thickness)  # measured with the slant: no second job
    assert not scatter.colours.is_computing and scatter.colouring() == thickness


def test_reconstruction_error_is_computed_in_a_worker(qtbot):
    images = np.random.default_rng(3).integers(0, 256, (200, 28, 28), dtype=np.uint8)
    state, scatter = make_scatter(qtbot, images)
    choice = ColourChoice("recon_error")
    scatter.colours.choose(choice)
    qtbot.waitUntil(lambda: scatter.colouring() == choice, timeout=JOB_MS)
    values = scatter.colour_values()
    i = 11
    expected = ((state.reconstruction(i)[..., 0] - images[i] / 255.0) ** 2).mean()
    assert values[i] == np.float32(expected) or abs(values[i] - expected) < 1e-5


def test_without_images_the_image_colourings_are_not_offered(qtbot):
    _state, scatter = make_scatter(qtbot)
    keys = {c.key for c in scatter.colours.choices()}
    assert "stroke" not in keys and "recon_error" not in keys
    assert {"class", "predicted", "confidence", "kl", "latent"} <= keys


def test_the_class_filter_greys_the_other_classes_beneath_and_keeps_them_clickable(qtbot):
    state, scatter = make_scatter(qtbot)
    labels = np.asarray(state.points.labels)
    assert scatter.class_filter.isVisible()
    scatter.class_filter.choose(3)
    colours = drawn_colours(scatter)
    grey = {i for i, c in colours.items() if c == GREY[:3]}
    assert grey == set(np.flatnonzero(labels != 3).tolist())  # every other class, still drawn
    order = scatter._all_points.indices
    assert set(order[: len(grey)].tolist()) == grey  # underneath the class shown
    np.testing.assert_array_equal(scatter.shown_mask(), labels == 3)  # what a lasso may take
    bars = [b.color().getRgb()[:3] for b in scatter.histogram.bars.opts["brushes"]]
    assert [c == GREY[:3] for c in bars] == [c != 3 for c in range(len(bars))]
    other = int(np.flatnonzero(labels != 3)[0])
    assert scatter.index_at(scatter.scene_pos(*state.points_2d()[other])) is not None
    # Coloured by a value, the filter still greys the other classes.
    scatter.colours.choose(ColourChoice("kl"))
    colours = drawn_colours(scatter)
    assert all(colours[i] == GREY[:3] for i in np.flatnonzero(labels != 3))
    assert any(colours[i] != GREY[:3] for i in np.flatnonzero(labels == 3))
    scatter.class_filter.choose(None)
    assert not any(c == GREY[:3] for c in drawn_colours(scatter).values())


def test_a_new_model_resets_the_class_filter(qtbot):
    state, scatter = make_scatter(qtbot)
    scatter.class_filter.choose(5)
    state.open(vae_document(make_record(SMALL_CVAE, n_test=120, seed=7)))
    assert scatter.class_filter.only is None
    assert scatter.shown_mask().all()


def test_clicking_a_class_bar_shows_only_that_class_and_again_all(qtbot):
    _state, scatter = make_scatter(qtbot)
    hist = scatter.histogram
    view = hist.getPlotItem().getViewBox()

    def click_bar(c: int) -> None:
        at = hist.mapFromScene(view.mapViewToScene(pg.Point(c, hist.counts[c] / 2)))
        qtbot.mouseClick(hist.viewport(), Qt.MouseButton.LeftButton, pos=at)

    click_bar(4)
    assert scatter.class_filter.only == 4
    click_bar(6)
    assert scatter.class_filter.only == 6
    click_bar(6)
    assert scatter.class_filter.only is None
