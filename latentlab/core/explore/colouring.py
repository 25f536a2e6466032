"""What the scatter's points can be coloured by, and the values for each choice.

A `ColourChoice` names a source (true class, predicted class, the classifier's confidence, the
point's KL, one latent dimension, the reconstruction error, a measured stroke attribute, a
column of the data set's attributes); `available_choices` lists those a document offers, and
`values_for` gives either class indices (categorical: the legend's colours and toggles) or one
number per point (continuous: a colour map and a colour bar). Reconstruction error and the
stroke measures need the images and take a while: they are jobs (`reconstruction_error_job`,
`morphometry.measure_job`), run in a worker by the GUI and kept once computed.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass

import numpy as np

from ..jobs import Cancel, Progress, check_cancelled
from .latent_model import LatentModel
from .morphometry import ATTRIBUTES, UNITS
from .points import EncodedPoints

RECON_CHUNK = 512


@dataclass(frozen=True)
class ColourChoice:
    """One way to colour the points. `key` is "class", "predicted", "confidence", "kl",
    "latent" (with `index`), "recon_error", "stroke" (with `name`) or "column" (with `name`)."""

    key: str
    index: int = 0
    name: str = ""

    @property
    def categorical(self) -> bool:
        return self.key in ("class", "predicted")

    @property
    def needs_images(self) -> bool:
        return self.key in ("recon_error", "stroke")

    @property
    def title(self) -> str:
        if self.key == "latent":
            return f"latent z{self.index + 1}"
        if self.key == "stroke":
            return f"stroke {self.name} ({UNITS[self.name]})"
        if self.key == "column":
            return self.name
        return TITLES[self.key]


TITLES = {
    "class": "true class",
    "predicted": "predicted class",
    "confidence": "classifier confidence",
    "kl": "KL of q(z|x) from the prior (nats)",
    "recon_error": "reconstruction error (mean squared, per pixel)",
}


def available_choices(
    points: EncodedPoints,
    *,
    labelled: bool,
    can_classify: bool,
    has_images: bool,
    columns: Mapping[str, np.ndarray] | None = None,
) -> list[ColourChoice]:
    """The colourings a document offers, in the order the menu shows them."""
    out: list[ColourChoice] = []
    if labelled:
        out.append(ColourChoice("class"))
    if labelled and can_classify and points.probs is not None:
        out += [ColourChoice("predicted"), ColourChoice("confidence")]
    out.append(ColourChoice("kl"))
    out += [ColourChoice("latent", i) for i in range(points.latent_dim)]
    if has_images:
        out.append(ColourChoice("recon_error"))
        out += [ColourChoice("stroke", name=name) for name in ATTRIBUTES]
    for name, values in (columns or {}).items():
        values = np.asarray(values)
        if (
            values.ndim == 1
            and len(values) == len(points)
            and np.issubdtype(values.dtype, np.number)
        ):
            out.append(ColourChoice("column", name=str(name)))
    return out


def point_kl(points: EncodedPoints) -> np.ndarray:
    """(N,) KL(q(z|x) || N(0, I)) of each point, in nats."""
    mu = points.mu.astype(np.float64)
    logvar = points.logvar.astype(np.float64)
    return (0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar).sum(axis=1)).astype(np.float32)


def values_for(
    choice: ColourChoice,
    points: EncodedPoints,
    *,
    columns: Mapping[str, np.ndarray] | None = None,
    computed: Mapping[ColourChoice, np.ndarray] | None = None,
) -> np.ndarray:
    """(N,) class indices (categorical) or float32 values (continuous) for `choice`.

    Choices that need a job (reconstruction error, strokes) come from `computed`; a KeyError
    says they are not there yet.
    """
    key = choice.key
    if key == "class":
        return np.asarray(points.labels)
    if key == "predicted":
        return np.asarray(points.predicted)
    if key == "confidence":
        if points.probs is None:
            raise ValueError("these points have no classifier readings")
        return points.probs.max(axis=1).astype(np.float32)
    if key == "kl":
        return point_kl(points)
    if key == "latent":
        return np.ascontiguousarray(points.mu[:, choice.index], dtype=np.float32)
    if key == "column":
        return np.asarray((columns or {})[choice.name], dtype=np.float32)
    if computed is None or choice not in computed:
        raise KeyError(choice)
    return np.asarray(computed[choice], np.float32)


def reconstruction_error_job(
    model: LatentModel,
    points: EncodedPoints,
    images: np.ndarray,
    cancel: Cancel = None,
) -> Generator[Progress, None, np.ndarray]:
    """(N,) mean squared error per pixel between each image and its reconstruction from its
    mean (conditional models: with the classifier's reading as class, as the app shows it)."""
    images = np.asarray(images)
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    n = len(points)
    out = np.zeros(n, np.float32)
    for start in range(0, n, RECON_CHUNK):
        check_cancelled(cancel)
        yield Progress(start, n, "reconstructing")
        stop = min(n, start + RECON_CHUNK)
        condition = None
        if model.conditional:
            if points.probs is not None:
                condition = points.probs[start:stop]
            else:
                condition = np.stack([model.condition(int(c)) for c in points.labels[start:stop]])
        recon = model.decode(points.mu[start:stop], condition)
        target = images[start:stop].astype(np.float32) / scale
        target = target.reshape(recon.shape)
        out[start:stop] = ((recon - target) ** 2).reshape(stop - start, -1).mean(axis=1)
    yield Progress(n, n, "reconstructing")
    return out
