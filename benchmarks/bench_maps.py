"""Nonlinear maps and colouring at scale: the inverse map's drag step, the scatter's click hit
test and recolouring at 70,000 points, and a UMAP of 70,000 points computed in the background
while a heartbeat timer on the GUI thread measures how late it fires.

Points are synthetic (a mixture of Gaussians in 8-D, like a trained model's encodings) so the
figures do not wait for a training run; `--map-points` sizes them (the issue's 70,000 default).
"""

from __future__ import annotations

import argparse
import os
import time

from common import Result

NAME = "maps"
PARTS = ("lift", "hit", "recolour", "umap")
DESCRIPTION = "inverse-map drag step, click hit test and recolour at 70,000 points; UMAP time"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--map-points", type=int, default=70_000, help="points for the maps bench")


def _points(n: int, d: int = 8, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    centres = rng.normal(0, 2, (10, d))
    return (centres[labels] + rng.normal(0, 0.7, (n, d))).astype(np.float32), labels


def _result(name, samples, unit, target, note=""):
    import numpy as np

    s = sorted(samples)
    p99 = float(np.percentile(s, 99))
    return Result(name, p99, s[0], s[-1], unit, target, note or "p99", samples=[])


def run(args: argparse.Namespace) -> list[Result]:
    import numpy as np

    parts = args.parts.get(NAME) or set(PARTS)
    n = args.map_points
    mu, labels = _points(n)
    rng = np.random.default_rng(1)
    results: list[Result] = []
    coords = rng.normal(0, 1, (n, 2)).astype(np.float32)  # layout does not matter for timing
    if "lift" in parts:
        from latentlab.core.explore.projection import NonlinearProjection

        m = NonlinearProjection("umap", coords, mu)
        times = []
        for p in rng.normal(0, 1, (2000, 2)):
            t = time.perf_counter()
            m.lift(p)
            times.append((time.perf_counter() - t) * 1e3)
        results.append(
            _result(f"inverse map (lift) per drag step, {n:,} points", times, "ms", "<= 1")
        )
        times = []
        for z in mu[rng.integers(0, n, 500)] + 0.01:
            t = time.perf_counter()
            m.project(z)
            times.append((time.perf_counter() - t) * 1e3)
        results.append(
            _result(f"marker placement (project) per slider step, {n:,}", times, "ms", "<= 1")
        )
    if parts & {"hit", "recolour"}:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication([])
        from latentlab.core.explore.colouring import ColourChoice
        from latentlab.core.explore.document import Document
        from latentlab.core.explore.points import EncodedPoints
        from latentlab.core.explore.state import ExplorerState
        from latentlab.gui.latent_scatter import LatentScatter

        class _Model:  # enough of a LatentModel for the scatter
            latent_dim = mu.shape[1]
            class_names = tuple(str(i) for i in range(10))
            conditional = False
            can_encode = True
            can_classify = False

        points = EncodedPoints(mu, np.full_like(mu, -1.0), labels.astype(np.uint8))
        state = ExplorerState()
        state.open(Document(_Model(), points))
        scatter = LatentScatter(state)
        scatter.resize(900, 700)
        scatter.show()
        app.processEvents()
        if "hit" in parts:
            times = []
            pts = state.points_2d()
            for i in rng.integers(0, n, 300):
                pos = scatter.scene_pos(*pts[i])
                t = time.perf_counter()
                scatter.index_at(pos)
                times.append((time.perf_counter() - t) * 1e3)
            results.append(_result(f"click hit test, {n:,} points", times, "ms", "<= 2"))
        if "recolour" in parts:
            times = []
            for k in range(6):
                choice = ColourChoice("latent", k % mu.shape[1]) if k % 2 else ColourChoice("kl")
                t = time.perf_counter()
                scatter._on_colouring(choice)
                app.processEvents()
                times.append((time.perf_counter() - t) * 1e3)
            results.append(
                _result(
                    f"recolour (values, colour levels), {n:,}",
                    times,
                    "ms",
                    "<= 50",
                    "max of 6 (p99)",
                )
            )
        scatter.close()
    if "umap" in parts:
        results += _umap_in_background(mu)
    return results


def _umap_in_background(mu) -> list[Result]:
    """UMAP of the points in a GeneratorWorker, a 10 ms heartbeat timer on the GUI thread."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from latentlab.core.explore.maps import MapRequest, map_job
    from latentlab.gui.workers import GeneratorWorker

    _app = QApplication.instance() or QApplication([])
    late: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    expected = [10.0]

    def beat() -> None:
        now = clock.elapsed()
        late.append(max(0.0, now - expected[0]))
        expected[0] = now + 10.0

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(beat)
    done: list[object] = []
    worker = GeneratorWorker(
        lambda token: map_job(mu, MapRequest("umap", 15), token, use_cache=False, isolated=True)
    )
    worker.returned.connect(done.append)
    worker.errored.connect(done.append)
    started = time.perf_counter()
    timer.start()
    worker.start()
    loop = QEventLoop()
    worker.finished.connect(loop.quit)
    loop.exec()
    timer.stop()
    seconds = time.perf_counter() - started
    import numpy as np

    note = "numba compile included" if not isinstance(done[0], Exception) else f"failed: {done[0]}"
    return [
        Result(
            f"UMAP of {len(mu):,} points in the background",
            seconds,
            seconds,
            seconds,
            "s",
            "",
            note,
        ),
        Result(
            "heartbeat lateness during UMAP, p99",
            float(np.percentile(late, 99)),
            min(late),
            max(late),
            "ms",
            "<= 15",
            f"{len(late)} beats",
        ),
    ]
