"""examples/colour_shapes_vae.py runs end to end: train, export, `latentlab import`, open the file.

The example is documentation a reader copies, so it is run as a reader would (its own `main`,
`--quick`), and the file it writes is opened the way the app opens any model file.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "colour_shapes_vae.py"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]  # about 8 s: torch, 1 epoch, import


def load_example(monkeypatch: pytest.MonkeyPatch):
    spec = importlib.util.spec_from_file_location("colour_shapes_vae", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_quick_run_writes_a_model_the_app_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnx")  # torch's exporter needs it
    pytest.importorskip("latentlab.core.data.sources")  # the --data readers (branch data)
    from latentlab.core.model_files import open_document

    example = load_example(monkeypatch)
    assert example.main(["--quick", "--out", str(tmp_path), "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "$ latentlab import --decoder=" in printed  # the command, for a reader to copy

    document = open_document(tmp_path / "shapes.latentlab")
    model, points, images = document.model, document.points, document.images
    assert model.image_spec.shape == (32, 32, 3)
    assert model.class_names == ("circle", "square", "triangle")
    assert model.can_encode
    assert points is not None and len(points) == 300
    assert set(np.unique(points.labels)) == {0, 1, 2}

    decoded = model.decode(np.zeros((2, model.latent_dim), np.float32))
    assert decoded.shape == (2, 32, 32, 3) and decoded.dtype == np.float32
    assert np.isfinite(decoded).all() and decoded.min() >= 0 and decoded.max() <= 1

    assert images is not None and images.images.shape == (300, 32, 32, 3)
    assert np.array_equal(images.labels, points.labels)
    attributes = images.attributes
    assert set(attributes) == {"hue", "size", "x", "y"}
    assert all(len(v) == 300 for v in attributes.values())
    # Each row describes its own image: the shape's centre (x, y) is painted, not background.
    x = attributes["x"].astype(int)
    y = attributes["y"].astype(int)
    centres = images.images[np.arange(300), y, x]
    assert (np.abs(centres.astype(int) - example.BACKGROUND).sum(axis=1) > 30).all()
