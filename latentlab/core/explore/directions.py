"""Named directions in latent space: where an attribute grows, or one class turns into another.

A researcher asks "where is slant?", not "what does z3 do?". Following InterFaceGAN and GANSpace,
a direction is a unit vector in latent space found from the encoded points: the normalised
coefficients of a least-squares fit of an attribute (slant, thickness, a user's column, the
reconstruction error), the weights of a logistic probe, or the difference of two groups' means
(two classes, two selections). Each comes with how well it predicts on held-out points (R² or
accuracy), so a direction that explains nothing says so.

A direction's slider coordinate is (z . unit - centre) / scale: 0 at the data's mean along it and
one unit per standard deviation of the projected points, so a slider of +-3 spans the data.
Moving along a direction changes z only along `unit`. numpy only (no scikit-learn).
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import LatentlabError
from ..jobs import Cancel, Progress, check_cancelled
from .colouring import ColourChoice, available_choices, reconstruction_error_job
from .dimensions import STRIP_VALUES
from .latent_model import LatentModel, decode_batch
from .points import EncodedPoints

KINDS = ("regression", "logistic", "mean-difference")
TEST_SHARE = 0.2  # held out of every fit
MIN_POINTS = 10  # an attribute needs at least this many finite values (and more than d + 2)
MIN_CLASS_POINTS = 5  # per group, for a class or selection direction
UNIT_TOLERANCE = 1e-3  # |unit| must be 1 within this (a stored vector is checked on load)
LOGISTIC_ITERATIONS = 50
LOGISTIC_RIDGE = 1e-3  # keeps Newton's steps finite when the classes separate perfectly
ATTRIBUTE_KEYS = ("stroke", "column", "recon_error")  # the colourings a direction can follow
ENDS = {  # what the low and high ends of an attribute look like
    "slant": ("left", "right"),
    "thickness": ("thin", "thick"),
    "width": ("narrow", "wide"),
    "height": ("short", "tall"),
    "area": ("little ink", "much ink"),
    "recon error": ("well reconstructed", "badly reconstructed"),
}


@dataclass(frozen=True)
class Direction:
    """A named unit vector in latent space, how it was found and how well it predicts."""

    name: str
    unit: np.ndarray  # (latent_dim,) float32, length 1
    kind: str  # one of KINDS
    source: str  # what it was computed from: "attribute slant", "classes 4 -> 9"
    score: float = math.nan  # held-out R² (regression) or accuracy; NaN when not measured
    score_name: str = ""  # "R²", "accuracy" or ""
    low: str = "low"  # what the negative end looks like ("left")
    high: str = "high"  # and the positive end ("right")
    scale: float = 1.0  # std of the encoded points projected on `unit`: one slider unit
    centre: float = 0.0  # mean of the projected points: slider 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # counts, for display

    def __post_init__(self) -> None:
        unit = np.asarray(self.unit, dtype=np.float32).reshape(-1)
        if unit.size == 0 or not np.isfinite(unit).all():
            raise ValueError(f"direction {self.name!r}: the vector must be finite and non-empty")
        if abs(float(np.linalg.norm(unit.astype(np.float64))) - 1.0) > UNIT_TOLERANCE:
            raise ValueError(f"direction {self.name!r}: the vector must have length 1")
        if self.kind not in KINDS:
            raise ValueError(f"direction {self.name!r}: kind must be one of {', '.join(KINDS)}")
        if not (math.isfinite(self.scale) and self.scale > 0 and math.isfinite(self.centre)):
            raise ValueError(f"direction {self.name!r}: scale must be positive and centre finite")
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a direction needs a name")
        object.__setattr__(self, "unit", unit)
        object.__setattr__(self, "score", float(self.score))

    @property
    def latent_dim(self) -> int:
        return int(self.unit.size)

    @property
    def title(self) -> str:
        """`slant: left ↔ right`."""
        return f"{self.name}: {self.low} ↔ {self.high}"

    @property
    def score_text(self) -> str:
        """`R² 0.71`, `accuracy 96%` or `—`."""
        if not math.isfinite(self.score) or not self.score_name:
            return "—"
        if self.score_name == "accuracy":
            return f"accuracy {self.score:.0%}"
        return f"{self.score_name} {self.score:.2f}"

    def renamed(self, name: str) -> Direction:
        return replace(self, name=name.strip())

    # --- moving along it -----------------------------------------------------------------------
    def coordinate(self, z: np.ndarray) -> float:
        """Where `z` is along the direction, in slider units (0: the data's mean)."""
        z = np.asarray(z, np.float64).reshape(-1)
        return (float(z @ self.unit.astype(np.float64)) - self.centre) / self.scale

    def along(self, z0: np.ndarray, amount: float) -> np.ndarray:
        """z0 + amount * scale * unit: `amount` slider units from `z0`, along the direction only."""
        z0 = np.asarray(z0, np.float32).reshape(-1)
        return (z0 + np.float32(amount * self.scale) * self.unit).astype(np.float32)

    def at(self, z0: np.ndarray, value: float) -> np.ndarray:
        """`z0` moved along the direction only, so that its coordinate is `value`."""
        return self.along(z0, float(value) - self.coordinate(z0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "source": self.source,
            "score": None if not math.isfinite(self.score) else self.score,
            "score_name": self.score_name,
            "low": self.low,
            "high": self.high,
            "scale": self.scale,
            "centre": self.centre,
            "vector": [float(v) for v in self.unit],
        }


def strip_latents(
    directions: Sequence[Direction], z: np.ndarray, values: np.ndarray = STRIP_VALUES
) -> np.ndarray:
    """(K, V, d) latents: `z` moved along each direction to each coordinate in `values`."""
    z = np.asarray(z, np.float32).reshape(-1)
    if not directions:
        return np.zeros((0, len(values), z.size), np.float32)
    return np.stack([np.stack([d.at(z, v) for v in values]) for d in directions])


def decode_strips(
    model: LatentModel,
    directions: Sequence[Direction],
    z: np.ndarray,
    condition: np.ndarray | None,
    values: np.ndarray = STRIP_VALUES,
) -> np.ndarray:
    """(K, V, H, W, C) images along every direction from `z`, in one batched decode."""
    return decode_batch(model, strip_latents(directions, z, values), condition)


# --- finding directions -------------------------------------------------------------------------


def attribute_direction(
    latents: np.ndarray,
    values: np.ndarray,
    name: str,
    seed: int = 0,
    *,
    low: str | None = None,
    high: str | None = None,
    source: str | None = None,
) -> Direction:
    """The direction along which `values` grow: least squares on 80 % of the points, R² on 20 %.

    Points whose value (or latent) is not finite are left out. The unit vector is the fit's
    coefficients normalised, pointing towards larger values.
    """
    z, y = _finite_rows(latents, values, name)
    n, d = z.shape
    if n < MIN_POINTS:
        raise LatentlabError(
            f"attribute {name!r}: only {n} points have a value; a direction needs at least "
            f"{MIN_POINTS}"
        )
    if float(np.ptp(y)) == 0.0:
        raise LatentlabError(f"attribute {name!r} has the same value ({y[0]:g}) for every point")
    train, test = _split(n, seed)
    if len(train) < d + 2:  # an exact fit on the training points says nothing
        raise LatentlabError(
            f"attribute {name!r}: {n} points are too few to fit a {d}-D direction and hold "
            f"{len(test)} out; give more points"
        )
    design = np.hstack([z[train], np.ones((len(train), 1))])
    coef, *_ = np.linalg.lstsq(design, y[train], rcond=None)
    w = coef[:-1]
    norm = float(np.linalg.norm(w))
    if not math.isfinite(norm) or norm == 0.0:
        raise LatentlabError(f"attribute {name!r}: the fit found no direction (all weights 0)")
    predicted = z[test] @ w + coef[-1]
    r2 = _r2(y[test], predicted)
    unit = w / norm
    ends = ENDS.get(name, ("low", "high"))
    return with_data_scale(
        Direction(
            name=name,
            unit=unit,
            kind="regression",
            source=source or f"attribute {name}",
            score=r2,
            score_name="R²",
            low=low or ends[0],
            high=high or ends[1],
            extra={"points": n, "held_out": len(test)},
        ),
        z,
    )


def class_direction(
    latents: np.ndarray,
    labels: np.ndarray,
    a: int,
    b: int,
    *,
    names: Sequence[str] = (),
    method: str = "mean-difference",
    seed: int = 0,
) -> Direction:
    """From class `a` towards class `b`: the difference of their means (or a logistic probe),
    with the held-out accuracy of telling them apart along it."""
    labels = np.asarray(labels).reshape(-1)
    if a == b:
        raise LatentlabError("a class direction needs two different classes")
    na = names[a] if 0 <= a < len(names) else str(a)
    nb = names[b] if 0 <= b < len(names) else str(b)
    return _two_groups(
        latents,
        labels == a,
        labels == b,
        name=f"{na} → {nb}",
        source=f"classes {na} → {nb}",
        ends=(na, nb),
        what=(f"class {na}", f"class {nb}"),
        method=method,
        seed=seed,
    )


def selection_direction(
    latents: np.ndarray,
    idx_a: Sequence[int] | np.ndarray,
    idx_b: Sequence[int] | np.ndarray,
    name: str,
    *,
    seed: int = 0,
) -> Direction:
    """From selection A towards selection B (indices of points): the difference of their means.

    The held-out accuracy is measured where each selection has at least MIN_CLASS_POINTS.
    """
    n = len(np.asarray(latents))
    in_a, in_b = np.zeros(n, bool), np.zeros(n, bool)
    for mask, idx, which in ((in_a, idx_a, "A"), (in_b, idx_b, "B")):
        idx = np.asarray(idx, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise LatentlabError(f"selection {which} holds a point outside 0..{n - 1}")
        mask[idx] = True
    if (in_a & in_b).any():
        raise LatentlabError(f"selections A and B share {int((in_a & in_b).sum())} points")
    return _two_groups(
        latents,
        in_a,
        in_b,
        name=name,
        source="selections A → B",
        ends=("A", "B"),
        what=("selection A", "selection B"),
        method="mean-difference",
        seed=seed,
        need_score=False,
    )


def _two_groups(
    latents: np.ndarray,
    in_a: np.ndarray,
    in_b: np.ndarray,
    *,
    name: str,
    source: str,
    ends: tuple[str, str],
    what: tuple[str, str],
    method: str,
    seed: int,
    need_score: bool = True,
) -> Direction:
    if method not in ("mean-difference", "logistic"):
        raise LatentlabError(f"method must be mean-difference or logistic, not {method!r}")
    z = np.asarray(latents, np.float64)
    if z.ndim != 2:
        raise LatentlabError("the latents must be a 2-D array (points x dimensions)")
    finite = np.isfinite(z).all(axis=1)
    in_a, in_b = in_a & finite, in_b & finite
    smallest = MIN_CLASS_POINTS if need_score or method == "logistic" else 1
    for mask, label in ((in_a, what[0]), (in_b, what[1])):
        if int(mask.sum()) < smallest:
            raise LatentlabError(
                f"{label} has {int(mask.sum())} points; a direction needs at least {smallest}"
            )
    rng = np.random.default_rng(seed)
    groups = []
    for mask in (in_a, in_b):
        idx = rng.permutation(np.flatnonzero(mask))
        k = len(idx)
        held = max(1, round(TEST_SHARE * k)) if k >= MIN_CLASS_POINTS else 0
        groups.append((idx[held:], idx[:held]))
    (train_a, test_a), (train_b, test_b) = groups
    if method == "logistic":
        x = np.vstack([z[train_a], z[train_b]])
        t = np.concatenate([np.zeros(len(train_a)), np.ones(len(train_b))])
        w, _ = _logistic(x, t)
    else:
        w = z[train_b].mean(axis=0) - z[train_a].mean(axis=0)
    norm = float(np.linalg.norm(w))
    if not math.isfinite(norm) or norm == 0.0:
        raise LatentlabError(f"{what[0]} and {what[1]} have the same mean: there is no direction")
    unit = w / norm
    score = math.nan
    if len(test_a) and len(test_b):
        # A threshold probe along the direction: midway between the two training means.
        pa, pb = z[train_a] @ unit, z[train_b] @ unit
        threshold = 0.5 * (pa.mean() + pb.mean())
        right = (z[test_a] @ unit < threshold).sum() + (z[test_b] @ unit >= threshold).sum()
        score = float(right) / (len(test_a) + len(test_b))
    both = in_a | in_b
    return with_data_scale(
        Direction(
            name=name,
            unit=unit,
            kind="logistic" if method == "logistic" else "mean-difference",
            source=source,
            score=score,
            score_name="accuracy" if math.isfinite(score) else "",
            low=ends[0],
            high=ends[1],
            extra={"points": int(both.sum()), "held_out": len(test_a) + len(test_b)},
        ),
        z[finite],
    )


def _logistic(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression, by Newton's method."""
    n, d = x.shape
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    xs = np.hstack([(x - mean) / std, np.ones((n, 1))])
    beta = np.zeros(d + 1)
    ridge = LOGISTIC_RIDGE * n * np.eye(d + 1)
    ridge[-1, -1] = 0.0
    for _ in range(LOGISTIC_ITERATIONS):
        p = 1.0 / (1.0 + np.exp(-np.clip(xs @ beta, -30, 30)))
        gradient = xs.T @ (p - t) + ridge @ beta
        hessian = (xs * (p * (1 - p))[:, None]).T @ xs + ridge + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return beta[:-1] / std, float(beta[-1])


def with_data_scale(direction: Direction, z: np.ndarray) -> Direction:
    """The direction with its centre and scale: the mean and std of the points `z` projected on
    it (so slider 0 is their mean and +-3 spans them)."""
    projected = np.asarray(z, np.float64) @ direction.unit.astype(np.float64)
    scale = float(projected.std()) if len(projected) > 1 else 0.0
    return replace(direction, centre=float(projected.mean()), scale=scale if scale > 0 else 1.0)


def _finite_rows(latents: np.ndarray, values: np.ndarray, name: str) -> tuple[np.ndarray, ...]:
    z = np.asarray(latents, np.float64)
    y = np.asarray(values, np.float64).reshape(-1)
    if z.ndim != 2 or len(z) != len(y):
        raise LatentlabError(
            f"attribute {name!r} has {len(y)} values for {len(z)} points; one value per point"
        )
    keep = np.isfinite(y) & np.isfinite(z).all(axis=1)
    return z[keep], y[keep]


def _split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    held = max(2, round(TEST_SHARE * n))
    return order[held:], order[:held]


def _r2(y: np.ndarray, predicted: np.ndarray) -> float:
    """1 - SSE / SST on held-out points (0: no better than their mean; below 0: worse)."""
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0.0:
        return math.nan
    return 1.0 - float(((y - predicted) ** 2).sum()) / total


# --- attributes of the encoded points -----------------------------------------------------------


def attribute_choices(
    points: EncodedPoints, *, has_images: bool, columns: Mapping[str, np.ndarray] | None = None
) -> list[ColourChoice]:
    """What a direction can be found for: the stroke measures and reconstruction error (when
    the points' images are there) and the numeric columns of the user's attribute file."""
    choices = available_choices(
        points, labelled=False, can_classify=False, has_images=has_images, columns=columns
    )
    return [c for c in choices if c.key in ATTRIBUTE_KEYS]


def attribute_name(choice: ColourChoice) -> str:
    """The short name a direction of this attribute gets: "slant", "recon error", a column's."""
    return "recon error" if choice.key == "recon_error" else choice.name


def attribute_values_job(
    choice: ColourChoice,
    model: LatentModel,
    points: EncodedPoints,
    images: np.ndarray | None,
    columns: Mapping[str, np.ndarray] | None = None,
    cancel: Cancel = None,
) -> Generator[Progress, None, dict[ColourChoice, np.ndarray]]:
    """The values of `choice` for every point, with whatever else the same pass measured
    (the five stroke measures come together), to be kept by the caller."""
    from .morphometry import measure_job

    if choice.key == "column":
        values = (columns or {}).get(choice.name)
        if values is None:
            raise LatentlabError(f"there is no attribute column {choice.name!r}")
        return {choice: np.asarray(values, np.float64)}
    if choice.key not in ("stroke", "recon_error"):
        raise LatentlabError(f"no direction can follow {choice.title!r}")
    if images is None:
        raise LatentlabError(f"{attribute_name(choice)} needs the points' images, not found")
    check_cancelled(cancel)
    if choice.key == "recon_error":
        values = yield from reconstruction_error_job(model, points, images, cancel)
        return {choice: values}
    measured = yield from measure_job(images, cancel)
    return {ColourChoice("stroke", name=k): v for k, v in measured.items()}
