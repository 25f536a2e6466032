"""The one file an imported model lives in: graphs, their wiring, the encoded data, its images.

A safetensors file like latentlab's own models, told apart by its metadata key
(``latentlab_import``; a native model has ``latentlab``), never by its extension. The graphs are
stored as raw bytes (uint8 tensors) and are checked again on every open, because the file may
come from anyone: no external data, no custom operators, every shape consistent with the specs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from latentlab.core.atomic import write_atomic
from latentlab.core.explore.points import EncodedPoints
from latentlab.core.imported.onnx_graph import check_graph_bytes
from latentlab.core.imported.specs import (
    ClassifierSpec,
    DecoderSpec,
    EncoderSpec,
    classifier_from,
    decoder_from,
    encoder_from,
    spec_dict,
)
from latentlab.core.safetensors_file import (
    JsonProblem,
    SafetensorsFile,
    file_error,
    parse_json,
    read_safetensors,
    stream_safetensors,
)
from latentlab.core.text import shown_path

METADATA_KEY = "latentlab_import"
FORMAT_VERSION = 1
MAX_BUNDLE_BYTES = 1024**3
ROLES = ("decoder", "encoder", "classifier")
MAX_ABS_MU = 1e6
MAX_ABS_LOGVAR = 100.0


@dataclass
class ImportedBundle:
    """Everything an imported model file holds, validated."""

    graphs: dict[str, bytes]  # role -> ONNX bytes ("decoder", optionally "encoder", "classifier")
    decoder: DecoderSpec
    encoder: EncoderSpec | None = None
    classifier: ClassifierSpec | None = None
    class_names: tuple[str, ...] = ()
    points: EncodedPoints | None = None  # the encoded data (None: a decoder-only model)
    images: np.ndarray | None = None  # (N, h, w, C) uint8: the data's images, maybe thumbnails
    attributes: dict[str, np.ndarray] = field(default_factory=dict)  # per-image numbers
    data: dict[str, Any] = field(default_factory=dict)  # where the data came from, how many
    created: str = ""
    has_variance: bool = True  # False: the encoder gives means only (an autoencoder)

    def info_rows(self) -> list[tuple[str, str]]:
        """What Model > Info and `latentlab info` show about the import."""
        h, w, c = self.decoder.image
        rows = [
            ("kind", "imported ONNX model"),
            (
                "decoder",
                f"{self.decoder.latent_dim}-D z -> {h} x {w} {'RGB' if c == 3 else 'grey'} ({self.decoder.layout.upper()}, values {self.decoder.output_range})",
            ),
            (
                "encoder",
                "yes" + ("" if self.has_variance else " (means only)") if self.encoder else "none",
            ),
            ("classifier", f"{self.classifier.classes} classes" if self.classifier else "none"),
            ("classes", ", ".join(self.class_names) if self.class_names else "none (unlabelled)"),
        ]
        if self.data:
            rows.append(
                (
                    "data",
                    f"{self.data.get('count', 0):,} images from {self.data.get('name', '?')} ({self.data.get('kind', '?')})",
                )
            )
        if self.images is not None and self.images.shape[1:] != (h, w, c):
            rows.append(
                ("stored images", f"thumbnails {self.images.shape[1]} x {self.images.shape[2]}")
            )
        if self.attributes:
            rows.append(("attributes", ", ".join(sorted(self.attributes))))
        rows.append(("created", self.created))
        return rows


def write_bundle(bundle: ImportedBundle, path: str | os.PathLike[str]) -> Path:
    """Write ``bundle`` to ``path`` atomically (temp file, fsync, rename)."""
    path = Path(path)
    tensors: dict[str, np.ndarray] = {
        f"graph.{role}": np.frombuffer(data, dtype=np.uint8) for role, data in bundle.graphs.items()
    }
    if bundle.points is not None:
        p = bundle.points
        tensors["points.mu"] = np.ascontiguousarray(p.mu, np.float32)
        tensors["points.logvar"] = np.ascontiguousarray(p.logvar, np.float32)
        tensors["points.labels"] = np.ascontiguousarray(p.labels, np.int32)
        if p.probs is not None:
            tensors["points.probs"] = np.ascontiguousarray(p.probs, np.float32)
    if bundle.images is not None:
        tensors["images"] = np.ascontiguousarray(bundle.images, np.uint8)
    for name, values in bundle.attributes.items():
        tensors[f"attribute.{name}"] = np.ascontiguousarray(values, np.float64)
    meta = {
        "format_version": FORMAT_VERSION,
        "decoder": spec_dict(bundle.decoder),
        "encoder": spec_dict(bundle.encoder),
        "classifier": spec_dict(bundle.classifier),
        "class_names": list(bundle.class_names),
        "data": bundle.data,
        "has_variance": bundle.has_variance,
        "created": bundle.created or datetime.now(UTC).isoformat(timespec="seconds"),
    }
    metadata = {METADATA_KEY: json.dumps(meta)}
    # Written straight to the temporary file: the images can be 256 MB, and building the file's
    # bytes first would hold them twice (the import's peak memory).
    write_atomic(path, lambda f: stream_safetensors(f, tensors, metadata))
    return path


def is_bundle(file: SafetensorsFile) -> bool:
    return METADATA_KEY in file.metadata


def read_bundle(path: str | os.PathLike[str]) -> ImportedBundle:
    """Read and validate an imported model file (ModelFileError naming it on any problem)."""
    path = Path(path)
    return bundle_from_file(
        path, read_safetensors(path, max_bytes=MAX_BUNDLE_BYTES, what="a latentlab model")
    )


def bundle_from_file(path: Path, file: SafetensorsFile) -> ImportedBundle:
    meta = _metadata(path, file)
    try:
        decoder = decoder_from(meta.get("decoder"))
        encoder = encoder_from(meta.get("encoder"))
        classifier = classifier_from(meta.get("classifier"))
    except ValueError as exc:
        raise file_error(path, f"imported model metadata: {exc}") from None
    names = meta.get("class_names", [])
    if (
        not isinstance(names, list)
        or not all(isinstance(n, str) and len(n) <= 200 for n in names)
        or len(names) > 100_000
    ):
        raise file_error(path, "imported model metadata: class_names must be a list of strings")
    class_names = tuple(names)
    for count, what in (
        (decoder.classes, "the decoder's condition"),
        (classifier.classes if classifier else 0, "the classifier"),
    ):
        if count and class_names and count != len(class_names):
            raise file_error(
                path, f"{what} has {count} classes but the file names {len(class_names)}"
            )
    tensors = file.tensors
    graphs = {}
    for role, present in (
        ("decoder", True),
        ("encoder", encoder is not None),
        ("classifier", classifier is not None),
    ):
        array = tensors.get(f"graph.{role}")
        if present != (array is not None):
            raise file_error(
                path, f"the {role} graph is {'missing' if present else 'stored but not described'}"
            )
        if array is None:
            continue
        if array.dtype != np.uint8 or array.ndim != 1:
            raise file_error(path, f"graph.{role} must be bytes (uint8, one axis)")
        data = array.tobytes()
        check_graph_bytes(data, f"{shown_path(path)} ({role} graph)")
        graphs[role] = data
    points = _points(
        path, tensors, decoder.latent_dim, len(class_names) or decoder.classes, classifier
    )
    n = None if points is None else len(points)
    images = tensors.get("images")
    if images is not None:
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != decoder.image[2]:
            raise file_error(path, f"stored images must be uint8 (N, H, W, {decoder.image[2]})")
        if n is not None and len(images) != n:
            raise file_error(path, f"{len(images)} stored images for {n} encoded points")
    attributes = {}
    for key, values in tensors.items():
        if key.startswith("attribute."):
            if values.dtype != np.float64 or values.shape != (n,):
                raise file_error(path, f"{key} must be float64 with one value per point")
            attributes[key[len("attribute.") :]] = values
    known = (
        {f"graph.{r}" for r in ROLES}
        | {"images"}
        | {f"points.{k}" for k in ("mu", "logvar", "labels", "probs")}
    )
    unknown = sorted(k for k in tensors if k not in known and not k.startswith("attribute."))
    if unknown:
        raise file_error(path, f"unexpected tensors: {', '.join(unknown[:5])}")
    data = meta.get("data", {})
    return ImportedBundle(
        graphs=graphs,
        decoder=decoder,
        encoder=encoder,
        classifier=classifier,
        class_names=class_names,
        points=points,
        images=images,
        attributes=attributes,
        data=data if isinstance(data, dict) else {},
        created=str(meta.get("created", ""))[:100],
        has_variance=bool(meta.get("has_variance", True)),
    )


def _metadata(path: Path, file: SafetensorsFile) -> dict[str, Any]:
    try:
        meta = parse_json(file.metadata[METADATA_KEY])
    except JsonProblem as exc:
        raise file_error(path, f"imported model metadata {exc}") from None
    if not isinstance(meta, dict):
        raise file_error(path, "imported model metadata must be a JSON object")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise file_error(path, "imported model metadata has no valid 'format_version'")
    if version > FORMAT_VERSION:
        raise file_error(
            path,
            f"format version {version} is newer than this latentlab reads ({FORMAT_VERSION}); update latentlab",
        )
    return meta


def _points(
    path: Path,
    tensors: dict[str, np.ndarray],
    d: int,
    classes: int,
    classifier: ClassifierSpec | None,
) -> EncodedPoints | None:
    names = {k for k in tensors if k.startswith("points.")}
    if not names:
        return None
    if not {"points.mu", "points.logvar", "points.labels"} <= names:
        raise file_error(path, "the encoded data needs points.mu, points.logvar and points.labels")
    mu, logvar, labels = (tensors[f"points.{k}"] for k in ("mu", "logvar", "labels"))
    n = len(labels)
    if n == 0:
        raise file_error(path, "the encoded data holds no points")
    if (
        labels.ndim != 1
        or labels.dtype != np.int32
        or labels.min() < 0
        or (classes and labels.max() >= classes)
    ):
        raise file_error(path, f"points.labels must be int32 class numbers below {max(classes, 1)}")
    for name, array, bound in (("mu", mu, MAX_ABS_MU), ("logvar", logvar, MAX_ABS_LOGVAR)):
        if array.shape != (n, d) or array.dtype != np.float32 or not np.isfinite(array).all():
            raise file_error(path, f"points.{name} must be finite float32 of shape [{n}, {d}]")
        if float(np.abs(array).max()) > bound:
            raise file_error(
                path, f"points.{name} holds values beyond {bound:g}; the file is damaged"
            )
    probs = tensors.get("points.probs")
    if probs is not None:
        k = classifier.classes if classifier else -1
        if probs.shape != (n, k) or probs.dtype != np.float32 or not np.isfinite(probs).all():
            raise file_error(path, f"points.probs must be finite float32 of shape [{n}, {k}]")
    return EncodedPoints(mu=mu, logvar=logvar, labels=labels, probs=probs)
