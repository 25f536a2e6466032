"""Model files: one .safetensors file with the weights, the encoded test set and JSON metadata.

Nothing is ever unpickled: safetensors holds raw little-endian arrays and a JSON header. Loading
checks everything a hostile or broken file could get wrong before the model is used; saving
writes a temporary file and renames it over the target, so a crash mid-save loses nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from latentlab.core.atomic import write_atomic
from latentlab.core.safetensors_file import (
    AGAIN,
    JsonProblem,
    SafetensorsFile,
    file_error,
    parse_json,
    read_safetensors,
)
from latentlab.core.vae.config import Config, ConfigError
from latentlab.core.vae.density import KIND as DENSITY_KIND
from latentlab.core.vae.density import LatentDensity
from latentlab.core.vae.layout import parameter_shapes
from latentlab.core.vae.record import ModelRecord, TestEncoding

FORMAT_VERSION = 2  # 2: an optional class density (density.*); version 1 files still load
METADATA_KEY = "latentlab"
ENCODING_PREFIX = "test_encoding."
DENSITY_PREFIX = "density."
DENSITY_TENSORS = ("weights", "means", "scale_tril")
# Reading limits (docs/reliability.md). A latentlab model is a few MB: its header (the tensor
# table and the metadata, training history included) a few kB.
MAX_MODEL_BYTES = 1024**3  # larger files are refused from their size, before any read
MAX_ABS_MU = 1e4  # stored means beyond this are refused: a trained encoder gives |mu| of ~10
MAX_ABS_LOGVAR = 100.0  # exp(100) is already an absurd variance; exp(800) overflows float64
IMAGE_PIXELS = 28 * 28


def save_model(record: ModelRecord, path: str | os.PathLike[str]) -> Path:
    """Write `record` to `path` atomically (temp file in the same folder, fsync, rename)."""
    from safetensors.numpy import save

    path = Path(path)
    tensors = {
        name: np.ascontiguousarray(w, dtype=np.float32) for name, w in record.weights.items()
    }
    enc = record.test_encoding
    if enc is not None:
        tensors[ENCODING_PREFIX + "mu"] = np.ascontiguousarray(enc.mu, dtype=np.float32)
        tensors[ENCODING_PREFIX + "logvar"] = np.ascontiguousarray(enc.logvar, dtype=np.float32)
        tensors[ENCODING_PREFIX + "labels"] = np.ascontiguousarray(enc.labels, dtype=np.uint8)
        if enc.probs is not None:
            tensors[ENCODING_PREFIX + "probs"] = np.ascontiguousarray(enc.probs, dtype=np.float32)
    if record.density is not None:
        for name in DENSITY_TENSORS:
            tensors[DENSITY_PREFIX + name] = np.ascontiguousarray(getattr(record.density, name))
    meta = {
        "format_version": FORMAT_VERSION,
        "config": record.config.to_dict(),
        "dataset": record.config.dataset,
        "class_names": list(record.class_names),
        "history": record.history,
        "metrics": record.metrics,
        "created": record.created,
    }
    if record.density is not None:
        meta["density"] = record.density.metadata()
    data = save(tensors, metadata={METADATA_KEY: json.dumps(meta)})
    write_atomic(path, data)
    return path


def load_model(path: str | os.PathLike[str]) -> ModelRecord:
    """Read and validate a model file; any problem raises ModelFileError naming the file."""
    path = Path(path)
    return record_from_file(
        path, read_safetensors(path, max_bytes=MAX_MODEL_BYTES, what="a latentlab model")
    )


def record_from_file(path: Path, file: SafetensorsFile) -> ModelRecord:
    """Validate a latentlab model read by `read_safetensors` (ModelFileError naming ``path``)."""
    meta = _parse_metadata(path, file.header)
    config = _parse_config(path, meta)
    tensors = file.tensors
    weights = _check_weights(path, config, tensors)
    encoding = _check_encoding(path, config, tensors)
    density = _check_density(path, config, meta, tensors)
    if "class_names" in meta:
        class_names = meta["class_names"]
    else:  # an older file: the dataset's own names
        from latentlab.core.data.datasets import default_class_names

        class_names = list(default_class_names(config.dataset, config.num_classes))
    if (
        not isinstance(class_names, list)
        or len(class_names) != config.num_classes
        or not all(isinstance(n, str) for n in class_names)
    ):
        raise _error(path, f"class_names must be a list of {config.num_classes} strings")
    history = meta.get("history", [])
    metrics = meta.get("metrics", {})
    if (
        not isinstance(history, list)
        or not all(isinstance(entry, dict) for entry in history)
        or not isinstance(metrics, dict)
    ):
        raise _error(path, "metadata 'history' must be a list of objects and 'metrics' an object")
    return ModelRecord(
        config=config,
        weights=weights,
        class_names=tuple(class_names),
        history=history,
        metrics=metrics,
        test_encoding=encoding,
        created=str(meta.get("created", "")),
        format_version=meta["format_version"],
        density=density,
    )


_error = file_error


def _damaged(detail: str) -> str:
    return f"the file is damaged or was not written by latentlab ({detail}); {AGAIN}"


def _parse_metadata(path: Path, header: dict[str, Any]) -> dict[str, Any]:
    raw = header.get("__metadata__")
    if not isinstance(raw, dict) or METADATA_KEY not in raw:
        raise _error(
            path,
            "a safetensors file, but not a latentlab model (it has no latentlab description); "
            "open a model saved by latentlab, or bring another network in with latentlab import",
        )
    try:
        meta = parse_json(raw[METADATA_KEY])
    except JsonProblem as exc:
        problem = "is not valid JSON" if str(exc) == "is not JSON" else str(exc)
        raise _error(path, _damaged(f"its latentlab description {problem}")) from None
    if not isinstance(meta, dict):
        raise _error(path, _damaged("its latentlab description must be a JSON object"))
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _error(path, _damaged("its latentlab description has no integer 'format_version'"))
    if version > FORMAT_VERSION:
        raise _error(
            path,
            f"format version {version} is newer than this latentlab reads ({FORMAT_VERSION}); "
            "update latentlab",
        )
    if version < 1:
        raise _error(path, f"unknown format version {version}")
    return meta


def _parse_config(path: Path, meta: dict[str, Any]) -> Config:
    try:
        config = Config.from_dict(meta.get("config"))
    except ConfigError as exc:
        raise _error(path, f"invalid config: {exc}") from None
    if config.input_dim != IMAGE_PIXELS:  # every dataset, the explorer and sampling are 28 x 28
        raise _error(
            path, f"invalid config: input_dim is {config.input_dim}, latentlab models read 28 x 28"
        )
    return config


def _check_weights(
    path: Path, config: Config, tensors: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    expected = parameter_shapes(config)
    present = {
        k for k in tensors if not k.startswith(ENCODING_PREFIX) and not k.startswith(DENSITY_PREFIX)
    }
    missing = sorted(set(expected) - present)
    extra = sorted(present - set(expected))
    if missing:
        raise _error(
            path, _damaged(f"weights its settings need are missing: {', '.join(missing[:5])}")
        )
    if extra:
        raise _error(path, _damaged(f"weights its settings do not use: {', '.join(extra[:5])}"))
    weights = {}
    for name, shape in expected.items():
        array = tensors[name]
        if array.shape != shape:
            raise _error(
                path,
                _damaged(
                    f"the weights {name} have shape {list(array.shape)} but its settings "
                    f"need {list(shape)}"
                ),
            )
        if array.dtype != np.float32:
            raise _error(path, _damaged(f"the weights {name} are {array.dtype}, not float32"))
        if not np.isfinite(array).all():
            raise _error(
                path,
                f"the weights {name} hold NaN or infinite values (did its training diverge?); "
                "train the model again or open another file",
            )
        weights[name] = array
    return weights


def _check_encoding(
    path: Path, config: Config, tensors: dict[str, np.ndarray]
) -> TestEncoding | None:
    names = {k[len(ENCODING_PREFIX) :] for k in tensors if k.startswith(ENCODING_PREFIX)}
    if not names:
        return None
    required = {"mu", "logvar", "labels"} | ({"probs"} if config.conditional else set())
    if not required <= names or not names <= {"mu", "logvar", "labels", "probs"}:
        raise _error(
            path, _damaged(f"its encoded test points must be exactly {', '.join(sorted(required))}")
        )
    mu, logvar, labels = (tensors[ENCODING_PREFIX + k] for k in ("mu", "logvar", "labels"))
    n, d, c = len(labels), config.latent_dim, config.num_classes
    if labels.ndim != 1 or labels.dtype != np.uint8 or (n and labels.max() >= c):
        raise _error(
            path, _damaged(f"its encoded test points' labels must be uint8 classes below {c}")
        )
    for name, array, bound in (("mu", mu, MAX_ABS_MU), ("logvar", logvar, MAX_ABS_LOGVAR)):
        if array.shape != (n, d) or array.dtype != np.float32 or not np.isfinite(array).all():
            raise _error(
                path,
                _damaged(f"its encoded test points' {name} must be finite float32 [{n}, {d}]"),
            )
        if n and (largest := float(np.abs(array).max())) > bound:
            raise _error(
                path,
                f"its encoded test points' {name} hold {largest:.3g}, beyond the {bound:g} a "
                "trained encoder gives; the file is damaged or was not written by latentlab",
            )
    probs = tensors.get(ENCODING_PREFIX + "probs")
    if probs is not None and (
        probs.shape != (n, c) or probs.dtype != np.float32 or not np.isfinite(probs).all()
    ):
        raise _error(
            path, _damaged(f"its encoded test points' probs must be finite float32 [{n}, {c}]")
        )
    return TestEncoding(mu=mu, logvar=logvar, labels=labels, probs=probs)


def _check_density(
    path: Path, config: Config, meta: dict[str, Any], tensors: dict[str, np.ndarray]
) -> LatentDensity | None:
    """The class density stored with the model (metadata and three tensors), or None."""
    names = {k[len(DENSITY_PREFIX) :] for k in tensors if k.startswith(DENSITY_PREFIX)}
    info = meta.get("density")
    if not names and info is None:
        return None  # an older file, or one saved before a density was fitted
    if names != set(DENSITY_TENSORS) or not isinstance(info, dict):
        raise _error(
            path,
            "a class density needs its metadata and exactly the tensors "
            + ", ".join(DENSITY_PREFIX + n for n in DENSITY_TENSORS),
        )
    if info.get("kind") != DENSITY_KIND:
        raise _error(path, f"unknown class density kind {info.get('kind')!r}")
    components, covariance = info.get("components"), info.get("covariance")
    gain = info.get("heldout_gain_nats")
    temperature = info.get("temperature", 1.0)  # files before the setting sample at 1
    if not isinstance(temperature, int | float) or isinstance(temperature, bool):
        raise _error(path, "class density temperature must be a number")
    if (
        not isinstance(components, list)
        or not isinstance(covariance, list)
        or not isinstance(gain, int | float)
        or isinstance(gain, bool)
    ):
        raise _error(path, "class density metadata needs components, covariance and a gain")
    classes = config.num_classes if config.conditional else 1
    weights = tensors[DENSITY_PREFIX + "weights"]
    means = tensors[DENSITY_PREFIX + "means"]
    if weights.ndim != 2 or weights.shape[0] != classes or means.shape[-1:] != (config.latent_dim,):
        raise _error(
            path, f"class density must hold {classes} mixtures over {config.latent_dim} dimensions"
        )
    try:
        return LatentDensity(
            weights=weights,
            means=means,
            scale_tril=tensors[DENSITY_PREFIX + "scale_tril"],
            components=tuple(components),
            covariance=tuple(covariance),
            heldout_gain=float(gain),
            temperature=float(temperature),
        )
    except ValueError as exc:
        raise _error(path, f"invalid class density: {exc}") from None
