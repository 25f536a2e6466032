"""How a foreign network lays out its images and scales its pixels, and the conversions both ways.

The explorer speaks float32 (N, H, W, C) in [0, 1]. A user's decoder may give (N, C, H, W)
(PyTorch), (N, H, W, C) (TensorFlow / JAX), (N, H, W) (grey) or (N, H*W*C) (an MLP); in [0, 1],
in [-1, 1] (tanh) or as logits. The layout is read from an array the network actually produced
(a probe decode), so dynamic shapes in a graph's signature do not matter, and every guess can be
overridden because some shapes are ambiguous (3 x 3 x 3, or a flat 768 that is 16 x 16 x 3 or
a 48 x 16 grey strip).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from latentlab.core.explore.latent_model import ImageSpec

LAYOUTS = ("nchw", "nhwc", "nhw", "flat")
OUTPUT_RANGES = ("0,1", "-1,1", "logits")


class LayoutError(ValueError):
    """A shape that is not an image in any layout latentlab knows, or one it cannot tell."""


@dataclass(frozen=True)
class ImageLayout:
    """An image tensor's layout and the image it holds."""

    layout: str  # one of LAYOUTS
    spec: ImageSpec

    def describe(self) -> str:
        h, w, c = self.spec.shape
        shape = {
            "nchw": f"(N, {c}, {h}, {w})",
            "nhwc": f"(N, {h}, {w}, {c})",
            "nhw": f"(N, {h}, {w})",
            "flat": f"(N, {h * w * c})",
        }[self.layout]
        colour = "RGB" if c == 3 else "grey"
        return f"{shape} {self.layout.upper()}, {h} x {w} {colour}"

    def to_explorer(self, array: np.ndarray) -> np.ndarray:
        """(N, H, W, C) from this layout (a view where possible)."""
        n = len(array)
        h, w, c = self.spec.shape
        if self.layout == "nchw":
            return array.reshape(n, c, h, w).transpose(0, 2, 3, 1)
        return array.reshape(n, h, w, c)  # nhwc, nhw and flat are all row-major H, W, C

    def from_explorer(self, images: np.ndarray) -> np.ndarray:
        """This layout's tensor for images (N, H, W, C), contiguous float32."""
        images = np.asarray(images, dtype=np.float32)
        n = len(images)
        if self.layout == "nchw":
            return np.ascontiguousarray(images.transpose(0, 3, 1, 2))
        if self.layout == "nhw":
            return np.ascontiguousarray(images.reshape(n, *self.spec.shape[:2]))
        if self.layout == "flat":
            return np.ascontiguousarray(images.reshape(n, -1))
        return np.ascontiguousarray(images)


def parse_image_shape(text: str) -> ImageSpec:
    """``H,W`` or ``H,W,C`` (the ``--image-shape`` flag)."""
    try:
        parts = [int(p) for p in text.replace("x", ",").split(",") if p.strip()]
        return ImageSpec(*parts)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise LayoutError(
            f"--image-shape must be H,W or H,W,C with C 1 or 3, not {text!r}"
        ) from None


def infer_layout(
    shape: tuple[int, ...], *, layout: str | None = None, spec: ImageSpec | None = None
) -> ImageLayout:
    """The layout of an image batch of ``shape`` (batch axis first).

    ``layout`` and ``spec`` are the user's overrides; without them the shape must say which it is.
    """
    dims = tuple(int(s) for s in shape[1:])
    if layout is not None and layout not in LAYOUTS:
        raise LayoutError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    found = _candidates(dims, spec)
    if layout is not None:
        found = [c for c in found if c.layout == layout]
    if spec is not None:
        found = [c for c in found if c.spec == spec]
    if len(found) == 1:
        return found[0]
    shown = "(N, " + ", ".join(str(d) for d in dims) + ")"
    if not found:
        wanted = f" as {layout.upper()}" if layout else ""
        wanted += f" holding {spec.height} x {spec.width} x {spec.channels}" if spec else ""
        raise LayoutError(
            f"output {shown} is not an image batch{wanted} (expected (N, C, H, W), "
            "(N, H, W, C), (N, H, W) or flat (N, H*W*C) with C 1 or 3)"
        )
    options = "; ".join(c.describe() for c in found)
    raise LayoutError(
        f"output {shown} could be read several ways ({options}); say which with --layout "
        "and/or --image-shape"
    )


def _candidates(dims: tuple[int, ...], spec: ImageSpec | None) -> list[ImageLayout]:
    found = []
    if len(dims) == 3:
        a, b, c = dims
        if a in (1, 3):
            found.append(ImageLayout("nchw", ImageSpec(b, c, a)))
        if c in (1, 3):
            found.append(ImageLayout("nhwc", ImageSpec(a, b, c)))
    elif len(dims) == 2:
        found.append(ImageLayout("nhw", ImageSpec(dims[0], dims[1], 1)))
    elif len(dims) == 1 and dims[0] > 0:
        values = dims[0]
        if spec is not None:
            if spec.values == values:
                found.append(ImageLayout("flat", spec))
        else:
            for channels in (1, 3):
                side = math.isqrt(values // channels)
                if values % channels == 0 and side * side * channels == values:
                    found.append(ImageLayout("flat", ImageSpec(side, side, channels)))
    return [c for c in found if min(c.spec.height, c.spec.width) >= 1]


def to_unit_range(array: np.ndarray, output_range: str) -> np.ndarray:
    """Pixels in [0, 1] from a network's output scale (clipped: a decoder may overshoot)."""
    array = np.asarray(array, dtype=np.float32)
    if output_range == "-1,1":
        array = (array + 1.0) * 0.5
    elif output_range == "logits":
        array = 0.5 * (np.tanh(0.5 * array) + 1.0)  # the logistic function, without overflow
    elif output_range != "0,1":
        raise LayoutError(f"unknown output range {output_range!r}; use {', '.join(OUTPUT_RANGES)}")
    return np.clip(array, 0.0, 1.0, out=array if array.flags.writeable else None)


def range_problem(raw: np.ndarray, output_range: str) -> str | None:
    """Why raw decoder output does not look like ``output_range`` (None when it does)."""
    if not np.isfinite(raw).all():
        return "the decoder gave NaN or infinite pixels"
    low, high = float(raw.min()), float(raw.max())
    if output_range == "0,1" and (low < -0.05 or high > 1.05):
        hint = "--output-range -1,1" if low >= -1.05 and high <= 1.05 else "--output logits"
        return (
            f"decoded pixels span {low:.3g}..{high:.3g}, not 0..1; if that is expected, pass {hint}"
        )
    if output_range == "-1,1" and (low < -1.05 or high > 1.05):
        return f"decoded pixels span {low:.3g}..{high:.3g}, not -1..1; try --output logits"
    return None


def condition_vectors(classes: int | np.ndarray, count: int) -> np.ndarray:
    """One-hot float32 rows for class index (or indices), as conditional decoders read them."""
    return np.eye(count, dtype=np.float32)[classes]


def softmax_rows(values: np.ndarray) -> np.ndarray:
    """Probabilities from a classifier's output: kept if rows already are, else a softmax."""
    values = np.asarray(values, dtype=np.float64)
    if (values >= 0).all() and np.allclose(values.sum(axis=1), 1.0, atol=1e-3):
        return values.astype(np.float32)
    values = values - values.max(axis=1, keepdims=True)
    e = np.exp(values)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
