"""The app always starts, whatever sits at the settings path: the real app, in a subprocess.

Each case puts something hostile where QSettings keeps the settings (``XDG_CONFIG_HOME`` points
at the test's folder), starts the real app (``app.run``), lets it show the window and quit, and
checks that it exited 0 within the timeout, said once on stderr (and in the status bar) what it
ignored, and left what it must not touch as it was. Unpatched, these cases aborted the app with
``std::bad_alloc`` at every start, hung it, or replaced a device with a regular file;
``test_unchecked_qt_*`` prove the payloads still do that to plain Qt, so the tests are honest.
"""

from __future__ import annotations

import os
import stat
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX (FIFOs, devices)")

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60  # the app starts in about a second; a hang runs into this
ADDRESS_SPACE = 8 * 1024**3  # the app needs far less; a 2^31-item QVariantList needs 64 GiB


def variant_list_claiming(count: int) -> str:
    """A QSettings INI value: a QVariant (QDataStream, Qt 4.0 format) of a list of `count` items.

    QVariantList is type 9; the stream has the count and no items. Qt reserves room for all of
    them before it reads the first.
    """
    data = struct.pack(">II", 9, count)
    return "@Variant(" + "".join(f"\\x{b:x}" if b else "\\0" for b in data) + ")"


HOSTILE_VARIANT = variant_list_claiming(2**31)

CHILD = textwrap.dedent(
    f"""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication
    from latentlab.gui import app as app_module, main_window

    def poll():
        for w in QApplication.topLevelWidgets():
            if isinstance(w, main_window.MainWindow) and w.isVisible():
                print("SHOWN")
                print("STATUS", w.statusBar().currentMessage())
                print("FILE", QSettings().fileName())
                w.close()  # saves the layout, as quitting does
                QApplication.quit()
                return
        QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
    raise SystemExit(app_module.run(argv=sys.argv[:1]))
    """
)


def run_app(config_home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(config_home),
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    return subprocess.run(
        [sys.executable, "-c", CHILD],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        cwd=REPO,
    )


def settings_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("latentlab: settings")]


def stdout_value(result: subprocess.CompletedProcess[str], tag: str) -> str:
    for line in result.stdout.splitlines():
        if line.startswith(tag + " "):
            return line[len(tag) + 1 :]
    raise AssertionError(f"no {tag} line in {result.stdout!r}")


@pytest.fixture
def config_home(tmp_path: Path) -> Path:
    home = tmp_path / "config"
    (home / "latentlab").mkdir(parents=True)
    return home


def settings_path(config_home: Path) -> Path:
    return config_home / "latentlab" / "latentlab.conf"


def a_device(tmp_path: Path) -> Path:
    """A character device the test may lose: a copy of /dev/null's node when root can make one.

    If the check failed and Qt saved through a link to it, only this node would be replaced.
    Others get /dev/null itself, which they cannot replace.
    """
    node = tmp_path / "null-device"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        return node
    except (PermissionError, OSError):
        return Path("/dev/null")


