"""Keeping named directions with their model: in the model file, or beside it in a sidecar.

A latentlab model file the user can write gets its directions as JSON under the safetensors
metadata key `latentlab.directions`; the file is rewritten atomically with every tensor byte and
every other metadata value as they were (only the header's table is re-serialised). A file that
must not change (read-only, bundled with latentlab, an imported model) gets a sidecar JSON file
instead, in `directions_dir()`, named by a hash of the model file's content: the same model
found from any path finds its directions, and a changed file does not pick up another's.

Export writes the same JSON (with each vector) to a file the user names. Everything read is
validated (the JSON, each vector's length against the model, NaN, a unit length), and any problem
is one `LatentlabError` line naming the file.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_atomic
from ..errors import LatentlabError
from ..safe_read import FileRefused, describe_size, open_regular, read_exact
from ..safetensors_file import MAX_HEADER_BYTES, JsonProblem, parse_json
from ..text import shown_path
from .directions import KINDS, Direction

METADATA_KEY = "latentlab.directions"
NATIVE_KEY = "latentlab"  # a latentlab model's own metadata key (core.vae.checkpoint)
DIRECTIONS_ENV = "LATENTLAB_DIRECTIONS_DIR"
FORMAT = "latentlab-directions"
VERSION = 1
MAX_JSON_BYTES = 16 * 1024 * 1024  # a few hundred directions of 1,000 dimensions
MAX_DIRECTIONS = 1000
MAX_TEXT = 200  # characters in a name, a source or an end's label
KEY_CHARS = 40  # of the content hash, as the map cache's keys
_READ_CHUNK = 1024 * 1024


class DirectionFileError(LatentlabError):
    """A directions file (or a model's stored directions) cannot be used."""


# --- JSON ---------------------------------------------------------------------------------------


def to_json(directions: Sequence[Direction]) -> str:
    """The directions as one JSON document (format, version, and each with its vector)."""
    return json.dumps(
        {"format": FORMAT, "version": VERSION, "directions": [d.to_dict() for d in directions]},
        indent=1,
        ensure_ascii=False,
    )


def from_json(text: str | bytes, latent_dim: int | None, where: str) -> list[Direction]:
    """Directions from JSON text; `where` (a file's shown path) starts every error."""
    try:
        data = parse_json(text)
    except JsonProblem as exc:
        raise DirectionFileError(f"{where}: the directions text {exc}") from None
    if isinstance(data, list):  # one exported direction or a bare list is accepted too
        data = {"format": FORMAT, "version": VERSION, "directions": data}
    elif isinstance(data, dict) and "vector" in data:
        data = {"format": FORMAT, "version": VERSION, "directions": [data]}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DirectionFileError(f"{where}: not a latentlab directions file (no format {FORMAT!r})")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DirectionFileError(f"{where}: the directions have no valid 'version'")
    if version > VERSION:
        raise DirectionFileError(
            f"{where}: directions version {version} is newer than this latentlab reads "
            f"({VERSION}); update latentlab"
        )
    entries = data.get("directions")
    if not isinstance(entries, list):
        raise DirectionFileError(f"{where}: 'directions' must be a list")
    if len(entries) > MAX_DIRECTIONS:
        raise DirectionFileError(
            f"{where}: {len(entries):,} directions, more than the {MAX_DIRECTIONS:,} latentlab keeps"
        )
    return [_direction(entry, i, latent_dim, where) for i, entry in enumerate(entries)]


def _direction(entry: Any, i: int, latent_dim: int | None, where: str) -> Direction:
    def bad(problem: str) -> DirectionFileError:
        return DirectionFileError(f"{where}: direction {i + 1} {problem}")

    if not isinstance(entry, dict):
        raise bad("is not an object")
    texts = {}
    for key, default in (("name", None), ("source", ""), ("low", "low"), ("high", "high")):
        value = entry.get(key, default)
        if not isinstance(value, str) or len(value) > MAX_TEXT or (key == "name" and not value):
            raise bad(f"needs {key!r} as text of at most {MAX_TEXT} characters")
        texts[key] = value
    kind = entry.get("kind")
    if kind not in KINDS:
        raise bad(f"has kind {str(kind)[:30]!r}, not one of {', '.join(KINDS)}")
    vector = entry.get("vector")
    if not isinstance(vector, list) or not vector:
        raise bad("has no 'vector' (a list of numbers)")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in vector):
        raise bad("has a 'vector' that is not all numbers")
    unit = np.asarray(vector, np.float64)
    if not np.isfinite(unit).all():
        raise bad("has NaN or infinite values in its vector")
    if latent_dim is not None and unit.size != latent_dim:
        raise bad(f"has a vector of {unit.size} values; this model's latent space has {latent_dim}")
    norm = float(np.linalg.norm(unit))
    if norm == 0.0:
        raise bad("has a zero vector")
    numbers = {}
    for key, default in (("score", None), ("scale", 1.0), ("centre", 0.0)):
        value = entry.get(key, default)
        if value is None and key == "score":
            value = math.nan
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise bad(f"needs {key!r} as a number")
        numbers[key] = float(value)
    if not (math.isfinite(numbers["scale"]) and numbers["scale"] > 0):
        raise bad("needs a positive, finite 'scale'")
    if not math.isfinite(numbers["centre"]):
        raise bad("needs a finite 'centre'")
    score_name = entry.get("score_name", "")
    if not isinstance(score_name, str) or len(score_name) > MAX_TEXT:
        raise bad("needs 'score_name' as text")
    try:
        return Direction(
            name=texts["name"],
            unit=(unit / norm).astype(np.float32),  # a hand-edited vector need not be unit
            kind=kind,
            source=texts["source"],
            score=numbers["score"],
            score_name=score_name,
            low=texts["low"],
            high=texts["high"],
            scale=numbers["scale"],
            centre=numbers["centre"],
        )
    except ValueError as exc:
        raise bad(str(exc).split(": ", 1)[-1]) from None


