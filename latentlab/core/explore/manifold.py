"""The manifold grid: images decoded at a grid of points over the scatter's two axes.

Grid point (x, y) on the current axes (PCA components or two raw dimensions) is decoded at the
latent z that projects to (x, y) and keeps the current point's other coordinates: the off-plane
part of the style, and the current class for a conditional model. So the grid reads like the
scatter it sits on: same axes, same units. With "gaussian" spacing the grid points are the
normal quantiles of evenly spaced probabilities, as in Kingma & Welling's (2014) figure 4, denser
near the centre where the prior puts its mass; "even" spacing is a plain linear grid.

On a nonlinear map (UMAP, t-SNE) there is no "rest of the style" to keep: each grid point is
decoded at the latent the map's inverse gives it (`NonlinearProjection.lift_many`, the same
interpolation a marker drag uses), so the grid shows what the map's neighbourhoods decode to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np

from .imaging import save_png, tile
from .latent_model import LatentModel, decode_batch
from .projection import NonlinearProjection, Projection

SPACINGS = ("even", "gaussian")
MIN_SIZE, MAX_SIZE = 2, 40
MAX_HALF_RANGE = 1000.0  # latent units; a stored |mu| past 1e4 is refused as damaged
_STANDARD_NORMAL = NormalDist()


def norm_ppf(p: np.ndarray) -> np.ndarray:
    """Inverse CDF of N(0, 1), element-wise, for probabilities strictly inside (0, 1)."""
    p = np.asarray(p, dtype=np.float64)
    return np.vectorize(_STANDARD_NORMAL.inv_cdf, otypes=[np.float64])(p)


def grid_coordinates(size: int, half_range: float, spacing: str = "even") -> np.ndarray:
    """`size` ascending coordinates from -half_range to +half_range (both ends included).

    Gaussian spacing takes the quantiles of probabilities spaced evenly between Phi(-r) and
    Phi(r), so the ends are exactly +-r and the points crowd towards 0 (r = 1.645 gives Kingma &
    Welling's 5%..95% grid).
    """
    if spacing not in SPACINGS:
        raise ValueError(f"spacing must be one of {', '.join(SPACINGS)}, not {spacing!r}")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"grid size must be in {MIN_SIZE}..{MAX_SIZE}, got {size}")
    if not 0 < half_range <= MAX_HALF_RANGE:  # NaN and infinity fail this too
        raise ValueError(f"the range must be a number in (0, {MAX_HALF_RANGE:g}], got {half_range}")
    if spacing == "even":
        return np.linspace(-half_range, half_range, size)
    tail = _STANDARD_NORMAL.cdf(-half_range)
    if tail <= 0:
        raise ValueError(f"the range {half_range} is too wide for gaussian spacing")
    coords = norm_ppf(np.linspace(tail, 1 - tail, size))
    coords[0], coords[-1] = -half_range, half_range  # exact ends, whatever inv_cdf rounds to
    return coords


@dataclass(frozen=True)
class Manifold:
    """A decoded grid. Row 0 is the top of the picture: the largest y, as on the scatter."""

    images: np.ndarray  # (size, size, H, W, C) float32 in [0, 1]
    xs: np.ndarray  # (size,) ascending x of the columns, left to right
    ys: np.ndarray  # (size,) ascending y; image row r shows ys[size - 1 - r]
    spacing: str

    @property
    def size(self) -> int:
        return len(self.xs)

    @property
    def evenly_spaced(self) -> bool:
        steps = np.diff(self.xs)
        return bool(np.allclose(steps, steps[0], rtol=1e-6)) and bool(
            np.allclose(np.diff(self.ys), np.diff(self.ys)[0], rtol=1e-6)
        )

    def picture(self, scale: int = 1, pad: int = 0) -> np.ndarray:
        """The grid as one uint8 picture (ink on paper, or colour)."""
        return tile(self.images, pad=pad, scale=scale)


def grid_latents(axes: Projection, z: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """(len(ys), len(xs), d) latents: row r at y = ys[-1 - r], column c at x = xs[c].

    On linear axes each keeps z's component off the axes' plane and projects exactly to its
    grid point; on a nonlinear map each is the map's inverse at its grid point.
    """
    z = np.asarray(z, dtype=np.float32)
    gx, gy = np.meshgrid(np.asarray(xs), np.asarray(ys)[::-1])
    if isinstance(axes, NonlinearProjection):
        plane = np.stack([gx, gy], axis=-1).reshape(-1, 2)
        return axes.lift_many(plane).reshape(*gx.shape, axes.latent_dim)
    here = axes.project(z)
    offsets = np.stack([gx - here[0], gy - here[1]], axis=-1).astype(np.float32)
    return z + offsets @ axes.components


def decode_manifold(
    model: LatentModel,
    axes: Projection,
    z: np.ndarray,
    condition: np.ndarray | None,
    *,
    size: int = 15,
    half_range: float = 2.0,
    spacing: str = "even",
    centre: tuple[float, float] = (0.0, 0.0),
) -> Manifold:
    """Decode a size x size grid centred at `centre` (axis coordinates) in one batched call."""
    offsets = grid_coordinates(size, half_range, spacing)
    xs = centre[0] + offsets
    ys = centre[1] + offsets
    images = decode_batch(model, grid_latents(axes, z, xs, ys), condition)
    return Manifold(np.ascontiguousarray(images), xs, ys, spacing)


def save_manifold_png(manifold: Manifold, out: str | Path, scale: int = 2) -> None:
    save_png(manifold.picture(scale=scale), out)


@dataclass(frozen=True)
class GridRequest:
    """How the user set up the grid: cells per side, half-range, spacing, centred on the point."""

    size: int = 15
    half_range: float = 2.5
    spacing: str = "even"
    centred: bool = False


def grid_centre(axes: Projection, z: np.ndarray, centred: bool) -> tuple[float, float]:
    """The grid's centre on the axes: the current point's projection, or the origin."""
    if not centred:
        return (0.0, 0.0)
    here = axes.project(z)
    return (float(here[0]), float(here[1]))


def grid_key(
    model: LatentModel,
    axes: Projection,
    z: np.ndarray,
    condition: np.ndarray | None,
    request: GridRequest,
) -> tuple:
    """Everything that shapes the decoded grid. Moving within the axes' plane changes none of
    it (unless the grid is centred on the point), so a drag across the scatter decodes nothing."""
    z = np.asarray(z, np.float32)
    if isinstance(axes, NonlinearProjection):  # the grid is the map's inverse: z shapes nothing
        shape: tuple = ("map", id(axes))
    else:
        off_plane = z - axes.project(z) @ axes.components
        shape = (axes.components.tobytes(), axes.mean.tobytes(), np.round(off_plane, 5).tobytes())
    return (
        id(model),
        *shape,
        None if condition is None else np.asarray(condition, np.float32).tobytes(),
        request.size,
        round(request.half_range, 4),
        request.spacing,
        grid_centre(axes, z, request.centred),
    )


def decode_request(
    model: LatentModel,
    axes: Projection,
    z: np.ndarray,
    condition: np.ndarray | None,
    request: GridRequest,
) -> Manifold:
    """The grid a request asks for, around the current point."""
    return decode_manifold(
        model,
        axes,
        z,
        condition,
        size=request.size,
        half_range=request.half_range,
        spacing=request.spacing,
        centre=grid_centre(axes, z, request.centred),
    )


def cell_centres(manifold: Manifold) -> tuple[np.ndarray, np.ndarray]:
    """Where each column and row is drawn: the real coordinates for an even grid, else equal
    cells over the same extent (the ticks then name the real coordinates)."""
    m = manifold
    if m.evenly_spaced:
        return m.xs, m.ys
    return np.linspace(m.xs[0], m.xs[-1], m.size), np.linspace(m.ys[0], m.ys[-1], m.size)


def to_cells(manifold: Manifold, x: float, y: float) -> tuple[float, float]:
    """A point on the axes, in the drawn cells' coordinates (warped for Gaussian spacing)."""
    if manifold.evenly_spaced:
        return x, y
    cx, cy = cell_centres(manifold)
    return float(np.interp(x, manifold.xs, cx)), float(np.interp(y, manifold.ys, cy))


def from_cells(manifold: Manifold, x: float, y: float) -> tuple[float, float]:
    """The inverse of `to_cells`."""
    if manifold.evenly_spaced:
        return x, y
    cx, cy = cell_centres(manifold)
    return float(np.interp(x, cx, manifold.xs)), float(np.interp(y, cy, manifold.ys))


def cell_at(manifold: Manifold, x: float, y: float) -> tuple[float, float]:
    """The axes coordinates of the cell nearest to a point given in drawn-cell coordinates."""
    cx, cy = cell_centres(manifold)
    col = int(np.argmin(np.abs(cx - x)))
    row = int(np.argmin(np.abs(cy - y)))
    return float(manifold.xs[col]), float(manifold.ys[row])
