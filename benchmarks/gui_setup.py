"""The models and environment of the GUI benchmarks' subprocesses (parent side, no Qt).

Both bundled models, or a stand-in of the same shapes where one is missing, and the offscreen
environment with settings kept out of the user's. bench_gui and bench_responsive share these.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STAND_IN_POINTS = 10_000  # the bundled models' encoded test set: all of MNIST's test images
MODELS = (  # (bundled file name, the preset it is trained from; None: the default preset)
    ("mnist-cvae.safetensors", None),
    ("mnist-vae-2d.safetensors", "vae-2d"),
)


# --- models ------------------------------------------------------------------------------------


def stand_in_model(folder: Path, preset: str | None, file_name: str) -> Path:
    """A model shaped like a bundled one (random weights, 10,000 encoded test images).

    Decode and paint costs depend only on the shapes and the number of points, so a stand-in
    times like the real file; the report says when one was used.
    """
    import numpy as np

    from latentlab.core.vae.checkpoint import save_model
    from latentlab.core.vae.config import DEFAULT_PRESET, PRESETS
    from latentlab.core.vae.layout import parameter_shapes
    from latentlab.core.vae.record import ModelRecord, TestEncoding

    config = PRESETS[preset or DEFAULT_PRESET].config
    rng = np.random.default_rng(0)
    weights = {
        name: (rng.standard_normal(shape) * 0.05).astype(np.float32)
        for name, shape in parameter_shapes(config).items()
    }
    n, c = STAND_IN_POINTS, config.num_classes
    labels = (np.arange(n) % c).astype(np.uint8)
    probs = None
    if config.conditional:
        logits = rng.standard_normal((n, c)) + 4 * np.eye(c)[labels]
        probs = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    encoding = TestEncoding(
        mu=rng.standard_normal((n, config.latent_dim)).astype(np.float32),
        logvar=np.full((n, config.latent_dim), -2.0, np.float32),
        labels=labels,
        probs=probs,
    )
    record = ModelRecord(config=config, weights=weights, test_encoding=encoding)
    return save_model(record, folder / f"stand-in-{file_name}")


def bundled_or_stand_ins(scratch: Path, explicit: str | None) -> list[tuple[Path, str]]:
    """(model file, note) for both bundled models; a stand-in where one is missing."""
    if explicit:
        return [(Path(explicit), f"model {Path(explicit).name}")]
    from latentlab.core.bundled import models_dir

    models = []
    for file_name, preset in MODELS:
        path = models_dir() / file_name
        if path.is_file():
            models.append((path, f"bundled {file_name}"))
        else:
            shapes = preset or "the default preset's"
            note = f"STAND-IN for {file_name} (missing): random weights, {shapes} shapes"
            models.append((stand_in_model(scratch, preset, file_name), note))
    return models


def subprocess_env(scratch: Path, data: Path, params: dict[str, Any], key: str) -> dict[str, str]:
    """Offscreen, settings and caches in `scratch`, the harness's parameters as JSON in `key`."""
    from common import python_env

    from latentlab.cli import APP_ENVIRONMENT

    return python_env(
        {
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_CONFIG_HOME": str(scratch / "config"),
            "XDG_CACHE_HOME": str(scratch / "cache"),
            "LATENTLAB_DATA_DIR": str(data),
            key: json.dumps(params),
            **APP_ENVIRONMENT,  # as the `latentlab` command sets it for the app
        }
    )
