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

from latentlab.core.explore.document import Document


def open_document(path: str | os.PathLike[str]) -> Document:
    """Read, validate and open a model file for exploring (raises ModelFileError naming it)."""
    from latentlab.core.vae.checkpoint import load_model
    from latentlab.core.vae.latent_model import vae_document

    path = Path(path)
    return vae_document(load_model(path), path.resolve())


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
    }
