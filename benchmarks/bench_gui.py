"""Slider to pixels in the real app: slider moves, scatter clicks and marker drags (target 3).

A fresh subprocess opens the real `MainWindow` offscreen (configured as `app.run` does, training
menu included) on each of the two bundled models in turn (the conditional default and the 2-D
VAE; a stand-in of the same shapes where one is missing), with its 10,000-point scatter and the
position marker shown and the MNIST test images loaded. Then, in rounds that alternate the three
actions (so drift on a busy machine hits all of them):

- slider: `QSlider.setValue` on one slider at a time, a random walk of small steps (the signal a
  user's drag emits): decode, image, caption, spin box and marker;
- click: a real mouse press + release (QTest) on a random test point of the plot's viewport,
  through pyqtgraph's scene and `sigClicked`: class, every slider, reconstruction, original image
  and marker;
- drag: real mouse moves (QTest) with the button held on the marker: the marker, z along the
  scatter's axes, every slider and the image.

Each action is timed from just before it to the end of the event-loop call that delivered the
Paint events of both the image's viewport and the plot's viewport (see gui_timing: nothing is
forced with repaint(); Qt paints every dirty widget in that one flush). Figures are the median
and the p99 over all moves, with the min-max over rounds for the p99.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from common import Result

NAME = "gui"
PARTS = ("slider", "click", "drag")
DESCRIPTION = "real app, offscreen: slider / scatter click / marker drag to repainted pixels"

PARAMS_ENV = "LATENTLAB_BENCH_GUI"
TARGETS = {  # action: (median target, p99 target), milliseconds
    "slider": ("<= 2", "<= 4"),
    "click": ("", "<= 8"),
    "drag": ("<= 2", "<= 4"),
}
WHAT = {
    "slider": "slider -> image + marker painted",
    "click": "scatter click -> sliders, image + marker painted",
    "drag": "marker drag move -> sliders, image painted",
}
ROWS = 4  # rows per model and action
FULL = {"rounds": 5, "slider": 200, "click": 60, "drag": 100, "warmup": 20}
QUICK = {"rounds": 2, "slider": 100, "click": 25, "drag": 50, "warmup": 10}

_STUB = (
    "import sys; sys.path[:0] = [{repo!r}, {bench!r}]\nfrom bench_gui import harness; harness()\n"
)


# --- the harness: runs in the measured subprocess ------------------------------------------------


def harness() -> None:
    """Open each model, time the actions in alternating rounds, print one JSON line."""
    import json

    import gui_timing as gt

    params = gt.env_params(PARAMS_ENV)
    out: dict[str, Any] = {"models": []}
    try:
        for path, note in params["models"]:
            out["models"].append(measure_model(Path(path), note, params))
    except Exception as exc:  # say why in the report instead of a traceback-only failure
        import traceback

        traceback.print_exc()
        out["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(out), flush=True)


def measure_model(path: Path, note: str, params: dict[str, Any]) -> dict[str, Any]:
    import gui_timing as gt

    window = gt.open_window(path, training=True)
    try:
        probe = gt.window_probe(window)
        parts = params["parts"]
        actions = {
            "slider": gt.slider_moves,
            "click": gt.scatter_clicks,
            "drag": gt.marker_drags,
        }
        for name in parts:  # warm-up: first paints, caches, pyqtgraph's lazy set-up
            actions[name](window, probe, params["warmup"], 999, gt.Timings())
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in parts}
        for r in range(params["rounds"]):
            for name in parts:
                timings = gt.Timings()
                actions[name](window, probe, params[name], r, timings)
                rounds[name].append(timings.as_dict())
        explorer = window.state
        return {
            "file": path.name,
            "note": note,
            "latent_dim": explorer.latent_dim,
            "points": len(explorer.points_2d()),
            "window": [window.width(), window.height()],
            "rounds": rounds,
        }
    finally:
        from latentlab.gui.file_actions import discard_unsaved

        window.files.ask_unsaved = discard_unsaved
        window.close()
        window.deleteLater()
        gt.spin(0.05)


# --- the parent side ---------------------------------------------------------------------------


def run(args: argparse.Namespace) -> list[Result]:
    import tempfile

    import gui_setup as gp
    from common import BENCH_DIR, REPO, data_dir, log, run_json_subprocess, selected_parts

    parts = selected_parts(args, NAME, PARTS)
    plan = dict(QUICK if getattr(args, "quick", False) else FULL)
    with tempfile.TemporaryDirectory(prefix="latentlab-bench-gui-") as tmp:
        scratch = Path(tmp)
        models = gp.bundled_or_stand_ins(scratch, getattr(args, "model", None))
        params = {**plan, "parts": list(parts), "models": [[str(p), n] for p, n in models]}
        env = gp.subprocess_env(scratch, data_dir(args), params, PARAMS_ENV)
        log(
            f"gui: {len(models)} models, {plan['rounds']} rounds of "
            + ", ".join(f"{plan[p]} {p}" for p in parts)
        )
        code = _STUB.format(repo=str(REPO), bench=str(BENCH_DIR))
        out, why = run_json_subprocess(code, env, 600)
    return results_from(out, why, parts)


def results_from(out: dict[str, Any] | None, why: str, parts: tuple[str, ...]) -> list[Result]:
    """Rows per model and action: median (all moves, min-max) and p99 (min-max over rounds)."""
    from common import result_from, tail_result, unavailable

    if out is None or not out.get("models"):
        reason = why or (out or {}).get("error", "no result")
        return [
            unavailable(f"gui: {WHAT[p]}", "ms", TARGETS[p][1], f"not available: {reason}")
            for p in parts
        ]
    results: list[Result] = []
    for model in out["models"]:
        short = model["file"].removesuffix(".safetensors")
        for part in parts:
            rounds = model["rounds"][part]
            per_round = [[1000 * s for s in r["total"]] for r in rounds]
            handler = [1000 * s for r in rounds for s in r["handler"]]
            samples = [s for r in per_round for s in r]
            misses = sum(r["misses"] for r in rounds)
            skipped = sum(r["skipped"] for r in rounds)
            median_target, p99_target = TARGETS[part]
            note = f"{len(samples)} moves" + (f", {misses} not painted" if misses else "")
            if skipped:
                note += f", {skipped} missed their target"
            results.append(
                result_from(f"{short}: {WHAT[part]}, median", samples, "ms", median_target, note)
            )
            results.append(
                tail_result(f"{short}: {WHAT[part]}, p99", per_round, 99, "ms", p99_target)
            )
            results.append(
                result_from(
                    f"{short}: {part}, GUI-thread CPU time, median",
                    [1000 * s for r in rounds for s in r["cpu"]],
                    "ms",
                    note="the same span in CPU time: what a busy machine does not inflate",
                )
            )
            results.append(
                result_from(
                    f"{short}: {part} handler only (no paint), median",
                    handler,
                    "ms",
                    note="the slot chain up to the widgets' update() calls",
                )
            )
        results[-ROWS * len(parts)].note += f"; {model['note']}; {model['points']:,} points"
    return results
