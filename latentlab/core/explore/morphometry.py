"""Measured shape of handwritten strokes, after Morpho-MNIST (Castro et al., 2019).

For each image (grey, or the mean of its channels), with ink = pixels above half the image's
top intensity: area (ink pixels), width and height (the ink's bounding box, in pixels), slant
(the shear of the ink's second moments, m11 / m02, as an angle in degrees: positive leans
right) and thickness (twice the mean distance from the skeleton to the background, less the
skeleton's own pixel: the stroke's width in pixels, 3 for a bar 3 pixels wide). Morpho-MNIST upsamples 4x before measuring; at the image's own
resolution the values are a little coarser but rank images the same way.

`measure_job` measures in chunks, a cancel point after each; scikit-image and scipy are imported
there (not on the start-up path).
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from ..jobs import Cancel, Progress, check_cancelled

ATTRIBUTES = ("thickness", "slant", "width", "height", "area")
UNITS = {
    "thickness": "px",
    "slant": "degrees",
    "width": "px",
    "height": "px",
    "area": "px",
}
CHUNK = 500


def measure_job(
    images: np.ndarray, cancel: Cancel = None
) -> Generator[Progress, None, dict[str, np.ndarray]]:
    """{attribute: (N,) float32} for images (N, H, W[, C]) (uint8 or floats in [0, 1])."""
    from scipy.ndimage import distance_transform_edt
    from skimage.morphology import skeletonize

    images = np.asarray(images)
    n = len(images)
    out = {name: np.zeros(n, np.float32) for name in ATTRIBUTES}
    for start in range(0, n, CHUNK):
        check_cancelled(cancel)
        yield Progress(start, n, "measuring strokes")
        for i in range(start, min(n, start + CHUNK)):
            values = measure_one(images[i], skeletonize, distance_transform_edt)
            for name, value in values.items():
                out[name][i] = value
    yield Progress(n, n, "measuring strokes")
    return out


def measure(images: np.ndarray) -> dict[str, np.ndarray]:
    """`measure_job` run to its end."""
    job = measure_job(images)
    while True:
        try:
            next(job)
        except StopIteration as end:
            return end.value


def ink(image: np.ndarray) -> np.ndarray:
    """Boolean ink mask of one image (H, W[, C])."""
    grey = np.asarray(image, np.float32)
    if grey.ndim == 3:
        grey = grey.mean(axis=2)
    top = float(grey.max())
    return grey > 0.5 * top if top > 0 else np.zeros(grey.shape, bool)


def measure_one(image: np.ndarray, skeletonize, distance_transform_edt) -> dict[str, float]:
    mask = ink(image)
    area = int(mask.sum())
    if area == 0:
        return dict.fromkeys(ATTRIBUTES, 0.0)
    rows, cols = np.nonzero(mask)
    height = float(rows.max() - rows.min() + 1)
    width = float(cols.max() - cols.min() + 1)
    # Shear: x (columns) against y (rows, up is smaller row index), about the centroid.
    y = -(rows - rows.mean())
    x = cols - cols.mean()
    m02 = float((y * y).sum())
    m11 = float((x * y).sum())
    slant = float(np.degrees(np.arctan(m11 / m02))) if m02 > 0 else 0.0
    skeleton = skeletonize(mask)
    distance = distance_transform_edt(mask)
    along = distance[skeleton]
    thickness = float(2 * along.mean() - 1) if along.size else 0.0
    return {
        "thickness": thickness,
        "slant": slant,
        "width": width,
        "height": height,
        "area": float(area),
    }
