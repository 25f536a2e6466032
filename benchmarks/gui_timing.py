"""Timing the real explorer window: open it on a model, move a slider, wait for the pixels.

Shared by bench_gui (target 3) and bench_responsive (target 4); imported only inside their
measured subprocesses (it imports PySide6, pyqtgraph and the app).

"Repainted" means: after the action, the event loop is run (`processEvents`) until the Paint
events of BOTH the decoded image's viewport and the scatter plot's viewport have been seen, and
the call that delivered them has returned. That is what the real app does on its next loop
iteration: every dirty widget of the window (image, marker, slider, spin box, captions) is painted
into the backing store in one flush. Nothing is forced with `repaint()`, so the figure includes
Qt's own update scheduling (the scene's queued `changed` signal, the UpdateRequest event).
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QEventLoop, QObject, QPoint, QPointF, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

PAINT_TIMEOUT_S = 0.5  # an action whose paint never comes counts as a miss, not a sample


# --- the event loop ----------------------------------------------------------------------------


def wait_signal(signal: Any, timeout_s: float) -> bool:
    """Run the event loop until `signal` fires (True) or `timeout_s` passes (False)."""
    loop = QEventLoop()
    fired: list[bool] = []

    def on_fired(*_: object) -> None:
        fired.append(True)
        loop.quit()

    signal.connect(on_fired)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(on_fired)
    return bool(fired)


def spin(seconds: float) -> None:
    """Let the event loop run for `seconds` (layout, first paints, queued work)."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


class PaintProbe(QObject):
    """Notes the Paint events of a few widgets; `wait` runs the loop until all were painted."""

    def __init__(self, widgets: list[QWidget]) -> None:
        super().__init__()
        self._widgets = {id(w): w for w in widgets}
        self._seen: set[int] = set()
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and id(obj) in self._widgets:
            self._seen.add(id(obj))
        return False

    def reset(self) -> None:
        self._seen.clear()

    def wait(self, timeout_s: float = PAINT_TIMEOUT_S) -> bool:
        """processEvents until every watched widget has painted; False on timeout."""
        deadline = time.perf_counter() + timeout_s
        process = QApplication.processEvents
        while len(self._seen) < len(self._widgets):
            if time.perf_counter() > deadline:
                return False
            process()
        return True


# --- the window --------------------------------------------------------------------------------


def open_window(model: Path, *, training: bool = False, timeout_s: float = 60.0) -> Any:
    """The real MainWindow, configured as `app.run` does, shown, with `model` live.

    Also waits for the test images (a scatter click shows the original next to the
    reconstruction when MNIST is there), so no background load runs while timing; a model
    whose document names no data set (an imported file carries its own images) has none.
    """
    from latentlab.gui import app as gui_app
    from latentlab.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(["latentlab-bench"])
    gui_app.configure(app)
    kwargs = {} if training else {"training_factory": None}
    window = MainWindow(**kwargs)
    window.resize(1280, 820)
    window.show()
    loop = QEventLoop()
    state: dict[str, bool] = {"model": False, "data": False}

    def mark(key: str) -> None:
        state[key] = True
        if all(state.values()):
            loop.quit()

    def on_model(_explorer: object) -> None:
        document = window.state.document
        if document is not None and not document.dataset:  # an imported file: no test set
            mark("data")
        mark("model")

    window.model_loaded.connect(on_model)
    window.test_images.changed.connect(lambda: mark("data"))
    window.load_failed.connect(lambda message: loop.quit())
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    window.open_model(model)
    loop.exec()
    if not window.state.loaded:
        raise RuntimeError(f"the model did not load: {model}")
    spin(0.3)  # first layout and paints
    return window


def window_probe(window: Any) -> PaintProbe:
    """Watches the decoded image's viewport and the scatter plot's viewport."""
    image_viewport = window.image_view._view.viewport()
    plot_viewport = window.scatter.plot_widget.viewport()
    return PaintProbe([image_viewport, plot_viewport])


class Timings:
    """Seconds from an action to its pixels (total) and to its handler's return (handler)."""

    def __init__(self) -> None:
        self.total: list[float] = []
        self.handler: list[float] = []
        self.cpu: list[float] = []  # the GUI thread's CPU time for `total`: what load does not add
        self.misses = 0  # actions whose paints did not arrive (not counted as samples)
        self.skipped = 0  # actions that did not do what was asked (a click that hit no point)

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "handler": self.handler,
            "cpu": self.cpu,
            "misses": self.misses,
            "skipped": self.skipped,
        }


def time_action(probe: PaintProbe, action: Callable[[], bool | None], out: Timings) -> float | None:
    """Run `action`, then the loop until painted; record and return the seconds (None: miss)."""
    probe.reset()
    c0 = time.thread_time()
    t0 = time.perf_counter()
    did = action()
    t1 = time.perf_counter()
    painted = probe.wait()
    t2 = time.perf_counter()
    c2 = time.thread_time()
    if did is False:
        out.skipped += 1
        return None
    if not painted:
        out.misses += 1
        return None
    out.total.append(t2 - t0)
    out.handler.append(t1 - t0)
    out.cpu.append(c2 - c0)
    return t2 - t0


