"""Counterfactuals: the smallest move from a point that makes the classifier read another class.

The search is gradient-free, so it works for every model kind (numpy, ONNX, live): rays leave
the current point toward the nearest encoded points the classifier reads as the target class,
and along the difference of the two classes' mean latents; each ray is scanned in one batched
decode-and-classify, and the first step that reads as the target is refined by bisection. The
shortest flip found wins. A conditional model keeps most of its class in its class input, so
moving z alone may never flip it; the class input can be searched instead (a mix from the
current class's one-hot toward the target's), which answers "how much of the class input does
it take".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import LatentlabError
from ..jobs import CancelToken
from .latent_model import LatentModel, decode_batch
from .points import EncodedPoints

RAYS_TO_POINTS = 8  # nearest target-class points tried as ends of a ray
SCAN_STEPS = 24  # points per ray in the coarse scan
REFINE_STEPS = 10  # bisection halvings of the first bracket that flips
Z_MOVE = "z"
CLASS_INPUT_MOVE = "class input"


@dataclass(frozen=True)
class Counterfactual:
    """Where the classifier's reading changes to `target`, and how far that is."""

    start: np.ndarray  # (d,) the point searched from
    end: np.ndarray  # (d,) the first point found that reads as `target` (== start for a mix)
    start_condition: np.ndarray | None  # the class input at the start (conditional models)
    end_condition: np.ndarray | None  # the class input at the end
    target: int
    start_class: int  # what the classifier read at the start
    probability: float  # the classifier's probability of `target` at the end
    distance: float  # latent distance |end - start|, or the class-input mix for that move
    move: str  # Z_MOVE or CLASS_INPUT_MOVE
    method: str  # which ray found it, in words

    def path(self, steps: int) -> tuple[np.ndarray, np.ndarray | None]:
        """`steps` latents (and class inputs) evenly from the start to the counterfactual."""
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        z = (1 - t) * self.start + t * self.end
        if self.start_condition is None or self.end_condition is None:
            return z.astype(np.float32), None
        c = (1 - t) * self.start_condition + t * self.end_condition
        return z.astype(np.float32), c.astype(np.float32)


class NoCounterfactual(LatentlabError):
    """No searched move made the classifier read the target class; the message says why."""


