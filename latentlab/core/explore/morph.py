"""Morphs: decoded frames along a path from one latent point to another.

A path runs from end A to end B in `steps` frames, both ends included. The style z moves by
linear or spherical interpolation (slerp, as White 2016 "Sampling Generative Networks" suggests
for Gaussian latents: it keeps the path's norm typical of the prior instead of cutting through
the low-norm middle). For a conditional model the class input moves too, linearly from A's
one-hot vector to B's, so a 3 turns into an 8 in the middle frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .imaging import save_gif, save_png, tile, upscale
from .latent_model import LatentModel
from .points import EncodedPoints

KINDS = ("linear", "slerp")
MIN_STEPS, MAX_STEPS = 2, 200
PARALLEL_EPS = 1e-6  # below this sin(angle), slerp falls back to a straight line


@dataclass(frozen=True)
class MorphEnd:
    """One end of a morph: a style and (conditional models) the class it is decoded as."""

    z: np.ndarray  # (latent_dim,) float32
    digit: int | None  # class index; None for a plain model
    label: str  # how the window and the CLI name it, e.g. "test #12 (3)"


@dataclass(frozen=True)
class Morph:
    """A decoded path: the latents, class inputs and images of every frame."""

    z: np.ndarray  # (steps, latent_dim)
    class_probs: np.ndarray | None  # (steps, num_classes), None for a plain model
    frames: np.ndarray  # (steps, H, W, C) float32 in [0, 1]
    kind: str

    def __len__(self) -> int:
        return len(self.frames)


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points (len(t), d) on the straight line from a (t=0) to b (t=1)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64)[:, None]
    return (1 - t) * a + t * b


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation from a to b (t in [0, 1]); the magnitude moves linearly too.

    Degenerate pairs (a zero end, parallel or opposite directions) have no unique great circle,
    so they fall back to the straight line.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return lerp(a, b, t)
    cos = float(np.clip(a @ b / (na * nb), -1.0, 1.0))
    omega = np.arccos(cos)
    sin = np.sin(omega)
    if sin < PARALLEL_EPS:
        return lerp(a, b, t)
    wa = np.sin((1 - t) * omega) / sin
    wb = np.sin(t * omega) / sin
    return wa[:, None] * a + wb[:, None] * b


def path(a: np.ndarray, b: np.ndarray, steps: int, kind: str = "linear") -> np.ndarray:
    """(steps, d) float32 latents from a to b, both ends included."""
    if kind not in KINDS:
        raise ValueError(f"interpolation must be one of {', '.join(KINDS)}, not {kind!r}")
    if not MIN_STEPS <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be in {MIN_STEPS}..{MAX_STEPS}, got {steps}")
    t = np.linspace(0.0, 1.0, steps)
    points = slerp(a, b, t) if kind == "slerp" else lerp(a, b, t)
    return points.astype(np.float32)


def morph(model: LatentModel, a: MorphEnd, b: MorphEnd, steps: int, kind: str = "linear") -> Morph:
    """Decode `steps` frames from A to B (the class input interpolated linearly for a cVAE)."""
    z = path(a.z, b.z, steps, kind)
    probs = None
    if model.conditional:
        if a.digit is None or b.digit is None:
            raise ValueError("a conditional model needs a class at both ends of the morph")
        t = np.linspace(0.0, 1.0, steps)
        probs = lerp(model.condition(a.digit), model.condition(b.digit), t).astype(np.float32)
    frames = model.decode(z, probs)
    return Morph(z=z, class_probs=probs, frames=np.ascontiguousarray(frames), kind=kind)


def end_at_point(model: LatentModel, points: EncodedPoints | None, index: int) -> MorphEnd:
    """Encoded point `index` as a morph end: its latent mean and the class the model reads in it."""
    if points is None or len(points) == 0:
        raise ValueError("the model has no encoded points")
    if not 0 <= index < len(points):
        raise IndexError(f"point {index} is outside 0..{len(points) - 1}")
    z = points.mu[index].astype(np.float32).copy()
    if model.conditional:
        digit = int(points.predicted[index])
        return MorphEnd(z, digit, f"test #{index} ({model.class_names[digit]})")
    return MorphEnd(z, None, f"test #{index}")


# --- pictures ------------------------------------------------------------------------------


def strip_picture(frames: np.ndarray, scale: int = 3, pad: int = 2) -> np.ndarray:
    """The frames (steps, H, W[, C]) side by side in one row, as a uint8 picture."""
    return tile(np.asarray(frames)[None], pad=pad, scale=scale)


def gif_frames(frames: np.ndarray, scale: int = 4) -> list[np.ndarray]:
    """Each frame as its own uint8 picture, scaled up with crisp pixels."""
    return [upscale(strip_picture(f[None], scale=1, pad=0), scale) for f in frames]


def save_morph(
    frames: np.ndarray, out: str | Path, *, frame_ms: int = 100, scale: int | None = None
) -> str:
    """Write a GIF (one frame per step) or a PNG strip, chosen by the suffix; returns the kind."""
    suffix = Path(out).suffix.lower()
    if suffix == ".gif":
        save_gif(gif_frames(frames, scale or 4), out, frame_ms=frame_ms)
        return "gif"
    if suffix == ".png":
        save_png(strip_picture(frames, scale=scale or 3), out)
        return "png"
    raise ValueError(f"{out}: the output must end in .gif or .png")