class SliderMover:
    """Moves the sliders as a hand would: a random walk of small steps, one slider at a time."""

    def __init__(self, window: Any, seed: int = 0) -> None:
        self.window = window
        self.rng = random.Random(seed)
        self.index = 0

    def __call__(self) -> bool:
        sliders = self.window.sliders
        slider = sliders.slider(self.index)
        self.index = (self.index + 1) % sliders.count()
        low, high = slider.minimum(), slider.maximum()
        step = self.rng.choice((-1, 1)) * self.rng.randint(3, 40)
        value = slider.value() + step
        if not low <= value <= high:
            value = slider.value() - step
        slider.setValue(value)  # emits valueChanged, exactly as a user's drag step does
        return True


def slider_moves(window: Any, probe: PaintProbe, count: int, seed: int, out: Timings) -> None:
    mover = SliderMover(window, seed)
    for _ in range(count):
        time_action(probe, mover, out)


def scatter_clicks(window: Any, probe: PaintProbe, count: int, seed: int, out: Timings) -> None:
    """Real mouse clicks (press + release on the plot's viewport) on random test points.

    As a hand does, the cursor first moves onto the point (untimed: its hover handling and tip
    run before the click, and pyqtgraph's 100 Hz limit on moves is lifted so that move is not
    dropped); the press and release are timed. The click goes through pyqtgraph's scene, the
    points item's hit test, the scatter's `point_clicked` and the window's slot: sliders,
    class, image, original and marker. Points under the marker or the legend (a click there is
    not a point click) are skipped.
    """
    import pyqtgraph as pg

    scatter = window.scatter
    plot = scatter.plot_widget
    viewport = plot.viewport()
    explorer = window.state
    points = explorer.points_2d()
    rng = random.Random(seed)
    clicked: list[int] = []
    scatter.point_clicked.connect(clicked.append)
    rect = viewport.rect().adjusted(4, 4, -4, -4)
    previous = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOptions(mouseRateLimit=-1)
    done = tries = 0
    try:
        while done < count and tries < count * 20:
            tries += 1
            index = rng.randrange(len(points))
            pos = plot.mapFromScene(scatter.scene_pos(*points[index]))
            marker = plot.mapFromScene(scatter.marker.scenePos())
            if not rect.contains(pos) or (pos - marker).manhattanLength() < 30:
                continue
            QTest.mouseMove(viewport, pos)
            QApplication.processEvents()
            before = len(clicked)

            def click(pos: QPoint = pos, before: int = before) -> bool:
                QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), pos)
                return len(clicked) > before

            time_action(probe, click, out)
            done += 1
    finally:
        pg.setConfigOptions(mouseRateLimit=previous)
        scatter.point_clicked.disconnect(clicked.append)


def marker_drags(
    window: Any, probe: PaintProbe, count: int, seed: int, out: Timings, moves_per_drag: int = 25
) -> None:
    """Real mouse drags of the marker: hover it, press on it, small moves (each timed), release.

    As a hand does, the cursor first rests on the marker (untimed), so the marker has claimed
    the drag when the button goes down; the first timed move also starts the drag. pyqtgraph
    drops mouse moves closer than 1/mouseRateLimit apart (10 ms by default); the synthetic moves
    here come back to back, so the limit is lifted while dragging (a real hand at 100 Hz sees
    the same per-move work).
    """
    import pyqtgraph as pg

    scatter = window.scatter
    plot = scatter.plot_widget
    viewport = plot.viewport()
    rng = random.Random(seed)
    moved: list[tuple[float, float]] = []

    def on_z(_z: object) -> None:
        moved.append(tuple(window.state.current_point()))

    window.state.events.z.connect(on_z)
    previous = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOptions(mouseRateLimit=-1)
    rect = viewport.rect().adjusted(40, 40, -40, -40)
    try:
        done = 0
        while done < count:
            start = plot.mapFromScene(scatter.marker.scenePos())
            if not rect.contains(start):  # bring it back to the middle first
                centre = plot.getPlotItem().getViewBox().viewRect().center()
                scatter.marker.setPos(centre)
                QApplication.processEvents()
                start = plot.mapFromScene(scatter.marker.scenePos())
            QTest.mouseMove(viewport, start)
            QApplication.processEvents()
            QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), start)
            QApplication.processEvents()
            angle = rng.uniform(0, 2 * math.pi)
            pos = QPointF(start)
            for _ in range(min(moves_per_drag, count - done)):
                angle += rng.uniform(-0.5, 0.5)
                step = QPointF(6 * math.cos(angle), 6 * math.sin(angle))
                if not rect.contains((pos + step).toPoint()):
                    angle += math.pi
                    step = -step
                pos += step
                before, target = len(moved), pos.toPoint()

                def move(to: QPoint = target, before: int = before) -> bool:
                    QTest.mouseMove(viewport, to)
                    return len(moved) > before

                time_action(probe, move, out)
                done += 1
            QTest.mouseRelease(
                viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), pos.toPoint()
            )
            QApplication.processEvents()
    finally:
        window.state.events.z.disconnect(on_z)
        pg.setConfigOptions(mouseRateLimit=previous)


def env_params(key: str) -> dict[str, Any]:
    """The harness's parameters, passed by the parent as JSON in an environment variable."""
    return json.loads(os.environ.get(key, "{}") or "{}")