def export_json(path: str | os.PathLike[str], directions: Sequence[Direction]) -> Path:
    """Write directions (one or all) as JSON, atomically."""
    path = Path(path)
    write_atomic(path, (to_json(directions) + "\n").encode("utf-8"))
    return path


def read_json_file(path: str | os.PathLike[str], latent_dim: int | None) -> list[Direction]:
    """Directions from a JSON file (an export, or a sidecar), bounded and validated."""
    path = Path(path)
    shown = shown_path(path)
    with _open(path, "a directions file") as f:
        try:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_JSON_BYTES:
                raise DirectionFileError(
                    f"{shown}: the file is {describe_size(size)}, more than a directions file "
                    f"can be ({describe_size(MAX_JSON_BYTES)})"
                )
            data = read_exact(f, size)
        except FileRefused as exc:
            raise DirectionFileError(f"{shown}: {exc.problem}") from None
        except OSError as exc:
            raise DirectionFileError(f"{shown}: cannot be read ({exc.strerror or exc})") from None
    return from_json(data, latent_dim, shown)


# --- where a model's directions live ----------------------------------------------------------


def directions_dir() -> Path:
    """Sidecars: $LATENTLAB_DIRECTIONS_DIR, else the user data folder's `directions`."""
    chosen = os.environ.get(DIRECTIONS_ENV)
    if chosen:
        return Path(chosen)
    from platformdirs import user_data_dir

    return Path(user_data_dir("latentlab", "latentlab")) / "directions"


def content_key(path: str | os.PathLike[str]) -> str:
    """A hex digest of the file's bytes (sha256, as the map cache keys its maps)."""
    import hashlib  # ~10 ms of OpenSSL set-up: not on the app's start-up path

    h = hashlib.sha256()
    with open_regular(path) as f:
        while chunk := f.read(_READ_CHUNK):
            h.update(chunk)
    return h.hexdigest()[:KEY_CHARS]


class DirectionStore:
    """The directions of one model file: `load()` and `save()`, in the file or in a sidecar."""

    def __init__(self, model_path: str | os.PathLike[str], latent_dim: int, *, in_file: bool):
        self.model_path = Path(model_path)
        self.latent_dim = latent_dim
        self.in_file = in_file
        self._sidecar: Path | None = None

    @property
    def where(self) -> str:
        """For the panel: "in the model file" or "beside it (a sidecar)"."""
        return "in the model file" if self.in_file else f"in {shown_path(self.sidecar_path())}"

    def sidecar_path(self) -> Path:
        if self._sidecar is None:
            try:
                key = content_key(self.model_path)
            except (OSError, FileRefused) as exc:
                problem = getattr(exc, "problem", None) or getattr(exc, "strerror", None) or exc
                raise DirectionFileError(
                    f"{shown_path(self.model_path)}: cannot be read ({problem})"
                ) from None
            self._sidecar = directions_dir() / f"{key}.json"
        return self._sidecar

    def load(self) -> list[Direction]:
        """The stored directions (none yet: an empty list)."""
        meta = read_metadata(self.model_path)
        if METADATA_KEY in meta:
            return from_json(meta[METADATA_KEY], self.latent_dim, shown_path(self.model_path))
        if self.in_file:
            return []
        sidecar = self.sidecar_path()
        if not sidecar.exists():
            return []
        return read_json_file(sidecar, self.latent_dim)

    def save(self, directions: Sequence[Direction]) -> None:
        """Keep `directions` (replacing what was kept)."""
        if self.in_file:
            write_metadata(self.model_path, METADATA_KEY, to_json(directions))
            return
        sidecar = self.sidecar_path()
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(sidecar, (to_json(directions) + "\n").encode("utf-8"))


