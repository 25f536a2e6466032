"""Start the desktop explorer: QApplication, the window at once, then the model in the background.

Only PySide6, pyqtgraph, numpy and torch-free core modules are imported on this path, so the
window appears in well under a second; torch is imported only when training starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from .main_window import MainWindow

APP_NAME = "latentlab"
_PACKAGE = Path(__file__).resolve().parents[1]


def resources_dir() -> Path:
    """`latentlab/_resources` in a wheel install; the repository's `resources/` otherwise."""
    installed = _PACKAGE / "_resources"
    return installed if installed.is_dir() else _PACKAGE.parent / "resources"


def configure(app: QApplication) -> None:
    """Names (they locate QSettings), pyqtgraph options, style sheet and icon."""
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    pg.setConfigOptions(antialias=False, imageAxisOrder="row-major")
    style = resources_dir() / "style.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    icon = resources_dir() / "latentlab.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


def run(model_path: str | None = None, argv: list[str] | None = None) -> int:
    """Show the window, load `model_path` (or the bundled default) in the background, run."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    assert isinstance(app, QApplication)
    configure(app)
    window = MainWindow()
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    window.start(model_path)
    return app.exec()


def main() -> int:
    """`python -m latentlab.gui.app [MODEL.safetensors]`."""
    args = sys.argv[1:]
    if args and args[0] in ("-h", "--help"):
        print("usage: python -m latentlab.gui.app [MODEL.safetensors]")
        return 0
    return run(args[0] if args else None)


if __name__ == "__main__":
    raise SystemExit(main())
