"""Soak: a long session through the real widgets, offscreen, and repeated train-cancel cycles.

Each part runs in a fresh subprocess so nothing this runner loaded counts.

- explore: the real MainWindow on the bundled model (--model to choose another). After a warm-up,
  100,000 slider changes (QSlider.setValue, the path a drag takes) and 1,000 real mouse clicks
  on scatter points (QTest.mouseClick on the plot's viewport). Reported at the start and the end
  (after gc): resident memory, live Qt objects (QObjects under the window plus every QWidget)
  and graphics items in the scatter's scene. Growth should be flat.
- train_cancel: ten runs in one process through the real TrainingController: start, wait for the
  first batch report, cancel, wait for the thread to end. Reported: OS threads of the process
  and resident memory after the first and after the last cycle, and training threads still
  running at the end (must be 0).

--quick: 10,000 slider changes and 100 clicks; the ten train-cancel cycles stay (a few seconds).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from common import Result

NAME = "soak"
PARTS = ("explore", "train_cancel")
DESCRIPTION = "100k slider changes + 1k scatter clicks in the real window; 10 train-cancel cycles"

SLIDER_CHANGES, QUICK_SLIDER_CHANGES = 100_000, 10_000
CLICKS, QUICK_CLICKS = 1_000, 100
CYCLES = 10
WARM_UP = 2_000  # slider changes before the start figures: caches and first allocations

_STUB = (
    "import sys; sys.path[:0] = [{repo!r}, {bench!r}]\n"
    "from bench_soak import {child}; {child}(*{args!r})\n"
)


# --- in the measured process -----------------------------------------------------------------


def _os_threads() -> int:
    """Threads of this process as the OS sees them (QThreads and torch's pools included)."""
    import os

    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # no /proc (macOS): Python's view, which misses non-Python threads
        import threading

        return threading.active_count()


def _rss() -> float | None:
    from common import proc_status_mb

    return proc_status_mb().get("VmRSS")


def explore_child(model: str, slider_changes: int, clicks: int) -> None:
    """Drive the real window; print one JSON object with the start and end figures."""
    import gc
    import time

    import numpy as np
    from PySide6.QtCore import QObject, QPointF, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from latentlab.gui.app import configure
    from latentlab.gui.main_window import MainWindow

    app = QApplication([])
    configure(app)
    window = MainWindow()
    app.aboutToQuit.connect(window.shutdown)
    window.resize(1280, 820)
    window.show()
    loaded: list[object] = []
    window.model_loaded.connect(loaded.append)
    window.load_failed.connect(lambda message: loaded.append(message))
    window.open_model(model)
    deadline = time.monotonic() + 60
    while not loaded and time.monotonic() < deadline:
        app.processEvents()
    if not loaded or isinstance(loaded[0], str):
        print(json.dumps({"error": f"model did not load: {loaded[:1]}"}), flush=True)
        return

    scatter = window.scatter
    viewport = scatter.plot_widget.viewport()
    dims = window.sliders.count()
    clicked: list[int] = []
    scatter.point_clicked.connect(clicked.append)

    def figures() -> dict[str, float | int | None]:
        app.processEvents()
        gc.collect()
        return {
            "rss": _rss(),
            "qt_objects": len(window.findChildren(QObject)) + len(QApplication.allWidgets()),
            "scene_items": len(scatter.plot_widget.scene().items()),
            "threads": _os_threads(),
        }

    def move_sliders(count: int, offset: int = 0) -> None:
        for i in range(offset, offset + count):
            slider = window.sliders.slider(i % dims)
            value = (i * 37) % 701 - 350  # over the whole range, ticks of 0.01
            if slider.value() == value:
                value = value + 1 if value < 350 else value - 1
            slider.setValue(value)
            if i % 100 == 0:
                app.processEvents()

    def targets(count: int) -> list[tuple[int, QPointF]]:
        """Pixel positions of `count` test points that are alone under the cursor."""
        explorer = window.state
        points = explorer.points_2d()
        rng = np.random.default_rng(0)
        out = []
        for index in rng.permutation(len(points)):
            pos = scatter.plot_widget.mapFromScene(scatter.scene_pos(*points[index]))
            if viewport.rect().contains(pos):
                out.append((int(index), pos))
            if len(out) == count:
                break
        return out

    def click(chosen: list[tuple[int, QPointF]], count: int) -> float:
        t0 = time.perf_counter()
        for k in range(count):
            _, pos = chosen[k % len(chosen)]
            QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
            if k % 20 == 0:
                app.processEvents()
        return time.perf_counter() - t0

    move_sliders(WARM_UP)
    chosen = targets(200)
    click(chosen, 20)
    start = figures()
    rss_trace = [start["rss"]]
    t0 = time.perf_counter()
    step = max(1, slider_changes // 10)
    for done in range(0, slider_changes, step):
        move_sliders(min(step, slider_changes - done), WARM_UP + done)
        rss_trace.append(_rss())
    slider_s = time.perf_counter() - t0
    clicked.clear()
    click_s = click(chosen, clicks)
    end = figures()
    out = {
        "model": Path(model).name,
        "latent_dim": dims,
        "slider_changes": slider_changes,
        "clicks": clicks,
        "clicks_on_a_point": len(clicked),
        "slider_us": 1e6 * slider_s / slider_changes,
        "click_ms": 1e3 * click_s / clicks,
        "start": start,
        "end": end,
        "rss_trace": rss_trace,
    }
    window.close()
    app.quit()
    print(json.dumps(out), flush=True)


def train_cancel_child(cycles: int) -> None:
    """Ten start / first batch / cancel / joined cycles through the real TrainingController."""
    import gc
    import hashlib
    import tempfile
    import time

    import numpy as np
    from PySide6.QtWidgets import QApplication

    from latentlab.core.data import datasets
    from latentlab.core.data.idx import read_bytes, write_idx
    from latentlab.core.vae.config import Config
    from latentlab.gui.training_controller import TrainingController

    app = QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="latentlab-soak-"))
    rng = np.random.default_rng(0)
    files = {}
    for role, spec in datasets.MNIST.files.items():  # a small random dataset, registered
        n = 2000 if role.startswith("train") else 500
        array = (
            rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
            if role.endswith("images")
            else (np.arange(n) % 10).astype(np.uint8)
        )
        path = folder / (spec.filename + ".gz")
        write_idx(path, array)
        files[role] = datasets.FileSpec(spec.filename, hashlib.sha256(read_bytes(path)).hexdigest())
    datasets.register_dataset(datasets.DatasetSpec("soak", "Soak", tuple("0123456789"), files))
    config = Config(
        encoder_hidden=(64,),
        decoder_hidden=(64,),
        classifier_hidden=(64,),
        activation="relu",
        latent_dim=4,
        batch_size=50,
        epochs=1000,
        dataset="soak",
    )
    controller = TrainingController()
    after: list[dict[str, Any]] = []
    threads_seen = []
    for _ in range(cycles):
        assert controller.start(config, device="cpu", data_dir=str(folder))
        thread = controller.thread
        threads_seen.append(thread)
        deadline = time.monotonic() + 120
        while controller._progress is None and time.monotonic() < deadline:
            app.processEvents()
        controller.cancel()
        while controller.is_running and time.monotonic() < deadline:
            app.processEvents()
        app.processEvents()
        gc.collect()
        after.append({"rss": _rss(), "threads": _os_threads(), "joined": thread.isFinished()})
    running = sum(1 for t in threads_seen if t.isRunning())
    controller.shutdown()
    print(
        json.dumps(
            {
                "cycles": after,
                "still_running": running,
                "status": controller.panel.status_label.text(),
            }
        ),
        flush=True,
    )


