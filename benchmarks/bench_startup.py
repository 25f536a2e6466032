"""Start-up: process start to the main window shown, and to the bundled model interactive.

The app runs in a fresh subprocess, offscreen (QT_QPA_PLATFORM=offscreen), through a small
harness: a `python -c` stub that reads the clock first, then creates the QApplication, watches
the MainWindow's Show and first Paint events and its `model_loaded` signal, and calls the real
`latentlab.gui.app.run(model)`. The parent passes its own `time.perf_counter()` taken just
before spawning, so every mark counts from process start (perf_counter is CLOCK_MONOTONIC,
shared by all processes on Linux), interpreter start-up included.

The pieces are timed in their own fresh processes, in the same rounds: `import torch`,
`import PySide6.QtWidgets, pyqtgraph`, the torch-free core modules, and `load_model` +
`ExplorerState().open(vae_document(record))` for the model shown.

This module imports only the standard library at the top: the harness runs in the measured
process, and must not add to what it measures.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from common import Result

NAME = "startup"
PARTS = ("app", "pieces")
DESCRIPTION = "process start to window shown / model interactive; import and load times"

T0_ENV = "LATENTLAB_BENCH_T0"  # the parent's perf_counter just before the spawn
MODEL_ENV = "LATENTLAB_BENCH_MODEL"
IDLE_ENV = "LATENTLAB_BENCH_IDLE_S"  # > 0: stay idle this long after interactive (memory)
TIMEOUT_ENV = "LATENTLAB_BENCH_TIMEOUT_S"
WINDOW_TARGET = "<= 1.0"
INTERACTIVE_TARGET = "<= 1.5"
HEAVY_MODULES = ("torch", "umap", "onnx")  # the start path must not import these

_STUB = (
    "import time; T_READY = time.perf_counter()\n"
    "import sys; sys.path[:0] = [{repo!r}, {bench!r}]\n"
    "from bench_startup import harness; harness(T_READY)\n"
)


# --- the harness: runs inside the measured process ---------------------------------------------


def _rss_mb() -> dict[str, float]:
    """VmRSS and VmHWM of this process in MB (empty where /proc is missing)."""
    out: dict[str, float] = {}
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def harness(t_ready: float) -> None:
    """Run the real app and print one JSON line of marks (seconds since process start)."""
    t0 = float(os.environ.get(T0_ENV, t_ready))
    marks: dict[str, Any] = {"interpreter": t_ready - t0}
    idle_s = float(os.environ.get(IDLE_ENV, "0") or 0)
    timeout_s = float(os.environ.get(TIMEOUT_ENV, "30") or 30)
    model = os.environ.get(MODEL_ENV) or None

    def now() -> float:
        return time.perf_counter() - t0

    try:
        from PySide6.QtCore import QEvent, QObject, QTimer
        from PySide6.QtWidgets import QApplication

        from latentlab.gui import app as gui_app
        from latentlab.gui.main_window import MainWindow

        _ = MainWindow.model_loaded  # the hook this benchmark needs
    except Exception as exc:  # the GUI is not there (yet): say so, do not crash the run
        print(json.dumps({"error": f"GUI not importable: {type(exc).__name__}: {exc}"}))
        return
    marks["imports"] = now()
    done = False

    def finish(reason: str = "") -> None:
        nonlocal done
        if done:
            return
        done = True
        marks.update(_rss_mb())
        marks["torch_at_end"] = "torch" in sys.modules
        if reason:
            marks["error"] = reason
        print(json.dumps(marks), flush=True)
        QApplication.quit()

    class Watcher(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if isinstance(obj, MainWindow):
                kind = event.type()
                if kind == QEvent.Type.Show and "shown" not in marks:
                    marks["shown"] = now()
                    marks["torch_at_shown"] = "torch" in sys.modules
                    marks["rss_at_shown"] = _rss_mb().get("VmRSS")
                    obj.model_loaded.connect(self.on_loaded)
                    obj.load_failed.connect(lambda message: finish(f"load failed: {message}"))
                elif kind == QEvent.Type.Paint and "painted" not in marks:
                    marks["painted"] = now()
            return False

        def on_loaded(self, _explorer: object) -> None:
            if "model_loaded" in marks:
                return
            marks["model_loaded"] = now()
            QTimer.singleShot(0, self.on_interactive)  # the swap's events are processed

        def on_interactive(self) -> None:
            marks["interactive"] = now()
            marks["torch_at_interactive"] = "torch" in sys.modules
            marks["modules_at_interactive"] = [m for m in HEAVY_MODULES if m in sys.modules]
            if idle_s > 0:
                QTimer.singleShot(int(idle_s * 1000), finish)
            else:
                finish()

    app = QApplication([sys.argv[0] or "latentlab"])
    watcher = Watcher()
    app.installEventFilter(watcher)
    QTimer.singleShot(int(timeout_s * 1000), lambda: finish(f"timed out after {timeout_s:g} s"))
    marks["qapplication"] = now()
    gui_app.run(model)
    if not done:
        finish("the app quit before the model was interactive")


# --- the parent side ---------------------------------------------------------------------------


def stand_in_model(folder: Path) -> Path:
    """A model file shaped like the bundled default (random weights, 10,000 encoded test images).

    Used only when the bundled model is missing, so load and memory figures stay representative:
    same file size, same PCA over 10,000 latents.
    """
    import numpy as np

    from latentlab.core.vae.checkpoint import save_model
    from latentlab.core.vae.config import DEFAULT_PRESET, PRESETS
    from latentlab.core.vae.layout import parameter_shapes
    from latentlab.core.vae.record import ModelRecord, TestEncoding

    config = PRESETS[DEFAULT_PRESET].config
    rng = np.random.default_rng(0)
    weights = {
        name: (rng.standard_normal(shape) * 0.05).astype(np.float32)
        for name, shape in parameter_shapes(config).items()
    }
    n, c = 10_000, config.num_classes
    labels = (np.arange(n) % c).astype(np.uint8)
    logits = rng.standard_normal((n, c)) + 4 * np.eye(c)[labels]
    probs = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    encoding = TestEncoding(
        mu=rng.standard_normal((n, config.latent_dim)).astype(np.float32),
        logvar=np.full((n, config.latent_dim), -2.0, np.float32),
        labels=labels,
        probs=probs if config.conditional else None,
    )
    record = ModelRecord(config=config, weights=weights, test_encoding=encoding)
    return save_model(record, folder / "stand-in-default.safetensors")


def resolve_model(args: argparse.Namespace, scratch: Path) -> tuple[Path, str]:
    """--model, else the bundled default, else a stand-in written to `scratch` (with a note)."""
    if getattr(args, "model", None):
        return Path(args.model), f"model {Path(args.model).name}"
    from latentlab.core.bundled import default_model_path

    bundled = default_model_path()
    if bundled.is_file():
        return bundled, f"bundled {bundled.name}"
    return stand_in_model(scratch), f"STAND-IN model: {bundled.name} not found (random weights)"


def app_env(model: Path, scratch: Path, data: Path, idle_s: float = 0.0) -> dict[str, str]:
    """Offscreen, with settings and caches in `scratch` (never the user's), data where it is.

    Python's bytecode cache is on, as on a user's machine, even where this shell turns it off
    (PYTHONDONTWRITEBYTECODE, as these sandboxes do): the warm-up start writes it for the
    checkout's modules; without it every start compiles them again (about 0.07 s here).
    """
    from common import python_env

    from latentlab.cli import APP_ENVIRONMENT

    return bytecode_cached(
        python_env(
            {
                "QT_QPA_PLATFORM": "offscreen",
                "XDG_CONFIG_HOME": str(scratch / "config"),
                "XDG_CACHE_HOME": str(scratch / "cache"),
                "LATENTLAB_DATA_DIR": str(data),
                MODEL_ENV: str(model),
                IDLE_ENV: str(idle_s),
                **APP_ENVIRONMENT,  # as the `latentlab` command sets it for the app
            }
        )
    )


def bytecode_cached(env: dict[str, str]) -> dict[str, str]:
    """`env` with Python allowed to write (and so to reuse) its bytecode cache."""
    return {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_app(env: dict[str, str], timeout: float = 60.0) -> dict[str, Any]:
    """One app start in a fresh process; its marks, or {"error": why}."""
    from common import BENCH_DIR, REPO, run_json_subprocess

    env = dict(env)
    env[TIMEOUT_ENV] = str(timeout - 5)
    code = _STUB.format(repo=str(REPO), bench=str(BENCH_DIR))
    env[T0_ENV] = repr(time.perf_counter())
    marks, why = run_json_subprocess(code, env, timeout)
    return marks if marks is not None else {"error": why}


_PIECES: dict[str, str] = {
    "import torch": "import torch",
    "import PySide6.QtWidgets + pyqtgraph": "import PySide6.QtWidgets, pyqtgraph",
    "import core (checkpoint, explorer state)": (
        "import latentlab.core.vae.checkpoint, latentlab.core.explore.state"
    ),
}

_LOAD = """\
import json, sys, time
t = time.perf_counter()
from latentlab.core.vae.checkpoint import load_model
from latentlab.core.explore.state import ExplorerState
from latentlab.core.vae.latent_model import vae_document
t1 = time.perf_counter()
ExplorerState().open(vae_document(load_model(sys.argv[1] if len(sys.argv) > 1 else {model!r})))
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t, "load": t2 - t1, "torch": "torch" in sys.modules}}))
"""


def time_piece(statement: str, env: dict[str, str]) -> float | None:
    """Seconds a statement takes as the first thing in a fresh interpreter."""
    from common import run_json_subprocess

    code = (
        "import json, time\nt = time.perf_counter()\n"
        f"{statement}\n"
        "print(json.dumps({'s': time.perf_counter() - t}))\n"
    )
    out, _ = run_json_subprocess(code, env, 120)
    return None if out is None else float(out["s"])


def run(args: argparse.Namespace) -> list[Result]:
    import tempfile

    from common import data_dir, log, python_env, selected_parts

    parts = selected_parts(args, NAME, PARTS)
    quick = getattr(args, "quick", False)
    warmups, rounds = (1, 2) if quick else (1, 5)
    with tempfile.TemporaryDirectory(prefix="latentlab-bench-") as tmp:
        scratch = Path(tmp)
        model, model_note = resolve_model(args, scratch)
        env = app_env(model, scratch, data_dir(args))
        plain_env = bytecode_cached(python_env())
        log(f"startup: {warmups} warm-up + {rounds} rounds ({', '.join(parts)}); {model_note}")
        apps: list[dict[str, Any]] = []
        pieces: dict[str, list[float]] = {name: [] for name in [*_PIECES, "load"]}
        load_torch: list[bool] = []
        for i in range(warmups + rounds):
            measured = i >= warmups
            if "app" in parts:
                marks = run_app(env)
                if "error" in marks and "interactive" not in marks:
                    apps.append(marks)
                    break  # not available: no use repeating
                if measured:
                    apps.append(marks)
            if "pieces" in parts:
                for name, statement in _PIECES.items():
                    seconds = time_piece(statement, plain_env)
                    if measured and seconds is not None:
                        pieces[name].append(seconds)
                out = time_load(model, plain_env)
                if measured and out is not None:
                    pieces["load"].append(out["load"])
                    load_torch.append(bool(out["torch"]))
    results: list[Result] = []
    if "app" in parts:
        results += app_results(apps, model_note)
    if "pieces" in parts:
        results += piece_results(pieces, load_torch, model_note)
    return results


def time_load(model: Path, env: dict[str, str]) -> dict[str, Any] | None:
    """`load_model` + `ExplorerState().open(vae_document(record))` in a fresh interpreter: seconds, and whether torch came."""
    from common import run_json_subprocess

    out, _ = run_json_subprocess(_LOAD.format(model=str(model)), env, 120)
    return out


def app_results(apps: list[dict[str, Any]], model_note: str) -> list[Result]:
    from common import result_from, unavailable

    names = (
        ("app: start to window shown", "shown", "", "Show event of the MainWindow"),
        ("app: start to window painted", "painted", WINDOW_TARGET, "first Paint event"),
        ("app: start to model interactive", "interactive", INTERACTIVE_TARGET, model_note),
    )
    errors = [m["error"] for m in apps if "error" in m]
    if not apps or all("shown" not in m for m in apps):
        why = "not available: " + (errors[0] if errors else "no run")
        return [unavailable(name, "s", target, why) for name, _, target, _ in names]
    results = []
    for name, key, target, note in names:
        values = [m[key] for m in apps if key in m]
        missing = len(apps) - len(values)
        if missing:
            note = f"{note}; missing in {missing} of {len(apps)} runs ({errors[:1]})"
        results.append(result_from(name, values, "s", target, note))
    interp = [m["interpreter"] for m in apps]
    results.append(
        result_from("app: interpreter start-up", interp, "s", note="python -c before any import")
    )
    torch_shown = sum(bool(m.get("torch_at_shown")) for m in apps)
    torch_ready = sum(bool(m.get("torch_at_interactive")) for m in apps)
    results.append(
        result_from(
            "app: runs with torch loaded at window shown",
            [torch_shown],
            "runs",
            "<= 0",
            f"of {len(apps)}; at interactive: {torch_ready} of {len(apps)}",
        )
    )
    return results


def piece_results(
    pieces: dict[str, list[float]], load_torch: list[bool], model_note: str
) -> list[Result]:
    from common import result_from

    results = [result_from(name, pieces[name], "s", note="fresh interpreter") for name in _PIECES]
    torch_note = ("imports torch!" if any(load_torch) else "torch not imported") + f"; {model_note}"
    results.append(
        result_from("load_model + ExplorerState.open", pieces["load"], "s", note=torch_note)
    )
    return results
