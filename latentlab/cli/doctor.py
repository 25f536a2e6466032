"""`latentlab doctor`: is everything latentlab needs here, and what to do about what is not.

One line per check, ``ok`` / ``warn`` / ``FAIL``, each problem with its fix. Exit 1 when a check
failed (the app or every command would not work), else 0. Nothing is installed or written.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

OK, WARN, FAIL = "ok", "warn", "FAIL"
MIN_PYTHON = (3, 11)
TORCH_PIN = "torch==2.13.0"

Check = tuple[str, str, str]  # status, what, detail (with the fix)


def add_doctor_parser(sub: argparse._SubParsersAction) -> None:
    sub.add_parser(
        "doctor",
        help="check Python, torch, onnxruntime, Qt, the display, the data and the bundled models",
    )


def _version(module: str) -> str | None:
    try:
        return str(importlib.import_module(module).__version__)
    except Exception:
        return None


def check_python() -> Check:
    found = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= MIN_PYTHON:
        return OK, "Python", f"{found} ({sys.executable})"
    need = ".".join(map(str, MIN_PYTHON))
    return FAIL, "Python", f"{found}: latentlab needs {need} or newer; install it and a new venv"


def check_torch() -> Check:
    if importlib.util.find_spec("torch") is None:
        return (
            WARN,
            "torch",
            f"not installed: needed to train and evaluate (the explorer runs without it); "
            f"pip install {TORCH_PIN} (the CPU build here; see the README)",
        )
    found = _version("torch")
    if found is None:
        return (
            FAIL,
            "torch",
            f"installed but does not import; reinstall it: pip install {TORCH_PIN}",
        )
    return OK, "torch", f"{found} (training and Model > Evaluate)"


def check_onnxruntime() -> Check:
    if importlib.util.find_spec("onnxruntime") is None:
        return (
            WARN,
            "onnxruntime",
            "not installed: needed only to import ONNX models (latentlab import, "
            "File > Import model…); pip install onnxruntime",
        )
    found = _version("onnxruntime")
    if found is None:
        return FAIL, "onnxruntime", "installed but does not import; pip install -U onnxruntime"
    return OK, "onnxruntime", f"{found} (importing ONNX models)"


def check_qt() -> Check:
    if importlib.util.find_spec("PySide6") is None:
        return (
            FAIL,
            "Qt (PySide6)",
            "not installed: the app needs it; pip install PySide6-Essentials",
        )
    try:
        import PySide6
        from PySide6.QtCore import QLibraryInfo
    except Exception as exc:
        return FAIL, "Qt (PySide6)", f"does not import ({exc}); reinstall PySide6-Essentials"
    folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    plugins = sorted(
        p.name.removeprefix("libq").split(".")[0]
        for p in folder.glob("*")
        if p.suffix in (".so", ".dll", ".dylib")
    )
    if not plugins:
        return FAIL, "Qt (PySide6)", f"{PySide6.__version__}: no platform plugins in {folder}"
    return OK, "Qt (PySide6)", f"{PySide6.__version__}, platform plugins: {', '.join(plugins)}"


def check_display() -> Check:
    from ..gui.display_check import display_problem

    problem = display_problem()
    if problem is None:
        import os

        where = (
            os.environ.get("QT_QPA_PLATFORM")
            or (os.environ.get("WAYLAND_DISPLAY") and "Wayland " + os.environ["WAYLAND_DISPLAY"])
            or f"X11 {os.environ.get('DISPLAY', '')}".strip()
        )
        return OK, "display", f"the window can open ({where})"
    return FAIL, "display", problem


def check_data() -> list[Check]:
    from ..core.data import datasets
    from ..core.errors import DataError

    folder = _app_data_dir()
    checks = []
    for name in ("mnist", "fashion-mnist"):
        title = datasets.get_spec(name).title
        try:
            found = datasets.locate(name, folder)
        except DataError:
            searched = ", ".join(str(p) for p in datasets.search_dirs(name, folder))
            checks.append(
                (
                    WARN,
                    f"{title} data",
                    f"not found (looked in {searched}): needed for test images, Evaluate and "
                    f"training; latentlab data fetch --dataset {name}, or File > Preferences… "
                    "in the app",
                )
            )
        else:
            checks.append((OK, f"{title} data", str(found)))
    return checks


def _app_data_dir() -> str | None:
    """The app's data folder setting (File > Preferences…), read without a QApplication."""
    try:
        from PySide6.QtCore import QSettings

        from ..gui.settings import DATA_DIR_KEY, not_a_settings_file, settings_file
    except Exception:
        return None
    path = settings_file("latentlab", "latentlab")
    if not_a_settings_file(path) is not None or not path.is_file():
        return None
    value = QSettings(str(path), QSettings.Format.NativeFormat).value(DATA_DIR_KEY, "")
    return value.strip() or None if isinstance(value, str) else None


def check_models() -> list[Check]:
    from ..core.bundled import bundled_models, default_model_path, models_dir
    from ..core.errors import LatentlabError
    from ..core.model_files import open_document

    files = bundled_models()
    if not files:
        return [
            (
                FAIL,
                "bundled models",
                f"none in {models_dir()}: reinstall latentlab (pip install .) or open your own",
            )
        ]
    checks = []
    for path in files:
        try:
            document = open_document(path)
        except LatentlabError as exc:
            checks.append((FAIL, path.name, f"{exc}; reinstall latentlab"))
        else:
            default = " (the default)" if path == default_model_path() else ""
            checks.append((OK, path.name, f"{document.model.latent_dim}-D latent{default}"))
    return checks


CHECKS: list[Callable[[], Check | list[Check]]] = [
    check_python,
    check_torch,
    check_onnxruntime,
    check_qt,
    check_display,
    check_data,
    check_models,
]


def cmd_doctor(args: argparse.Namespace) -> int:
    failed = False
    for check in CHECKS:
        found = check()
        for status, what, detail in found if isinstance(found, list) else [found]:
            print(f"{status:<4}  {what}: {detail}")
            failed = failed or status == FAIL
    print("latentlab doctor: " + ("something must be fixed (FAIL above)" if failed else "all set"))
    return 1 if failed else 0
