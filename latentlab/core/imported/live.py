"""Live Python models as a `LatentModel`: torch modules or numpy callables, from a script.

Each network is wrapped as a graph-like object (named inputs, outputs, `run`), so the same
inspection as for ONNX graphs (`onnx_roles`) works out its layout, scale and wiring from a probe
call. torch is imported only when a torch module is given.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentlab.core.errors import LatentlabError, ModelFileError
from latentlab.core.explore.latent_model import ImageSpec
from latentlab.core.imported.layout import LAYOUTS, ImageLayout
from latentlab.core.imported.network_model import NetworkModel
from latentlab.core.imported.onnx_graph import TensorInfo
from latentlab.core.imported.onnx_roles import inspect_classifier, inspect_decoder, inspect_encoder
from latentlab.core.imported.specs import DecoderSpec

Network = Callable[..., Any]


def _is_torch(net: object) -> bool:
    return type(net).__module__.startswith("torch") or any(
        c.__module__.startswith("torch.nn") for c in type(net).__mro__
    )


def _to_numpy(value: Any) -> list[np.ndarray]:
    """A network's result (an array, a tensor, or a tuple / list of them) as numpy arrays."""
    items = value if isinstance(value, tuple | list) else (value,)
    arrays = []
    for item in items:
        if hasattr(item, "detach"):
            item = item.detach().float().cpu().numpy()
        arrays.append(np.asarray(item, dtype=np.float32))
    return arrays


