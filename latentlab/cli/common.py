"""What every command shares: exit codes, bounded options, opening a model file, classes, vectors.

Commands see a model file only as a `Document` from `core.model_files.open_document`, so every
one of them works on any model kind (latentlab's own, imported ONNX) at its own image size.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import LatentlabError, ModelFileError
from ..core.text import shown_path

if TYPE_CHECKING:
    import numpy as np

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CANCELLED = 130

# Options that take a latent vector. argparse reads `--z -1,2` as two options ("-1,2" looks
# like one); `main` joins such a pair into `--z=-1,2` before parsing.
VECTOR_OPTIONS = ("--z", "--from-z", "--to-z")
_NEGATIVE_VECTOR = re.compile(r"^-\s*(\d|\.\d|inf|nan)", re.IGNORECASE)
MAX_PICTURE_PIXELS = 2**27  # every picture (or GIF frame) of one output together
MAX_SCALE = 64
SHOWN_NAMES = 12  # class names listed in an error before "..."


def in_range(option: str, value: int, low: int, high: int) -> None:
    """Size-like options are bounded, so a typo cannot ask for gigabytes or years."""
    if not low <= value <= high:
        raise LatentlabError(f"{option} must be in {low}..{high:,}, got {value:,}")


def join_vector_options(argv: Sequence[str]) -> list[str]:
    """`--z -1,2` -> `--z=-1,2`, so a vector that starts with a minus parses like any other."""
    out: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":  # everything after it is positional
            return out + args[i:]
        nxt = args[i + 1] if i + 1 < len(args) else None
        if arg in VECTOR_OPTIONS and nxt is not None and _NEGATIVE_VECTOR.match(nxt):
            out.append(f"{arg}={nxt}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


# --- the model ------------------------------------------------------------------------------


def open_state(path: str) -> Any:
    """The model file as an `ExplorerState`, opened exactly as the app opens it.

    Anything the app would refuse (a damaged file, points of the wrong size) is a one-line
    `ModelFileError` naming the file; the document is `state.document`.
    """
    from ..core import model_files
    from ..core.explore.state import ExplorerState

    try:
        document = model_files.open_document(path)
        state = ExplorerState()
        state.open(document)
    except ValueError as exc:  # the app's words for the same file
        raise ModelFileError(f"{shown_path(path)}: {exc}") from None
    return state


def is_native(document: Any) -> bool:
    """Whether the document is one of latentlab's own models (training history, ELBO, IWAE)."""
    from ..core.vae.record import ModelRecord

    return document.source == "native" and isinstance(document.payload, ModelRecord)


def kind_words(spec: Any) -> str:
    """`28 x 28 grey`, `64 x 64 RGB`: an image size as the messages say it."""
    return f"{spec.height} x {spec.width} {'RGB' if spec.channels == 3 else 'grey'}"


def class_index(model: Any, text: str | None, option: str = "--class") -> int | None:
    """A class given by name or by index; None when not given.

    A name wins: `--class 7` is the class named "7" when there is one (MNIST's digits are
    named so, and name and index agree), else index 7. Case is ignored when that is unambiguous.
    """
    if text is None:
        return None
    if not model.conditional:
        raise LatentlabError(
            f"{option} needs a conditional model; this one decodes without a class"
        )
    names = tuple(model.class_names)
    if text in names:
        return names.index(text)
    folded = [name.casefold() for name in names]
    if folded.count(text.casefold()) == 1:
        return folded.index(text.casefold())
    try:
        index = int(text)
    except ValueError:
        raise LatentlabError(
            f"{option} {text!r}: no class of that name; the classes are {_names(names)} "
            f"(or give an index 0..{len(names) - 1})"
        ) from None
    if not 0 <= index < len(names):
        raise LatentlabError(
            f"{option} {index}: the class index must be in 0..{len(names) - 1} "
            f"(or give a name: {_names(names)})"
        )
    return index


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:SHOWN_NAMES])
    return shown + (", ..." if len(names) > SHOWN_NAMES else "")


def parse_vector(text: str, option: str) -> np.ndarray:
    """`0.5,-1,2` (commas and/or spaces) as float32 values, each finite."""
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    if not parts:
        raise LatentlabError(f"{option} is empty; give the values as {option}=v1,v2,...")
    values = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise LatentlabError(f"{option}: {part!r} is not a number") from None
        if not math.isfinite(value):
            raise LatentlabError(f"{option}: {part} is not a finite number")
        values.append(value)
    import numpy as np

    return np.asarray(values, dtype=np.float32)


def latent_vector(model: Any, text: str, option: str) -> np.ndarray:
    """A latent point from the command line, checked against the model's latent size."""
    z = parse_vector(text, option)
    if z.size != model.latent_dim:
        raise LatentlabError(
            f"{option} has {z.size} value{'s' if z.size != 1 else ''}; "
            f"the model's latent space has {model.latent_dim} dimensions"
        )
    return z


# --- output files ---------------------------------------------------------------------------


def output_path(text: str, suffixes: Sequence[str]) -> Path:
    """--out, with one of the suffixes its command writes."""
    out = Path(text)
    if out.suffix.lower() not in suffixes:
        allowed = " or ".join(suffixes)
        raise LatentlabError(f"{shown_path(out)}: --out must end in {allowed}")
    return out


def default_scale(spec: Any, side: int) -> int:
    """The whole-pixel enlargement that shows an image at about `side` pixels (at least 1)."""
    return max(1, math.ceil(side / max(spec.height, spec.width)))


def check_picture(option_scale: int, height: int, width: int, count: int = 1) -> None:
    """Refuse a scale that would make pictures past MAX_PICTURE_PIXELS before making them."""
    in_range("--scale", option_scale, 1, MAX_SCALE)
    h, w = height * option_scale, width * option_scale
    if h * w * count > MAX_PICTURE_PIXELS:
        frames = f" x {count} frames" if count > 1 else ""
        raise LatentlabError(
            f"--scale {option_scale} would make {w:,} x {h:,} px{frames}; "
            f"the most is {MAX_PICTURE_PIXELS:,} pixels in all (choose a smaller --scale)"
        )


def save_npy(array: np.ndarray, out: Path) -> None:
    import io

    import numpy as np

    from ..core.atomic import write_atomic

    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array))
    write_atomic(out, buffer.getvalue())
