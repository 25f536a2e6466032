"""Small ONNX graphs built in the tests (with onnx.helper: no torch, milliseconds each).

A decoder is z @ W (+ c @ V) -> activation -> reshape to the chosen layout; an encoder is the
transpose; weights come from a seed, so each test makes exactly the graph it needs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]


def _model(nodes, inputs, outputs, initializers, **kw) -> bytes:
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=kw.pop("opsets", OPSET), ir_version=8)
    return model.SerializeToString()


def _vec(name: str, size: int | None) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", size])


def _image_dims(h: int, w: int, c: int, layout: str) -> list[int]:
    return {"nchw": [c, h, w], "nhwc": [h, w, c], "nhw": [h, w], "flat": [h * w * c]}[layout]


def decoder(
    d: int = 4,
    h: int = 6,
    w: int = 5,
    c: int = 3,
    *,
    layout: str = "nchw",
    classes: int = 0,
    output: str = "sigmoid",
    seed: int = 0,
    z_name: str = "z",
    condition_name: str = "c",
) -> bytes:
    """A conditional (classes > 0) or plain linear decoder of (h, w, c) images."""
    rng = np.random.default_rng(seed)
    values = h * w * c
    inits = [numpy_helper.from_array(rng.standard_normal((d, values)).astype(np.float32), "W")]
    nodes = [helper.make_node("MatMul", [z_name, "W"], ["zw"])]
    inputs = [_vec(z_name, d)]
    last = "zw"
    if classes:
        inits.append(
            numpy_helper.from_array(
                (rng.standard_normal((classes, values)) * 3).astype(np.float32), "V"
            )
        )
        nodes += [
            helper.make_node("MatMul", [condition_name, "V"], ["cv"]),
            helper.make_node("Add", ["zw", "cv"], ["sum"]),
        ]
        inputs.append(_vec(condition_name, classes))
        last = "sum"
    if output == "sigmoid":
        nodes.append(helper.make_node("Sigmoid", [last], ["act"]))
    elif output == "tanh":
        nodes.append(helper.make_node("Tanh", [last], ["act"]))
    else:  # logits
        nodes.append(helper.make_node("Identity", [last], ["act"]))
    dims = _image_dims(h, w, c, layout)
    inits.append(numpy_helper.from_array(np.array([-1, *dims], np.int64), "shape"))
    nodes.append(helper.make_node("Reshape", ["act", "shape"], ["x"]))
    out = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *dims])
    return _model(nodes, inputs, [out], inits)


def encoder(
    d: int = 4,
    h: int = 6,
    w: int = 5,
    c: int = 3,
    *,
    layout: str = "nchw",
    outputs: str = "two",
    seed: int = 0,
) -> bytes:
    """Images -> mean and log-variance ("two"), one (N, 2d) output ("split"), or means ("mean")."""
    rng = np.random.default_rng(seed + 100)
    values = h * w * c
    dims = _image_dims(h, w, c, layout)
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", *dims])]
    nodes = []
    flat = "image"
    if layout == "nchw":  # to row-major H, W, C first, so every layout encodes the same
        nodes.append(helper.make_node("Transpose", ["image"], ["hwc"], perm=[0, 2, 3, 1]))
        flat = "hwc"
    inits = [numpy_helper.from_array(np.array([-1, values], np.int64), "flat_shape")]
    nodes.append(helper.make_node("Reshape", [flat, "flat_shape"], ["flat"]))
    width = 2 * d
    inits.append(
        numpy_helper.from_array(
            (rng.standard_normal((values, width)) * 0.3).astype(np.float32), "E"
        )
    )
    nodes.append(helper.make_node("MatMul", ["flat", "E"], ["both"]))
    if outputs == "split":
        outs = [_vec("both", width)]
    else:
        inits.append(numpy_helper.from_array(np.array([d, d], np.int64), "sizes"))
        nodes.append(helper.make_node("Split", ["both", "sizes"], ["mu", "logvar"], axis=1))
        outs = [_vec("mu", d)] if outputs == "mean" else [_vec("mu", d), _vec("logvar", d)]
    return _model(nodes, inputs, outs, inits)


def classifier(
    h: int = 6, w: int = 5, c: int = 3, classes: int = 3, *, layout: str = "nchw", seed: int = 0
) -> bytes:
    rng = np.random.default_rng(seed + 200)
    dims = _image_dims(h, w, c, layout)
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", *dims])]
    inits = [
        numpy_helper.from_array(np.array([-1, h * w * c], np.int64), "flat_shape"),
        numpy_helper.from_array(rng.standard_normal((h * w * c, classes)).astype(np.float32), "K"),
    ]
    nodes = [
        helper.make_node("Reshape", ["image", "flat_shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "K"], ["logits"]),
    ]
    return _model(nodes, inputs, [_vec("logits", classes)], inits)


def with_external_data(data: bytes, folder: Path) -> bytes:
    """The same graph with its first initialiser moved to an external file."""
    model = onnx.load_from_string(data)
    tensor = model.graph.initializer[0]
    raw = numpy_helper.to_array(tensor).tobytes()
    (folder / "weights.bin").write_bytes(raw)
    tensor.ClearField("float_data")
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "weights.bin"), ("offset", "0"), ("length", str(len(raw)))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return model.SerializeToString()


def with_custom_operator(data: bytes) -> bytes:
    """The same graph with a node from a custom operator domain."""
    model = onnx.load_from_string(data)
    model.graph.node[-1].domain = "com.example.evil"
    model.opset_import.append(helper.make_opsetid("com.example.evil", 1))
    return model.SerializeToString()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
