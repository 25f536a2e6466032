"""Responsive while training: the GUI thread's heartbeat and slider-to-pixels (target 4).

A fresh subprocess opens the real `MainWindow` offscreen on the bundled default model (a stand-in
of the same shapes if it is missing) and trains `seed-cvae` on MNIST through the app's own
`TrainingController` (its worker thread, its throttled events, its panel), cancelled after a
fixed number of batches. Meanwhile, on the GUI thread:

- a heartbeat: a 10 ms `QTimer` (PreciseTimer); lateness = the gap between two ticks minus
  10 ms. The target is on the p99 and the max over every tick of the training segments;
- a slider probe every 100 ms: one slider step, timed to the image and marker repainted exactly
  as bench_gui times it (see gui_timing).

The same is measured for a while before training (idle), for reference. In alternation with the
app's segments (app, CLI, app, CLI...), the engine runs the same recipe for the same number of
batches in a fresh process, as the CLI runs it (`latentlab train`: the main thread, torch's
default thread count); throughput on both sides is batches per second between the trainer's own
progress reports after a warm-up, and the target is on their ratio per round. The app's worker
runs at nice 10 on Linux and then uses every core, as the CLI does (elsewhere it leaves one core
to the GUI: `limit_torch_threads`).
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from common import Result

NAME = "responsive"
PARTS = ()
DESCRIPTION = "GUI heartbeat and slider-to-pixels while the app trains; app vs CLI throughput"

PARAMS_ENV = "LATENTLAB_BENCH_RESPONSIVE"
PRESET = "seed-cvae"
HEARTBEAT_MS = 10
PROBE_MS = 100
WARMUP_BATCHES = 20  # throughput counts from the first report at or after this many batches
FULL = {"rounds": 3, "batches": 1500, "idle_s": 3.0}  # 1500 batches of 100: 2.5 epochs
QUICK = {"rounds": 2, "batches": 400, "idle_s": 1.0}

_STUB = (
    "import sys; sys.path[:0] = [{repo!r}, {bench!r}]\n"
    "from bench_responsive import harness; harness()\n"
)
_CLI_STUB = (
    "import sys; sys.path[:0] = [{repo!r}, {bench!r}]\n"
    "from bench_responsive import cli_child; cli_child({data!r}, {batches!r}, {device!r})\n"
)


def train_config() -> Any:
    """seed-cvae with enough epochs that a segment always ends by cancellation."""
    from latentlab.core.vae.config import PRESETS

    return PRESETS[PRESET].config.replace(epochs=100)


def done_batches(progress: Any) -> int:
    """Batches finished since the start of training, across epochs."""
    return (progress.epoch - 1) * progress.batches + progress.batch


def throughput(reports: list[tuple[int, float]]) -> float | None:
    """Batches per second between the first report after the warm-up and the last one."""
    usable = [(b, t) for b, t in reports if b >= WARMUP_BATCHES]
    if len(usable) < 2 or usable[-1][1] <= usable[0][1]:
        return None
    (b0, t0), (b1, t1) = usable[0], usable[-1]
    return (b1 - b0) / (t1 - t0)


# --- the CLI side: a fresh process running the engine as `latentlab train` does ------------------


def cli_child(data: str, batches: int, device: str) -> None:
    import threading

    import torch

    from latentlab.core.data.datasets import load_dataset
    from latentlab.core.jobs import JobCancelled
    from latentlab.core.vae.events import BatchProgress
    from latentlab.core.vae.training import run_training

    dataset = load_dataset("mnist", data)
    config = train_config().replace(num_classes=len(dataset.class_names))
    cancel = threading.Event()
    reports: list[tuple[int, float]] = []
    with contextlib.suppress(JobCancelled):  # the run is stopped on purpose after `batches`
        for event in run_training(config, dataset, device=device, cancel=cancel):
            if isinstance(event, BatchProgress):
                reports.append((done_batches(event), event.elapsed_s))
                if reports[-1][0] >= batches:
                    cancel.set()
    print(json.dumps({"reports": reports, "threads": torch.get_num_threads()}), flush=True)


# --- the harness: runs in the measured app process ---------------------------------------------


def harness() -> None:
    """The app: idle phase, then app and CLI segments in turn; one JSON line."""
    import traceback

    out: dict[str, Any] = {}
    try:
        out = measure()
    except Exception as exc:
        traceback.print_exc()
        out["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(out), flush=True)


def measure() -> dict[str, Any]:
    import itertools
    import time

    import gui_timing as gt
    from common import run_json_subprocess
    from PySide6.QtCore import Qt, QTimer

    params = gt.env_params(PARAMS_ENV)
    window = gt.open_window(Path(params["model"]), training=True)
    controller = window.training
    if controller is None:
        raise RuntimeError("the window has no training controller")
    probe = gt.window_probe(window)
    mover = gt.SliderMover(window, seed=3)
    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    sliders = gt.Timings()
    slider_timer = QTimer()
    slider_timer.setInterval(PROBE_MS)
    slider_timer.timeout.connect(lambda: gt.time_action(probe, mover, sliders))

    def phase() -> tuple[list[float], gt.Timings]:
        nonlocal sliders
        ticks.clear()
        sliders = gt.Timings()
        heartbeat.start()
        slider_timer.start()
        return ticks, sliders

    def split() -> dict[str, int]:
        """Where the training proper starts in this phase's samples (its first event)."""
        return {"tick": len(ticks), "slider": len(sliders.total)}

    def stop() -> dict[str, Any]:
        heartbeat.stop()
        slider_timer.stop()
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        return {"gaps": gaps, "slider": sliders.as_dict()}

    gt.slider_moves(window, probe, 20, 99, gt.Timings())  # warm-up
    phase()
    gt.spin(params["idle_s"])
    out: dict[str, Any] = {"idle": stop(), "app": [], "cli": []}
    config = train_config()
    code = _CLI_STUB.format(
        repo=params["repo"], bench=params["bench"], data=params["data"],
        batches=params["batches"], device=params["device"],
    )  # fmt: skip
    for _ in range(params["rounds"]):
        out["app"].append(app_segment(window, controller, config, params, phase, split, stop))
        cli, why = run_json_subprocess(code, params["env"], 600)
        out["cli"].append(cli if cli is not None else {"error": why})
    from latentlab.gui.file_actions import discard_unsaved

    window.files.ask_unsaved = discard_unsaved
    window.shutdown()
    return out


