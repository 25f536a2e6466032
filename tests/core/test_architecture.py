"""The one-way dependencies (gui -> core, vae -> explore) and a light start-up path, checked."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "latentlab" / "core"
EXPLORE = CORE / "explore"
EXPLORE_PACKAGE = "latentlab.core.explore"
MODEL_FAMILY_PACKAGES = ("latentlab.core.vae", "latentlab.core.data")  # explore must not know them
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
        "import latentlab.core.vae.checkpoint, latentlab.core.explore.state, "
        "latentlab.core.vae.latent_model, latentlab.core.bundled, "
        "latentlab.core.explore.sampling, latentlab.cli"
    )
    assert "latentlab.core.explore.state" in loaded  # the statement ran (not an empty list)
    assert "torch" not in loaded
    assert not loaded & QT_MODULES


# --- explore knows models only through the LatentModel seam ---------------------------------


def imported_modules(source: str, package: str) -> set[str]:
    """Every module an import statement in `source` names, relative ones resolved in `package`.

    `from a.b import c` counts as both a.b and a.b.c (c may be a submodule), so
    `from latentlab.core import vae` and `from .. import data` are caught as well.
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _reaches_a_model_family(names: set[str]) -> set[str]:
    return {
        name
        for name in names
        for family in MODEL_FAMILY_PACKAGES
        if name == family or name.startswith(family + ".")
    }


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("import latentlab.core.vae.record", True),
        ("from latentlab.core.vae.record import ModelRecord", True),
        ("from latentlab.core import vae", True),
        ("from latentlab.core.data.datasets import Dataset", True),
        ("from ..vae.numpy_net import NumpyVAE", True),
        ("from .. import data", True),
        ("from ..data import datasets", True),
        ("def f():\n    from ..vae import record\n", True),
        ("from .projection import LinearBasis", False),
        ("from latentlab.core.atomic import write_atomic", False),
        ("from .. import atomic", False),
        ("import latentlab.core.vaex", False),
    ],
)
def test_the_import_check_resolves_absolute_and_relative_imports(source, caught):
    assert bool(_reaches_a_model_family(imported_modules(source, EXPLORE_PACKAGE))) is caught


@pytest.mark.parametrize(
    "path", sorted(EXPLORE.rglob("*.py")), ids=lambda p: p.relative_to(EXPLORE).as_posix()
)
def test_explore_modules_never_import_a_model_family_or_the_data(path):
    """core/explore sees models only as LatentModels: no VAE, no data set code behind the seam."""
    folders = path.relative_to(EXPLORE).parts[:-1]  # the package a relative import starts in
    package = ".".join([EXPLORE_PACKAGE, *folders])
    names = imported_modules(path.read_text(encoding="utf-8"), package)
    assert not _reaches_a_model_family(names)


def test_importing_every_explore_module_loads_no_model_family():
    modules = sorted(f"{EXPLORE_PACKAGE}.{p.stem}" for p in EXPLORE.glob("*.py"))
    assert f"{EXPLORE_PACKAGE}.state" in modules
    loaded = _modules_after("import " + ", ".join(modules))
    assert set(modules) <= loaded
    assert not _reaches_a_model_family(loaded)
