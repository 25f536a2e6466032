"""Sample grids: rows of random styles, one column per class (or free samples).

Pictures come from `latentlab.core.explore.imaging`, so a grid written from the command line looks
like the app: dark ink on white paper for grey models, colour for RGB ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .imaging import save_png, tile
from .latent_model import LatentModel

COLUMNS_PLAIN = 10  # a model without classes: 10 free samples per row
MAX_ROWS = 100


def sample_grid(
    model: LatentModel, rows: int, seed: int = 0, class_index: int | None = None
) -> np.ndarray:
    """float32 (rows, columns, H, W, C) in [0, 1]; for a cVAE column c is of class c.

    Styles come from the model's `sample_latents(count, class_index, rng)` where it has one (a
    class density: every column's styles are drawn from its own class), else from the prior
    N(0, I) (row r is then one style for every class). With `class_index` (a conditional model
    only), every image is of that one class: rows of COLUMNS_PLAIN free styles.
    """
    if not 1 <= rows <= MAX_ROWS:
        raise ValueError(f"rows must be in 1..{MAX_ROWS}, got {rows}")
    rng = np.random.default_rng(seed)
    d = model.latent_dim
    draw = getattr(model, "sample_latents", None)

    def styles(count: int, k: int | None) -> np.ndarray:
        if draw is not None:
            return np.asarray(draw(count, k, rng), np.float32)
        return rng.standard_normal((count, d)).astype(np.float32)

    if class_index is not None:
        if not model.conditional:
            raise ValueError("only a conditional model decodes a chosen class")
        z = styles(rows * COLUMNS_PLAIN, class_index)
        one = np.asarray(model.condition(class_index), np.float32)
        condition = np.broadcast_to(one, (len(z), one.shape[-1]))
        return model.decode(z, condition).reshape(rows, COLUMNS_PLAIN, *model.image_spec.shape)
    if model.conditional:
        c = len(model.class_names)
        if draw is not None:
            z = np.stack([styles(rows, k) for k in range(c)], axis=1)  # (rows, c, d)
        else:
            z = rng.standard_normal((rows, 1, d)).astype(np.float32).repeat(c, axis=1)
        classes = np.broadcast_to(model.condition(np.arange(c)), (rows, c, c))
        images = model.decode(z.reshape(-1, d), classes.reshape(-1, c))
        return images.reshape(rows, c, *model.image_spec.shape)
    z = styles(rows * COLUMNS_PLAIN, None)
    return model.decode(z).reshape(rows, COLUMNS_PLAIN, *model.image_spec.shape)


def grid_picture(grid: np.ndarray, scale: int = 2, pad: int = 2) -> np.ndarray:
    """The grid as one uint8 picture, tiled with light gaps and scaled by whole pixels."""
    return tile(grid, pad=pad, scale=scale)


def save_grid_png(grid: np.ndarray, path: str | Path, scale: int = 2) -> None:
    save_png(grid_picture(grid, scale=scale), path)