class LiveGraph:
    """A Python network with the members `onnx_roles` reads of an `OnnxGraph`."""

    def __init__(self, net: Network, where: str, inputs: tuple[TensorInfo, ...]) -> None:
        self.net, self.where, self.inputs = net, where, inputs
        self.outputs: tuple[TensorInfo, ...] = (TensorInfo("out0", (), "float"),)
        self._torch = _is_torch(net)
        if self._torch:
            import torch

            net.eval()  # type: ignore[attr-defined]  # dropout and batch norm in inference mode
            params = list(net.parameters())  # type: ignore[attr-defined]
            self._device = params[0].device if params else torch.device("cpu")

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        args = [np.ascontiguousarray(feeds[i.name], dtype=np.float32) for i in self.inputs]
        try:
            if self._torch:
                import torch

                with torch.inference_mode():
                    result = self.net(*(torch.from_numpy(a).to(self._device) for a in args))
            else:
                result = self.net(*args)
            arrays = _to_numpy(result)
        except Exception as exc:
            raise ModelFileError(
                f"{self.where}: calling it failed ({type(exc).__name__}: {exc})"
            ) from None
        self.outputs = tuple(TensorInfo(f"out{i}", a.shape, "float") for i, a in enumerate(arrays))
        return arrays

    def runner(self) -> Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]:
        def run(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            arrays = self.run(feeds)
            return {f"out{i}": a for i, a in enumerate(arrays)}

        return run


def _positional_count(net: Network) -> int | None:
    """How many positional arguments ``net`` takes (None when it cannot be told)."""
    target = net.forward if hasattr(net, "forward") else net  # type: ignore[union-attr]
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    return sum(1 for p in params if p.kind in kinds and p.default is inspect.Parameter.empty)


def infer_latent_dim(decoder: Network) -> int | None:
    """``decoder.latent_dim``, else the input width of its first linear layer (torch)."""
    value = getattr(decoder, "latent_dim", None)
    if isinstance(value, int) and value > 0:
        return value
    modules = getattr(decoder, "modules", None)
    if callable(modules):
        for module in modules():
            width = getattr(module, "in_features", None)
            if isinstance(width, int):
                return width
    return None


def live_model(
    decoder: Network,
    encoder: Network | None = None,
    classifier: Network | None = None,
    *,
    latent_dim: int | None = None,
    classes: int = 0,
    class_names: tuple[str, ...] = (),
    output_range: str = "0,1",
    layout: str | None = None,
    image_shape: ImageSpec | None = None,
) -> NetworkModel:
    """A `LatentModel` over Python networks.

    ``decoder(z)`` (or ``decoder(z, onehot)`` with ``classes`` > 0) returns images in any layout
    `layout` reads; ``encoder(images)`` returns the mean, a (mean, log-variance) pair, or one
    (N, 2d) array; ``classifier(images)`` returns (N, K) scores.
    """
    d = latent_dim or infer_latent_dim(decoder)
    if d is None:
        raise LatentlabError("the decoder's latent size cannot be told; pass latent_dim=")
    count = _positional_count(decoder)
    if classes == 0 and class_names and count == 2:
        classes = len(class_names)
    if count == 2 and classes == 0:
        raise LatentlabError(
            "the decoder takes two inputs (z and a condition); pass classes= or class_names="
        )
    inputs = (TensorInfo("z", (None, d), "float"),)
    if classes:
        inputs += (TensorInfo("c", (None, classes), "float"),)
    dec_graph = LiveGraph(decoder, "decoder", inputs)
    dec_spec = inspect_decoder(
        dec_graph, output_range=output_range, layout=layout, image=image_shape
    )
    probe = NetworkModel(dec_graph.runner(), dec_spec).decode(
        np.random.default_rng(1).standard_normal((4, d)).astype(np.float32),
        np.eye(classes, dtype=np.float32)[np.arange(4) % classes] if classes else None,
    )
    enc_graph = enc_spec = cls_graph = cls_spec = None
    if encoder is not None:
        enc_graph, enc_spec = _image_network(encoder, "encoder", dec_spec, probe, inspect_encoder)
    if classifier is not None:
        cls_graph, cls_spec = _image_network(
            classifier, "classifier", dec_spec, probe, inspect_classifier
        )
    names = tuple(class_names) or tuple(
        str(i) for i in range(classes or (cls_spec.classes if cls_spec else 0))
    )
    return NetworkModel(
        dec_graph.runner(),
        dec_spec,
        encoder=enc_graph.runner() if enc_graph else None,
        encoder_spec=enc_spec,
        classifier=cls_graph.runner() if cls_graph else None,
        classifier_spec=cls_spec,
        class_names=names,
    )


def _image_network(
    net: Network, role: str, decoder: DecoderSpec, probe: np.ndarray, inspect_fn: Any
) -> tuple[LiveGraph, Any]:
    """The first image layout (the decoder's first) in which ``net`` runs and fits."""
    spec = ImageSpec(*decoder.image)
    order = [decoder.layout] + [layout for layout in LAYOUTS if layout != decoder.layout]
    problems = []
    for layout in order:
        if layout == "nhw" and spec.channels != 1:
            continue
        shape = ImageLayout(layout, spec).from_explorer(probe[:1]).shape
        graph = LiveGraph(net, role, (TensorInfo("x", (None, *shape[1:]), "float"),))
        try:
            return graph, inspect_fn(graph, decoder, probe, layout=layout)
        except ModelFileError as exc:
            problems.append(f"{layout}: {str(exc).split(': ', 1)[-1]}")
    raise LatentlabError(
        f"the {role} takes none of the image layouts the decoder's images come in ({'; '.join(problems)})"
    )


@dataclass
class ArraySource:
    """In-memory images as a data source for the importer (the live API's ``images=``)."""

    images: np.ndarray  # (N, H, W, C) uint8
    labels: np.ndarray | None
    class_names: tuple[str, ...]
    name: str = "in-memory images"
    kind: str = "array"
    path: Path = Path("images")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    @property
    def source_shape(self) -> tuple[int, int, int]:
        return self.image_shape

    def __len__(self) -> int:
        return len(self.images)

    def chunks(self, size: int, cancel: Any = None) -> Iterator[np.ndarray]:
        for start in range(0, len(self.images), size):
            yield self.images[start : start + size]


def array_source(
    images: Any, labels: Any, class_names: tuple[str, ...] | None, spec: ImageSpec
) -> ArraySource:
    """Images as uint8 (N, H, W, C) at the model's size: float arrays in [0, 1] or uint8,
    (N, H, W), (N, H, W, C) or (N, C, H, W); torch tensors too."""
    if hasattr(images, "detach"):
        images = images.detach().cpu().numpy()
    array = np.asarray(images)
    h, w, c = spec.shape
    if array.ndim == 3:
        array = array[..., None]
    if (
        array.ndim == 4
        and array.shape[1] == c
        and array.shape[1:3] == (c, h)
        and array.shape[3] == w
    ):
        array = array.transpose(0, 2, 3, 1)
    if array.ndim != 4 or array.shape[1:] != (h, w, c):
        raise LatentlabError(
            f"images are {list(np.shape(images))}, the model makes {h} x {w} x {c}"
        )
    if array.dtype != np.uint8:
        array = np.asarray(array, np.float32)
        if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
            raise LatentlabError("float images must hold values in [0, 1]")
        array = (array * 255 + 0.5).astype(np.uint8)
    names: tuple[str, ...] = tuple(class_names or ())
    label_array = None
    if labels is not None:
        if hasattr(labels, "detach"):
            labels = labels.detach().cpu().numpy()
        label_array = np.asarray(labels)
        if label_array.shape != (len(array),) or not np.issubdtype(label_array.dtype, np.integer):
            raise LatentlabError(
                f"labels must be {len(array)} integers, got {list(label_array.shape)}"
            )
        if not names:
            values = np.unique(label_array)
            names = tuple(str(v) for v in values)
            label_array = np.searchsorted(values, label_array)
        elif label_array.min() < 0 or label_array.max() >= len(names):
            raise LatentlabError(f"labels must be class numbers below {len(names)}")
    return ArraySource(np.ascontiguousarray(array), label_array, names)