def readings(
    model: LatentModel, z: np.ndarray, condition: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted class (N,) and probabilities (N, K) of each latent (N, d) decoded.

    `condition` is one class input for all (K,) or one per latent (N, K).
    """
    z = np.asarray(z, np.float32).reshape(-1, model.latent_dim)
    if condition is not None and np.ndim(condition) == 2:
        images = model.decode(z, np.asarray(condition, np.float32))
    else:
        images = decode_batch(model, z, condition)
    probs = np.asarray(model.classify(images), np.float32)
    return probs.argmax(axis=1), probs


def class_mix(model: LatentModel, a: int, b: int, t: np.ndarray) -> np.ndarray:
    """Class inputs (len(t), K) from class `a`'s one-hot (t = 0) to class `b`'s (t = 1)."""
    t = np.asarray(t, np.float32)[:, None]
    return (1 - t) * model.condition(a)[None] + t * model.condition(b)[None]


def find_counterfactual(
    model: LatentModel,
    points: EncodedPoints | None,
    z: np.ndarray,
    condition: np.ndarray | None,
    target: int,
    *,
    move: str = Z_MOVE,
    class_index: int | None = None,
    limit: Callable[[np.ndarray], np.ndarray] | None = None,
    token: CancelToken | None = None,
) -> Counterfactual:
    """The shortest move found from `z` that the classifier reads as class `target`.

    `move` is Z_MOVE (the class input held, z moves) or CLASS_INPUT_MOVE (z held, the class
    input `class_index` mixes toward `target`). `limit` keeps scanned latents inside the
    sliders' box. Raises `NoCounterfactual` with the reason when no move flips the reading.
    """
    if not model.can_classify:
        raise NoCounterfactual("this model has no classifier to read its images")
    names = model.class_names
    if not 0 <= target < len(names):
        raise ValueError(f"target must be a class index in 0..{len(names) - 1}, got {target}")
    z = np.asarray(z, np.float32).reshape(-1)
    start_class, _ = readings(model, z[None], condition)
    start_class = int(start_class[0])
    name = names[target]
    if start_class == target:
        raise NoCounterfactual(f"the classifier already reads this point as {name}")
    if move == CLASS_INPUT_MOVE:
        return _class_input_counterfactual(model, z, condition, target, start_class, class_index)
    if move != Z_MOVE:
        raise ValueError(f"move must be {Z_MOVE!r} or {CLASS_INPUT_MOVE!r}, not {move!r}")
    if points is None or len(points) == 0:
        raise NoCounterfactual("this model has no encoded points to search toward")

    rays = _rays(points, z, target, start_class)
    if not rays:
        raise NoCounterfactual(f"no encoded point is read as {name}, so there is nothing to aim at")
    best: Counterfactual | None = None
    for ends, method in rays:
        if token is not None:
            token.check(best)
        found = _first_flip(model, z, ends, condition, target, limit)
        if found is None:
            continue
        end, probability = found
        distance = float(np.linalg.norm(end - z))
        if best is None or distance < best.distance:
            best = Counterfactual(
                z,
                end,
                condition,
                condition,
                target,
                start_class,
                probability,
                distance,
                Z_MOVE,
                method,
            )
    if best is None:
        hint = (
            "; this model keeps the class in its class input: try moving that instead"
            if model.conditional
            else ""
        )
        raise NoCounterfactual(f"no move of z within the sliders' box reads as {name}{hint}")
    return best


def _rays(
    points: EncodedPoints, z: np.ndarray, target: int, start_class: int
) -> list[tuple[np.ndarray, str]]:
    """Ray ends: toward each of the nearest target-class points, and along the class means."""
    predicted = points.predicted
    chosen = np.flatnonzero(predicted == target)
    if len(chosen) == 0:
        return []
    mu = points.mu[chosen]
    d2 = np.einsum("ij,ij->i", mu - z, mu - z)
    order = np.argsort(d2)[:RAYS_TO_POINTS]
    rays = [
        (mu[i], f"toward test point {int(chosen[i])}, the nearest read as the target")
        for i in order
    ]
    own = np.flatnonzero(predicted == start_class)
    if len(own):
        step = points.mu[chosen].mean(axis=0) - points.mu[own].mean(axis=0)
        norm = float(np.linalg.norm(step))
        if norm > 0:
            reach = float(np.sqrt(d2[order].max())) * 2 + norm
            rays.append((z + step / norm * reach, "along the difference of the two class means"))
    return rays


def _first_hit(
    read: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], target: int
) -> tuple[float, float] | None:
    """The smallest t in (0, 1] where `read(ts)` (classes and probabilities for each t) gives
    `target`: a scan of SCAN_STEPS, then REFINE_STEPS halvings of the first bracket. Returns t
    and the target's probability there, or None when no scanned t reads as `target`."""
    t = np.linspace(0.0, 1.0, SCAN_STEPS + 1, dtype=np.float32)[1:]
    cls, probs = read(t)
    hits = np.flatnonzero(cls == target)
    if len(hits) == 0:
        return None
    hi = float(t[hits[0]])
    lo = float(t[hits[0] - 1]) if hits[0] > 0 else 0.0
    best_p = float(probs[hits[0], target])
    for _ in range(REFINE_STEPS):
        mid = (lo + hi) / 2
        c, p = read(np.array([mid], np.float32))
        if int(c[0]) == target:
            hi, best_p = mid, float(p[0, target])
        else:
            lo = mid
    return hi, best_p


def _first_flip(
    model: LatentModel,
    z: np.ndarray,
    end: np.ndarray,
    condition: np.ndarray | None,
    target: int,
    limit: Callable[[np.ndarray], np.ndarray] | None,
) -> tuple[np.ndarray, float] | None:
    """The first point on the segment z -> end read as `target` (bisected), or None."""

    def along(ts: np.ndarray) -> np.ndarray:
        line = z[None] + ts[:, None] * (end - z)[None]
        return np.stack([limit(p) for p in line]) if limit is not None else line

    found = _first_hit(lambda ts: readings(model, along(ts), condition), target)
    if found is None:
        return None
    hi, best_p = found
    return along(np.array([hi], np.float32))[0], best_p


def _class_input_counterfactual(
    model: LatentModel,
    z: np.ndarray,
    condition: np.ndarray | None,
    target: int,
    start_class: int,
    class_index: int | None,
) -> Counterfactual:
    names = model.class_names
    if not model.conditional or condition is None:
        raise NoCounterfactual("this model has no class input to move")
    source = start_class if class_index is None else int(class_index)

    def mixed(ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return readings(model, np.repeat(z[None], len(ts), 0), class_mix(model, source, target, ts))

    found = _first_hit(mixed, target)
    if found is None:
        raise NoCounterfactual(
            f"even the class input of {names[target]} alone does not read as {names[target]} here"
        )
    hi, best_p = found
    end_condition = class_mix(model, source, target, np.array([hi]))[0]
    return Counterfactual(
        z,
        z.copy(),
        np.asarray(condition, np.float32),
        end_condition,
        target,
        start_class,
        best_p,
        hi,
        CLASS_INPUT_MOVE,
        f"a class input {hi:.0%} of the way from {names[source]} to {names[target]}",
    )
