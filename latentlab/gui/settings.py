"""What the window remembers between runs (QSettings): geometry, splitters, recent models.

Every read goes through a fresh ``QSettings()`` so tests can redirect the storage with
``QSettings.setPath`` before a window is made, and a corrupt value degrades to the default.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 8
RECENT_KEY = "recent_models"


def settings() -> QSettings:
    """The app's settings store (organisation and app name come from the QApplication)."""
    return QSettings()


def recent_models() -> list[str]:
    """Recently opened model files, newest first, at most MAX_RECENT."""
    value = settings().value(RECENT_KEY, [])
    if isinstance(value, str):  # QSettings returns a lone string for a one-item list
        value = [value]
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if isinstance(v, str) and v][:MAX_RECENT]


def add_recent_model(path: str | Path) -> list[str]:
    """Put `path` at the top of the recent list (absolute, no duplicates) and return the list."""
    path = str(Path(path).resolve())
    items = [path] + [p for p in recent_models() if p != path]
    items = items[:MAX_RECENT]
    settings().setValue(RECENT_KEY, items)
    return items


def remove_recent_model(path: str | Path) -> list[str]:
    items = [p for p in recent_models() if p != str(path)]
    settings().setValue(RECENT_KEY, items)
    return items


def save_bytes(key: str, data: QByteArray) -> None:
    settings().setValue(key, data)


def load_bytes(key: str) -> QByteArray | None:
    """A QByteArray stored with save_bytes, or None when absent or of another type."""
    value = settings().value(key)
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None