def app_segment(
    window: Any,
    controller: Any,
    config: Any,
    params: dict[str, Any],
    phase: Any,
    split: Any,
    stop: Any,
) -> dict[str, Any]:
    """One training run in the app, cancelled after `batches`; heartbeat and probes meanwhile."""
    import time

    import gui_timing as gt
    from PySide6.QtCore import QEventLoop, QTimer

    from latentlab.core.vae.events import Started
    from latentlab.gui.training_worker import BatchReport

    reports: list[tuple[int, float]] = []
    marks: dict[str, Any] = {}
    loop = QEventLoop()

    def on_event(_run_id: int, ev: object) -> None:
        if isinstance(ev, Started):
            marks["started"] = time.perf_counter()
            marks["split"] = split()
        elif isinstance(ev, BatchReport):
            reports.append((done_batches(ev.progress), ev.progress.elapsed_s))
            if reports[-1][0] >= params["batches"]:
                controller.cancel()

    def on_running(running: bool) -> None:
        if not running:
            loop.quit()

    controller.running_changed.connect(on_running)
    t0 = time.perf_counter()
    phase()
    if not controller.start(config, device=params["device"], data_dir=params["data"]):
        stop()
        raise RuntimeError("the controller refused to start training")
    worker = controller._worker  # the run's worker: its events carry the trainer's own clock
    worker.yielded.connect(lambda ev: on_event(0, ev))
    QTimer.singleShot(600_000, loop.quit)
    loop.exec()
    result = stop()
    controller.running_changed.disconnect(on_running)
    if controller.is_running:
        raise RuntimeError("training did not end in time")
    result.update(
        reports=reports,
        seconds=time.perf_counter() - t0,
        to_first_batch=marks.get("started", t0) - t0,
        split=marks.get("split", {"tick": 0, "slider": 0}),
    )
    gt.spin(0.2)
    return result


# --- the parent side ---------------------------------------------------------------------------


def run(args: argparse.Namespace) -> list[Result]:
    import tempfile

    import gui_setup
    from common import BENCH_DIR, REPO, data_dir, log, python_env, run_json_subprocess

    plan = dict(QUICK if getattr(args, "quick", False) else FULL)
    data = data_dir(args)
    with tempfile.TemporaryDirectory(prefix="latentlab-bench-resp-") as tmp:
        scratch = Path(tmp)
        model, note = gui_setup.bundled_or_stand_ins(scratch, getattr(args, "model", None))[0]
        params = {
            **plan,
            "model": str(model),
            "data": str(data),
            "device": getattr(args, "device", "cpu") or "cpu",
            "repo": str(REPO),
            "bench": str(BENCH_DIR),
            "env": python_env(),
        }
        env = gui_setup.subprocess_env(scratch, data, params, PARAMS_ENV)
        log(
            f"responsive: {plan['rounds']} rounds of {plan['batches']} batches of {PRESET}, "
            "in the app and in the CLI engine, alternately"
        )
        code = _STUB.format(repo=str(REPO), bench=str(BENCH_DIR))
        out, why = run_json_subprocess(code, env, 1200)
    return results_from(out, why, note, plan)


