"""`latentlab import`: a user's ONNX graphs and images, checked, encoded and written as one file.

Two steps, so the app can show what it found before the long part: `inspect_import` reads and
checks every graph and the data's first image (nothing is encoded or written; every mismatch is
a one-line error naming the file and both sides), and `run_import` encodes the data in chunks,
memory bounded whatever its size, and writes the file atomically.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latentlab.core.atomic import check_writable
from latentlab.core.errors import DataError, LatentlabError
from latentlab.core.explore.latent_model import ImageSpec
from latentlab.core.explore.points import EncodedPoints
from latentlab.core.imported.bundle import ImportedBundle, write_bundle
from latentlab.core.imported.network_model import NetworkModel
from latentlab.core.imported.onnx_graph import OnnxGraph, read_graph_file
from latentlab.core.imported.onnx_model import onnx_model
from latentlab.core.imported.onnx_roles import inspect_classifier, inspect_decoder, inspect_encoder
from latentlab.core.imported.specs import ClassifierSpec, DecoderSpec, EncoderSpec
from latentlab.core.jobs import Cancel, Progress, check_cancelled
from latentlab.core.text import shown_path

CHUNK = 256  # images encoded per call: big enough for the runtime, small enough for memory
STORED_IMAGE_BYTES = 256 * 1024**2  # the data's images kept in the file; beyond this, thumbnails
PROBE_IMAGES = 4


@dataclass(frozen=True)
class ImportRequest:
    """What the user asked to import (the CLI's flags, the import dialog's fields)."""

    decoder: Path
    encoder: Path | None = None
    classifier: Path | None = None
    data: Path | None = None
    attributes: Path | None = None
    class_names: tuple[str, ...] | None = None
    output_range: str = "0,1"
    layout: str | None = None  # the decoder output's layout, when its shape is ambiguous
    image_shape: ImageSpec | None = None  # (H, W, C), for a flat or ambiguous output
    encoder_layout: str | None = None  # how the encoder and classifier take images
    resize: bool = False  # scale data images to the model's size instead of refusing


@dataclass
class ImportPlan:
    """What `inspect_import` found: the checked graphs, their wiring, the data to encode."""

    request: ImportRequest
    graphs: dict[str, bytes]
    sessions: dict[str, OnnxGraph]
    decoder: DecoderSpec
    encoder: EncoderSpec | None
    classifier: ClassifierSpec | None
    class_names: tuple[str, ...]
    source: Any = None  # a core.data.sources ImageSource, or None
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    label_map: np.ndarray | None = (
        None  # the data's label k is class label_map[k] (names reordered)
    )

    @property
    def model(self) -> NetworkModel:
        return onnx_model(
            self.sessions, self.decoder, self.encoder, self.classifier, self.class_names
        )

    @property
    def image_spec(self) -> ImageSpec:
        return ImageSpec(*self.decoder.image)

    def summary(self) -> list[str]:
        """One line per part: what was detected, for the user to check before importing."""
        r, dec = self.request, self.decoder
        z = f"latent {dec.z_input} (N, {dec.latent_dim})"
        if dec.condition_input:
            z += f" + one-hot {dec.condition_input} (N, {dec.classes})"
        lines = [
            f"decoder     {r.decoder.name}: {z} -> {dec.output} {dec.image_layout.describe()}, "
            f"values {dec.output_range.replace(',', '..')}"
        ]
        if self.encoder is not None and r.encoder is not None:
            enc = self.encoder
            if enc.split:
                out = f"{enc.mean} (N, {2 * dec.latent_dim}) = mean | log-variance"
            elif enc.logvar:
                out = f"{enc.mean} (mean), {enc.logvar} (log-variance), each (N, {dec.latent_dim})"
            else:
                out = f"mean {enc.mean} (N, {dec.latent_dim}) only (no variance: shown as 1)"
            lines.append(f"encoder     {r.encoder.name}: images {enc.layout.upper()} -> {out}")
        if self.classifier is not None and r.classifier is not None:
            cls = self.classifier
            lines.append(
                f"classifier  {r.classifier.name}: images {cls.layout.upper()} -> {cls.output} (N, {cls.classes})"
            )
        if self.source is not None:
            s = self.source
            h, w, c = s.image_shape
            size = f"{h} x {w} {'RGB' if c == 3 else 'grey'}"
            if tuple(s.source_shape[:2]) != (h, w):
                size += f" (resized from {s.source_shape[0]} x {s.source_shape[1]})"
            lines.append(f"data        {s.name} ({s.kind}): {len(s):,} images, {size}")
        else:
            lines.append("data        none: a decoder-only model (sliders, samples, grids, morphs)")
        if self.attributes:
            lines.append(f"attributes  {', '.join(sorted(self.attributes))}")
        names = ", ".join(self.class_names[:12]) + (" …" if len(self.class_names) > 12 else "")
        lines.append(
            f"classes     {len(self.class_names)}: {names}"
            if self.class_names
            else "classes     none (one colour)"
        )
        return lines


def _graph(path: Path, role: str) -> tuple[bytes, OnnxGraph]:
    data = read_graph_file(path)
    return data, OnnxGraph(data, shown_path(path))


def inspect_import(request: ImportRequest, source: Any = None) -> ImportPlan:
    """Check every part of ``request`` against the others; nothing is encoded or written.

    ``source`` is data already open (in-memory images from a script), instead of ``request.data``.
    """
    if source is not None and request.encoder is None:
        raise LatentlabError("images are mapped through an encoder; give an encoder too")
    if request.data is not None and request.encoder is None:
        raise LatentlabError(
            f"{shown_path(request.data)}: data is mapped through an encoder; give --encoder too"
        )
    if request.attributes is not None and request.data is None:
        raise LatentlabError(
            f"{shown_path(request.attributes)}: attributes describe data; give --data too"
        )
    graphs, sessions = {}, {}
    graphs["decoder"], sessions["decoder"] = _graph(request.decoder, "decoder")
    decoder = inspect_decoder(
        sessions["decoder"],
        output_range=request.output_range,
        layout=request.layout,
        image=request.image_shape,
    )
    probe = _probe_images(sessions["decoder"], decoder)
    encoder = classifier = None
    if request.encoder is not None:
        graphs["encoder"], sessions["encoder"] = _graph(request.encoder, "encoder")
        encoder = inspect_encoder(
            sessions["encoder"], decoder, probe, layout=request.encoder_layout
        )
    if request.classifier is not None:
        graphs["classifier"], sessions["classifier"] = _graph(request.classifier, "classifier")
        classifier = inspect_classifier(
            sessions["classifier"], decoder, probe, layout=request.encoder_layout
        )
    if request.data is not None:
        from latentlab.core.data.sources import open_source

        h, w, c = decoder.image
        source = open_source(request.data, size=(h, w), channels=c, resize=request.resize)
    class_names = _class_names(request, decoder, classifier, source)
    label_map = None
    if source is not None and source.class_names and set(source.class_names) == set(class_names):
        order = {name: i for i, name in enumerate(class_names)}
        label_map = np.array([order[name] for name in source.class_names], np.int32)
    attributes: dict[str, np.ndarray] = {}
    if request.attributes is not None:
        from latentlab.core.data.sources import read_attributes

        attributes = read_attributes(request.attributes, len(source))
    return ImportPlan(
        request,
        graphs,
        sessions,
        decoder,
        encoder,
        classifier,
        class_names,
        source,
        attributes,
        label_map,
    )


def _probe_images(graph: OnnxGraph, decoder: DecoderSpec) -> np.ndarray:
    """A few of the decoder's own images, to run the encoder and classifier on."""
    runner = NetworkModel(
        lambda feeds: dict(zip([o.name for o in graph.outputs], graph.run(feeds), strict=True)),
        decoder,
    )
    z = (
        np.random.default_rng(1)
        .standard_normal((PROBE_IMAGES, decoder.latent_dim))
        .astype(np.float32)
    )
    condition = (
        runner.condition(np.arange(PROBE_IMAGES) % max(decoder.classes, 1))
        if decoder.classes
        else None
    )
    return runner.decode(z, condition)


