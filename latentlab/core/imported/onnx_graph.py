"""One ONNX graph, read safely and run with onnxruntime on the CPU.

A graph is bytes until `check_self_contained` has passed them; only then does onnxruntime parse
them. The graph's signature (input and output names and shapes) comes from the session, and
`run` is the one place that feeds it: float32, contiguous, a dict by input name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentlab.core.errors import ModelFileError
from latentlab.core.imported.onnx_scan import GraphRefused, check_self_contained
from latentlab.core.safe_read import FileRefused, describe_size, open_regular, read_exact
from latentlab.core.safetensors_file import looks_like_text
from latentlab.core.text import first_line, shown_path

MAX_GRAPH_BYTES = 512 * 1024**2  # protobuf itself cannot hold a graph over 2 GB in one file


@dataclass(frozen=True)
class TensorInfo:
    """One input or output of a graph: its name and shape (None for a dynamic axis)."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str

    @property
    def rank(self) -> int:
        return len(self.shape)

    def describe(self) -> str:
        dims = ", ".join(
            "N" if i == 0 else ("?" if s is None else str(s)) for i, s in enumerate(self.shape)
        )
        return f"{self.name} ({dims})"


def read_graph_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a user's .onnx file: a regular file, within the size limit, self-contained."""
    path = Path(path)
    try:
        with open_regular(path, folder_problem="is a folder, not an ONNX graph") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_GRAPH_BYTES:
                raise FileRefused(
                    f"the graph is {describe_size(size)}; latentlab opens graphs up to "
                    f"{describe_size(MAX_GRAPH_BYTES)}"
                )
            if not size:
                raise FileRefused("the file is empty (0 bytes)")
            data = read_exact(f, size)
    except FileRefused as exc:
        raise ModelFileError(f"{shown_path(path)}: {exc.problem}") from None
    except FileNotFoundError:
        raise ModelFileError(f"{shown_path(path)}: no such file") from None
    except OSError as exc:
        raise ModelFileError(
            f"{shown_path(path)}: cannot be read ({exc.strerror or exc})"
        ) from None
    check_graph_bytes(data, shown_path(path))
    return data


def check_graph_bytes(data: bytes, where: str) -> None:
    """Refuse bytes that are not a self-contained ONNX model, naming ``where`` they came from."""
    try:
        check_self_contained(data)
    except GraphRefused as exc:
        problem = str(exc)
        if problem.startswith("not an ONNX model"):  # the detail is for a bug report, at the end
            kind = (
                "it looks like text"
                if looks_like_text(data[:4096])
                else "its bytes are not a graph"
            )
            problem = (
                f"this is not an ONNX model file ({kind}); export the network with "
                f"torch.onnx.export or tf2onnx and give the .onnx file [{problem}]"
            )
        raise ModelFileError(f"{where}: {problem}") from None


class OnnxGraph:
    """An onnxruntime session over checked graph bytes (CPU, no custom operators)."""

    def __init__(self, data: bytes, where: str) -> None:
        import onnxruntime as ort

        self.where = where
        options = ort.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are not the user's
        try:
            self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for invalid graphs
            raise ModelFileError(
                f"{where}: onnxruntime cannot load the graph ({first_line(exc)})"
            ) from None
        self.inputs = tuple(_info(i) for i in self.session.get_inputs())
        self.outputs = tuple(_info(o) for o in self.session.get_outputs())
        self._output_names = [o.name for o in self.outputs]

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Every output, for float32 inputs by name."""
        feeds = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in feeds.items()}
        try:
            return self.session.run(self._output_names, feeds)
        except Exception as exc:
            raise ModelFileError(
                f"{self.where}: the graph failed to run ({first_line(exc)})"
            ) from None

    def signature(self) -> str:
        ins = ", ".join(i.describe() for i in self.inputs)
        outs = ", ".join(o.describe() for o in self.outputs)
        return f"{ins} -> {outs}"


def _info(arg: object) -> TensorInfo:
    shape = tuple(s if isinstance(s, int) and s >= 0 else None for s in (arg.shape or ()))  # type: ignore[attr-defined]
    return TensorInfo(arg.name, shape, str(arg.type))  # type: ignore[attr-defined]
