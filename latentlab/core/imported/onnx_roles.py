"""Working out what a user's graphs are: which input is z, which output the image, which layout.

Each graph is read from its signature and then run once on a small probe (random latents for
the decoder, the decoder's own images for the encoder and classifier), so the answer rests on
arrays the graph really produced. Every mismatch is refused here, before anything is written,
in one line naming the graph and both sides of the mismatch.
"""

from __future__ import annotations

import numpy as np

from latentlab.core.errors import ModelFileError
from latentlab.core.explore.latent_model import ImageSpec
from latentlab.core.imported.layout import ImageLayout, LayoutError, infer_layout, range_problem
from latentlab.core.imported.onnx_graph import OnnxGraph, TensorInfo
from latentlab.core.imported.specs import ClassifierSpec, DecoderSpec, EncoderSpec

PROBE = 4  # latents decoded to learn the output's shape and scale
CONDITION_WORDS = ("cond", "label", "class", "onehot", "one_hot", "y", "c")
LOGVAR_WORDS = ("logvar", "log_var", "logsigma", "log_sigma", "lv")
MEAN_WORDS = ("mu", "mean", "loc", "z_mean")


def _refuse(graph: OnnxGraph, problem: str) -> ModelFileError:
    return ModelFileError(f"{graph.where}: {problem}")


def _float_inputs(graph: OnnxGraph) -> list[TensorInfo]:
    inputs = list(graph.inputs)
    for info in inputs:
        if "float" not in info.dtype:
            raise _refuse(graph, f"input {info.name} is {info.dtype}; latentlab feeds float32")
    return inputs


def _static(graph: OnnxGraph, info: TensorInfo, axis: int, what: str) -> int:
    size = info.shape[axis] if axis < info.rank else None
    if size is None or size < 1:
        raise _refuse(graph, f"{what} {info.describe()} has no fixed size; export it with one")
    return size


def _named(infos: list[TensorInfo], words: tuple[str, ...]) -> TensorInfo | None:
    for info in infos:
        name = info.name.lower()
        if name in words or any(name.startswith(w + "_") or name.endswith("_" + w) for w in words):
            return info
    return None


def inspect_decoder(
    graph: OnnxGraph,
    *,
    output_range: str = "0,1",
    layout: str | None = None,
    image: ImageSpec | None = None,
) -> DecoderSpec:
    """The decoder's spec: z (N, d), optionally a one-hot condition (N, K), an image out."""
    inputs = _float_inputs(graph)
    for info in inputs:
        if info.rank >= 3:
            raise _refuse(
                graph,
                f"input {info.describe()} takes images, but a decoder takes latent vectors (N, d); "
                "is this the encoder?",
            )
        if info.rank != 2:
            raise _refuse(graph, f"input {info.describe()} is not a batch of vectors (N, d)")
    if len(inputs) not in (1, 2):
        raise _refuse(
            graph,
            f"a decoder takes z, or z and a one-hot condition; this one takes {len(inputs)} inputs",
        )
    condition = None
    z = inputs[0]
    if len(inputs) == 2:
        condition = _named(inputs, CONDITION_WORDS) or inputs[1]
        z = inputs[1] if condition is inputs[0] else inputs[0]
    d = _static(graph, z, 1, "latent input")
    classes = 0 if condition is None else _static(graph, condition, 1, "condition input")
    if not graph.outputs:
        raise _refuse(graph, "the graph has no outputs")
    output = graph.outputs[0]
    rng = np.random.default_rng(0)
    feeds = {z.name: rng.standard_normal((PROBE, d)).astype(np.float32)}
    if condition is not None:
        feeds[condition.name] = np.eye(classes, dtype=np.float32)[np.arange(PROBE) % classes]
    raw = np.asarray(graph.run(feeds)[0])
    if raw.ndim < 1 or len(raw) != PROBE:
        raise _refuse(
            graph,
            f"output {output.name} has shape {list(raw.shape)} for {PROBE} latents; the first axis "
            "must be the batch (export with a dynamic batch axis)",
        )
    try:
        found = infer_layout(raw.shape, layout=layout, spec=image)
    except LayoutError as exc:
        raise _refuse(graph, f"output {output.name}: {exc}") from None
    problem = range_problem(raw, output_range)
    if problem:
        raise _refuse(graph, problem)
    return DecoderSpec(
        z_input=z.name,
        latent_dim=d,
        output=output.name,
        layout=found.layout,
        image=found.spec.shape,
        output_range=output_range,
        condition_input=None if condition is None else condition.name,
        classes=classes,
    )


