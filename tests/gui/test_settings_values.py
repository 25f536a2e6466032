"""Settings in-process: where the file is, blobs refused by size, the window fitted onto its
screen, and `latentlab --reset-settings` (the real app's start-up cases: test_settings_files.py)."""

from __future__ import annotations

import os
import time

import pytest
from PySide6.QtCore import QByteArray, QRect, QSettings
from PySide6.QtWidgets import QMainWindow

from latentlab import cli
from latentlab.gui import settings
from latentlab.gui.window_layout import fit_on_screen


def test_the_settings_file_is_found_without_qt_opening_it():
    path = settings.settings_file()
    assert str(path) == QSettings().fileName()
    assert not path.exists()  # found, not created


def test_prepare_is_quiet_and_cheap_on_a_good_file(capsys):
    path = settings.settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[General]\ntheme=dark\n" + "recent_models=" + ", ".join(["/m.st"] * 8) + "\n")
    start = time.perf_counter()
    for _ in range(20):
        assert settings.prepare() == []
    per_call_ms = (time.perf_counter() - start) / 20 * 1000
    assert capsys.readouterr().err == ""
    assert per_call_ms < 50  # about 0.1 ms here; generous for a loaded machine


def test_a_blob_too_large_for_a_window_layout_is_ignored_and_named(capsys):
    settings.save_bytes("window/state", QByteArray(b"\0" * (settings.MAX_BLOB_BYTES + 1)))
    assert settings.load_bytes("window/state") is None
    assert "window/state is 65,537 bytes, more than a window layout can be" in (
        capsys.readouterr().err
    )
    settings.save_bytes("window/state", QByteArray(b"\1" * 100))
    assert settings.load_bytes("window/state") == QByteArray(b"\1" * 100)


@pytest.mark.parametrize(
    "saved",
    [QRect(5000, 4000, 600, 400), QRect(-3000, -2000, 600, 400), QRect(0, 0, 5000, 4000)],
    ids=["off-screen-right", "off-screen-left", "larger-than-the-screen"],
)
def test_a_window_saved_off_screen_or_too_large_comes_back_on_it(qtbot, saved):
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setGeometry(saved)
    fit_on_screen(window)
    area = window.screen().availableGeometry()
    assert area.contains(window.frameGeometry()), (window.frameGeometry(), area)


def test_a_restored_geometry_is_on_the_screen(qtbot, open_explorer_window):
    first = open_explorer_window()
    first.setGeometry(QRect(9000, 9000, 4000, 3000))
    first.close()  # saves the layout
    second = open_explorer_window()
    area = second.screen().availableGeometry()
    assert area.intersects(second.frameGeometry())
    assert second.width() <= area.width() and second.height() <= area.height()


def test_reset_settings_removes_the_file_and_says_so(capsys):
    path = settings.settings_file("latentlab", "latentlab")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[General]\ntheme=dark\n")
    assert cli.main(["--reset-settings"]) == 0
    assert not path.exists()
    assert (
        capsys.readouterr().out
        == f"latentlab: removed {path} (window layout, recent models, theme, training choices)\n"
    )
    assert cli.main(["--reset-settings"]) == 0
    assert "nothing to remove" in capsys.readouterr().out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX")
@pytest.mark.parametrize("kind", ["link", "fifo"])
def test_reset_settings_never_follows_a_link_nor_removes_what_it_did_not_write(
    tmp_path, capsys, kind
):
    path = settings.settings_file("latentlab", "latentlab")
    path.parent.mkdir(parents=True, exist_ok=True)
    target = tmp_path / "kept.conf"
    target.write_text("[General]\ntheme=dark\n")
    if kind == "link":
        path.symlink_to(target)
    else:
        os.mkfifo(path)
    assert cli.main(["--reset-settings"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith(f"latentlab: error: {path} is a ") and err.count("\n") == 1
    assert os.path.lexists(path) and target.read_text() == "[General]\ntheme=dark\n"