def results_from(
    out: dict[str, Any] | None, why: str, model_note: str, plan: dict[str, Any]
) -> list[Result]:
    from common import Result, ratios, result_from, tail_result, unavailable

    if out is None or "app" not in out:
        reason = why or (out or {}).get("error", "no result")
        return [
            unavailable("heartbeat lateness while training, p99", "ms", "<= 15", reason),
            unavailable("slider -> pixels while training, p99", "ms", "<= 10", reason),
            unavailable("training: app / CLI time per batch", "x", "<= 1.3", reason),
        ]
    ms = 1000.0

    def lateness(gaps: list[float]) -> list[float]:
        return [max(0.0, ms * g - HEARTBEAT_MS) for g in gaps]

    app = out["app"]
    # Each run: before its first event (data load; the first run imports torch), then training.
    late = [lateness(seg["gaps"][seg["split"]["tick"] :]) for seg in app]
    start_late = [lateness(seg["gaps"][: seg["split"]["tick"]]) for seg in app]
    pooled = [v for seg in late for v in seg]
    idle_late = lateness(out["idle"]["gaps"])
    slider_rounds = [
        [ms * s for s in seg["slider"]["total"][seg["split"]["slider"] :]] for seg in app
    ]
    slider_cpu = [ms * s for seg in app for s in seg["slider"]["cpu"][seg["split"]["slider"] :]]
    idle_slider = [ms * s for s in out["idle"]["slider"]["total"]]
    app_rates = [throughput(seg["reports"]) for seg in app]
    cli_rates = [throughput(c.get("reports", [])) for c in out["cli"]]
    cli_threads = next((c.get("threads") for c in out["cli"] if "threads" in c), None)
    pairs = [(c, a) for a, c in zip(app_rates, cli_rates, strict=False) if a and c]
    what = f"{len(app)} runs of {plan['batches']} batches of {PRESET}; {model_note}"
    missing = sum(seg["slider"]["misses"] for seg in app)
    results = [
        tail_result(
            "heartbeat (10 ms timer) lateness while training, p99",
            late,
            99,
            "ms",
            "<= 15",
            f"{len(pooled)} ticks; {what}",
        ),
        Result(
            "heartbeat lateness while training, max",
            max(pooled) if pooled else None,
            min((max(s) for s in late if s), default=None),
            max((max(s) for s in late if s), default=None),
            "ms",
            "<= 50",
            "min-max: the max of each run",
        ),
        result_from("heartbeat lateness while training, median", pooled, "ms"),
        tail_result(
            "heartbeat lateness idle (same app, before training), p99",
            [idle_late],
            99,
            "ms",
            note=f"{len(idle_late)} ticks",
        ),
        tail_result(
            "slider -> pixels while training, p99",
            slider_rounds,
            99,
            "ms",
            "<= 10",
            f"a step every {PROBE_MS} ms"
            + (f"; {missing} not painted within 0.5 s" if missing else ""),
        ),
        result_from(
            "slider -> pixels while training, median",
            [v for r in slider_rounds for v in r],
            "ms",
        ),
        result_from("slider while training, GUI-thread CPU time, median", slider_cpu, "ms"),
        tail_result("slider -> pixels idle (same app), p99", [idle_slider], 99, "ms"),
        result_from(
            "start() to the first training event (data load, import torch in the worker)",
            [seg["to_first_batch"] for seg in app],
            "s",
            note="the first run imports torch",
        ),
        Result(
            "heartbeat lateness during that start, max",
            max((max(s) for s in start_late if s), default=None),
            min((max(s) for s in start_late if s), default=None),
            max((max(s) for s in start_late if s), default=None),
            "ms",
            note="min-max: the max of each run; the first run's includes import torch",
            samples=[max(s) for s in start_late if s],
        ),
        result_from(
            "training in the app: batches/s",
            [r for r in app_rates if r],
            "batch/s",
            note="worker thread, "
            + ("nice 10, all cores" if sys.platform.startswith("linux") else "all cores but one"),
        ),
        result_from(
            "training, CLI engine: batches/s",
            [r for r in cli_rates if r],
            "batch/s",
            note=f"fresh process, main thread, {cli_threads} torch threads",
        ),
        result_from(
            "training: app / CLI time per batch",
            ratios([c for c, _ in pairs], [a for _, a in pairs]),
            "x",
            "<= 1.3",
            "per round, measured alternately; > 1: the app is slower",
        ),
    ]
    errors = [c["error"] for c in out["cli"] if "error" in c]
    if errors:
        results[-1].note += f"; CLI runs failed: {errors[0]}"
    return results
