"""The seed's figure: rows of random prior styles, one column per class, as arrays or a PNG."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from latentlab.core.vae.checkpoint import write_atomic
from latentlab.core.vae.numpy_net import NumpyVAE
from latentlab.core.vae.record import ModelRecord

COLUMNS_PLAIN = 10  # a plain model has no classes: 10 free samples per row


def sample_grid(record: ModelRecord, rows: int, seed: int = 0) -> np.ndarray:
    """float32 (rows, columns, 28, 28) in [0, 1]; for a cVAE row r is one style z_r for every class."""
    net = NumpyVAE(record.config, record.weights)
    rng = np.random.default_rng(seed)
    d = record.config.latent_dim
    if record.config.conditional:
        c = record.config.num_classes
        z = rng.standard_normal((rows, 1, d)).astype(np.float32).repeat(c, axis=1)
        classes = np.broadcast_to(net.one_hot(np.arange(c)), (rows, c, c))
        images = net.decode(z, classes)
    else:
        images = net.decode(rng.standard_normal((rows, COLUMNS_PLAIN, d)).astype(np.float32))
    return images.reshape(rows, -1, 28, 28).astype(np.float32)


def grid_to_uint8(grid: np.ndarray, pad: int = 2) -> np.ndarray:
    """Tile (rows, cols, 28, 28) into one image with light gaps, digits white on black."""
    rows, cols, h, w = grid.shape
    canvas = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), 64, dtype=np.uint8)
    for r in range(rows):
        for c in range(cols):
            y, x = pad + r * (h + pad), pad + c * (w + pad)
            canvas[y : y + h, x : x + w] = np.clip(grid[r, c] * 255 + 0.5, 0, 255)
    return canvas


def save_grid_png(grid: np.ndarray, path: Path, scale: int = 2) -> None:
    from PIL import Image

    image = Image.fromarray(grid_to_uint8(grid))
    image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    write_atomic(Path(path), buffer.getvalue())
