"""What an ONNX graph refers to outside itself, read from its bytes before any runtime sees it.

latentlab opens a user's graph only if it is self-contained and uses only the operators
onnxruntime ships: no external-data files (a graph naming ``/etc/passwd`` as tensor data would
have the runtime read it) and no custom operator domains (those need native libraries, which are
code). The check walks the protobuf wire format directly, skipping tensor payloads unread: the
`onnx` package would do the same but costs 0.7 s to import, on the path that opens a model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

# Operator domains onnxruntime implements itself ("" and "ai.onnx" are the standard operators).
BUILTIN_DOMAINS = frozenset(
    {"", "ai.onnx", "ai.onnx.ml", "com.microsoft", "ai.onnx.preview.training"}
)
MAX_DEPTH = 64  # subgraphs (If / Loop bodies) nested deeper than this are refused

# Field numbers from onnx.proto.
MODEL_GRAPH, MODEL_FUNCTIONS, MODEL_TRAINING = 7, 25, 20
GRAPH_NODE, GRAPH_INITIALIZER, GRAPH_SPARSE_INITIALIZER = 1, 5, 15
NODE_DOMAIN, NODE_ATTRIBUTE, NODE_OP_TYPE = 7, 5, 4
ATTR_T, ATTR_G, ATTR_TENSORS, ATTR_GRAPHS, ATTR_SPARSE, ATTR_SPARSES = 5, 6, 10, 11, 22, 23
TENSOR_EXTERNAL_DATA, TENSOR_DATA_LOCATION = 13, 14
SPARSE_VALUES, SPARSE_INDICES = 1, 2
FUNCTION_NODE, FUNCTION_DOMAIN = 7, 10
TRAINING_INITIALIZATION, TRAINING_ALGORITHM = 1, 2


class GraphRefused(ValueError):
    """The bytes are not a protobuf ONNX model, or it reaches outside itself."""


@dataclass
class GraphScan:
    """What a graph uses: operator domains (with an example operator each) and external data."""

    domains: dict[str, str] = field(default_factory=dict)  # domain -> one op_type using it
    function_domains: set[str] = field(default_factory=set)  # domains of the model's own functions
    external_tensors: int = 0
    nodes: int = 0

    @property
    def custom_domains(self) -> dict[str, str]:
        allowed = BUILTIN_DOMAINS | self.function_domains
        return {d: op for d, op in self.domains.items() if d not in allowed}


def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise GraphRefused("not an ONNX model (a protobuf number runs past the end)")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: memoryview) -> Iterator[tuple[int, int, memoryview | int]]:
    """(field number, wire type, value) of one message: sub-messages as views, unread."""
    pos = 0
    end = len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise GraphRefused("not an ONNX model (a protobuf field numbered 0)")
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, wire, value
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > end:
                raise GraphRefused("not an ONNX model (a protobuf field runs past the end)")
            yield number, wire, data[pos : pos + length]
            pos += length
        else:
            raise GraphRefused(f"not an ONNX model (protobuf wire type {wire})")
        if pos > end:
            raise GraphRefused("not an ONNX model (the bytes end inside a field)")


def scan_model(data: bytes) -> GraphScan:
    """Walk a serialised ModelProto; raise `GraphRefused` when it is not one."""
    scan = GraphScan()
    graphs = 0
    for number, wire, value in _fields(memoryview(data)):
        if wire != 2:
            continue
        if number == MODEL_GRAPH:
            graphs += 1
            _graph(value, scan, 0)
        elif number == MODEL_FUNCTIONS:
            _function(value, scan)
        elif number == MODEL_TRAINING:
            for sub, sub_wire, graph in _fields(value):
                if sub in (TRAINING_INITIALIZATION, TRAINING_ALGORITHM) and sub_wire == 2:
                    _graph(graph, scan, 1)
    if not graphs:
        raise GraphRefused("not an ONNX model (no graph in it)")
    return scan


def _graph(data: memoryview, scan: GraphScan, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise GraphRefused(f"subgraphs are nested more than {MAX_DEPTH} deep")
    for number, wire, value in _fields(data):
        if wire != 2:
            continue
        if number == GRAPH_NODE:
            _node(value, scan, depth)
        elif number == GRAPH_INITIALIZER:
            _tensor(value, scan)
        elif number == GRAPH_SPARSE_INITIALIZER:
            _sparse(value, scan)


def _node(data: memoryview, scan: GraphScan, depth: int) -> None:
    scan.nodes += 1
    domain, op_type = "", ""
    for number, wire, value in _fields(data):
        if wire != 2:
            continue
        if number == NODE_DOMAIN:
            domain = bytes(value).decode("utf-8", "replace")
        elif number == NODE_OP_TYPE:
            op_type = bytes(value).decode("utf-8", "replace")
        elif number == NODE_ATTRIBUTE:
            _attribute(value, scan, depth)
    scan.domains.setdefault(domain, op_type)


def _attribute(data: memoryview, scan: GraphScan, depth: int) -> None:
    for number, wire, value in _fields(data):
        if wire != 2:
            continue
        if number in (ATTR_T, ATTR_TENSORS):
            _tensor(value, scan)
        elif number in (ATTR_G, ATTR_GRAPHS):
            _graph(value, scan, depth + 1)
        elif number in (ATTR_SPARSE, ATTR_SPARSES):
            _sparse(value, scan)


def _tensor(data: memoryview, scan: GraphScan) -> None:
    for number, wire, value in _fields(data):
        if (number == TENSOR_DATA_LOCATION and wire == 0 and value == 1) or (
            number == TENSOR_EXTERNAL_DATA and wire == 2
        ):
            scan.external_tensors += 1
            return


def _sparse(data: memoryview, scan: GraphScan) -> None:
    for number, wire, value in _fields(data):
        if number in (SPARSE_VALUES, SPARSE_INDICES) and wire == 2:
            _tensor(value, scan)


def _function(data: memoryview, scan: GraphScan) -> None:
    for number, wire, value in _fields(data):
        if number == FUNCTION_DOMAIN and wire == 2:
            scan.function_domains.add(bytes(value).decode("utf-8", "replace"))
    for number, wire, value in _fields(data):
        if number == FUNCTION_NODE and wire == 2:
            _node(value, scan, 1)


def check_self_contained(data: bytes) -> GraphScan:
    """`scan_model`, refusing external data and custom operator domains (`GraphRefused`)."""
    scan = scan_model(data)
    if scan.external_tensors:
        raise GraphRefused(
            f"the graph keeps {scan.external_tensors} tensor(s) in external data files; "
            "latentlab opens only self-contained graphs (re-export with the weights inside, "
            "e.g. onnx.save(model, path, save_as_external_data=False))"
        )
    custom = scan.custom_domains
    if custom:
        domain, op = next(iter(sorted(custom.items())))
        raise GraphRefused(
            f"the graph uses custom operators (domain {domain!r}, e.g. {op!r}), which need native "
            "code latentlab does not load; export with standard ONNX operators only"
        )
    return scan
