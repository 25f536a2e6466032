"""ONNX graphs as a `LatentModel`: onnxruntime sessions behind the shared `NetworkModel`."""

from __future__ import annotations

import numpy as np

from latentlab.core.imported.network_model import NetworkModel, Runner
from latentlab.core.imported.onnx_graph import OnnxGraph
from latentlab.core.imported.specs import ClassifierSpec, DecoderSpec, EncoderSpec


def graph_runner(graph: OnnxGraph) -> Runner:
    """A runner feeding ``graph`` by input name and returning its outputs by name."""
    names = [o.name for o in graph.outputs]

    def run(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(names, graph.run(feeds), strict=True))

    return run


def onnx_model(
    graphs: dict[str, OnnxGraph],
    decoder: DecoderSpec,
    encoder: EncoderSpec | None,
    classifier: ClassifierSpec | None,
    class_names: tuple[str, ...],
) -> NetworkModel:
    """The model over sessions by role ("decoder", and "encoder" / "classifier" when present)."""
    return NetworkModel(
        graph_runner(graphs["decoder"]),
        decoder,
        encoder=graph_runner(graphs["encoder"]) if encoder else None,
        encoder_spec=encoder,
        classifier=graph_runner(graphs["classifier"]) if classifier else None,
        classifier_spec=classifier,
        class_names=class_names,
    )
