"""A decision map: the classifier's reading of the decoded image over the scatter's current view.

Each cell of a grid over the visible rectangle is lifted to a latent point the way the manifold
grid lifts its cells (linear axes keep the current point's other components; a nonlinear map
uses its inverse), decoded with the current class input, and read by the model's classifier.
The scatter then paints the cells in the class colours, faded by confidence, behind the points:
where the background changes colour is where the decoded image stops reading as that class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..jobs import CancelToken
from .latent_model import LatentModel, decode_batch
from .manifold import grid_latents
from .projection import Projection

DEFAULT_CELLS = 40  # cells along each side: 1,600 decodes, a fraction of a second for an MLP
CHUNK = 400  # latents decoded and classified per batch (a cancel point between batches)


@dataclass(frozen=True)
class DecisionMap:
    """The predicted class and its probability for each cell, row 0 at the top (largest y)."""

    classes: np.ndarray  # (rows, cols) int16
    confidence: np.ndarray  # (rows, cols) float32 in [0, 1]
    x_range: tuple[float, float]  # left and right edges of the grid on the scatter's axes
    y_range: tuple[float, float]  # bottom and top edges

    @property
    def shape(self) -> tuple[int, int]:
        return self.classes.shape


def cell_centres(low: float, high: float, cells: int) -> np.ndarray:
    """Centres of `cells` equal cells between `low` and `high`."""
    edges = np.linspace(low, high, cells + 1, dtype=np.float64)
    return ((edges[:-1] + edges[1:]) / 2).astype(np.float32)


def decision_map(
    model: LatentModel,
    axes: Projection,
    z: np.ndarray,
    condition: np.ndarray | None,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    *,
    cells: int = DEFAULT_CELLS,
    token: CancelToken | None = None,
) -> DecisionMap:
    """Read every cell of a `cells` x `cells` grid over the rectangle `x_range` x `y_range`."""
    if not model.can_classify:
        raise ValueError("a decision map needs a model with a classifier")
    if cells < 2:
        raise ValueError(f"a decision map needs at least 2 cells a side, not {cells}")
    (x0, x1), (y0, y1) = x_range, y_range
    if not (np.isfinite([x0, x1, y0, y1]).all() and x1 > x0 and y1 > y0):
        raise ValueError(f"the view {x_range} x {y_range} is not a rectangle")
    xs = cell_centres(x0, x1, cells)
    ys = cell_centres(y0, y1, cells)
    latents = grid_latents(axes, z, xs, ys).reshape(-1, model.latent_dim)
    classes = np.empty(len(latents), np.int16)
    confidence = np.empty(len(latents), np.float32)
    for start in range(0, len(latents), CHUNK):
        if token is not None:
            token.check()
        chunk = latents[start : start + CHUNK]
        probs = np.asarray(model.classify(decode_batch(model, chunk, condition)), np.float32)
        classes[start : start + len(chunk)] = probs.argmax(axis=1)
        confidence[start : start + len(chunk)] = probs.max(axis=1)
    return DecisionMap(
        classes.reshape(cells, cells),
        confidence.reshape(cells, cells),
        (float(x0), float(x1)),
        (float(y0), float(y1)),
    )


def decision_rgba(decision: DecisionMap, colours: np.ndarray, max_alpha: int = 110) -> np.ndarray:
    """(rows, cols, 4) uint8: each cell in its class's colour (colours (K, 3) uint8), with an
    alpha that grows from 0 at chance to `max_alpha` at certainty."""
    colours = np.asarray(colours, np.uint8)
    k = len(colours)
    rgba = np.empty((*decision.shape, 4), np.uint8)
    rgba[..., :3] = colours[np.clip(decision.classes, 0, k - 1)]
    chance = 1.0 / max(k, 1)
    sure = np.clip((decision.confidence - chance) / max(1.0 - chance, 1e-6), 0.0, 1.0)
    rgba[..., 3] = np.round(sure * max_alpha).astype(np.uint8)
    return rgba