def _class_names(
    request: ImportRequest, decoder: DecoderSpec, classifier: ClassifierSpec | None, source: Any
) -> tuple[str, ...]:
    """The classes' names: given, else the data's, else numbers; every count must agree."""
    counts = {
        "the decoder's condition": decoder.classes,
        "the classifier": classifier.classes if classifier else 0,
    }
    counts = {what: k for what, k in counts.items() if k}
    if source is not None and source.class_names:
        counts[f"the data ({shown_path(source.path)})"] = len(source.class_names)
    if request.class_names is not None:
        names = tuple(request.class_names)
        if len(set(names)) != len(names) or not all(names):
            raise LatentlabError("--class-names must be distinct, non-empty names")
        for what, k in counts.items():
            if k != len(names):
                raise LatentlabError(
                    f"--class-names names {len(names)} classes, but {what} has {k}"
                )
        return names
    if len(set(counts.values())) > 1:
        shown = ", ".join(f"{what} has {k}" for what, k in counts.items())
        raise LatentlabError(f"the class counts disagree: {shown}")
    if source is not None and source.class_names:
        return tuple(source.class_names)
    if counts:
        return tuple(str(i) for i in range(next(iter(counts.values()))))
    return ()


def run_import(
    plan: ImportPlan | ImportRequest, out: str | Path, cancel: Cancel = None
) -> Generator[Progress, None, Path]:
    """Encode the plan's data in chunks and write the model file; yields progress."""
    if isinstance(plan, ImportRequest):
        plan = inspect_import(plan)
    out = Path(out)
    check_writable(out)
    model = plan.model
    points, images = None, None
    source = plan.source
    if source is not None:
        total = len(source)
        yield Progress(0, total, "encoding")
        points, images = yield from encode_source(model, source, cancel, plan.label_map)
    data = {}
    if source is not None:
        data = {
            "name": source.name,
            "kind": source.kind,
            "count": len(source),
            "shape": list(source.source_shape),
        }
    bundle = ImportedBundle(
        graphs=plan.graphs,
        decoder=plan.decoder,
        encoder=plan.encoder,
        classifier=plan.classifier,
        class_names=plan.class_names,
        points=points,
        images=images,
        attributes=plan.attributes,
        data=data,
        has_variance=model.has_variance if plan.encoder else True,
    )
    check_cancelled(cancel)
    yield Progress(1, 1, "writing")
    return write_bundle(bundle, out)