def _image_input(graph: OnnxGraph, decoder: DecoderSpec, layout: str | None, role: str) -> str:
    """The layout ``graph`` takes the decoder's images in (its one input)."""
    inputs = _float_inputs(graph)
    if len(inputs) != 1:
        raise _refuse(
            graph, f"an {role} takes one input (the images); this one takes {len(inputs)}"
        )
    info = inputs[0]
    spec = ImageSpec(*decoder.image)
    h, w, c = spec.shape
    if info.rank == 2 and info.shape[1] == decoder.latent_dim and spec.values != decoder.latent_dim:
        raise _refuse(
            graph,
            f"input {info.describe()} takes latent vectors, but an {role} takes images; "
            "is this the decoder?",
        )
    if info.rank not in (2, 3, 4):
        raise _refuse(graph, f"input {info.describe()} is not a batch of images")
    if layout is not None:
        chosen = layout
    elif info.rank == 2:
        chosen = "flat"
    elif info.rank == 3:
        chosen = "nhw"
    elif info.shape[1] == c and info.shape[3] != c:
        chosen = "nchw"
    elif info.shape[3] == c and info.shape[1] != c:
        chosen = "nhwc"
    else:
        chosen = decoder.layout if decoder.layout in ("nchw", "nhwc") else "nchw"
    if chosen == "nhw" and c != 1:
        raise _refuse(
            graph, f"input {info.describe()} takes grey images, but the decoder makes RGB"
        )
    wanted = ImageLayout(chosen, spec)
    expected = wanted.from_explorer(np.zeros((1, h, w, c), np.float32)).shape[1:]
    declared = info.shape[1:]
    if len(declared) != len(expected) or any(
        s is not None and s != e for s, e in zip(declared, expected, strict=False)
    ):
        shown = ", ".join("?" if s is None else str(s) for s in declared)
        raise _refuse(
            graph,
            f"input {info.name} takes (N, {shown}), but the decoder makes {wanted.describe()}",
        )
    return chosen


def inspect_encoder(
    graph: OnnxGraph, decoder: DecoderSpec, probe: np.ndarray, *, layout: str | None = None
) -> EncoderSpec:
    """The encoder's spec; ``probe`` is a few of the decoder's images (N, H, W, C)."""
    chosen = _image_input(graph, decoder, layout, "encoder")
    d = decoder.latent_dim
    name = graph.inputs[0].name
    outputs = [
        np.asarray(o)
        for o in graph.run(
            {name: ImageLayout(chosen, ImageSpec(*decoder.image)).from_explorer(probe)}
        )
    ]
    infos = list(graph.outputs)
    widths = [o.shape[1] if o.ndim == 2 and len(o) == len(probe) else None for o in outputs]
    shown = ", ".join(f"{i.name} {list(o.shape)}" for i, o in zip(infos, outputs, strict=True))
    if len(outputs) == 1:
        if widths[0] == 2 * d:
            return EncoderSpec(name, chosen, infos[0].name, None, split=True)
        if widths[0] == d:
            return EncoderSpec(name, chosen, infos[0].name)
        raise _refuse(
            graph, f"gives {shown}, but the decoder reads {d}-D latents (want (N, {d}) means)"
        )
    mean = _named(infos, MEAN_WORDS) or infos[0]
    rest = [i for i in infos if i is not mean]
    logvar = _named(rest, LOGVAR_WORDS) or rest[0]
    for info in (mean, logvar):
        width = widths[infos.index(info)]
        if width != d:
            raise _refuse(
                graph,
                f"output {info.name} is {'?' if width is None else width}-D, but the decoder reads "
                f"{d}-D latents",
            )
    return EncoderSpec(name, chosen, mean.name, logvar.name)


def inspect_classifier(
    graph: OnnxGraph, decoder: DecoderSpec, probe: np.ndarray, *, layout: str | None = None
) -> ClassifierSpec:
    chosen = _image_input(graph, decoder, layout, "classifier")
    name = graph.inputs[0].name
    out = np.asarray(
        graph.run({name: ImageLayout(chosen, ImageSpec(*decoder.image)).from_explorer(probe)})[0]
    )
    if out.ndim != 2 or len(out) != len(probe) or out.shape[1] < 2:
        raise _refuse(
            graph, f"gives {list(out.shape)}; a classifier gives (N, K) scores for K >= 2 classes"
        )
    if decoder.classes and out.shape[1] != decoder.classes:
        raise _refuse(
            graph,
            f"scores {out.shape[1]} classes, but the decoder's condition has {decoder.classes}",
        )
    return ClassifierSpec(name, chosen, graph.outputs[0].name, int(out.shape[1]))
