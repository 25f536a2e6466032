"""How each foreign network is wired: which inputs and outputs mean what, in which layout.

Worked out once when a model is imported (`onnx_roles`) and stored as JSON in the model file, so
opening the file later needs no guessing, and a live PyTorch model uses the same records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from latentlab.core.explore.latent_model import ImageSpec
from latentlab.core.imported.layout import LAYOUTS, OUTPUT_RANGES, ImageLayout


@dataclass(frozen=True)
class DecoderSpec:
    z_input: str
    latent_dim: int
    output: str
    layout: str  # how the output is laid out (LAYOUTS)
    image: tuple[int, int, int]  # (H, W, C)
    output_range: str = "0,1"
    condition_input: str | None = None  # a conditional decoder's one-hot input
    classes: int = 0  # the condition's length (0: unconditional)

    @property
    def image_layout(self) -> ImageLayout:
        return ImageLayout(self.layout, ImageSpec(*self.image))


@dataclass(frozen=True)
class EncoderSpec:
    input: str
    layout: str  # how it takes images (LAYOUTS)
    mean: str  # output holding the mean, (N, d) or (N, 2d) when split
    logvar: str | None = None  # output holding log variances; None: a deterministic encoder
    split: bool = False  # one (N, 2d) output: mean then log variance


@dataclass(frozen=True)
class ClassifierSpec:
    input: str
    layout: str
    output: str
    classes: int


def spec_dict(spec: Any) -> dict[str, Any] | None:
    return None if spec is None else asdict(spec)


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise ValueError(what)


def _name(value: Any) -> str:
    _check(isinstance(value, str) and 0 < len(value) <= 1000, "a tensor name must be a string")
    return value


def _count(value: Any, low: int = 1, high: int = 1_000_000) -> int:
    _check(
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
        f"a count must be an integer in {low}..{high}",
    )
    return value


def decoder_from(raw: Any) -> DecoderSpec:
    _check(isinstance(raw, dict), "decoder must be an object")
    image = raw.get("image")
    _check(isinstance(image, list) and len(image) == 3, "decoder image must be [H, W, C]")
    spec = DecoderSpec(
        z_input=_name(raw.get("z_input")),
        latent_dim=_count(raw.get("latent_dim"), 1, 4096),
        output=_name(raw.get("output")),
        layout=raw.get("layout"),
        image=(_count(image[0], 1, 8192), _count(image[1], 1, 8192), _count(image[2], 1, 3)),
        output_range=raw.get("output_range", "0,1"),
        condition_input=None
        if raw.get("condition_input") is None
        else _name(raw["condition_input"]),
        classes=_count(raw.get("classes", 0), 0, 100_000),
    )
    _check(spec.layout in LAYOUTS, "decoder layout is unknown")
    _check(spec.output_range in OUTPUT_RANGES, "decoder output_range is unknown")
    _check(
        (spec.condition_input is None) == (spec.classes == 0),
        "a conditional decoder needs a class count",
    )
    ImageSpec(*spec.image)  # 1 or 3 channels
    return spec


def encoder_from(raw: Any) -> EncoderSpec | None:
    if raw is None:
        return None
    _check(isinstance(raw, dict), "encoder must be an object")
    spec = EncoderSpec(
        input=_name(raw.get("input")),
        layout=raw.get("layout"),
        mean=_name(raw.get("mean")),
        logvar=None if raw.get("logvar") is None else _name(raw["logvar"]),
        split=bool(raw.get("split", False)),
    )
    _check(spec.layout in LAYOUTS, "encoder layout is unknown")
    return spec


def classifier_from(raw: Any) -> ClassifierSpec | None:
    if raw is None:
        return None
    _check(isinstance(raw, dict), "classifier must be an object")
    spec = ClassifierSpec(
        input=_name(raw.get("input")),
        layout=raw.get("layout"),
        output=_name(raw.get("output")),
        classes=_count(raw.get("classes"), 1, 100_000),
    )
    _check(spec.layout in LAYOUTS, "classifier layout is unknown")
    return spec
