"""The one-way dependency (gui -> core) and a light start-up path, checked rather than hoped for."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "latentlab" / "core"
QT_MODULES = {"PySide6", "PyQt5", "PyQt6", "pyqtgraph", "superqt", "qtpy", "shiboken6"}


def imported_top_level_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path", sorted(CORE.rglob("*.py")), ids=lambda p: p.relative_to(CORE).as_posix()
)
def test_core_modules_never_import_qt(path):
    assert not imported_top_level_modules(path) & QT_MODULES


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_exploring_a_model_needs_neither_torch_nor_qt():
    loaded = _modules_after(
        "import latentlab.core.vae.checkpoint, latentlab.core.explorer, latentlab.core.bundled, "
        "latentlab.core.explore.sampling, latentlab.cli"
    )
    assert "torch" not in loaded
    assert not loaded & QT_MODULES
