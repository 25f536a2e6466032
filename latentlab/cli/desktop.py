"""`latentlab install-desktop`: put latentlab in the desktop's application menu (freedesktop).

Copies ``resources/latentlab.desktop`` into ``$XDG_DATA_HOME/applications`` (default
``~/.local/share``), with ``Exec`` set to the command that runs this latentlab (so a venv or
pipx install works without being on the menu's PATH), and the icon into
``$XDG_DATA_HOME/icons/hicolor/256x256/apps`` (and the SVG into ``scalable/apps``).
``--uninstall`` removes both. Nothing is written outside the user's data folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from ..core.atomic import write_atomic
from ..core.errors import LatentlabError

DESKTOP_NAME = "latentlab.desktop"
ICON_NAME = "latentlab"


def add_desktop_parser(sub: argparse._SubParsersAction) -> None:
    desktop = sub.add_parser(
        "install-desktop",
        help="add latentlab to the desktop's application menu (a .desktop file and the icon)",
    )
    desktop.add_argument(
        "--uninstall", action="store_true", help="remove the menu entry and the icon again"
    )


def data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME", "").strip()
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".local" / "share"


def resources() -> Path:
    from ..gui.theme import resources_dir  # no Qt widgets: the path only

    return resources_dir()


def launch_command() -> list[str]:
    """The command that starts this latentlab: the installed script, else python -m latentlab."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "latentlab" and script.exists():
        return [str(script.resolve())]
    found = shutil.which("latentlab")
    if found and Path(found).resolve().parent == Path(sys.executable).resolve().parent:
        return [found]
    return [sys.executable, "-m", "latentlab"]


def targets(home: Path | None = None) -> dict[str, Path]:
    home = home or data_home()
    icons = home / "icons" / "hicolor"
    return {
        "desktop": home / "applications" / DESKTOP_NAME,
        "png": icons / "256x256" / "apps" / f"{ICON_NAME}.png",
        "svg": icons / "scalable" / "apps" / f"{ICON_NAME}.svg",
    }


def desktop_entry(template: str, command: list[str]) -> str:
    """The template with its Exec line running `command` (quoted as the spec asks)."""
    exec_line = "Exec=" + " ".join(_quoted(part) for part in command)
    lines = [exec_line if line.startswith("Exec=") else line for line in template.splitlines()]
    return "\n".join(lines) + "\n"


def _quoted(part: str) -> str:
    """An Exec argument: as is, or in double quotes with the spec's escapes."""
    if part and not any(ch in part for ch in " \t\n\"'\\><~|&;$*?#()`%="):
        return part
    escaped = "".join("\\" + ch if ch in '"`$\\' else ch for ch in part)
    return f'"{escaped}"'.replace("%", "%%")


def cmd_install_desktop(args: argparse.Namespace) -> int:
    where = targets()
    if args.uninstall:
        removed = [path for path in where.values() if path.is_file()]
        for path in removed:
            path.unlink()
        print(f"latentlab: removed {len(removed)} file{'s' if len(removed) != 1 else ''}")
        for path in removed:
            print(f"  {path}")
        return 0
    folder = resources()
    template = folder / DESKTOP_NAME
    icon = folder / f"{ICON_NAME}.png"
    if not template.is_file() or not icon.is_file():
        raise LatentlabError(
            f"{folder} lacks {DESKTOP_NAME} or {ICON_NAME}.png: this latentlab was installed "
            "without its resources; reinstall it (pip install .)"
        )
    entry = desktop_entry(template.read_text(encoding="utf-8"), launch_command())
    for path in where.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(where["desktop"], entry.encode("utf-8"))
    write_atomic(where["png"], icon.read_bytes())
    svg = folder / f"{ICON_NAME}.svg"
    if svg.is_file():
        write_atomic(where["svg"], svg.read_bytes())
    print(f"latentlab: added to the application menu:\n  {where['desktop']}\n  {where['png']}")
    print("  (the menu may need a new login, or `update-desktop-database`, to show it)")
    return 0
