"""Probes and disentanglement of one model's encoded points: the factors, the job, the JSON.

The factors are what a document knows per point: the true class (a labelled data set), the
predicted class (a model with a classifier), the Morpho-MNIST stroke measures and the
reconstruction error (where the images are at hand), and a user's attribute columns. Every
factor is probed (`probes`); the disentanglement scores (`disentanglement`) count only the
ground-truth ones (true class, strokes, columns): a classifier's answer and a reconstruction
error are readings of the model, not factors of the data.

`probe_report_job` is a generator like every long job: a `Progress` per step (a cancel point),
returning the `ProbeReport`. The CLI (`latentlab eval --probes`) and the report dialog's worker
both run it.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..jobs import Cancel, Progress, check_cancelled
from .disentanglement import DisentanglementScores, Factor, score_all
from .latent_model import LatentModel
from .morphometry import ATTRIBUTES, measure_job
from .points import EncodedPoints, images_match
from .probes import (
    MAX_POINTS,
    DimensionTable,
    ProbeScore,
    dimension_table,
    one_blas_thread,
    probe_factor,
    split,
)

SEED = 0
READINGS = ("predicted", "recon_error")  # probed, but not ground-truth factors


@dataclass
class ProbeReport:
    """Held-out probe scores per factor, the per-dimension table, the disentanglement scores."""

    points: int
    latent_dim: int
    scores: dict[str, ProbeScore]
    skipped: dict[str, str]  # factor -> why it was not probed
    dimensions: DimensionTable
    disentanglement: DisentanglementScores
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """{"probes": {factor: {"linear": {metric: v}, "mlp": {...}}}, "disentanglement": ...}."""
        probes: dict = {name: score.as_dict() for name, score in self.scores.items()}
        dis = self.disentanglement.as_dict()
        dis["per_dimension"] = self.dimensions.as_list()
        return {
            "probes": probes,
            "probes_skipped": dict(self.skipped),
            "probes_setup": {
                "points": self.points,
                "split": "80/20 by seed",
                "seed": SEED,
                "latent": "posterior means",
                "linear": "ridge regression (R^2) / multinomial logistic regression (accuracy)",
                "mlp": "one hidden ReLU layer of 64, full-batch Adam",
                "notes": list(self.notes),
            },
            "disentanglement": dis,
        }


def labelled(points: EncodedPoints, class_names: tuple[str, ...]) -> bool:
    return len(class_names) > 1 and len(np.unique(points.labels)) > 1


def collect_factors_job(
    model: LatentModel,
    points: EncodedPoints,
    images: np.ndarray | None,
    *,
    attributes: Mapping[str, np.ndarray] | None = None,
    cancel: Cancel = None,
) -> Generator[Progress, None, list[Factor]]:
    """The factors of `points`; `images` (the ones the points encode, or None) for the strokes
    and the reconstruction error."""
    from .colouring import reconstruction_error_job

    factors: list[Factor] = []
    if labelled(points, model.class_names):
        factors.append(Factor("class", np.asarray(points.labels, np.int64), True))
    if points.probs is not None:
        factors.append(Factor("predicted", np.asarray(points.predicted, np.int64), True))
    if images is not None:
        strokes = yield from measure_job(images, cancel)
        factors += [Factor(name, strokes[name].astype(np.float64), False) for name in ATTRIBUTES]
        error = yield from reconstruction_error_job(model, points, images, cancel)
        factors.append(Factor("recon_error", error.astype(np.float64), False))
    for name, values in (attributes or {}).items():
        values = np.asarray(values)
        if values.ndim == 1 and len(values) == len(points) and name not in ATTRIBUTES:
            factors.append(Factor(str(name), values.astype(np.float64), False))
    return factors


def probe_report_job(
    codes: np.ndarray, factors: list[Factor], *, seed: int = SEED, cancel: Cancel = None
) -> Generator[Progress, None, ProbeReport]:
    """Probe every factor, build the per-dimension table, score MIG / DCI / SAP."""
    codes = np.asarray(codes, np.float64)
    n = len(codes)
    notes = []
    if n > MAX_POINTS:
        keep = np.sort(np.random.default_rng(seed).permutation(n)[:MAX_POINTS])
        codes = codes[keep]
        factors = [Factor(f.name, np.asarray(f.values)[keep], f.discrete) for f in factors]
        notes.append(f"{MAX_POINTS} of the {n} points, drawn by the seed")
    train, test = split(len(codes), seed)
    total = len(factors) + 2
    scores: dict[str, ProbeScore] = {}
    skipped: dict[str, str] = {}
    for step, factor in enumerate(factors):
        check_cancelled(cancel)
        yield Progress(step, total, f"probing {factor.name}")
        with one_blas_thread():
            result = probe_factor(codes, factor, train, test, seed)
        if isinstance(result, str):
            skipped[factor.name] = result
        else:
            scores[factor.name] = result
    check_cancelled(cancel)
    yield Progress(len(factors), total, "per-dimension table")
    with one_blas_thread():
        table = dimension_table(codes, factors)
    check_cancelled(cancel)
    yield Progress(len(factors) + 1, total, "MIG, DCI and SAP")
    ground_truth = [f for f in factors if f.name not in READINGS]
    with one_blas_thread():
        dis = score_all(codes, ground_truth, train, test, seed)
    yield Progress(total, total, "MIG, DCI and SAP")
    return ProbeReport(len(codes), codes.shape[1], scores, skipped, table, dis, notes)


def points_for_images(
    model: LatentModel,
    points: EncodedPoints | None,
    images: np.ndarray,
    labels: np.ndarray,
    cancel: Cancel = None,
) -> Generator[Progress, None, EncodedPoints]:
    """The stored points when they encode `images` (same count and labels), else encode them."""
    if points is not None and images_match(points, labels):
        return points
    from .evaluation import CHUNK, as_float_images

    n = len(images)
    mus, logvars, probs = [], [], []
    for start in range(0, n, CHUNK):
        check_cancelled(cancel)
        yield Progress(start, n, "encoding")
        x = as_float_images(images[start : start + CHUNK])
        x = x.reshape(len(x), *model.image_spec.shape)
        mu, var = model.encode(x)
        mus.append(mu)
        logvars.append(np.log(np.maximum(var, 1e-30)))
        if model.can_classify:
            probs.append(model.classify(x))
    yield Progress(n, n, "encoding")
    return EncodedPoints(
        np.concatenate(mus).astype(np.float32),
        np.concatenate(logvars).astype(np.float32),
        np.asarray(labels, np.uint8),
        np.concatenate(probs).astype(np.float32) if probs else None,
    )


def full_job(
    model: LatentModel,
    points: EncodedPoints | None,
    images: np.ndarray | None,
    labels: np.ndarray | None,
    *,
    attributes: Mapping[str, np.ndarray] | None = None,
    seed: int = SEED,
    cancel: Cancel = None,
) -> Generator[Progress, None, ProbeReport]:
    """Points (stored, or encoded from `images`), factors, probes and scores, in one job."""
    if images is not None and labels is not None:
        points = yield from points_for_images(model, points, images, labels, cancel)
    elif images is not None and points is not None and len(images) != len(points):
        images = None  # not the images behind the points: no strokes
    if points is None or len(points) == 0:
        raise ValueError("there are no encoded points to probe")
    factors = yield from collect_factors_job(
        model, points, images, attributes=attributes, cancel=cancel
    )
    return (yield from probe_report_job(points.mu, factors, seed=seed, cancel=cancel))


def run_to_end(job: Generator[Progress, None, ProbeReport], progress=None) -> ProbeReport:
    """Drive a job to its end, passing each `Progress` to `progress` (if given)."""
    while True:
        try:
            item = next(job)
        except StopIteration as end:
            return end.value
        if progress is not None:
            progress(item)
