"""Decoded digits as pictures: ink on paper, tiled into strips and grids, written as PNG or GIF.

Exports look like the app's live image (dark ink on white paper, the same grey ramp as
`latentlab.gui.image_view`), so a GIF written from the command line matches one exported from the
window. Pillow is imported only when a file is written.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from latentlab.core.vae.checkpoint import write_atomic

PAPER, INK = 255, 16  # grey levels of 0 (no ink) and 1 (full ink)
GAP_GREY = 200  # the thin lines between tiles


def ink_uint8(images: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] (any shape) -> uint8 grey levels, dark ink on light paper."""
    x = np.clip(np.asarray(images, dtype=np.float32), 0.0, 1.0)
    levels = np.round(x * 255).astype(np.uint8)  # the same 256-step ramp as the live view
    ramp = np.linspace(PAPER, INK, 256).round().astype(np.uint8)
    return ramp[levels]


def tile(images: np.ndarray, pad: int = 2, scale: int = 1) -> np.ndarray:
    """(rows, cols, h, w) floats in [0, 1] -> one uint8 picture with `pad`-pixel gaps, scaled up."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"expected (rows, cols, h, w) images, got shape {images.shape}")
    rows, cols, h, w = images.shape
    ink = ink_uint8(images)
    canvas = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), GAP_GREY, np.uint8)
    for r in range(rows):
        for c in range(cols):
            y, x = pad + r * (h + pad), pad + c * (w + pad)
            canvas[y : y + h, x : x + w] = ink[r, c]
    return upscale(canvas, scale)


def upscale(picture: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement: each pixel becomes a crisp `scale` x `scale` block."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    return np.ascontiguousarray(picture.repeat(scale, axis=0).repeat(scale, axis=1))


def png_bytes(picture: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(picture, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def gif_bytes(frames: Sequence[np.ndarray], frame_ms: int, loop: bool = True) -> bytes:
    """An animated GIF of uint8 grey pictures, each shown `frame_ms` milliseconds."""
    from PIL import Image

    if not frames:
        raise ValueError("a GIF needs at least one frame")
    images = [Image.fromarray(np.ascontiguousarray(f, dtype=np.uint8)) for f in frames]
    buffer = io.BytesIO()
    options = {"loop": 0} if loop else {}
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=int(frame_ms),
        optimize=False,
        **options,
    )
    return buffer.getvalue()


def save_png(picture: np.ndarray, path: str | Path) -> None:
    write_atomic(Path(path), png_bytes(picture))


def save_gif(frames: Sequence[np.ndarray], path: str | Path, frame_ms: int = 100) -> None:
    write_atomic(Path(path), gif_bytes(frames, frame_ms))
