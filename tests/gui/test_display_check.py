"""No display, or no Qt system libraries: one line and a non-zero exit, never Qt's abort (134)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from latentlab.gui.display_check import XCB_LIBRARIES, display_problem, missing_libraries

ROOT = Path(__file__).resolve().parents[2]


def _app_env(**changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    env["PYTHONPATH"] = str(ROOT)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.mark.parametrize("argv", [[], ["gui"]])
def test_the_app_without_a_display_says_so_in_one_line_and_exits_1(argv, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "latentlab", *argv],
        env=_app_env(XDG_CONFIG_HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("latentlab: error: no display")
    assert "QT_QPA_PLATFORM=offscreen" in lines[0]
    assert "xcb" not in lines[0].lower()  # Qt's own words never reach the user


def test_a_display_where_nothing_answers_is_named(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "latentlab"],
        env=_app_env(DISPLAY=":93", XDG_CONFIG_HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if not missing_libraries():
        assert out.returncode == 1
        assert out.stderr.strip() == (
            "latentlab: error: no X server answers at DISPLAY=:93: start the desktop session "
            "(or Xvfb) there, set DISPLAY to one that runs, or set QT_QPA_PLATFORM=offscreen"
        )
    else:  # this machine lacks the libraries: that is said first
        assert "sudo apt-get install" in out.stderr


def test_missing_xcb_libraries_name_the_apt_packages():
    absent = {"libxcb-cursor.so.0", "libxkbcommon-x11.so.0"}

    def load(name: str) -> object:
        if name in absent:
            raise OSError(f"{name}: cannot open shared object file")
        return object()

    problem = display_problem({"DISPLAY": ":0"}, platform="linux", load=load)
    assert problem is not None
    assert "libxcb-cursor.so.0, libxkbcommon-x11.so.0" in problem
    assert "sudo apt-get install libxcb-cursor0 libxkbcommon-x11-0" in problem
    assert "QT_QPA_PLATFORM=offscreen" in problem


def test_every_library_maps_to_a_package_the_readme_lists():
    readme = (ROOT / "README.md").read_text()
    for package in XCB_LIBRARIES.values():
        assert package in readme, package


@pytest.mark.parametrize(
    ("environ", "platform"),
    [
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
        ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, "linux"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux"),
        ({}, "darwin"),
        ({}, "win32"),
    ],
)
def test_platforms_that_need_no_x_display_are_left_to_qt(environ, platform):
    def no_library(name: str) -> object:
        raise OSError(name)

    assert display_problem(environ, platform=platform, load=no_library) is None


def test_a_working_x_display_passes():
    problem = display_problem(
        {"DISPLAY": ":0"}, platform="linux", load=lambda name: object(), x_answers=lambda d: True
    )
    assert problem is None