def assert_started_cleanly(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    assert "SHOWN" in result.stdout.splitlines(), result.stderr
    assert "Traceback" not in result.stderr and "bad_alloc" not in result.stderr


# --- values Qt cannot read safely ---------------------------------------------------------------


@pytest.mark.parametrize("key", ["junk", "geometry"], ids=["unread-key", "geometry-key"])
def test_a_variant_list_claiming_2_31_items_is_removed_and_the_rest_kept(config_home, key):
    path = settings_path(config_home)
    path.write_text(
        "[General]\ntheme=dark\nrecent_models=/models/a.safetensors, /models/b.safetensors\n\n"
        f"[window]\n{key}={HOSTILE_VARIANT}\n"
    )
    result = run_app(config_home)
    assert_started_cleanly(result)
    (said,) = settings_lines(result)
    assert "removed 1 value latentlab never writes" in said and f"window/{key}" in said
    assert str(path) in said
    assert stdout_value(result, "STATUS").startswith("Settings: removed 1 value")
    text = path.read_text()
    assert "@Variant(" not in text
    assert "theme=dark" in text and "/models/a.safetensors, /models/b.safetensors" in text
    assert "geometry=@ByteArray(" in text  # the layout was saved on quit, as usual

    again = run_app(config_home)  # the next start is clean and quiet
    assert_started_cleanly(again)
    assert settings_lines(again) == []


# --- files Qt must neither read nor write -------------------------------------------------------


def _fifo(config_home: Path, tmp_path: Path) -> tuple[Path, str]:
    os.mkfifo(settings_path(config_home))
    return settings_path(config_home), "is a named pipe (FIFO)"


def _link_to_device(config_home: Path, tmp_path: Path) -> tuple[Path, str]:
    device = a_device(tmp_path)
    settings_path(config_home).symlink_to(device)
    return device, f"is a link to a character device ({device})"


def _link_to_fifo(config_home: Path, tmp_path: Path) -> tuple[Path, str]:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    settings_path(config_home).symlink_to(fifo)
    return fifo, f"is a link to a named pipe (FIFO) ({fifo})"


def _dangling_link(config_home: Path, tmp_path: Path) -> tuple[Path, str]:
    target = tmp_path / "nowhere" / "settings.conf"
    settings_path(config_home).symlink_to(target)
    return target, f"is a link to {target}, which does not exist"


def _folder(config_home: Path, tmp_path: Path) -> tuple[Path, str]:
    settings_path(config_home).mkdir()
    return settings_path(config_home), "is a folder"


def _too_large(config_home: Path, tmp_path: Path) -> tuple[Path, str]:
    path = settings_path(config_home)
    with open(path, "wb") as f:
        f.write(b"[General]\ntheme=dark\n")
        f.truncate(2 * 1024 * 1024)  # sparse: 2 MiB of settings text that nobody wrote
    return path, "is 2,097,152 bytes, more than a settings file can be (1,048,576)"


def _fifo_lock(config_home: Path, tmp_path: Path) -> tuple[Path, str]:
    settings_path(config_home).write_text("[General]\ntheme=dark\n")
    lock = settings_path(config_home).with_name("latentlab.conf.lock")
    os.mkfifo(lock)
    return lock, "is a named pipe (FIFO)"


def _fifo_organisation_file(config_home: Path, tmp_path: Path) -> tuple[Path, str]:
    fallback = config_home / "latentlab.conf"  # Qt reads it for every app of the organisation
    os.mkfifo(fallback)
    return fallback, "is a named pipe (FIFO)"


UNTOUCHABLE = {
    "fifo": _fifo,
    "link-to-device": _link_to_device,
    "link-to-fifo": _link_to_fifo,
    "dangling-link": _dangling_link,
    "folder": _folder,
    "too-large": _too_large,
    "fifo-lock-file": _fifo_lock,
    "fifo-organisation-file": _fifo_organisation_file,
}


def _fingerprint(path: Path) -> tuple:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ("absent",)
    return (stat.S_IFMT(st.st_mode), st.st_ino, st.st_size, st.st_mtime_ns)


@pytest.mark.parametrize("make", list(UNTOUCHABLE.values()), ids=list(UNTOUCHABLE))
def test_a_settings_path_that_is_no_settings_file_is_left_alone(config_home, tmp_path, make):
    touched, problem = make(config_home, tmp_path)
    watched = [touched, settings_path(config_home)]
    before = [_fingerprint(p) for p in watched]

    result = run_app(config_home)

    assert_started_cleanly(result)
    (said,) = settings_lines(result)
    assert problem in said, said
    assert "neither reads nor writes it" in said and "--reset-settings" in said
    assert stdout_value(result, "STATUS").startswith("Settings: ")
    assert not stdout_value(result, "FILE").startswith(str(config_home))  # a throwaway folder
    assert [_fingerprint(p) for p in watched] == before  # not replaced, not written, not created


def test_good_settings_are_read_and_saved_without_a_word(config_home):
    path = settings_path(config_home)
    path.write_text("[General]\ntheme=dark\n")
    result = run_app(config_home)
    assert_started_cleanly(result)
    assert settings_lines(result) == []
    assert stdout_value(result, "STATUS") == "" or "Settings" not in stdout_value(result, "STATUS")
    assert stdout_value(result, "FILE") == str(path)
    text = path.read_text()
    assert "theme=dark" in text and "geometry=@ByteArray(" in text


def test_a_link_to_a_regular_settings_file_is_followed(config_home, tmp_path):
    """Settings kept elsewhere (a dotfiles folder) through a link are read and saved there."""
    real = tmp_path / "dotfiles" / "latentlab.conf"
    real.parent.mkdir()
    real.write_text("[General]\ntheme=dark\n")
    settings_path(config_home).symlink_to(real)
    result = run_app(config_home)
    assert_started_cleanly(result)
    assert settings_lines(result) == []
    assert settings_path(config_home).is_symlink()
    assert "geometry=@ByteArray(" in real.read_text()


# --- what these payloads do to Qt unchecked ----------------------------------------------------

PLAIN_QT = textwrap.dedent(
    f"""
    import resource
    resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))
    from PySide6.QtCore import QCoreApplication, QSettings
    app = QCoreApplication([])
    app.setOrganizationName("latentlab"); app.setApplicationName("latentlab")
    print("VALUE", QSettings().value("window/other"), flush=True)
    """
)


def _plain_qt(config_home: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home)}
    return subprocess.run(
        [sys.executable, "-c", PLAIN_QT], env=env, capture_output=True, text=True, timeout=timeout
    )


def test_unchecked_qt_aborts_on_the_variant_list(config_home):
    """Reading any key of the section makes Qt decode the whole section: it aborts."""
    settings_path(config_home).write_text(f"[window]\nother=1\njunk={HOSTILE_VARIANT}\n")
    result = _plain_qt(config_home, TIMEOUT_S)
    assert result.returncode != 0 and "bad_alloc" in result.stderr
    assert "VALUE" not in result.stdout


def test_unchecked_qt_waits_forever_on_a_fifo(config_home):
    os.mkfifo(settings_path(config_home))
    with pytest.raises(subprocess.TimeoutExpired):
        _plain_qt(config_home, timeout=3)
