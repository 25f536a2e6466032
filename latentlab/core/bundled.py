"""Where the bundled models are: inside the installed package, or in the source tree's models/."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL = "mnist-cvae.safetensors"
_PACKAGE = Path(__file__).resolve().parents[1]


def models_dir() -> Path:
    """`latentlab/_bundled_models` in a wheel install; the repository's `models/` otherwise."""
    installed = _PACKAGE / "_bundled_models"
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / "models"


def bundled_models() -> list[Path]:
    folder = models_dir()
    return sorted(folder.glob("*.safetensors")) if folder.is_dir() else []


def default_model_path() -> Path:
    return models_dir() / DEFAULT_MODEL
