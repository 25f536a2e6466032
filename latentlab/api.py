"""latentlab from a script or a notebook: explore live models, export them, load model files.

```python
import latentlab
latentlab.explore(decoder, encoder, images=x_test, labels=y_test, class_names=names)
latentlab.export("my-vae.latentlab", decoder, encoder, images=x_test, labels=y_test)
model = latentlab.load("my-vae.latentlab")  # .decode(z), .encode(images), .latent_dim ...
```

Networks are torch modules or numpy callables: ``decoder(z)`` (or ``decoder(z, onehot)`` for a
conditional model) returns images as (N, C, H, W), (N, H, W, C), (N, H, W) or flat; the layout
and pixel scale are worked out from one probe call, as for imported ONNX graphs.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from latentlab.core.explore.latent_model import ImageSpec

__all__ = ["explore", "export", "load"]


def load(path: str | os.PathLike[str]) -> Any:
    """The model in a latentlab file of any kind: ``decode``, ``encode``, ``latent_dim``,
    ``image_spec`` (``image_shape`` too, as (H, W, C)), ``class_names``."""
    from latentlab.core.model_files import open_model

    return open_model(path)


def _document(
    decoder: Any,
    encoder: Any,
    classifier: Any,
    images: Any,
    labels: Any,
    class_names: Any,
    options: dict[str, Any],
) -> Any:
    from latentlab.core.data.image_set import ImageSet
    from latentlab.core.explore.document import Document
    from latentlab.core.imported.importer import encode_source
    from latentlab.core.imported.live import array_source, live_model

    names = tuple(class_names or ())
    model = live_model(decoder, encoder, classifier, class_names=names, **options)
    points = stored = None
    if images is not None:
        if encoder is None:
            raise ValueError("images are mapped through an encoder; pass encoder= too")
        source = array_source(images, labels, names or None, model.image_spec)
        if source.class_names and not model.class_names:
            model = live_model(
                decoder, encoder, classifier, class_names=source.class_names, **options
            )
        job = encode_source(model, source)
        while True:
            try:
                next(job)
            except StopIteration as stop:
                points, thumbs = stop.value
                break
        stored = ImageSet("images", thumbs, source.labels, source.class_names)
    return Document(model, points, None, None, False, "", images=stored, source="live")


def explore(
    decoder: Any,
    encoder: Any = None,
    images: Any = None,
    labels: Any = None,
    class_names: Any = None,
    *,
    classifier: Any = None,
    latent_dim: int | None = None,
    classes: int = 0,
    output_range: str = "0,1",
    layout: str | None = None,
    image_shape: tuple[int, int, int] | None = None,
) -> None:
    """Open the explorer on live networks; returns when its window is closed.

    ``images`` (N, H, W[, C]) uint8 or float in [0, 1], with optional integer ``labels``, are
    encoded and shown as the scatter. Works from a script (it runs the Qt event loop) and from
    IPython with ``%gui qt`` (it waits in a local event loop).
    """
    options = {
        "latent_dim": latent_dim,
        "classes": classes,
        "output_range": output_range,
        "layout": layout,
        "image_shape": None if image_shape is None else ImageSpec(*image_shape),
    }
    document = _document(decoder, encoder, classifier, images, labels, class_names, options)

    from PySide6.QtCore import QEventLoop, Qt
    from PySide6.QtWidgets import QApplication

    from latentlab.gui import app as gui_app
    from latentlab.gui.main_window import MainWindow

    qt_app = QApplication.instance()
    if qt_app is None:
        gui_app.prepare_high_dpi()
        qt_app = QApplication(sys.argv[:1])
    gui_app.configure(qt_app)  # type: ignore[arg-type]
    window = MainWindow()
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    loop = QEventLoop()
    window.destroyed.connect(loop.quit)
    window.show()
    window.show_document(document)
    loop.exec()


def export(
    path: str | os.PathLike[str],
    decoder: Any,
    encoder: Any = None,
    images: Any = None,
    labels: Any = None,
    class_names: Any = None,
    *,
    classifier: Any = None,
    latent_dim: int | None = None,
    classes: int = 0,
    output_range: str = "0,1",
    opset: int = 17,
) -> Path:
    """Write torch modules (and images to show) as the one file `latentlab import` makes.

    The modules are exported to ONNX (a dynamic batch axis), then imported exactly as the CLI
    imports graphs, so the file opens in the app without Python or torch.
    """
    import torch

    from latentlab.core.imported.importer import ImportRequest, import_model, inspect_import
    from latentlab.core.imported.live import array_source, infer_latent_dim, live_model

    names = tuple(class_names or ())
    d = latent_dim or infer_latent_dim(decoder)
    model = live_model(
        decoder,
        encoder,
        classifier,
        latent_dim=d,
        classes=classes,
        class_names=names,
        output_range=output_range,
    )
    k = model.decoder_spec.classes
    h, w, c = model.image_spec.shape
    example_images = torch.zeros((2, *_input_shape(model, "encoder")))
    with tempfile.TemporaryDirectory(prefix="latentlab-export-") as folder:
        graphs: dict[str, Path] = {}
        z = torch.zeros((2, model.latent_dim))
        decoder_args = (z, torch.zeros((2, k))) if k else (z,)
        decoder_inputs = ["z", "c"] if k else ["z"]
        graphs["decoder"] = _export(
            decoder, decoder_args, decoder_inputs, Path(folder), "decoder", opset
        )
        if encoder is not None:
            graphs["encoder"] = _export(
                encoder, (example_images,), ["x"], Path(folder), "encoder", opset
            )
        if classifier is not None:
            cls_images = torch.zeros((2, *_input_shape(model, "classifier")))
            graphs["classifier"] = _export(
                classifier, (cls_images,), ["x"], Path(folder), "classifier", opset
            )
        request = ImportRequest(
            decoder=graphs["decoder"],
            encoder=graphs.get("encoder"),
            classifier=graphs.get("classifier"),
            class_names=names or None,
            output_range=output_range,
            layout=model.decoder_spec.layout,
            image_shape=ImageSpec(h, w, c),
        )
        source = None
        if images is not None:
            source = array_source(images, labels, names or None, model.image_spec)
            if source.class_names and not names:
                request = _with_names(request, source.class_names)
        plan = inspect_import(request, source)
        return import_model(plan, path)  # type: ignore[arg-type]


def _with_names(request: Any, names: tuple[str, ...]) -> Any:
    from dataclasses import replace

    return replace(request, class_names=names)


def _input_shape(model: Any, role: str) -> tuple[int, ...]:
    """The per-image shape the live ``role`` network took in its probe."""
    from latentlab.core.imported.layout import ImageLayout

    spec = model.encoder_spec if role == "encoder" else model.classifier_spec
    layout = spec.layout if spec is not None else "nchw"
    blank = np.zeros((1, *model.image_spec.shape), np.float32)
    return ImageLayout(layout, model.image_spec).from_explorer(blank).shape[1:]


def _export(
    module: Any, args: tuple[Any, ...], inputs: list[str], folder: Path, role: str, opset: int
) -> Path:
    import warnings

    import torch

    path = folder / f"{role}.onnx"
    module.eval()
    with torch.inference_mode():
        result = module(*args)
    count = len(result) if isinstance(result, tuple | list) else 1
    outputs = [f"out{i}" for i in range(count)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            module,
            args,
            str(path),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes={name: {0: "batch"} for name in inputs + outputs},
            opset_version=opset,
            dynamo=False,
        )
    return path
