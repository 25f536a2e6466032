"""Decoded images as pictures: ink on paper (grey) or colour, tiled, written as PNG or GIF.

Exports look like the app's live image: a grey model's images are dark ink on white paper (the
same ramp as `latentlab.gui.image_view`), a colour model's keep their colours; every enlargement
is by whole pixels (nearest neighbour), so a GIF written from the command line matches one
exported from the window. Pillow is imported only when a file is written.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from latentlab.core.atomic import write_atomic

PAPER, INK = 255, 16  # grey levels of 0 (no ink) and 1 (full ink)
GAP_GREY = 200  # the thin lines between tiles
# GIF stores frame times in hundredths of a second, and viewers show anything under 20 ms at 100
MIN_FRAME_MS, MAX_FRAME_MS = 20, 60_000
INK_RAMP = np.linspace(PAPER, INK, 256).round().astype(np.uint8)  # value level -> grey


def ink_uint8(images: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] (any shape) -> uint8 grey levels, dark ink on light paper."""
    x = np.clip(np.asarray(images, dtype=np.float32), 0.0, 1.0)
    return INK_RAMP[np.round(x * 255).astype(np.uint8)]


def colour_uint8(images: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] (..., 3) -> uint8 RGB."""
    x = np.clip(np.asarray(images, dtype=np.float32), 0.0, 1.0)
    return np.round(x * 255).astype(np.uint8)


def picture_uint8(images: np.ndarray) -> np.ndarray:
    """Images (..., H, W, C) or (..., H, W) in [0, 1] as shown: grey (..., H, W) or RGB (..., 3)."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim >= 3 and images.shape[-1] == 3:
        return colour_uint8(images)
    if images.ndim >= 3 and images.shape[-1] == 1:
        images = images[..., 0]
    return ink_uint8(images)


def tile(images: np.ndarray, pad: int = 2, scale: int = 1) -> np.ndarray:
    """(rows, cols, h, w[, c]) floats in [0, 1] -> one uint8 picture with gaps, scaled up."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 5 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (4, 5) or (images.ndim == 5 and images.shape[-1] != 3):
        raise ValueError(f"expected (rows, cols, h, w[, 1 or 3]) images, got {images.shape}")
    rows, cols, h, w = images.shape[:4]
    ink = picture_uint8(images)
    canvas = np.full(
        (rows * (h + pad) + pad, cols * (w + pad) + pad, *ink.shape[4:]), GAP_GREY, np.uint8
    )
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
    """An animated GIF of uint8 grey or RGB pictures, each shown `frame_ms` milliseconds."""
    from PIL import Image

    if not frames:
        raise ValueError("a GIF needs at least one frame")
    if not MIN_FRAME_MS <= frame_ms <= MAX_FRAME_MS:
        raise ValueError(f"a GIF frame lasts {MIN_FRAME_MS}..{MAX_FRAME_MS} ms, got {frame_ms}")
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
