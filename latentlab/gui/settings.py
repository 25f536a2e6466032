"""What the window remembers between runs (QSettings): geometry, splitters, recent models.

Every read goes through a fresh ``QSettings()`` so tests can redirect the storage with
``QSettings.setPath`` before a window is made, and a corrupt value degrades to the default.

The settings file is checked before Qt opens it (``prepare``, called once at start-up), because
Qt trusts it: it opens a FIFO and waits forever, decodes ``@Variant(...)`` values with
QDataStream (a list claiming 2^31 items aborts the process with ``std::bad_alloc``, even under
a key latentlab never reads, since Qt parses a whole section at once) and saves through a
symlink by replacing its target, a device included. So:

- a settings file that is not a regular file (a FIFO, a device, a folder, a link to one of
  these or to nothing) or is over ``MAX_SETTINGS_BYTES`` is neither read nor written: this
  run's settings go to a throwaway folder, and the user is told once;
- lines holding a value Qt decodes with QDataStream (``@Variant(``, ``@DateTime(``) are
  removed from the file before Qt reads it; latentlab stores only strings, numbers, string
  lists and ``@ByteArray`` blobs, so it never wrote them;
- a stored blob (window geometry, dock and splitter state) over ``MAX_BLOB_BYTES`` is ignored.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, QObject, QSettings, Signal

MAX_RECENT = 8
RECENT_KEY = "recent_models"
MAX_SETTINGS_BYTES = 1024 * 1024  # latentlab's own settings file is about 2 kB
MAX_BLOB_BYTES = 64 * 1024  # Qt's geometry and state blobs are well under 1 kB
# Values Qt decodes with QDataStream; latentlab never stores them.
UNSAFE_VALUES = (b"@Variant(", b"@DateTime(")
PROBE_NAME = "latentlab-settings-probe"  # no file of this name exists: it only locates the folder

notices: list[str] = []  # what was said this run about the settings (shown in the status bar)


def _say(message: str) -> None:
    """Say a problem once, on stderr, and keep it for the status bar."""
    if message not in notices:
        notices.append(message)
        print(f"latentlab: settings: {message}", file=sys.stderr)


# --- the file, checked before Qt opens it ------------------------------------------------------


def settings_file(organization: str | None = None, application: str | None = None) -> Path:
    """Where ``QSettings()`` keeps this app's settings, found without Qt opening that file.

    Constructing a QSettings reads its file, so Qt is asked about a file that does not exist;
    the folder of that answer follows ``QSettings.setPath`` and ``XDG_CONFIG_HOME``.
    """
    organization = organization or QCoreApplication.organizationName()
    application = application or QCoreApplication.applicationName()
    probe = Path(
        QSettings(QSettings.defaultFormat(), QSettings.Scope.UserScope, PROBE_NAME).fileName()
    )
    return probe.parent / organization / f"{application}{probe.suffix}"  # .conf, or .ini


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def not_a_settings_file(path: Path) -> str | None:
    """Why Qt must neither read nor write `path`, or None when it may (absent or a regular file).

    Never opens the path: ``lstat``, and ``stat`` for a link's target.
    """
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None  # absent (Qt creates it) or in a folder we cannot see into (Qt cannot either)
    if stat.S_ISREG(mode):
        return None
    if not stat.S_ISLNK(mode):
        return f"is {_kind(mode)}"
    target = os.readlink(path)
    try:
        target_mode = os.stat(path).st_mode
    except OSError:
        return f"is a link to {target}, which does not exist"
    if stat.S_ISREG(target_mode):
        return None  # a settings file kept elsewhere (dotfiles): Qt reads and saves it there
    return f"is a link to {_kind(target_mode)} ({target})"


def _clean(path: Path) -> str | None:
    """Remove the lines Qt would decode with QDataStream; what was done, or why it could not be."""
    from latentlab.core.safe_read import FileRefused, open_regular

    try:
        with open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_SETTINGS_BYTES:
                return (
                    f"is {size:,} bytes, more than a settings file can be ({MAX_SETTINGS_BYTES:,})"
                )
            data = f.read(MAX_SETTINGS_BYTES + 1)
    except FileRefused as exc:
        return exc.problem  # swapped for a FIFO or a device since the lstat
    except OSError:
        return None  # unreadable: Qt cannot read it either, and starts from defaults
    if not any(marker in data for marker in UNSAFE_VALUES):
        return None
    kept, dropped, section = [], [], "General"
    for line in data.split(b"\n"):
        text = line.strip()
        if text.startswith(b"[") and text.endswith(b"]"):
            section = text[1:-1].decode("utf-8", "replace")
        if any(marker in line for marker in UNSAFE_VALUES):
            key = line.split(b"=", 1)[0].strip().decode("utf-8", "replace")[:60]
            dropped.append(f"{section}/{key}")
        else:
            kept.append(line)
    try:
        from latentlab.core.atomic import write_atomic

        write_atomic(Path(os.path.realpath(path)), b"\n".join(kept))
    except OSError as exc:
        return f"holds values latentlab cannot read and could not be cleaned ({exc.strerror})"
    _say(
        f"removed {len(dropped)} value{'s' if len(dropped) > 1 else ''} latentlab never writes "
        "and Qt cannot read safely "
        f"({', '.join(dropped[:3])}{', …' if len(dropped) > 3 else ''}) from {path}; "
        "the other settings are kept"
    )
    return None


def prepare() -> list[str]:
    """Check the settings files before anything reads them; call once, after the app is named.

    Returns what was said on stderr (empty when all was well). A file Qt must not touch makes
    this run's settings live in a throwaway folder (nothing is read from or written to the
    file); a file holding values Qt would choke on is cleaned of them.
    """
    notices.clear()
    path = settings_file()
    lock = path.with_name(path.name + ".lock")
    organization_file = path.parent.with_suffix(path.suffix)  # Qt's fallback for all its apps
    for candidate in (path, lock, organization_file):
        problem = not_a_settings_file(candidate)
        if problem is None and candidate is not lock:
            problem = _clean(candidate)
        if problem is not None:
            _use_a_throwaway_folder()
            _say(
                f"{candidate} {problem}: latentlab neither reads nor writes it, and settings "
                "changed in this run are not kept. Remove it (latentlab --reset-settings "
                "removes a regular settings file) to start afresh."
            )
            break
    return list(notices)


def _use_a_throwaway_folder() -> None:
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="latentlab-settings-")
    atexit.register(shutil.rmtree, folder, True)
    for fmt in {QSettings.defaultFormat(), QSettings.Format.IniFormat}:
        QSettings.setPath(fmt, QSettings.Scope.UserScope, folder)


def reset(organization: str, application: str) -> tuple[bool, str]:
    """Remove the settings file if it is a regular file (a link is never followed).

    Returns (success, the line to say).
    """
    path = settings_file(organization, application)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return True, f"no settings file at {path}; nothing to remove"
    if stat.S_ISLNK(mode):
        return False, (
            f"{path} is a link to {os.readlink(path)}; links are not followed, so it is left "
            "as it is: remove the link, or the file it names, yourself"
        )
    if not stat.S_ISREG(mode):
        return False, (
            f"{path} is {_kind(mode)}, not a settings file; left as it is (the app neither "
            "reads nor writes it): remove it yourself"
        )
    path.unlink()
    lock = path.with_name(path.name + ".lock")
    if os.path.isfile(lock) and not os.path.islink(lock):
        lock.unlink(missing_ok=True)
    return True, f"removed {path} (window layout, recent models, theme, training choices)"


# --- values ------------------------------------------------------------------------------------


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
    """A QByteArray stored with save_bytes, or None when absent, of another type or too large."""
    value = settings().value(key)
    if not isinstance(value, QByteArray) or value.isEmpty():
        return None
    if value.size() > MAX_BLOB_BYTES:
        _say(
            f"{key} is {value.size():,} bytes, more than a window layout can be "
            f"({MAX_BLOB_BYTES:,}); the default is used"
        )
        return None
    return value


# --- data: one folder setting for every feature that reads images ------------------------------

# Shared with the training dialog's folder field (train_dialog.SETTINGS_KEY + "/data_dir"), so
# the training dialog, Preferences, the test images and Model > Evaluate read one value.
DATA_DIR_KEY = "training/last/data_dir"
ALLOW_DOWNLOAD_KEY = "data/allow_download"


class _DataNotifier(QObject):
    """``changed`` when the data folder setting changes or a download brought new files."""

    changed = Signal()


_notifier: _DataNotifier | None = None


def data_notifier() -> _DataNotifier:
    global _notifier
    if _notifier is None:
        _notifier = _DataNotifier()
    return _notifier


def data_dir() -> str | None:
    """The chosen data folder, or None: search the usual folders (LATENTLAB_DATA_DIR, cache…)."""
    value = settings().value(DATA_DIR_KEY, "")
    text = value.strip() if isinstance(value, str) else ""
    return text or None


def set_data_dir(folder: str | Path | None) -> None:
    """Remember `folder` (None or "": the usual folders) and tell every reader of data."""
    text = "" if folder is None else str(folder).strip()
    if text != (data_dir() or ""):
        settings().setValue(DATA_DIR_KEY, text)
    data_notifier().changed.emit()


def downloads_allowed() -> bool:
    """Whether the app may download a missing dataset (on by default; Preferences turns it off)."""
    value = settings().value(ALLOW_DOWNLOAD_KEY, True)
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "off")
    return bool(value)


def set_downloads_allowed(allowed: bool) -> None:
    settings().setValue(ALLOW_DOWNLOAD_KEY, bool(allowed))


# --- the last folder a file dialog used (every file dialog of the app starts there) -------------

LAST_FOLDER_KEY = "files/last_folder"


def last_folder() -> str | None:
    """The folder the last file dialog ended in, if it still exists."""
    value = settings().value(LAST_FOLDER_KEY, "")
    return value if isinstance(value, str) and value and Path(value).is_dir() else None


def remember_folder(path: str | Path, *, is_folder: bool = False) -> None:
    """Remember the folder of `path` (or `path` itself, a chosen folder) for the next dialog."""
    chosen = Path(path).resolve()
    settings().setValue(LAST_FOLDER_KEY, str(chosen if is_folder else chosen.parent))
