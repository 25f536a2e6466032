"""Start the desktop explorer: QApplication, the window at once, then the model in the background.

Only PySide6, pyqtgraph, numpy and torch-free core modules are imported on this path, so the
window appears in well under a second; torch is imported only when training starts.

High-DPI: the scale factor is passed through unrounded (150 % stays 1.5, not 2), so text and
plots are sized as the desktop asks; the digits stay crisp because their pixels are drawn
without smoothing (see image_view).
"""

from __future__ import annotations

import sys

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QIcon, QPixmapCache
from PySide6.QtWidgets import QApplication

from . import settings, theme
from .main_window import MainWindow
from .theme import resources_dir

__all__ = ["APP_NAME", "configure", "main", "prepare_high_dpi", "resources_dir", "run"]

APP_NAME = "latentlab"
PIXMAP_CACHE_KB = 128 * 1024  # the scatter's pixmaps: points and two axes, 20 MB each at 4K


def prepare_high_dpi() -> None:
    """Use the desktop's exact scale factor; must run before the QApplication exists."""
    if QGuiApplication.instance() is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )


def configure(app: QApplication) -> None:
    """Names (they locate QSettings), the settings file checked, pyqtgraph options, the theme
    (palette, style sheets), icon."""
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    settings.prepare()  # before anything (the theme first) makes Qt open the settings file
    pg.setConfigOptions(antialias=False, imageAxisOrder="row-major")
    # Qt's default 10 MB holds the scatter's three pixmaps (points and the two axes' grid) for a
    # full-HD plot but not a 4K one, which would then be drawn again on every marker move.
    QPixmapCache.setCacheLimit(max(QPixmapCache.cacheLimit(), PIXMAP_CACHE_KB))
    theme.manager(app)  # the saved or system theme, followed from now on
    icon = resources_dir() / "latentlab.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


def run(model_path: str | None = None, argv: list[str] | None = None) -> int:
    """Show the window, load `model_path` (or the bundled default) in the background, run."""
    app = QApplication.instance()
    if app is None:
        prepare_high_dpi()
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    assert isinstance(app, QApplication)
    configure(app)
    window = MainWindow()
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    window.start(model_path)
    if settings.notices:  # already said on stderr; the window says it too, once
        window.statusBar().showMessage("Settings: " + " ".join(settings.notices), 30_000)
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
