"""The status bar's line about the model shown."""

from __future__ import annotations

from latentlab.core.explore.document import Document

from .test_images import DATASET_TITLES


def status_text(document: Document) -> str:
    """One line about the model shown: file, kind, latent size, data set, headline metrics."""
    model, record = document.model, document.payload
    kind = "conditional VAE" if model.conditional else "plain VAE"
    parts = [document.name, f"{kind}, {model.latent_dim}-D latent"]
    if document.dataset:
        parts.append(DATASET_TITLES.get(document.dataset, document.dataset))
    metrics = getattr(record, "metrics", {}) or {}
    loss = metrics.get("test_loss")
    if isinstance(loss, int | float):
        parts.append(f"test loss {loss:.1f} nats")
    accuracy = metrics.get("test_accuracy")
    if isinstance(accuracy, int | float):
        parts.append(f"classifier {accuracy:.1%}")
    return "  ·  ".join(parts)