def store_for(document: Any) -> DirectionStore | None:
    """Where `document`'s directions live; None for a model never saved to a file."""
    path = getattr(document, "path", None)
    if path is None:
        return None
    return DirectionStore(path, document.model.latent_dim, in_file=can_write_in_file(document))


def can_write_in_file(document: Any) -> bool:
    """A latentlab model the user may change: native, writable, and not a bundled model."""
    from ..bundled import models_dir

    path = Path(document.path)
    if getattr(document, "source", "") != "native" or getattr(document, "unsaved", False):
        return False
    try:
        resolved = path.resolve()
        if resolved.is_relative_to(models_dir().resolve()):
            return False
    except OSError:
        return False
    try:
        marked_read_only = not path.stat().st_mode & 0o222  # even root keeps its hands off
    except OSError:
        return False
    if marked_read_only or not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        return False
    try:
        return NATIVE_KEY in read_metadata(path)
    except LatentlabError:
        return False


# --- the safetensors header -----------------------------------------------------------------


def _read_header(f: Any, shown: str) -> tuple[dict[str, Any], int, int]:
    """(header, header length, file size) of an open safetensors file, checked for size."""
    size = os.fstat(f.fileno()).st_size
    head = f.read(8)
    if len(head) < 8:
        raise DirectionFileError(f"{shown}: not a model file (too short)")
    (length,) = struct.unpack("<Q", head)
    if length > MAX_HEADER_BYTES or 8 + length > size:
        raise DirectionFileError(f"{shown}: not a model file (its header does not fit)")
    raw = read_exact(f, length)
    try:
        header = parse_json(raw)
    except JsonProblem as exc:
        raise DirectionFileError(f"{shown}: the model file's header {exc}") from None
    if not isinstance(header, dict):
        raise DirectionFileError(f"{shown}: not a model file (its header is not an object)")
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2):
            raise DirectionFileError(f"{shown}: the model file is damaged ({name[:40]!r})")
        end = max(end, int(offsets[1]))
    if 8 + length + end != size:
        raise DirectionFileError(f"{shown}: the model file is damaged (its size is not its own)")
    return header, length, size


def _open(path: Path, what: str = "a model file"):
    """`path` opened as a regular file, or a DirectionFileError naming it and the problem."""
    shown = shown_path(path)
    try:
        return open_regular(path, folder_problem=f"is a folder, not {what}")
    except FileRefused as exc:
        raise DirectionFileError(f"{shown}: {exc.problem}") from None
    except FileNotFoundError:
        raise DirectionFileError(f"{shown}: no such file") from None
    except OSError as exc:
        raise DirectionFileError(f"{shown}: cannot be read ({exc.strerror or exc})") from None


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """A safetensors file's metadata (only the header is read)."""
    path = Path(path)
    with _open(path) as f:
        try:
            header, _length, _size = _read_header(f, shown_path(path))
        except FileRefused as exc:
            raise DirectionFileError(f"{shown_path(path)}: {exc.problem}") from None
    meta = header.get("__metadata__")
    return meta if isinstance(meta, dict) else {}


def write_metadata(path: str | os.PathLike[str], key: str, value: str | None) -> None:
    """Set (or, with None, remove) one metadata value of a safetensors file, atomically.

    The tensors' bytes are copied as they are and every other metadata value is kept; the
    header's table keeps its entries and offsets (the data does not move).
    """
    path = Path(path)
    shown = shown_path(path)
    with _open(path) as f:
        try:
            header, length, size = _read_header(f, shown)
        except FileRefused as exc:
            raise DirectionFileError(f"{shown}: {exc.problem}") from None
        meta = dict(header.get("__metadata__") or {})
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
        table = {"__metadata__": meta} if meta else {}
        table.update((k, v) for k, v in header.items() if k != "__metadata__")
        raw = json.dumps(table, separators=(",", ":")).encode()
        raw += b" " * (-len(raw) % 8)
        if len(raw) > MAX_HEADER_BYTES:
            raise DirectionFileError(f"{shown}: too many directions to keep in the model file")
        body = size - 8 - length

        def write(out: Any) -> None:
            out.write(struct.pack("<Q", len(raw)))
            out.write(raw)
            f.seek(8 + length)
            shutil.copyfileobj(f, out, _READ_CHUNK)
            if out.tell() != 8 + len(raw) + body:
                raise OSError(5, "the model file changed while it was rewritten")

        write_atomic(path, write)
