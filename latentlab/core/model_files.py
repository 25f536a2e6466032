"""Any model file latentlab opens, whatever its kind, recognised by its content.

A latentlab model (`core.vae.checkpoint`) and an imported model (`core.imported.bundle`) are both
safetensors files; the JSON metadata key says which. Everything that opens a file the user names
(the app's File > Open, every CLI command, `latentlab.load`) comes through here, so a new kind of
file is one branch in `open_document`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from latentlab.core.errors import ModelFileError
from latentlab.core.explore.document import Document
from latentlab.core.text import first_line, shown_path


def open_document(path: str | os.PathLike[str]) -> Document:
    """Read, validate and open a model file for exploring (raises ModelFileError naming it)."""
    from latentlab.core.imported.bundle import MAX_BUNDLE_BYTES, bundle_from_file, is_bundle
    from latentlab.core.safetensors_file import read_safetensors
    from latentlab.core.vae.checkpoint import MAX_MODEL_BYTES, record_from_file
    from latentlab.core.vae.latent_model import vae_document

    path = Path(path)
    limit = max(MAX_MODEL_BYTES, MAX_BUNDLE_BYTES)
    file = read_safetensors(path, max_bytes=limit, what="a latentlab model", on_header=_warm_up)
    try:
        if is_bundle(file):
            from latentlab.core.imported.document import imported_document

            return imported_document(bundle_from_file(path, file), path.resolve())
        return vae_document(record_from_file(path, file), path.resolve())
    except ValueError as exc:  # a valid file the explorer cannot show (no encoded test set)
        raise ModelFileError(f"{shown_path(path)}: {first_line(exc)}") from None


def _warm_up(header: dict[str, Any]) -> None:
    """An imported model needs onnxruntime (0.1 s to import): import it while the body reads."""
    meta = header.get("__metadata__")
    if isinstance(meta, dict) and "latentlab_import" in meta:
        import threading

        threading.Thread(target=_import_runtime, name="latentlab-onnxruntime", daemon=True).start()


def _import_runtime() -> None:
    import contextlib

    with contextlib.suppress(ImportError):  # said properly when the graphs are opened
        import onnxruntime  # noqa: F401


def open_model(path: str | os.PathLike[str]) -> Any:
    """The `LatentModel` in a model file of any kind (`latentlab.load`)."""
    return open_document(path).model


def describe(document: Document) -> dict[str, Any]:
    """What any model is, in the same keys for every kind (`latentlab info --json`, Model > Info)."""
    model = document.model
    spec = model.image_spec
    points = document.points
    return {
        "file": None if document.path is None else str(document.path),
        "source": document.source,
        "latent_dim": model.latent_dim,
        "image_shape": [spec.height, spec.width, spec.channels],
        "class_names": list(model.class_names) if model.class_names else None,
        "conditional": model.conditional,
        "can_encode": model.can_encode,
        "can_classify": model.can_classify,
        "points": 0 if points is None else len(points),
        "attributes": sorted(getattr(document.images, "attributes", None) or {}),
    }
