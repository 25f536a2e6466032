"""The scatter at scale (issue 17 §5), in the real app: 70,000 and 1,000,000 points.

Each size runs in a fresh subprocess (so its RSS is its own) that opens the real `MainWindow`
offscreen on the bundled default model with the MNIST test images loaded (gui_timing):

- 70,000: the model's 10,000 test points plus View > Show training points (the 60,000 MNIST
  training images, encoded in the app's worker; the time that takes is reported);
- 1,000,000: an imported-style document (`MainWindow.show_document`) of the default model with
  1,000,000 encoded points (its test latents, jittered: the layout a real data set gives).

Then: real marker drags (mouse moves with the button held, each timed to the repainted image
and plot, as bench_gui does), the click hit test (`LatentScatter.index_at` and the training
layer's, on random points), real scatter clicks, recolouring (a colour choice to the repainted
plot, for latent-value colourings and back to class) and the process's RSS. A `startup` part
times process start to interactive (bench_startup's harness) for a model file holding 70,000
encoded points against the bundled one (10,000).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from common import Result

NAME = "scale"
PARTS = ("70k", "1m", "startup")
DESCRIPTION = "real app at 70,000 and 1,000,000 points: drag, hit test, click, recolour, RSS"
PARAMS_ENV = "LATENTLAB_BENCH_SCALE"
QUICK = {"drag": 100, "click": 20, "hits": 300, "recolour": 3}

_STUB = (
    "import sys; sys.path[:0] = [{repo!r}, {bench!r}]\nfrom bench_scale import harness; harness()\n"
)


# --- the harness: runs in the measured subprocess ------------------------------------------------


def harness() -> None:
    import json

    import gui_timing as gt

    params = gt.env_params(PARAMS_ENV)
    try:
        out = measure(params)
    except Exception as exc:
        import traceback

        traceback.print_exc()
        out = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out), flush=True)


def _big_document(window: Any, n: int) -> Any:
    import numpy as np

    from latentlab.core.explore.document import Document
    from latentlab.core.explore.points import EncodedPoints

    base = window.state.document
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(base.points), n)
    mu = base.points.mu[pick] + rng.normal(0, 0.05, (n, base.points.latent_dim)).astype(np.float32)
    points = EncodedPoints(
        np.ascontiguousarray(mu, np.float32),
        np.full(mu.shape, -2.0, np.float32),
        base.points.labels[pick],
        None if base.points.probs is None else base.points.probs[pick],
    )
    return Document(base.model, points, payload=None, source="imported", dataset="")


def measure(params: dict[str, Any]) -> dict[str, Any]:
    import gui_timing as gt
    import numpy as np
    from common import proc_status_mb
    from PySide6.QtCore import QEventLoop, QTimer

    from latentlab.core.explore.colouring import ColourChoice

    out: dict[str, Any] = {}
    window = gt.open_window(Path(params["model"]))
    scatter = window.scatter
    out["rss_base_mb"] = proc_status_mb()["VmRSS"]
    probe = gt.window_probe(window)
    gt.marker_drags(window, probe, 20, 999, gt.Timings())  # warm-up
    base = gt.Timings()
    gt.marker_drags(window, probe, params["drag"], 1, base)
    out["drag_base"] = base.as_dict()  # the model's 10,000 test points, same process
    if params["size"] == "70k":
        tools = scatter.training
        loop = QEventLoop()
        tools.encoded.connect(loop.quit)
        tools.failed.connect(lambda _why: loop.quit())
        QTimer.singleShot(300_000, loop.quit)
        t = time.perf_counter()
        tools.action.setChecked(True)
        loop.exec()
        out["training_encode_s"] = time.perf_counter() - t
        if tools.points is None:
            raise RuntimeError(f"no training points: {tools.message}")
        out["training_points"] = len(tools.points)
    else:
        document = _big_document(window, params["n"])
        t = time.perf_counter()
        window.show_document(document)  # emits model_loaded before it returns
        gt.spin(0.05)  # the first paints
        out["open_s"] = time.perf_counter() - t
    gt.spin(0.5)
    scatter.fit_view()
    gt.spin(0.3)
    out["points_shown"] = len(scatter._all_points) + len(scatter.training.layer)
    out["modes"] = [scatter._all_points.mode, scatter.training.layer.mode]
    out["rss_open_mb"] = proc_status_mb()["VmRSS"]
    gt.marker_drags(window, probe, 20, 999, gt.Timings())  # warm-up
    drags = gt.Timings()
    gt.marker_drags(window, probe, params["drag"], 1, drags)
    out["drag"] = drags.as_dict()
    rng = np.random.default_rng(2)
    xy = window.state.points_2d()
    scatter.index_at(scatter.scene_pos(*xy[0]))  # the first query builds the grid
    layer = scatter.training.layer
    layer.index_at(layer.mapFromScene(scatter.scene_pos(*xy[0])))
    hits = []
    for i in rng.integers(0, len(xy), params["hits"]):
        pos = scatter.scene_pos(*xy[i])
        t = time.perf_counter()
        found = scatter.index_at(pos)
        if found is None:  # missed the test points: the training layer is asked next
            layer.index_at(layer.mapFromScene(pos))
        hits.append(time.perf_counter() - t)
    out["hit"] = hits
    clicks = gt.Timings()
    gt.scatter_clicks(window, probe, params["click"], 3, clicks)
    out["click"] = clicks.as_dict()
    plot_only = gt.PaintProbe([scatter.plot_widget.viewport()])  # a recolour paints the plot
    recolour, switch = gt.Timings(), gt.Timings()
    d = window.state.latent_dim
    # value -> value (the colour bar stays) and class <-> value (the bar comes or goes: the
    # plot's layout changes, so everything in it is drawn again)
    kinds = ["value", "value", "value", "class", "value"] * params["recolour"]
    for k, kind in enumerate(kinds):
        choice = ColourChoice("latent", k % d) if kind == "value" else ColourChoice("class")
        previous = scatter.colour_values() is not None

        def colour(choice: ColourChoice = choice) -> bool:
            scatter.colours.choose(choice)
            return True

        same = previous and kind == "value"
        gt.time_action(plot_only, colour, recolour if same else switch)
    out["recolour"] = recolour.as_dict()
    out["recolour_switch"] = switch.as_dict()
    status = proc_status_mb()
    out["rss_end_mb"], out["peak_mb"] = status["VmRSS"], status["VmHWM"]
    return out


# --- the parent side ---------------------------------------------------------------------------


def _model_with_points(folder: Path, n: int) -> Path:
    """The bundled default with `n` encoded points (its test latents, jittered) in the file."""
    import numpy as np

    from latentlab.core.bundled import default_model_path
    from latentlab.core.vae.checkpoint import load_model, save_model
    from latentlab.core.vae.record import TestEncoding

    record = load_model(default_model_path())
    enc = record.test_encoding
    rng = np.random.default_rng(0)
    pick = np.concatenate([np.arange(len(enc.labels)), rng.integers(0, len(enc.labels), n)])[:n]
    mu = enc.mu[pick] + rng.normal(0, 0.05, (n, enc.mu.shape[1])).astype(np.float32)
    record.test_encoding = TestEncoding(
        mu=np.ascontiguousarray(mu, np.float32),
        logvar=enc.logvar[pick],
        labels=enc.labels[pick],
        probs=None if enc.probs is None else enc.probs[pick],
    )
    return save_model(record, folder / f"default-{n}-points.safetensors")


def run(args: argparse.Namespace) -> list[Result]:
    import tempfile

    from common import BENCH_DIR, REPO, data_dir, log, run_json_subprocess, selected_parts
    from gui_setup import subprocess_env

    from latentlab.core.bundled import default_model_path

    parts = selected_parts(args, NAME, PARTS)
    results: list[Result] = []
    model = default_model_path()
    with tempfile.TemporaryDirectory(prefix="latentlab-bench-") as tmp:
        scratch = Path(tmp)
        for size, n in (("70k", 70_000), ("1m", 1_000_000)):
            if size not in parts:
                continue
            log(f"scale: {size} in the real app")
            params = {"size": size, "n": n, "model": str(model), **QUICK}
            env = subprocess_env(scratch, data_dir(args), params, PARAMS_ENV)
            code = _STUB.format(repo=str(REPO), bench=str(BENCH_DIR))
            out, why = run_json_subprocess(code, env, 900)
            results += _results(size, out, why)
        if "startup" in parts:
            results += _startup(scratch, data_dir(args))
    return results


def _results(size: str, out: dict[str, Any] | None, why: str) -> list[Result]:
    from common import Result, percentile, unavailable

    label = {"70k": "70,000", "1m": "1,000,000"}[size]
    if out is None or "error" in out:
        return [unavailable(f"scale {label}", "", "", why or out["error"])]
    ms = 1e3
    rows: list[Result] = []

    def row(name: str, samples: list[float], target: str, note: str = "") -> None:
        if not samples:
            rows.append(unavailable(name, "ms", target, "no samples"))
            return
        v = [s * ms for s in samples]
        rows.append(Result(name, percentile(v, 99), min(v), max(v), "ms", target, note or "p99"))

    drag_target = "<= 4" if size == "70k" else "<= 8"
    row(f"marker drag move, {label} points", out["drag"]["total"], drag_target)
    row("marker drag move, 10,000 points (same process, before)", out["drag_base"]["total"], "")
    for key, what in (("drag", label), ("drag_base", "10,000")):
        v = sorted(out[key]["total"])
        if v:
            med = v[len(v) // 2] * ms
            rows.append(
                Result(
                    f"marker drag move, {what} points, median",
                    med,
                    v[0] * ms,
                    v[-1] * ms,
                    "ms",
                    "",
                    "median",
                )
            )
    row(f"click hit test, {label} points", out["hit"], "<= 2")
    row(f"scatter click to pixels, {label} points", out["click"]["total"], "")
    for key, what in (("recolour", "value to value"), ("recolour_switch", "class <-> value")):
        v = sorted(out[key]["total"])
        if v:
            rows.append(
                Result(
                    f"recolour to pixels ({what}), {label} points, median",
                    v[len(v) // 2] * ms,
                    v[0] * ms,
                    v[-1] * ms,
                    "ms",
                    "<= 50",
                    f"median of {len(v)}",
                )
            )
    rss = out["rss_end_mb"]
    rows.append(
        Result(
            f"RSS with {label} points",
            rss,
            out["rss_base_mb"],
            out["peak_mb"],
            "MB",
            "<= 500" if size == "1m" else "",
            "now; min = before, max = peak",
        )
    )
    extra = out.get("training_encode_s") or out.get("open_s")
    what = "encode 60,000 training images (worker)" if size == "70k" else "open the document"
    rows.append(Result(f"{what}, {label}", extra, extra, extra, "s", "", f"modes {out['modes']}"))
    return rows


def _startup(scratch: Path, data: Path) -> list[Result]:
    import bench_startup as bs
    from common import Result

    from latentlab.core.bundled import default_model_path

    big = _model_with_points(scratch, 70_000)
    times: dict[str, list[float]] = {"10k": [], "70k": []}
    for r in range(4):  # one warm-up, three rounds, alternating
        for key, model in (("10k", default_model_path()), ("70k", big)):
            marks = bs.run_app(bs.app_env(model, scratch, data))
            if r and "interactive" in marks:
                times[key].append(float(marks["interactive"]))
    rows = []
    for key, label in (("10k", "10,000 (bundled)"), ("70k", "70,000")):
        v = times[key]
        if v:
            med = sorted(v)[len(v) // 2]
            rows.append(
                Result(
                    f"start-up to interactive, {label} points",
                    med,
                    min(v),
                    max(v),
                    "s",
                    "<= 0.7" if key == "70k" else "",
                    "median of 3",
                )
            )
    return rows
