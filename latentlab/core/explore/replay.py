"""How a latent space formed: snapshots of one fixed point set over training, on a stable 2-D view.

Each snapshot is the same N points' latent means at one step. A `Replay` turns them into 2-D
frames that do not flip or spin from one to the next: in "aligned" mode each snapshot is shown
on its own two principal axes, rotated (or reflected) onto the previous frame by orthogonal
Procrustes, with distances kept as they are; in "fixed" mode every snapshot is projected on
the principal axes of the first. Between two frames the points move linearly (`at`), for smooth
animation; `gif_frames` renders the whole replay for a GIF, and a replay is saved as a
compressed .npz (no pickles; `load_replay` validates everything it reads). No Qt, no model code.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latentlab.core.atomic import write_atomic
from latentlab.core.errors import LatentlabError
from latentlab.core.safe_read import FileRefused, describe_size, open_regular, read_exact

MODES = ("aligned", "fixed")
FORMAT_VERSION = 1
MAX_FILE_BYTES = 1 << 30  # a replay of 2,000 points is a few MiB; anything past 1 GiB is not one
MAX_UNPACKED_BYTES = 4 << 30  # what its arrays may unpack to: a small file must not fill memory
REPLAY_SUFFIX = ".replay.npz"
WEIGHT_PREFIX = "weights/"
# Matplotlib's tab10 (the scatter's class colours), as RGB for pictures drawn without Qt.
CLASS_RGB = np.array(
    [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    ],
    np.uint8,
)  # fmt: skip
UNLABELLED_RGB = (60, 60, 60)


class ReplayFileError(LatentlabError):
    """A replay file cannot be read or is not a latentlab replay."""


def principal_axes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean (d,) and the two leading principal directions (d, 2) of the rows of `x`.

    With d = 1 the second axis is zero (the cloud is drawn on a line).
    """
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    axes = np.zeros((x.shape[1], 2))
    k = min(2, vt.shape[0])
    axes[:, :k] = vt[:k].T
    return mean, axes


def procrustes_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The orthogonal (k, k) R minimising ||a R - b|| (Schönemann 1966); a, b (N, k) centred."""
    u, _, vt = np.linalg.svd(np.asarray(a, np.float64).T @ np.asarray(b, np.float64))
    return u @ vt


@dataclass
class Replay:
    """Snapshots of one point set (same points, same order) and their 2-D frames."""

    labels: np.ndarray | None = None  # (N,) class of each point, or None
    indices: np.ndarray | None = None  # (N,) which test images the points are
    mode: str = "aligned"
    meta: dict[str, Any] = field(default_factory=dict)  # JSON-able: what trained (saved along)
    weights: dict[str, np.ndarray] = field(default_factory=dict)  # latest decoder, if kept
    steps: list[int] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    means: list[np.ndarray] = field(default_factory=list)  # (N, d) float32 per snapshot
    _frames: list[np.ndarray] = field(default_factory=list, repr=False)
    _fixed: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _lo: np.ndarray | None = field(default=None, repr=False)  # running bounds of all frames
    _hi: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"replay mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        given = list(zip(self.steps, self.epochs, self.means, strict=True))
        self.steps, self.epochs, self.means, self._frames = [], [], [], []
        self._lo = self._hi = None
        for step, epoch, means in given:
            self.add(step, epoch, means)

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def point_count(self) -> int:
        return 0 if not self.means else len(self.means[0])

    def add(self, step: int, epoch: int, means: np.ndarray) -> np.ndarray:
        """Append a snapshot; returns its (N, 2) frame, aligned to the one before."""
        means = np.asarray(means, np.float32)
        if means.ndim != 2 or means.shape[0] < 1 or means.shape[1] < 1:
            raise ValueError(f"snapshot means must be (N, d), got {means.shape}")
        if self.means and means.shape != self.means[0].shape:
            raise ValueError(f"a snapshot of {means.shape} in a replay of {self.means[0].shape}")
        if self.labels is not None and len(self.labels) != len(means):
            raise ValueError(f"{len(means)} points but {len(self.labels)} labels")
        clean = np.nan_to_num(means.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        frame = self._frame(clean)
        self.steps.append(int(step))
        self.epochs.append(int(epoch))
        self.means.append(means)
        self._frames.append(frame)
        lo, hi = frame.min(axis=0), frame.max(axis=0)
        self._lo = lo if self._lo is None else np.minimum(self._lo, lo)
        self._hi = hi if self._hi is None else np.maximum(self._hi, hi)
        return frame

    @property
    def plane(self) -> bool:
        """Whether the latents are 2-D: then the frames are the latent plane itself (z1, z2),
        as the explorer's scatter shows it, not principal axes that may mirror it."""
        return bool(self.means) and self.means[0].shape[1] == 2

    def _frame(self, x: np.ndarray) -> np.ndarray:
        if x.shape[1] == 2:
            return x.astype(np.float32)
        if self.mode == "fixed":
            if self._fixed is None:
                self._fixed = principal_axes(x)
            mean, axes = self._fixed
            return ((x - mean) @ axes).astype(np.float32)
        mean, axes = principal_axes(x)
        y = (x - mean) @ axes
        if self._frames:
            previous = self._frames[-1].astype(np.float64)
            y = y @ procrustes_rotation(y, previous - previous.mean(axis=0))
        return y.astype(np.float32)

    def frame(self, i: int) -> np.ndarray:
        """The (N, 2) coordinates of snapshot `i` (negative counts from the end)."""
        return self._frames[i]

    def at(self, t: float) -> np.ndarray:
        """Coordinates at fractional frame `t` in [0, len - 1]: linear between two frames."""
        if not self._frames:
            raise IndexError("the replay has no frames yet")
        t = float(np.clip(t, 0, len(self) - 1))
        i = min(int(np.floor(t)), len(self) - 1)
        f = t - i
        if f == 0 or i + 1 >= len(self):
            return self._frames[i]
        return ((1 - f) * self._frames[i] + f * self._frames[i + 1]).astype(np.float32)

    def bounds(self, margin: float = 0.05) -> tuple[float, float, float, float]:
        """(x0, x1, y0, y1) that hold every frame, with a `margin` share around it."""
        if self._lo is None or self._hi is None:
            return (-1.0, 1.0, -1.0, 1.0)
        lo, hi = self._lo.astype(np.float64), self._hi.astype(np.float64)
        pad = np.maximum((hi - lo) * margin, 1e-6)
        return (
            float(lo[0] - pad[0]),
            float(hi[0] + pad[0]),
            float(lo[1] - pad[1]),
            float(hi[1] + pad[1]),
        )

    def caption(self, i: int) -> str:
        return f"step {self.steps[i]:,} / epoch {self.epochs[i]}"


