"""The live training view's cost: training speed with it on and off, and the GUI's heartbeat.

A fresh subprocess opens the real `MainWindow` offscreen on the bundled default model and trains
the default preset (`sharp-cvae`, the app's own) on MNIST through the app's `TrainingController`
several times, cancelled after a fixed number of batches, alternating:

- live view ON: a snapshot of 2,000 test images every `SNAPSHOT_EVERY` steps (the app's
  default), the dock open and following, so each snapshot is encoded on the worker, crosses the
  threads, is aligned (Procrustes) and animated (200 ms of 20 ms ticks), and the explorer's
  point is decoded with its weights;
- live view OFF: no snapshots (`snapshot_every = 0`), the dock closed.

Same seed, same batches, same process. Throughput is batches per second between the trainer's
own progress reports after a warm-up (as bench_responsive measures it), and the target is on
the time per batch with the view on over that with it off, per round (<= 1.10).
During the ON runs a 5 ms `QTimer` (PreciseTimer) beats on the GUI thread; lateness is the gap
between two ticks minus 5 ms, and the target is on its p99 (<= 15 ms). The cost of taking one
snapshot on the worker (encode 2,000 images, copy the decoder) is timed on its own as well.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from common import Result

NAME = "live_view"
PARTS = ()
DESCRIPTION = "live training view: training slowdown with it on, GUI heartbeat while it animates"

PARAMS_ENV = "LATENTLAB_BENCH_LIVE_VIEW"
HEARTBEAT_MS = 5
WARMUP_BATCHES = 20
FULL = {"rounds": 3, "batches": 800}
QUICK = {"rounds": 2, "batches": 300}

_STUB = (
    "import sys; sys.path[:0] = [{repo!r}, {bench!r}]\n"
    "from bench_live_view import harness; harness()\n"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("live_view")
    group.add_argument("--live-preset", help="the recipe trained (default: the app's own)")
    group.add_argument("--live-rounds", type=int, help="off/on pairs of runs")
    group.add_argument("--live-batches", type=int, help="batches per run")


def train_config(preset: str | None = None) -> Any:
    """The preset (default: the app's), with enough epochs that every segment is cancelled."""
    from latentlab.core.vae.config import DEFAULT_PRESET, PRESETS

    return PRESETS[preset or DEFAULT_PRESET].config.replace(epochs=100)


def done_batches(progress: Any) -> int:
    return (progress.epoch - 1) * progress.batches + progress.batch


def throughput(reports: list[tuple[int, float]]) -> float | None:
    """Batches per second between the first report after the warm-up and the last one."""
    usable = [(b, t) for b, t in reports if b >= WARMUP_BATCHES]
    if len(usable) < 2 or usable[-1][1] <= usable[0][1]:
        return None
    (b0, t0), (b1, t1) = usable[0], usable[-1]
    return (b1 - b0) / (t1 - t0)


# --- the harness: runs in the measured app process ---------------------------------------------


def harness() -> None:
    import traceback

    out: dict[str, Any] = {}
    try:
        out = measure()
    except Exception as exc:
        traceback.print_exc()
        out["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(out), flush=True)


def measure() -> dict[str, Any]:
    import gui_timing as gt

    from latentlab.core.vae.snapshots import SNAPSHOT_EVERY

    params = gt.env_params(PARAMS_ENV)
    window = gt.open_window(Path(params["model"]), training=True)
    controller, live = window.training, window.live_view
    if controller is None:
        raise RuntimeError("the window has no training controller")
    config = train_config(params.get("preset"))
    out: dict[str, Any] = {
        "on": [],
        "off": [],
        "snapshot_every": SNAPSHOT_EVERY,
        "preset": params.get("preset") or train_config_name(),
    }
    for _ in range(params["rounds"]):
        for side in ("off", "on"):
            controller.snapshot_every = SNAPSHOT_EVERY if side == "on" else 0
            controller.follow_live = side == "on"
            if side == "off":
                live.dock.hide()
            out[side].append(segment(window, controller, live, config, params))
    out["snapshot_ms"] = snapshot_cost(params, config)
    from latentlab.gui.file_actions import discard_unsaved

    window.files.ask_unsaved = discard_unsaved
    window.shutdown()
    return out


def segment(window: Any, controller: Any, live: Any, config: Any, params: dict) -> dict:
    """One run cancelled after `batches`; the heartbeat's ticks meanwhile (after its start)."""
    import time

    import gui_timing as gt
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    from latentlab.core.vae.events import Started
    from latentlab.gui.training_worker import BatchReport

    reports: list[tuple[int, float]] = []
    ticks: list[float] = []
    marks: dict[str, int] = {"split": 0, "snapshots": 0}
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = QEventLoop()

    def on_event(ev: object) -> None:
        if isinstance(ev, Started):
            marks["split"] = len(ticks)
        elif isinstance(ev, BatchReport):
            reports.append((done_batches(ev.progress), ev.progress.elapsed_s))
            if reports[-1][0] >= params["batches"]:
                controller.cancel()

    def on_snapshot(_snapshot: object) -> None:
        marks["snapshots"] += 1

    def on_running(running: bool) -> None:
        if not running:
            loop.quit()

    controller.running_changed.connect(on_running)
    controller.snapshot_received.connect(on_snapshot)
    cpu0, wall0 = time.thread_time(), time.perf_counter()  # the GUI thread's own CPU time
    heartbeat.start()
    if not controller.start(config, device=params["device"], data_dir=params["data"]):
        raise RuntimeError("the controller refused to start training")
    controller._worker.yielded.connect(on_event)  # the trainer's own clock, unthrottled order
    QTimer.singleShot(900_000, loop.quit)
    loop.exec()
    heartbeat.stop()
    gui_cpu = (time.thread_time() - cpu0) / max(time.perf_counter() - wall0, 1e-9)
    controller.running_changed.disconnect(on_running)
    controller.snapshot_received.disconnect(on_snapshot)
    if controller.is_running:
        raise RuntimeError("training did not end in time")
    gaps = [
        b - a for a, b in zip(ticks[marks["split"] :], ticks[marks["split"] + 1 :], strict=False)
    ]
    gt.spin(0.3)
    return {
        "reports": reports,
        "gaps": gaps,
        "snapshots": marks["snapshots"],
        "frames": live.frame_count,
        "dock": live.dock.isVisible(),
        "gui_cpu": gui_cpu,
    }


def snapshot_cost(params: dict, config: Any) -> list[float]:
    """Milliseconds per snapshot taken on this process's thread with the app's torch settings."""
    import time

    import torch

    from latentlab.core.data.datasets import load_dataset
    from latentlab.core.vae.model import VAE
    from latentlab.core.vae.snapshots import SnapshotPlan, SnapshotTaker
    from latentlab.core.vae.training import DeviceData

    dataset = load_dataset("mnist", params["data"])
    data = DeviceData.from_dataset(dataset, torch.device(params["device"]))
    model = VAE(config).to(params["device"]).train()
    taker = SnapshotTaker(SnapshotPlan(), config, data.x_test, dataset.test_labels)
    taker.take(model, 0, 0)  # warm-up
    out = []
    for i in range(10):
        t0 = time.perf_counter()
        taker.take(model, i, 1)
        out.append(1000 * (time.perf_counter() - t0))
    return out


# --- the parent side ---------------------------------------------------------------------------


def run(args: argparse.Namespace) -> list[Result]:
    import tempfile

    import gui_setup
    from common import BENCH_DIR, REPO, data_dir, log, python_env, run_json_subprocess

    plan = dict(QUICK if getattr(args, "quick", False) else FULL)
    data = data_dir(args)
    with tempfile.TemporaryDirectory(prefix="latentlab-bench-live-") as tmp:
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
            "preset": getattr(args, "live_preset", None),
        }
        for key in ("rounds", "batches"):
            if getattr(args, f"live_{key}", None):
                params[key] = plan[key] = int(getattr(args, f"live_{key}"))
        env = gui_setup.subprocess_env(scratch, data, params, PARAMS_ENV)
        log(
            f"live_view: {plan['rounds']} rounds of {plan['batches']} batches, "
            "live view off and on, alternately, in the app"
        )
        code = _STUB.format(repo=str(REPO), bench=str(BENCH_DIR))
        out, why = run_json_subprocess(code, env, 1800)
    return results_from(out, why, note, plan)


def results_from(
    out: dict[str, Any] | None, why: str, model_note: str, plan: dict[str, Any]
) -> list[Result]:
    from common import ratios, result_from, tail_result, unavailable

    if out is None or "on" not in out:
        reason = why or (out or {}).get("error", "no result")
        return [
            unavailable("live view on / off: training time per batch", "x", "<= 1.10", reason),
            unavailable("heartbeat lateness with the live view, p99", "ms", "<= 15", reason),
        ]
    on_rates = [throughput(seg["reports"]) for seg in out["on"]]
    off_rates = [throughput(seg["reports"]) for seg in out["off"]]
    pairs = [(off, on) for on, off in zip(on_rates, off_rates, strict=False) if on and off]
    late = [[max(0.0, 1000 * g - HEARTBEAT_MS) for g in seg["gaps"]] for seg in out["on"]]
    pooled = [v for seg in late for v in seg]
    snaps = [seg["snapshots"] for seg in out["on"]]
    preset = out.get("preset") or train_config_name()
    what = f"{len(out['on'])} runs of {plan['batches']} batches of {preset}"
    snapshot_ms = out.get("snapshot_ms", [])
    shares = []
    if snapshot_ms:
        one = sorted(snapshot_ms)[len(snapshot_ms) // 2] / 1000
        for seg, rate in zip(out["on"], on_rates, strict=False):
            if rate:
                shares.append(100 * seg["snapshots"] * one / (plan["batches"] / rate))
    return [
        result_from(
            "live view on / off: training time per batch",
            ratios([off for off, _ in pairs], [on for _, on in pairs]),
            "x",
            "<= 1.10",
            f"per round, alternately, same seed; {what}; a snapshot every "
            f"{out.get('snapshot_every')} steps; > 1: slower with the view",
        ),
        result_from(
            "training with the live view on: batches/s", [r for r in on_rates if r], "batch/s"
        ),
        result_from(
            "training with the live view off: batches/s", [r for r in off_rates if r], "batch/s"
        ),
        tail_result(
            f"heartbeat ({HEARTBEAT_MS} ms timer) lateness with the live view, p99",
            late,
            99,
            "ms",
            "<= 15",
            f"{len(pooled)} ticks while training; the dock open, following, animating; {model_note}",
        ),
        result_from("heartbeat lateness with the live view, median", pooled, "ms"),
        result_from(
            "heartbeat lateness with the live view, max",
            [max(s) for s in late if s],
            "ms",
            note="min-max: the max of each run",
        ),
        result_from(
            "GUI thread CPU while training, live view on",
            [100 * seg["gui_cpu"] for seg in out["on"] if "gui_cpu" in seg],
            "% core",
            note="the heartbeat's 200 wake-ups a second included, on both sides",
        ),
        result_from(
            "GUI thread CPU while training, live view off",
            [100 * seg["gui_cpu"] for seg in out["off"] if "gui_cpu" in seg],
            "% core",
        ),
        result_from(
            "snapshots that reached the GUI per run",
            snaps,
            "count",
            note="throttled to one a second at most",
        ),
        result_from(
            "one snapshot on the worker: encode 2,000 test images, copy the decoder",
            snapshot_ms,
            "ms",
        ),
        result_from(
            "snapshot work on the worker, share of the training time",
            shares,
            "%",
            "<= 10",
            "snapshots of a run x one snapshot's time / the run's time: the engine's own cost, "
            "free of the machine's noise",
        ),
    ]


def train_config_name() -> str:
    from latentlab.core.vae.config import DEFAULT_PRESET

    return DEFAULT_PRESET


if __name__ == "__main__":  # python benchmarks/bench_live_view.py [--quick]
    import argparse as _argparse

    sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
    from common import table

    parser = _argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data-dir")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model")
    add_arguments(parser)
    parser.add_argument("--json")
    ns = parser.parse_args()
    rows = run(ns)
    print(table(rows))
    if ns.json:
        Path(ns.json).write_text(json.dumps([r.as_dict() for r in rows], indent=1))