def encode_source(
    model: NetworkModel, source: Any, cancel: Cancel = None, label_map: np.ndarray | None = None
) -> Generator[Progress, None, tuple[EncodedPoints, np.ndarray]]:
    """Encode (and classify) every image of ``source`` in chunks; the points and stored images."""
    n, d = len(source), model.latent_dim
    h, w, c = model.image_spec.shape
    factor = thumbnail_factor(n, model.image_spec)
    mu = np.empty((n, d), np.float32)
    logvar = np.empty((n, d), np.float32)
    classes = model.classifier_spec.classes if model.classifier_spec else 0
    probs = np.empty((n, classes), np.float32) if classes else None
    stored = np.empty((n, h // factor, w // factor, c), np.uint8)
    done = 0
    for chunk in source.chunks(CHUNK, cancel=cancel):
        check_cancelled(cancel)
        k = len(chunk)
        x = np.multiply(chunk, np.float32(1 / 255), dtype=np.float32)  # one pass, no temporary
        m, v = model.encode(x)
        if not (np.isfinite(m).all() and np.isfinite(v).all()):
            first = done + int(np.argmax(~(np.isfinite(m).all(1) & np.isfinite(v).all(1))))
            raise DataError(
                f"{shown_path(source.path)}: the encoder gave NaN or infinite values for image {first}"
            )
        mu[done : done + k], logvar[done : done + k] = m, np.log(np.maximum(v, 1e-30))
        if probs is not None:
            probs[done : done + k] = model.classify(x)
        stored[done : done + k] = thumbnails(chunk, factor)
        done += k
        yield Progress(done, n, "encoding")
    if done != n:
        raise DataError(f"{shown_path(source.path)}: expected {n:,} images, read {done:,}")
    if source.labels is not None:
        labels = np.asarray(source.labels, np.int32)
        if label_map is not None:  # the user named the classes in another order
            labels = label_map[labels]
    elif probs is not None:
        labels = probs.argmax(axis=1).astype(np.int32)  # unlabelled: the classifier's reading
    else:
        labels = np.zeros(n, np.int32)
    return EncodedPoints(mu=mu, logvar=logvar, labels=labels, probs=probs), stored


def thumbnail_factor(count: int, spec: ImageSpec) -> int:
    """The integer factor images are shrunk by so all of them fit in STORED_IMAGE_BYTES."""
    total = count * spec.values
    if total <= STORED_IMAGE_BYTES:
        return 1
    factor = math.ceil(math.sqrt(total / STORED_IMAGE_BYTES))
    return min(factor, spec.height, spec.width)


def thumbnails(images: np.ndarray, factor: int) -> np.ndarray:
    """Images (n, H, W, C) uint8 averaged over ``factor`` x ``factor`` blocks (edges cropped)."""
    if factor == 1:
        return images
    n, h, w, c = images.shape
    hh, ww = h // factor, w // factor
    blocks = images[:, : hh * factor, : ww * factor].reshape(n, hh, factor, ww, factor, c)
    return (blocks.mean(axis=(2, 4)) + 0.5).astype(np.uint8)


def import_model(
    request: ImportRequest, out: str | Path, cancel: Cancel = None, report: Any = None
) -> Path:
    """`run_import` to the end (a script's or the CLI's way); ``report`` gets each Progress."""
    job = run_import(request, out, cancel)
    while True:
        try:
            progress = next(job)
        except StopIteration as stop:
            return stop.value
        if report is not None:
            report(progress)
