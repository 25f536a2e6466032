"""A hand-drawn digit made to look like an MNIST test image, in numpy.

MNIST's digits were size-normalised to fit a 20x20 box keeping their aspect ratio (with
anti-aliasing, hence the grey edges) and then centred in a 28x28 field by their centre of mass
(LeCun et al., the MNIST page). A model trained on them reads a drawing well only after the same
steps, so the draw panel runs every stroke through `mnist_like` before encoding it.
"""

from __future__ import annotations

import numpy as np

SIDE = 28  # the output is SIDE x SIDE
BOX = 20  # the ink's bounding box is scaled to fit BOX x BOX
INK_THRESHOLD = 0.05  # pixels above this count as ink when finding the bounding box


def area_weights(src: int, dst: int) -> np.ndarray:
    """(dst, src) matrix that resamples a line of `src` pixels to `dst` by area averaging.

    Each output pixel covers src/dst input pixels; its value is the mean of what it covers, with
    partly covered pixels weighted by the covered fraction. Shrinking this way anti-aliases (no
    pixel is skipped) and the total ink, scaled by dst/src, is kept.
    """
    if src < 1 or dst < 1:
        raise ValueError(f"sizes must be positive, got {src} -> {dst}")
    edges = np.arange(dst + 1) * (src / dst)  # output pixel edges in input coordinates
    lo, hi = edges[:-1, None], edges[1:, None]
    left = np.arange(src)[None, :]
    overlap = np.clip(np.minimum(hi, left + 1) - np.maximum(lo, left), 0.0, None)
    return (overlap / (src / dst)).astype(np.float64)


def resize_area(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Anti-aliased resize of a 2-D array (area averaging along each axis)."""
    image = np.asarray(image, dtype=np.float64)
    rows = area_weights(image.shape[0], height)
    cols = area_weights(image.shape[1], width)
    return rows @ image @ cols.T


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass, in pixel-index coordinates."""
    image = np.asarray(image, dtype=np.float64)
    total = image.sum()
    if total <= 0:
        raise ValueError("an image without ink has no centre of mass")
    rows = np.arange(image.shape[0]) @ image.sum(axis=1) / total
    cols = np.arange(image.shape[1]) @ image.sum(axis=0) / total
    return float(rows), float(cols)


def ink_bounds(image: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the pixels above `threshold`, bottom and right exclusive."""
    mask = np.asarray(image) > threshold
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError("the image has no ink")
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def mnist_like(canvas: np.ndarray, threshold: float = INK_THRESHOLD) -> np.ndarray | None:
    """A drawing (2-D, ink in [0, 1], any size) as a 28x28 float32 MNIST-style image, or None.

    Crop to the ink, scale the longer side to 20 pixels (anti-aliased), paste into 28x28 and shift
    by whole pixels so the centre of mass lands at the field's centre (13.5, 13.5), as MNIST did.
    None when there is no ink to place.
    """
    canvas = np.clip(np.asarray(canvas, dtype=np.float64), 0.0, 1.0)
    if canvas.ndim != 2:
        raise ValueError(f"expected a 2-D drawing, got shape {canvas.shape}")
    try:
        top, bottom, left, right = ink_bounds(canvas, threshold)
    except ValueError:
        return None
    crop = canvas[top:bottom, left:right]
    h, w = crop.shape
    scale = BOX / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = np.clip(resize_area(crop, new_h, new_w), 0.0, 1.0)
    out = np.zeros((SIDE, SIDE), np.float64)
    y0, x0 = (SIDE - new_h) // 2, (SIDE - new_w) // 2
    out[y0 : y0 + new_h, x0 : x0 + new_w] = small
    cy, cx = centre_of_mass(out)
    centre = (SIDE - 1) / 2
    dy, dx = round(centre - cy), round(centre - cx)
    # Keep the ink inside the field: the box is 20 wide, so a shift of up to 4 always fits.
    dy = int(np.clip(dy, -y0, SIDE - (y0 + new_h)))
    dx = int(np.clip(dx, -x0, SIDE - (x0 + new_w)))
    out = np.roll(out, (dy, dx), axis=(0, 1))
    return np.ascontiguousarray(out, dtype=np.float32)
