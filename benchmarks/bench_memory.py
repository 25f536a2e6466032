"""Memory: resident size of the app idle with the bundled model open, and peak while training.

Both run in fresh subprocesses so nothing this runner loaded counts:

- idle: the start-up harness (bench_startup) runs the real app offscreen, waits until the model
  is interactive, stays idle a few seconds with the event loop running, then reads VmRSS (and
  VmHWM, the peak so far) from /proc/self/status.
- training: a process that imports the engine, loads MNIST and trains the default recipe for one
  epoch (quick: cancelled after a few batches, which already holds the epoch's peak: the data
  tensors and the epoch's shuffled copy are allocated before the first batch). VmHWM at the end.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from common import Result

NAME = "memory"
PARTS = ("idle", "training")
DESCRIPTION = "RSS of the app idle with the model open; peak RSS while training"

IDLE_TARGET = "<= 250"
QUICK_BATCHES = 30

_TRAIN_STUB = (
    "import sys; sys.path[:0] = [{repo!r}, {bench!r}]\n"
    "from bench_memory import train_child; train_child({data!r}, {batches!r}, {preset!r})\n"
)


def train_child(data: str, batches: int | None, preset: str | None) -> None:
    """In the measured process: RSS after imports, after loading MNIST, and peak in training."""
    import threading

    from common import proc_status_mb

    marks: dict[str, Any] = {"start": proc_status_mb().get("VmRSS")}
    import torch

    from latentlab.core.data.datasets import load_dataset
    from latentlab.core.jobs import JobCancelled
    from latentlab.core.vae.config import DEFAULT_PRESET, PRESETS
    from latentlab.core.vae.events import BatchProgress, EpochEnd, Failed
    from latentlab.core.vae.training import run_training

    marks["imports"] = proc_status_mb().get("VmRSS")
    dataset = load_dataset("mnist", data)
    marks["dataset"] = proc_status_mb().get("VmRSS")
    config = PRESETS[preset or DEFAULT_PRESET].config.replace(epochs=1)
    cancel = threading.Event()
    finished = 0
    with contextlib.suppress(JobCancelled):  # stopped on purpose after `batches`
        for event in run_training(config, dataset, device="cpu", cancel=cancel, progress_every=5):
            if isinstance(event, BatchProgress):
                finished = event.batch
                if batches is not None and event.batch >= batches:
                    cancel.set()
            elif isinstance(event, EpochEnd):
                marks["epoch_end"] = proc_status_mb().get("VmRSS")
            elif isinstance(event, Failed):
                marks["error"] = event.message
    status = proc_status_mb()
    marks.update(
        end=status.get("VmRSS"),
        peak=status.get("VmHWM"),
        batches=finished,
        train_size=len(dataset.train_labels),
        preset=config_name(preset),
        torch_threads=torch.get_num_threads(),
    )
    print(json.dumps(marks), flush=True)


def config_name(preset: str | None) -> str:
    from latentlab.core.vae.config import DEFAULT_PRESET

    return preset or DEFAULT_PRESET


def idle_runs(args: argparse.Namespace, rounds: int, idle_s: float) -> list[dict[str, Any]]:
    """The app started `rounds` times, each idle `idle_s` seconds after the model is live."""
    import tempfile

    from bench_startup import app_env, resolve_model, run_app
    from common import data_dir

    runs = []
    with tempfile.TemporaryDirectory(prefix="latentlab-bench-") as tmp:
        scratch = Path(tmp)
        model, note = resolve_model(args, scratch)
        env = app_env(model, scratch, data_dir(args), idle_s=idle_s)
        for _ in range(rounds):
            marks = run_app(env, timeout=60 + idle_s)
            marks["model_note"] = note
            runs.append(marks)
            if "VmRSS" not in marks:
                break
    return runs


def idle_results(runs: list[dict[str, Any]], idle_s: float) -> list[Result]:
    from common import result_from, unavailable

    name = "app idle RSS, model open"
    good = [m for m in runs if "VmRSS" in m and "interactive" in m]
    if not good:
        why = next((m.get("error") for m in runs if m.get("error")), "no run")
        return [unavailable(name, "MB", IDLE_TARGET, f"not available: {why}")]
    note = f"{good[0]['model_note']}; after {idle_s:g} s idle"
    shown = [m["rss_at_shown"] for m in good if m.get("rss_at_shown")]
    return [
        result_from(name, [m["VmRSS"] for m in good], "MB", IDLE_TARGET, note),
        result_from("app peak RSS (VmHWM) at idle", [m["VmHWM"] for m in good], "MB"),
        result_from("app RSS at window shown", shown, "MB", note="no model yet"),
    ]


def training_results(marks: dict[str, Any] | None, why: str, quick: bool) -> list[Result]:
    from common import Result, unavailable

    name = "training peak RSS (VmHWM)"
    if marks is None or marks.get("peak") is None:
        return [unavailable(name, "MB", "", f"not available: {why}")]
    what = f"{marks['preset']}, {marks['train_size']:,} images, {marks['batches']} batches"
    if quick:
        what += " (quick: cancelled early; the epoch's data is already allocated)"

    def row(label: str, value: float | None, note: str = "") -> Result:
        return Result(label, value, value, value, "MB", "", note)

    return [
        row(name, marks["peak"], what),
        row("training: RSS after import torch + engine", marks.get("imports")),
        row("training: RSS with MNIST loaded (uint8)", marks.get("dataset")),
    ]


def run(args: argparse.Namespace) -> list[Result]:
    from common import (
        BENCH_DIR,
        REPO,
        data_dir,
        log,
        python_env,
        run_json_subprocess,
        selected_parts,
    )

    parts = selected_parts(args, NAME, PARTS)
    quick = getattr(args, "quick", False)
    results: list[Result] = []
    if "idle" in parts:
        rounds, idle_s = (1, 2.0) if quick else (3, 5.0)
        log(f"memory.idle: {rounds} app runs, {idle_s:g} s idle each")
        results += idle_results(idle_runs(args, rounds, idle_s), idle_s)
    if "training" in parts:
        batches = QUICK_BATCHES if quick else None
        log(f"memory.training: 1 epoch{' (cancelled early)' if quick else ''} in a subprocess")
        code = _TRAIN_STUB.format(
            repo=str(REPO),
            bench=str(BENCH_DIR),
            data=str(data_dir(args)),
            batches=batches,
            preset=None,
        )
        marks, why = run_json_subprocess(code, python_env(), 600)
        results += training_results(marks, why, quick)
    return results
