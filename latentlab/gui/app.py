"""Start the desktop explorer: QApplication, the window at once, then the model in the background.

Only PySide6, pyqtgraph, numpy and torch-free core modules are imported on this path, so the
window appears in well under a second; torch is imported only when training starts.

High-DPI: the scale factor is passed through unrounded (150 % stays 1.5, not 2), so text and
plots are sized as the desktop asks; the digits stay crisp because their pixels are drawn
without smoothing (see image_view).

SIGTERM, SIGINT (Ctrl+C in the terminal) and SIGHUP (the terminal closed) quit the app as
File > Quit does, without asking (`QuitOnSignal`): the run is cancelled and its thread joined,
the layout saved, and stderr says what was stopped and what was not saved. Exit 128 + the
signal's number (143 for SIGTERM), as a shell reports a process the signal killed.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, QSocketNotifier, Qt, Slot
from PySide6.QtGui import QGuiApplication, QIcon, QPixmapCache
from PySide6.QtWidgets import QApplication

from . import settings, theme
from .file_actions import discard_unsaved
from .main_window import MainWindow
from .theme import resources_dir

__all__ = [
    "APP_NAME",
    "STOP_SIGNALS",
    "QuitOnSignal",
    "configure",
    "main",
    "prepare_high_dpi",
    "resources_dir",
    "run",
]

APP_NAME = "latentlab"
PIXMAP_CACHE_KB = 128 * 1024  # the scatter's pixmaps: points and two axes, 20 MB each at 4K
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)


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
    QGuiApplication.setDesktopFileName(APP_NAME)  # Wayland matches the window to latentlab.desktop
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
    with QuitOnSignal(window) as stop:
        window.show()
        window.start(model_path)
        if settings.notices:  # already said on stderr; the window says it too, once
            window.statusBar().showMessage("Settings: " + " ".join(settings.notices), 30_000)
        code = app.exec()
    return code if stop.signum is None else 128 + stop.signum


class QuitOnSignal(QObject):
    """While in use, a stop signal (`STOP_SIGNALS`) closes `window` as File > Quit does.

    A Python signal handler runs only when the interpreter next runs, and the GUI thread sits in
    Qt's event loop, in C++. So the handler does nothing itself: Python's C-level handler writes
    the signal's number to a socket (`signal.set_wakeup_fd`), and a `QSocketNotifier` on the other
    end wakes the event loop, which calls `_on_wakeup` at once, between two events. That closes
    the window through its normal path (`closeEvent`: the layout saved, training cancelled and
    its thread joined) with the unsaved-model question answered Discard: a signal cannot ask.
    It then says on stderr what was stopped and leaves the event loop (with nested ones).

    From the first signal on, the default action is back: a second signal ends the process at
    once, should the close itself hang. Outside the main thread it does nothing.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.signum: int | None = None  # the signal that stopped the app
        self._previous: dict[int, Any] = {}
        self._previous_fd: int | None = None
        self._sockets: tuple[socket.socket, socket.socket] | None = None
        self._notifier: QSocketNotifier | None = None

    def __enter__(self) -> QuitOnSignal:
        try:
            reader, writer = socket.socketpair()
        except OSError:  # pragma: no cover - no sockets: the signals keep their default action
            return self
        for end in (reader, writer):
            end.setblocking(False)  # set_wakeup_fd needs it; the reader must never block Qt
        try:
            self._previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        except ValueError:  # not the main thread (an embedding or a test): leave signals alone
            reader.close()
            writer.close()
            return self
        self._sockets = (reader, writer)
        self._notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_wakeup)
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()
        if self._sockets is None:
            return
        signal.set_wakeup_fd(self._previous_fd if self._previous_fd is not None else -1)
        if self._notifier is not None:
            self._notifier.setEnabled(False)
        for end in self._sockets:
            end.close()
        self._sockets = None

    @staticmethod
    def _handle(signum: int, frame: object) -> None:
        """Python's handler: the work is done by `_on_wakeup`, from the event loop."""

    @Slot()
    def _on_wakeup(self) -> None:
        if self._sockets is None:
            return
        received = b""
        with contextlib.suppress(OSError):  # BlockingIOError once the socket is empty
            while chunk := self._sockets[0].recv(64):
                received += chunk
        signums = [n for n in received if n in STOP_SIGNALS]
        if signums and self.signum is None:
            self.stop(signums[0])

    def stop(self, signum: int) -> None:
        """Quit as File > Quit does, without asking; say what was stopped; exit 128 + `signum`."""
        self.signum = signum
        for number in STOP_SIGNALS:  # a second signal now kills at once
            signal.signal(number, signal.SIG_DFL)
        window, training = self._window, self._window.training
        running = training is not None and training.is_running
        epochs = training.epochs_done if running else 0
        unsaved = window.is_unsaved
        window.files.ask_unsaved = discard_unsaved  # a signal cannot ask
        if not window.close():  # pragma: no cover - closeEvent refuses only when the user says so
            window.shutdown()
        print(stopped_message(signum, running, epochs, unsaved), file=sys.stderr, flush=True)
        self.leave_event_loop(128 + signum)

    def leave_event_loop(self, code: int) -> None:
        """`QApplication.exit(code)`: every running event loop ends, nested ones too."""
        app = QApplication.instance()
        if app is not None:
            app.exit(code)


def stopped_message(signum: int, training: bool, epochs_done: int, unsaved: bool) -> str:
    """``latentlab: stopped by SIGTERM; …``: what a stop signal ended and what was not saved."""
    if signum == getattr(signal, "SIGINT", None):
        parts = ["interrupted (Ctrl+C)"]
    else:
        parts = [f"stopped by {signal.Signals(signum).name}"]
    if training:
        if epochs_done:
            after = f"after {epochs_done} epoch{'s' if epochs_done != 1 else ''}"
        else:
            after = "before its first epoch finished"
        parts.append(f"training was cancelled {after}, nothing was saved")
    if unsaved:
        parts.append("the unsaved model shown was not saved")
    return "latentlab: " + "; ".join(parts)


def main() -> int:
    """`python -m latentlab.gui.app [MODEL.safetensors]`."""
    args = sys.argv[1:]
    if args and args[0] in ("-h", "--help"):
        print("usage: python -m latentlab.gui.app [MODEL.safetensors]")
        return 0
    return run(args[0] if args else None)


if __name__ == "__main__":
    raise SystemExit(main())