# --- pictures ------------------------------------------------------------------------------------


def render_frame(
    coords: np.ndarray,
    labels: np.ndarray | None,
    bounds: tuple[float, float, float, float],
    *,
    size: int = 320,
    dot: int = 3,
    caption: str = "",
) -> np.ndarray:
    """The points as an RGB picture (size, size, 3) uint8: class colours on white, fixed axes."""
    x0, x1, y0, y1 = bounds
    canvas = np.full((size, size, 3), 255, np.uint8)
    inner = size - dot
    px = np.round((coords[:, 0] - x0) / max(x1 - x0, 1e-12) * inner).astype(np.int64)
    py = np.round((y1 - coords[:, 1]) / max(y1 - y0, 1e-12) * inner).astype(np.int64)
    ok = (px >= 0) & (px <= inner) & (py >= 0) & (py <= inner)
    if labels is None:
        colours = np.broadcast_to(np.array(UNLABELLED_RGB, np.uint8), (len(coords), 3))
    else:
        colours = CLASS_RGB[np.asarray(labels, np.int64) % len(CLASS_RGB)]
    px, py, colours = px[ok], py[ok], colours[ok]
    for dy in range(dot):
        for dx in range(dot):
            canvas[py + dy, px + dx] = colours
    if caption:
        from PIL import Image, ImageDraw

        picture = Image.fromarray(canvas)
        ImageDraw.Draw(picture).text((6, 4), caption, fill=(0, 0, 0))
        canvas = np.asarray(picture, np.uint8)
    return canvas


def gif_frames(replay: Replay, between: int = 3, size: int = 320) -> list[np.ndarray]:
    """Every snapshot and `between` interpolated frames after each (but the last), rendered.

    The axes are the same in every frame (the bounds of the whole replay), so the cloud's growth
    shows; `len(result) == len(replay) + (len(replay) - 1) * between`.
    """
    if len(replay) == 0:
        raise ValueError("there is nothing to replay yet: no snapshots")
    if between < 0:
        raise ValueError(f"between must be >= 0, got {between}")
    bounds = replay.bounds()
    out = []
    for i in range(len(replay)):
        parts = 1 if i == len(replay) - 1 else between + 1
        for k in range(parts):
            t = i + k / (between + 1)
            shown = i if k == 0 else i + 1 if k > (between + 1) / 2 else i
            out.append(
                render_frame(
                    replay.at(t), replay.labels, bounds, size=size, caption=replay.caption(shown)
                )
            )
    return out


def save_replay_gif(
    replay: Replay, path: str | Path, frame_ms: int = 80, between: int = 3, size: int = 320
) -> int:
    """Write the replay as an animated GIF (atomically); returns the number of frames."""
    from latentlab.core.explore.imaging import save_gif

    frames = gif_frames(replay, between, size)
    save_gif(frames, path, frame_ms)
    return len(frames)


# --- files ---------------------------------------------------------------------------------------


def replay_path_for(model_path: str | Path) -> Path:
    """Where a model's replay is kept: beside it, `name.replay.npz`."""
    p = Path(model_path)
    return p.with_name(p.stem + REPLAY_SUFFIX)


