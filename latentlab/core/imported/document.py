"""An imported model file opened for exploring: sessions over its graphs, its points, its images."""

from __future__ import annotations

from pathlib import Path

from latentlab.core.data.image_set import ImageSet
from latentlab.core.explore.document import Document
from latentlab.core.imported.bundle import ImportedBundle
from latentlab.core.imported.network_model import NetworkModel
from latentlab.core.imported.onnx_graph import OnnxGraph
from latentlab.core.imported.onnx_model import onnx_model
from latentlab.core.text import shown_path


def bundle_model(bundle: ImportedBundle, path: Path | None = None) -> NetworkModel:
    """The bundle's graphs as one `LatentModel` (onnxruntime sessions, CPU)."""
    where = shown_path(path) if path is not None else "imported model"
    graphs = {
        role: OnnxGraph(data, f"{where} ({role} graph)") for role, data in bundle.graphs.items()
    }
    return onnx_model(graphs, bundle.decoder, bundle.encoder, bundle.classifier, bundle.class_names)


def stored_images(bundle: ImportedBundle, name: str) -> ImageSet | None:
    """The data's images as stored (full size or thumbnails), with labels and attributes."""
    if bundle.images is None:
        return None
    points = bundle.points
    labels = points.labels if points is not None and bundle.class_names else None
    return ImageSet(name, bundle.images, labels, bundle.class_names, dict(bundle.attributes))


def imported_document(bundle: ImportedBundle, path: Path | None = None) -> Document:
    """A `Document` over an imported model; points None when it came without data."""
    name = str(bundle.data.get("name", "")) or "imported data"
    return Document(
        model=bundle_model(bundle, path),
        points=bundle.points,
        payload=bundle,
        path=path,
        images=stored_images(bundle, name),
        source="onnx",
    )
