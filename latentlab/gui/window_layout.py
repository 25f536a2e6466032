"""The window's size, docks and splitter, remembered between runs (QSettings)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter, QStackedWidget

from . import settings

DEFAULT_SIZE = QSize(1280, 820)


class WindowLayout:
    """Restores and saves the geometry, the dock layout and the main splitter of `window`."""

    def __init__(
        self, window: QMainWindow, splitter: QSplitter, training_dock: QDockWidget | None
    ) -> None:
        self._window = window
        self._splitters = {"window/splitter": splitter}
        self._training_dock = training_dock
        self._pending: dict[str, object] = {}

    def restore(self) -> None:
        window = self._window
        geometry = settings.load_bytes("window/geometry")
        if geometry is not None and window.restoreGeometry(geometry):
            fit_on_screen(window)  # saved on another screen, or edited: it comes back on this one
        else:
            window.resize(DEFAULT_SIZE)  # placed (and fitted) by the window manager
        state = settings.load_bytes("window/state")
        if state is not None:
            window.restoreState(state)
        if self._training_dock is not None:
            self._training_dock.hide()  # shown when training starts
        # Splitters are restored when the explorer page first shows, at its real size: a state
        # restored into the hidden page would be undone when the page is laid out.
        self._pending = {key: settings.load_bytes(key) for key in self._splitters}

    def save(self, explorer_shown: bool) -> None:
        settings.save_bytes("window/geometry", self._window.saveGeometry())
        settings.save_bytes("window/state", self._window.saveState())
        for key, splitter in self._splitters.items():
            pending = self._pending.get(key)
            if explorer_shown:
                settings.save_bytes(key, splitter.saveState())
            elif pending is not None:
                settings.save_bytes(key, pending)  # never shown this run: keep the old layout

    def restore_splitters(self, stack: QStackedWidget) -> None:
        """Apply the saved splitter layout once, the first time the explorer page is shown."""
        if not any(self._pending.values()):
            self._pending.clear()
            return
        page = stack.currentWidget()
        page.setGeometry(stack.contentsRect())  # lay the page out now, at its real size
        page.layout().activate()
        for key, splitter in self._splitters.items():
            state = self._pending.pop(key, None)
            if state is not None:
                splitter.restoreState(state)


def fit_on_screen(window: QMainWindow) -> None:
    """Shrink `window` to the available area of its screen and move it onto that area.

    A geometry saved on a larger or a since-removed screen, or edited by hand, comes back whole
    and visible. A maximised or full-screen window is left to the window manager.
    """
    if window.windowState() & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen):
        return
    frame = window.frameGeometry()
    screen = QGuiApplication.screenAt(frame.center()) or QGuiApplication.primaryScreen()
    if screen is None:
        return
    area = screen.availableGeometry()
    extra_w = frame.width() - window.width()  # the window frame, 0 before the first show
    extra_h = frame.height() - window.height()
    width = max(1, min(window.width(), area.width() - extra_w))
    height = max(1, min(window.height(), area.height() - extra_h))
    if (width, height) != (window.width(), window.height()):
        window.resize(width, height)
    frame = window.frameGeometry()
    x = min(max(frame.x(), area.left()), area.left() + area.width() - frame.width())
    y = min(max(frame.y(), area.top()), area.top() + area.height() - frame.height())
    if (x, y) != (frame.x(), frame.y()):
        window.move(x, y)
