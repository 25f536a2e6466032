"""MNIST-style preprocessing of drawings: crop, 20x20 box with aspect kept, centred by mass."""

import itertools

import numpy as np
import pytest

from latentlab.core.data.preprocess import (
    BOX,
    SIDE,
    area_weights,
    centre_of_mass,
    ink_bounds,
    mnist_like,
    resize_area,
)

CENTRE = (SIDE - 1) / 2


def stroke_canvas(points, width: float, size: int = 280) -> np.ndarray:
    """A polyline of round-capped thickness `width` rasterised into a size x size canvas."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    canvas = np.zeros((size, size))
    for (y0, x0), (y1, x1) in itertools.pairwise(points):
        d = np.array([y1 - y0, x1 - x0], float)
        length2 = max(float(d @ d), 1e-9)
        t = np.clip(((yy - y0) * d[0] + (xx - x0) * d[1]) / length2, 0, 1)
        dist = np.hypot(yy - (y0 + t * d[0]), xx - (x0 + t * d[1]))
        canvas = np.maximum(canvas, dist <= width / 2)
    return canvas


def test_area_weights_average_and_keep_the_ink():
    for src, dst in ((280, 20), (7, 20), (33, 5), (20, 20)):
        w = area_weights(src, dst)
        assert w.shape == (dst, src)
        assert np.allclose(w.sum(axis=1), 1.0)  # each output pixel is a weighted mean
        assert np.allclose(w.sum(axis=0), dst / src)  # each input pixel's ink is spread fully


def test_resize_keeps_a_constant_image_constant_and_averages_blocks():
    assert np.allclose(resize_area(np.full((90, 30), 0.7), 20, 7), 0.7)
    checker = np.kron(np.eye(2), np.ones((5, 5)))  # 10x10: two ink blocks on the diagonal
    assert np.allclose(resize_area(checker, 2, 2), np.eye(2))
    half = resize_area(np.array([[1.0, 0.0]]), 1, 1)
    assert half[0, 0] == pytest.approx(0.5)  # anti-aliased, not nearest-neighbour


def test_an_empty_canvas_gives_none():
    assert mnist_like(np.zeros((100, 100))) is None


def test_a_tall_stroke_fills_20_rows_and_is_centred_by_mass():
    # A "1" with a flag, drawn in the top-left corner of the canvas.
    canvas = stroke_canvas([(40, 40), (20, 60), (180, 60)], width=16)
    image = mnist_like(canvas)
    assert image.shape == (SIDE, SIDE) and image.dtype == np.float32
    top, bottom, left, right = ink_bounds(image, 0.0)
    assert bottom - top == BOX  # the longer side is scaled to the box
    assert right - left < BOX
    cy, cx = centre_of_mass(image)
    assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5
    assert image.min() >= 0.0 and image.max() <= 1.0


def test_the_aspect_ratio_is_kept():
    canvas = np.zeros((300, 300))
    canvas[200:240, 20:180] = 1.0  # 40 tall, 160 wide: 4 to 1
    image = mnist_like(canvas)
    top, bottom, left, right = ink_bounds(image, 0.0)
    assert (right - left, bottom - top) == (BOX, BOX // 4)
    cy, cx = centre_of_mass(image)
    assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5


def test_position_and_scale_on_the_canvas_do_not_matter():
    path = [(0, 10), (30, 0), (60, 10), (90, 40)]
    small = stroke_canvas([(y + 20, x + 30) for y, x in path], width=8, size=200)
    big = stroke_canvas([(2 * y + 100, 2 * x + 150) for y, x in path], width=16, size=400)
    a, b = mnist_like(small), mnist_like(big)
    assert np.abs(a - b).max() < 0.15  # the same digit, up to rasterisation


def test_mass_off_centre_in_the_box_is_shifted_back():
    # A "T": most of the ink is near the top, so centring the box alone would leave it high.
    canvas = np.zeros((100, 100))
    canvas[10:14, 30:70] = 1.0
    canvas[10:90, 48:52] = 1.0
    image = mnist_like(canvas)
    top, _bottom, _, _ = ink_bounds(image, 0.0)
    assert top > (SIDE - BOX) // 2  # moved down from where the box alone would put it
    cy, cx = centre_of_mass(image)
    assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5


def test_a_far_off_centre_mass_never_pushes_ink_out_of_the_field():
    # An "L" with a heavy foot would need a shift of more than the 4-pixel margin.
    canvas = np.zeros((100, 100))
    canvas[10:90, 10:14] = 1.0
    canvas[80:90, 10:90] = 1.0
    image = mnist_like(canvas)
    top, bottom, _, _ = ink_bounds(image, 0.0)
    assert (top, bottom) == (0, BOX)  # shifted up as far as the field allows, nothing cut
    assert image[BOX:].sum() == 0  # no ink wrapped round to the bottom


def test_rejects_non_2d_input():
    with pytest.raises(ValueError):
        mnist_like(np.zeros((4, 4, 3)))