# --- in the runner ---------------------------------------------------------------------------


def explore_results(out: dict[str, Any] | None, why: str, note: str) -> list[Result]:
    from common import Result, unavailable

    if out is None or "error" in out:
        reason = why if out is None else out["error"]
        return [unavailable("soak: explore", "", "", f"not available: {reason}")]
    start, end = out["start"], out["end"]
    what = (
        f"{note}; {out['slider_changes']:,} slider changes, {out['clicks']:,} clicks "
        f"({out['clicks_on_a_point']:,} on a point)"
    )

    def row(label: str, value: float, unit: str, target: str = "", extra: str = "") -> Result:
        return Result(label, value, value, value, unit, target, extra)

    trace = [v for v in out["rss_trace"] if v is not None]
    return [
        row("soak: RSS at start", start["rss"], "MB", extra=what),
        row(
            "soak: RSS at end",
            end["rss"],
            "MB",
            extra=f"trace {', '.join(f'{v:.0f}' for v in trace)}",
        ),
        row("soak: RSS growth", end["rss"] - start["rss"], "MB", "<= 10"),
        row(
            "soak: live Qt objects at start", start["qt_objects"], "", extra="window tree + widgets"
        ),
        row("soak: live Qt objects at end", end["qt_objects"], ""),
        row("soak: live Qt objects growth", end["qt_objects"] - start["qt_objects"], "", "<= 0"),
        row("soak: scatter scene items at start", start["scene_items"], ""),
        row("soak: scatter scene items at end", end["scene_items"], ""),
        row(
            "soak: scatter scene items growth",
            end["scene_items"] - start["scene_items"],
            "",
            "<= 0",
        ),
        row(
            "soak: time per slider change", out["slider_us"], "us", extra="decode + image + marker"
        ),
        row("soak: time per scatter click", out["click_ms"], "ms"),
    ]