def save_replay(replay: Replay, path: str | Path) -> Path:
    """Write `replay` as a compressed .npz of plain arrays (atomically); returns the path."""
    if len(replay) == 0:
        raise ValueError("there is nothing to save: the replay has no snapshots")
    arrays: dict[str, np.ndarray] = {
        "format_version": np.array(FORMAT_VERSION, np.int64),
        "mode": np.array(replay.mode),
        "meta": np.array(json.dumps(replay.meta)),
        "steps": np.array(replay.steps, np.int64),
        "epochs": np.array(replay.epochs, np.int64),
        "means": np.stack(replay.means).astype(np.float32),
    }
    if replay.labels is not None:
        arrays["labels"] = np.asarray(replay.labels, np.int64)
    if replay.indices is not None:
        arrays["indices"] = np.asarray(replay.indices, np.int64)
    for name, value in replay.weights.items():
        arrays[WEIGHT_PREFIX + name] = np.asarray(value, np.float32)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    target = Path(path)
    write_atomic(target, buffer.getvalue())
    return target


def load_replay(path: str | Path) -> Replay:
    """Read a replay written by `save_replay`; `ReplayFileError` (one line) if it is not one."""
    shown = str(path)
    try:
        with open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise FileRefused(
                    f"is {describe_size(size)}, more than any replay ({describe_size(MAX_FILE_BYTES)})"
                )
            data = read_exact(f, size)
    except FileRefused as exc:
        raise ReplayFileError(f"{shown}: {exc.problem}") from None
    except OSError as exc:
        raise ReplayFileError(f"{shown}: cannot be read: {exc.strerror or exc}") from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ReplayFileError(
            f"{shown}: not a latentlab replay (not a .npz archive): {exc}"
        ) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ReplayFileError(
            f"{shown}: its arrays would unpack to {describe_size(unpacked)}, more than any replay "
            f"({describe_size(MAX_UNPACKED_BYTES)}); not a latentlab replay"
        )
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ReplayFileError(
            f"{shown}: not a latentlab replay (.npz of plain arrays): {first}"
        ) from None
    try:
        return _replay_from(arrays)
    except (ValueError, TypeError, KeyError) as exc:
        raise ReplayFileError(f"{shown}: not a valid latentlab replay: {exc}") from None


def _replay_from(a: dict[str, np.ndarray]) -> Replay:
    for key in ("format_version", "steps", "epochs", "means"):
        if key not in a:
            raise KeyError(f"it has no {key!r} array")
    version = a["format_version"]
    if version.shape != () or version.dtype.kind not in "iu" or int(version) != FORMAT_VERSION:
        raise ValueError(f"format version {version!r} is not {FORMAT_VERSION}")
    means, steps, epochs = a["means"], a["steps"], a["epochs"]
    if means.dtype != np.float32 or means.ndim != 3 or 0 in means.shape:
        raise ValueError(
            f"means must be (snapshots, points, d) float32, got {means.shape} {means.dtype}"
        )
    k, n, _ = means.shape
    for name, arr in (("steps", steps), ("epochs", epochs)):
        if arr.dtype.kind not in "iu" or arr.shape != (k,):
            raise ValueError(f"{name} must be {k} integers, got {arr.shape} {arr.dtype}")
    if np.any(np.diff(steps) < 0) or np.any(steps < 0):
        raise ValueError("steps must be non-negative and never go back")
    labels = _optional_ints(a, "labels", n)
    indices = _optional_ints(a, "indices", n)
    mode = str(_text(a, "mode", "aligned"))
    meta = json.loads(str(_text(a, "meta", "{}")))
    if not isinstance(meta, dict):
        raise ValueError("meta must be a JSON object")
    weights = {}
    for name, arr in a.items():
        if name.startswith(WEIGHT_PREFIX):
            if arr.dtype != np.float32 or not np.isfinite(arr).all():
                raise ValueError(f"weight {name[len(WEIGHT_PREFIX) :]!r} is not finite float32")
            weights[name[len(WEIGHT_PREFIX) :]] = arr
    return Replay(
        labels=labels,
        indices=indices,
        mode=mode,
        meta=meta,
        weights=weights,
        steps=[int(s) for s in steps],
        epochs=[int(e) for e in epochs],
        means=list(means),
    )


def _optional_ints(a: dict[str, np.ndarray], key: str, n: int) -> np.ndarray | None:
    if key not in a:
        return None
    arr = a[key]
    if arr.dtype.kind not in "iu" or arr.shape != (n,) or (n and arr.min() < 0):
        raise ValueError(f"{key} must be {n} non-negative integers, got {arr.shape} {arr.dtype}")
    return arr.astype(np.int64)


def _text(a: dict[str, np.ndarray], key: str, default: str) -> str:
    if key not in a:
        return default
    arr = a[key]
    if arr.shape != () or arr.dtype.kind != "U":
        raise ValueError(f"{key} must be one string")
    return str(arr)


def replay_from_snapshots(snapshots: Sequence[Any], mode: str = "aligned") -> Replay:
    """A replay of objects with `step`, `epoch`, `means` (and the first one's `labels`, `indices`)."""
    if not snapshots:
        return Replay(mode=mode)
    first = snapshots[0]
    replay = Replay(
        labels=getattr(first, "labels", None), indices=getattr(first, "indices", None), mode=mode
    )
    for s in snapshots:
        replay.add(s.step, s.epoch, s.means)
    return replay
