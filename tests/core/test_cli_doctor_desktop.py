"""`latentlab doctor` and `latentlab install-desktop`, run as a user would: in a subprocess."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, **env: str | None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    environ["PYTHONPATH"] = str(ROOT)
    for key, value in env.items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return subprocess.run(
        [sys.executable, "-m", "latentlab", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_doctor_checks_everything_and_says_what_to_do(mnist_dir, tmp_path):
    out = run(
        "doctor",
        QT_QPA_PLATFORM="offscreen",
        LATENTLAB_DATA_DIR=str(mnist_dir),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    status = {line[6:].split(":", 1)[0]: line[:4].strip() for line in lines[:-1]}
    for what in ("Python", "torch", "onnxruntime", "Qt (PySide6)", "display"):
        assert status[what] in ("ok", "warn"), out.stdout
    assert status["Python"] == "ok" and status["display"] == "ok"
    assert f"ok    MNIST data: {mnist_dir}" in lines
    for model in ("mnist-cvae.safetensors", "fashion-cvae.safetensors", "mnist-vae-2d"):
        assert any(line.startswith(f"ok    {model}") for line in lines), out.stdout
    assert "offscreen" in next(line for line in lines if "display:" in line)
    assert lines[-1] == "latentlab doctor: all set"


def test_doctor_without_a_display_fails_and_names_the_fix(tmp_path):
    out = run(
        "doctor",
        QT_QPA_PLATFORM=None,
        LATENTLAB_DATA_DIR=str(tmp_path / "none"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    assert out.returncode == 1
    display = next(line for line in out.stdout.splitlines() if "display:" in line)
    assert (
        display.startswith("FAIL  display: no display") and "QT_QPA_PLATFORM=offscreen" in display
    )
    data = next(line for line in out.stdout.splitlines() if "MNIST data:" in line)
    assert data.startswith("warn  MNIST data: not found")
    assert "latentlab data fetch --dataset mnist" in data and "Preferences" in data
    assert out.stdout.splitlines()[-1].startswith("latentlab doctor: something must be fixed")


def test_install_desktop_puts_the_entry_and_icon_under_xdg_data_home(tmp_path):
    home = tmp_path / "data"
    out = run("install-desktop", XDG_DATA_HOME=str(home))
    assert out.returncode == 0, out.stderr
    desktop = home / "applications" / "latentlab.desktop"
    png = home / "icons" / "hicolor" / "256x256" / "apps" / "latentlab.png"
    svg = home / "icons" / "hicolor" / "scalable" / "apps" / "latentlab.svg"
    assert png.read_bytes() == (ROOT / "resources" / "latentlab.png").read_bytes()
    assert svg.read_bytes() == (ROOT / "resources" / "latentlab.svg").read_bytes()
    entry = configparser.ConfigParser(interpolation=None)
    entry.read_string(desktop.read_text())
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Icon"] == "latentlab"
    assert section["Name"] == "latentlab" and section["Terminal"] == "false"
    command = section["Exec"].split()
    assert Path(command[0]).is_file() and os.access(command[0], os.X_OK)
    if len(command) > 1:  # run from a source tree: python -m latentlab
        assert command[1:] == ["-m", "latentlab"]
    assert str(desktop) in out.stdout and str(png) in out.stdout

    out = run("install-desktop", "--uninstall", XDG_DATA_HOME=str(home))
    assert out.returncode == 0
    assert not desktop.exists() and not png.exists() and not svg.exists()
    assert out.stdout.startswith("latentlab: removed 3 files")


def test_the_icon_script_draws_the_committed_icon(tmp_path, monkeypatch):
    """resources/make_icon.py is the icon's source: its SVG is the one committed."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no __pycache__ in resources/
    sys.path.insert(0, str(ROOT / "resources"))
    try:
        import make_icon
    finally:
        sys.path.remove(str(ROOT / "resources"))
    assert make_icon.svg() == (ROOT / "resources" / "latentlab.svg").read_text()
    make_icon.png(tmp_path / "icon.png")
    from PIL import Image

    with Image.open(tmp_path / "icon.png") as drawn:
        assert drawn.size == (256, 256) and drawn.mode == "RGBA"