def train_cancel_results(out: dict[str, Any] | None, why: str) -> list[Result]:
    from common import Result, unavailable

    if out is None or not out.get("cycles"):
        return [unavailable("soak: train-cancel cycles", "", "", f"not available: {why}")]
    cycles = out["cycles"]
    first, last = cycles[0], cycles[-1]
    n = len(cycles)

    def row(label: str, value: float, unit: str, target: str = "", extra: str = "") -> Result:
        return Result(label, value, value, value, unit, target, extra)

    return [
        row(
            f"train-cancel: OS threads after cycle {n}",
            last["threads"],
            "",
            extra=f"after cycle 1: {first['threads']}; per cycle: "
            + ", ".join(str(c["threads"]) for c in cycles),
        ),
        row("train-cancel: thread growth", last["threads"] - first["threads"], "", "<= 0"),
        row(
            "train-cancel: RSS growth, cycle 1 to last",
            last["rss"] - first["rss"],
            "MB",
            extra="per cycle: " + ", ".join(f"{c['rss']:.0f}" for c in cycles),
        ),
        row(
            "train-cancel: RSS growth, cycle 2 to last",
            last["rss"] - cycles[min(1, n - 1)]["rss"],
            "MB",
            "<= 10",
            "the first cycle allocates what every run reuses",
        ),
        row("train-cancel: runs not joined", sum(not c["joined"] for c in cycles), "", "<= 0"),
        row("train-cancel: training threads still running", out["still_running"], "", "<= 0"),
    ]


def run(args: argparse.Namespace) -> list[Result]:
    import tempfile

    from bench_startup import app_env, resolve_model
    from common import BENCH_DIR, REPO, data_dir, log, run_json_subprocess, selected_parts

    parts = selected_parts(args, NAME, PARTS)
    quick = getattr(args, "quick", False)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="latentlab-soak-") as tmp:
        scratch = Path(tmp)
        model, note = resolve_model(args, scratch)
        env = app_env(model, scratch, data_dir(args))
        if "explore" in parts:
            changes = QUICK_SLIDER_CHANGES if quick else SLIDER_CHANGES
            clicks = QUICK_CLICKS if quick else CLICKS
            log(f"soak.explore: {changes:,} slider changes and {clicks:,} clicks, offscreen")
            code = _STUB.format(
                repo=str(REPO),
                bench=str(BENCH_DIR),
                child="explore_child",
                args=(str(model), changes, clicks),
            )
            out, why = run_json_subprocess(code, env, 1800)
            results += explore_results(out, why, note + (" (quick)" if quick else ""))
        if "train_cancel" in parts:
            log(f"soak.train_cancel: {CYCLES} train-cancel cycles in one process")
            code = _STUB.format(
                repo=str(REPO), bench=str(BENCH_DIR), child="train_cancel_child", args=(CYCLES,)
            )
            out, why = run_json_subprocess(code, env, 900)
            results += train_cancel_results(out, why)
    return results
