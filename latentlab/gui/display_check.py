"""Can Qt open a window here? Asked before the QApplication exists, because Qt's own answer is an
abort (exit 134) with a message about a platform plugin.

No Qt import: only the environment and ``dlopen`` of the libraries Qt's X11 plugin (xcb) needs.
On Linux and the BSDs, with ``QT_QPA_PLATFORM`` unset or xcb / wayland:

- no ``DISPLAY`` and no ``WAYLAND_DISPLAY``: there is no desktop to show a window on;
- the X11 plugin's system libraries missing: the apt packages that provide them;
- ``DISPLAY`` set but nothing answers there (a closed SSH forwarding, a stopped Xvfb).

Any other platform plugin (``offscreen``, ``vnc``, ``eglfs``…) and macOS / Windows are Qt's own
business: no check.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

__all__ = ["XCB_LIBRARIES", "display_problem", "missing_libraries"]

# The libraries Qt 6's xcb plugin loads, and the Debian / Ubuntu package of each.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}

OFFSCREEN_HINT = "QT_QPA_PLATFORM=offscreen"

Loader = Callable[[str], object]


def _dlopen(name: str) -> object:
    return ctypes.CDLL(name)


def missing_libraries(load: Loader = _dlopen) -> list[str]:
    """The xcb plugin's libraries that cannot be loaded here (by their sonames)."""
    missing = []
    for name in XCB_LIBRARIES:
        try:
            load(name)
        except OSError:
            missing.append(name)
    return missing


def _x_display_answers(display: str) -> bool | None:
    """Whether an X server answers at `display`; None when libxcb itself cannot be loaded."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return None
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        return connection is not None and xcb.xcb_connection_has_error(connection) == 0
    finally:
        if connection is not None:
            xcb.xcb_disconnect(connection)


def display_problem(
    environ: Mapping[str, str] | None = None,
    *,
    platform: str = sys.platform,
    load: Loader = _dlopen,
    x_answers: Callable[[str], bool | None] = _x_display_answers,
) -> str | None:
    """One line saying why no window can open here and what to do, or None when it can."""
    env = os.environ if environ is None else environ
    if platform.startswith(("win", "darwin", "cygwin")):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    plugin = chosen.split(":", 1)[0].split(";", 1)[0].strip().lower()
    if plugin not in ("", "xcb", "wayland", "wayland-egl"):
        return None  # offscreen, minimal, vnc, eglfs…: Qt needs no display for these
    display = env.get("DISPLAY", "").strip()
    wayland = env.get("WAYLAND_DISPLAY", "").strip()
    if not display and not wayland:
        return (
            "no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set): "
            "run latentlab in a desktop session (or `ssh -X`, or under `xvfb-run`), or set "
            f"{OFFSCREEN_HINT} for a window nobody sees; the other commands "
            "(latentlab --help) need no display"
        )
    if plugin.startswith("wayland") or (wayland and plugin == ""):
        return None  # Qt's Wayland plugin needs none of the xcb libraries
    missing = missing_libraries(load)
    if missing:
        packages = sorted({XCB_LIBRARIES[name] for name in missing})
        return (
            f"Qt's X11 plugin cannot load {', '.join(missing)}: install them with "
            f"`sudo apt-get install {' '.join(packages)}` (Debian / Ubuntu; other systems: "
            f"the packages holding these files), or set {OFFSCREEN_HINT}"
        )
    answers = x_answers(display)
    if answers is False:
        return (
            f"no X server answers at DISPLAY={display}: start the desktop session (or Xvfb) "
            f"there, set DISPLAY to one that runs, or set {OFFSCREEN_HINT}"
        )
    return None
