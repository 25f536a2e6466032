"""The status bar's line about the model shown."""

from __future__ import annotations

from latentlab.core.explore.document import Document

from .capabilities import image_size_text, kind_text, record_of, shown_name
from .test_images import DATASET_TITLES


def status_text(document: Document) -> str:
    """One line about the model shown: file, kind, latent size, data set, headline metrics.

    An imported or live model also says its image size ("imported ONNX, 8-D latent, 64 x 64
    RGB"), and whether it came with data; latentlab's own models are 28 x 28 grey digits.
    """
    model, record = document.model, record_of(document)
    head = f"{kind_text(document)}, {model.latent_dim}-D latent"
    if record is None:
        head += f", {image_size_text(model)}"
    parts = [shown_name(document), head]
    if document.dataset:
        parts.append(DATASET_TITLES.get(document.dataset, document.dataset))
    if record is None:
        points = document.points
        parts.append("decoder only" if points is None else f"{len(points):,} encoded images")
    metrics = getattr(record, "metrics", {}) or {}
    loss = metrics.get("test_loss")
    if isinstance(loss, int | float):
        parts.append(f"test loss {loss:.1f} nats")
    accuracy = metrics.get("test_accuracy")
    if isinstance(accuracy, int | float):
        parts.append(f"classifier {accuracy:.1%}")
    return "  ·  ".join(parts)
