"""Retake the README's screenshots of the real app, all or some by name (see --help).

    LATENTLAB_DATA_DIR=../shared/datasets/mnist \\
        xvfb-run -a -s "-screen 0 1600x1100x24" python docs/screenshots.py [NAME...]

Each shot is the real main window (as `latentlab` builds it) on a bundled model, driven through
its public API and widgets the way a user would drive it, then grabbed to a PNG in `docs/`. Every
window starts from an empty, throwaway settings store, so no shot sees the user's settings or
another shot's docks. The test images (shown beside reconstructions and as neighbours), the
report and the training run need MNIST: point `LATENTLAB_DATA_DIR` at its IDX files. The
Fashion-MNIST shot finds its test images in the usual places (e.g. /usr/share/datasets).

The morph GIF `docs/morph-3-to-8.gif` is made by the CLI, not by this script:

    latentlab morph models/mnist-cvae.safetensors --from 63 --to 179 --steps 16 --slerp \\
        --out docs/morph-3-to-8.gif
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEventLoop, QSettings, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget, QWidget

from latentlab.gui import theme
from latentlab.gui.app import configure
from latentlab.gui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MODELS = ROOT / "models"
MNIST_CVAE = MODELS / "mnist-cvae.safetensors"
MNIST_VAE_2D = MODELS / "mnist-vae-2d.safetensors"
FASHION_CVAE = MODELS / "fashion-cvae.safetensors"
WINDOW = (1360, 860)  # the main window in every shot but those with a dock
WITH_DOCK = (1360, 900)  # a little taller, so the scatter keeps its room beside a dock
SETTINGS_ROOT = tempfile.TemporaryDirectory(prefix="latentlab-shots-")  # removed at exit
VERTICAL = Qt.Orientation.Vertical
HORIZONTAL = Qt.Orientation.Horizontal


# --- the event loop --------------------------------------------------------------------------
def pump(ms: int) -> None:
    """Let the event loop run for `ms` (paints, queued signals) without blocking it."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Run the event loop until `condition()` holds; give up after `timeout_s` seconds."""
    clock = QElapsedTimer()
    clock.start()
    while not condition():
        if clock.elapsed() > timeout_s * 1000:
            raise SystemExit(f"timed out waiting for {what}")
        pump(50)


# --- windows -----------------------------------------------------------------------------------
def fresh_settings() -> None:
    """Point QSettings at a new empty folder: the next window starts as on a first run."""
    folder = tempfile.mkdtemp(dir=SETTINGS_ROOT.name)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, folder)
    # Directions kept beside the bundled (read-only) models: none from an earlier session.
    os.environ["LATENTLAB_DIRECTIONS_DIR"] = str(Path(folder) / "directions")


def check_test_images(window: MainWindow) -> None:
    """Stop with the window's own reason when the model's test images could not be loaded."""
    image, caption = window.test_images.image(0)
    if image is None:
        raise SystemExit(f"no test images: {caption} (set LATENTLAB_DATA_DIR)")


@contextmanager
def opened(model: Path, size: tuple[int, int] = WINDOW) -> Iterator[MainWindow]:
    """The main window on `model`, loaded and settled; closed (and its threads stopped) after."""
    fresh_settings()
    window = MainWindow()
    window.resize(*size)
    window.show()
    loaded: list[object] = []
    test_data: list[bool] = []  # the images arrive in the background after the model
    window.model_loaded.connect(loaded.append)
    window.test_images.changed.connect(lambda: test_data.append(True))
    window.open_model(model)
    wait_for(lambda: bool(loaded), 30, f"{model.name} to load")
    wait_for(lambda: bool(test_data), 60, "the test images")
    check_test_images(window)
    pump(400)
    try:
        yield window
    finally:
        window.shutdown()
        window.close()


@contextmanager
def theme_mode(mode: str) -> Iterator[None]:
    """View > Theme set to `mode` ("light", "dark", "system") for a while, then back."""
    themes = theme.manager()
    before = themes.mode()
    themes.set_mode(mode)
    try:
        yield
    finally:
        themes.set_mode(before)


def save(widget: QWidget, out: Path, settle_ms: int = 600) -> None:
    """Let pending updates (decodes, strips, repaints) land, then grab `widget` to `out`."""
    pump(settle_ms)
    if not widget.grab().save(str(out)):
        raise SystemExit(f"could not write {out}")


def index_of(window: MainWindow, label: int, nth: int = 0) -> int:
    """The `nth` test image of class `label`."""
    assert window.state.loaded
    labels = window.state.points.labels
    return int(np.flatnonzero(labels == label)[nth])


def click_point(window: MainWindow, index: int) -> None:
    """Click test point `index` in the scatter (as its point item reports a click)."""
    window.state.select(index)
    pump(100)


def show_dock(window: MainWindow, action: QAction, dock: QDockWidget, size: int) -> None:
    """Open a dock from its Explore menu action and drag its edge to `size` pixels."""
    action.trigger()
    left_or_right = window.dockWidgetArea(dock) in (
        Qt.DockWidgetArea.LeftDockWidgetArea,
        Qt.DockWidgetArea.RightDockWidgetArea,
    )
    window.resizeDocks([dock], [size], HORIZONTAL if left_or_right else VERTICAL)
    pump(200)


# --- the README's shots ------------------------------------------------------------------------
def shot_explorer_cvae(out: Path) -> None:
    """The explorer on the bundled cVAE, a test 3 clicked."""
    with opened(MNIST_CVAE) as window:
        click_point(window, index_of(window, 3))
        save(window, out)


def shot_explorer_vae2d(out: Path) -> None:
    """The plain 2-D VAE: the scatter is the latent plane, a test 6 clicked."""
    with opened(MNIST_VAE_2D) as window:
        click_point(window, index_of(window, 6))
        save(window, out)


def shot_training(out: Path, epochs: int) -> None:
    """Model > Train new model: `epochs` epochs of the seed-cvae preset, then cancelled."""
    from latentlab.core.vae.config import get_preset

    with opened(MNIST_CVAE, (1360, 980)) as window:
        controller = window.training
        assert controller is not None, "training is not available (torch missing?)"
        config = get_preset("seed-cvae").config.replace(epochs=epochs + 3)
        controller.start(config, device="cpu")
        wait_for(lambda: controller.panel.sample_rows >= epochs, 600, f"{epochs} epochs")
        save(window, out)
        controller.cancel()
        wait_for(lambda: not controller.is_running, 60, "the cancelled run to stop")


def shot_morph(out: Path) -> None:
    """Explore > Morph: A a test 3, B a test 8, 12 frames, a middle frame clicked."""
    with opened(MNIST_CVAE, WITH_DOCK) as window:
        tools = window.explore_tools
        panel = tools.morph_panel
        show_dock(window, tools.morph_action, tools.morph_dock, 230)
        click_point(window, index_of(window, 3, 5))
        panel.set_a_button.click()
        click_point(window, index_of(window, 8, 7))
        panel.set_b_button.click()
        panel.steps_spin.setValue(12)
        pump(200)
        QTest.mouseClick(
            panel.strip, Qt.MouseButton.LeftButton, pos=panel.strip.cell_rect(5).center()
        )
        save(window, out)


def shot_manifold(out: Path) -> None:
    """Explore > Manifold grid: 16 x 16 fours over the scatter's principal axes."""
    with opened(MNIST_CVAE, WITH_DOCK) as window:
        tools = window.explore_tools
        show_dock(window, tools.manifold_action, tools.manifold_dock, 560)
        tools.manifold_view.size_spin.setValue(16)
        tools.manifold_view.range_spin.setValue(2.5)
        window.selector.select(4)
        save(window, out)


def shot_neighbours(out: Path) -> None:
    """Explore > Nearest test images: near a test 5, its first slider nudged off the point."""
    with opened(MNIST_CVAE, WITH_DOCK) as window:
        tools = window.explore_tools
        show_dock(window, tools.neighbours_action, tools.neighbours_dock, 200)
        click_point(window, index_of(window, 5, 3))
        slider = window.sliders.slider(0)
        slider.setValue(slider.value() + 40)
        save(window, out)


def draw_seven(window: MainWindow) -> None:
    """Write a crossed 7 on the Draw canvas, stroke by stroke (canvas pixels, 280 x 280)."""
    canvas = window.insight_tools.draw_panel.canvas
    canvas.draw_stroke([(70, 60), (200, 55), (215, 62)])
    canvas.draw_stroke([(215, 62), (180, 120), (150, 180), (130, 235)])
    canvas.draw_stroke([(120, 145), (200, 140)])


def shot_draw(out: Path) -> None:
    """Explore > Draw a digit: a drawn 7, its reading and ellipses, then Edit in sliders."""
    with opened(MNIST_CVAE, WITH_DOCK) as window:
        tools = window.insight_tools
        show_dock(window, tools.draw_action, tools.draw_dock, 330)
        draw_seven(window)
        wait_for(lambda: tools.draw_panel.reading is not None, 10, "the drawing to be read")
        tools.draw_panel.edit_button.click()
        save(window, out)


def shot_dimensions(out: Path) -> None:
    """The sliders on raw dimensions ordered by KL, each with its strip, class 3."""
    with opened(MNIST_CVAE, WITH_DOCK) as window:
        window.sliders.set_directions("dims")
        window.sliders.order_by_kl_box.click()
        window.selector.select(3)
        save(window, out)


def shot_report(out: Path) -> None:
    """Model > Evaluate with its default settings, run to the end (the dialog alone)."""
    with opened(MNIST_CVAE) as window:
        tools = window.insight_tools
        tools.evaluate_action.trigger()
        dialog = tools.report_dialog
        assert dialog is not None
        dialog.run_button.click()
        wait_for(lambda: not dialog.running, 900, "the evaluation")
        if dialog.report is None:
            raise SystemExit(f"the evaluation did not finish: {dialog.status.text()}")
        save(dialog, out)


def shot_report_probes(out: Path) -> None:
    """Model > Evaluate with the probes section (few importance samples: the shot is the probes)."""
    with opened(MNIST_CVAE) as window:
        tools = window.insight_tools
        tools.evaluate_action.trigger()
        dialog = tools.report_dialog
        assert dialog is not None and dialog.probes_check.isChecked()
        dialog.k_spin.setValue(10)
        dialog.gen_spin.setValue(100)
        dialog.run_button.click()
        wait_for(lambda: not dialog.running, 900, "the evaluation")
        if dialog.report is None or dialog.report.probes is None:
            raise SystemExit(f"the probes did not finish: {dialog.status.text()}")
        save(dialog, out)


def shot_directions(out: Path) -> None:
    """Directions: slant and thickness found on the cVAE, a slider row for each under the
    latent sliders with its strip, a test 3 moved along slant to lean right."""
    import os

    from latentlab.core.explore.colouring import ColourChoice

    os.environ.setdefault("LATENTLAB_DIRECTIONS_DIR", tempfile.mkdtemp(dir=SETTINGS_ROOT.name))
    with opened(MNIST_CVAE, WITH_DOCK) as window:
        tools = window.direction_tools
        show_dock(window, tools.action, tools.dock, 380)
        for name in ("slant", "thickness"):
            tools.create_from_attribute(ColourChoice("stroke", name=name))
            wait_for(lambda: not tools.is_computing, 120, f"the {name} direction")
        click_point(window, index_of(window, 3))
        slant = tools.directions()[0]
        window.state.move_along(slant, 2.0)  # leaning right: 2 standard deviations along slant
        save(window, out, 1000)


def shot_fashion(out: Path) -> None:
    """The bundled Fashion-MNIST cVAE, a test ankle boot clicked."""
    with opened(FASHION_CVAE) as window:
        click_point(window, index_of(window, 9, 2))
        save(window, out)


def shot_dark(out: Path) -> None:
    """View > Theme > Dark: the explorer on the bundled cVAE, a test 6 clicked."""
    with theme_mode("dark"), opened(MNIST_CVAE) as window:
        click_point(window, index_of(window, 6, 1))
        save(window, out)


def shot_shortcuts(out: Path) -> None:
    """Help > Keyboard shortcuts (the dialog alone)."""
    with opened(MNIST_CVAE) as window:
        window.help.shortcuts_action.trigger()
        dialog = window.help.dialog
        assert dialog is not None
        save(dialog, out, settle_ms=300)
        dialog.close()


@dataclass(frozen=True)
class Shot:
    file: str  # in docs/
    take: Callable[[Path, argparse.Namespace], None]


def umap_shown(window: MainWindow) -> None:
    """Axes > UMAP chosen, and waited for (computed in its child process, or from the cache)."""
    scatter = window.scatter
    scatter.set_axes_choice("umap")
    wait_for(lambda: window.state.projection.kind == "umap", 600, "the UMAP map")
    pump(300)


def shot_maps_class(out: Path) -> None:
    """Axes > UMAP on the bundled cVAE, coloured by class, a test 3 clicked."""
    with opened(MNIST_CVAE) as window:
        umap_shown(window)
        click_point(window, index_of(window, 3))
        save(window, out)


def shot_maps_slant(out: Path) -> None:
    """The same UMAP coloured by Morpho-MNIST slant (measured in the background)."""
    from latentlab.core.explore.colouring import ColourChoice

    with opened(MNIST_CVAE) as window:
        umap_shown(window)
        colours = window.scatter.colours
        colours.choose(ColourChoice("stroke", name="slant"))
        wait_for(lambda: window.scatter.colour_values() is not None, 120, "the slant measures")
        save(window, out)


def shot_million(out: Path) -> None:
    """A million encoded points (the default's test latents, jittered), coloured by z1."""
    import sys

    from latentlab.core.explore.colouring import ColourChoice

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_scale import _big_document

    with opened(MNIST_CVAE) as window:
        window.show_document(_big_document(window, 1_000_000))
        pump(800)
        window.scatter.fit_view()
        window.scatter.colours.choose(ColourChoice("latent", 0))
        save(window, out)


SHOTS: dict[str, Shot] = {
    "explorer-cvae": Shot("screenshot-explorer-cvae.png", lambda out, a: shot_explorer_cvae(out)),
    "explorer-vae-2d": Shot(
        "screenshot-explorer-vae-2d.png", lambda out, a: shot_explorer_vae2d(out)
    ),
    "training": Shot("screenshot-training.png", lambda out, a: shot_training(out, a.epochs)),
    "feature-morph": Shot("feature-morph.png", lambda out, a: shot_morph(out)),
    "feature-manifold": Shot("feature-manifold.png", lambda out, a: shot_manifold(out)),
    "feature-neighbours": Shot("feature-neighbours.png", lambda out, a: shot_neighbours(out)),
    "feature-draw": Shot("feature-draw.png", lambda out, a: shot_draw(out)),
    "feature-dimensions": Shot("feature-dimensions.png", lambda out, a: shot_dimensions(out)),
    "feature-report": Shot("feature-report.png", lambda out, a: shot_report(out)),
    "report-probes": Shot("report-probes.png", lambda out, a: shot_report_probes(out)),
    "feature-directions": Shot("feature-directions.png", lambda out, a: shot_directions(out)),
    "feature-fashion": Shot("feature-fashion.png", lambda out, a: shot_fashion(out)),
    "feature-dark": Shot("feature-dark.png", lambda out, a: shot_dark(out)),
    "maps-umap-class": Shot("maps-umap-class.png", lambda out, a: shot_maps_class(out)),
    "maps-umap-slant": Shot("maps-umap-slant.png", lambda out, a: shot_maps_slant(out)),
    "scatter-1000000-points": Shot("scatter-1000000-points.png", lambda out, a: shot_million(out)),
    "feature-shortcuts": Shot("feature-shortcuts.png", lambda out, a: shot_shortcuts(out)),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Retake the README's screenshots of the app.")
    parser.add_argument("shots", nargs="*", help=f"some of {', '.join(SHOTS)} (default: all)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs shown in the training shot")
    args = parser.parse_args()
    unknown = set(args.shots) - set(SHOTS)
    if unknown:
        parser.error(f"unknown shots: {', '.join(sorted(unknown))}")
    return args


def main() -> int:
    args = parse_args()
    app = QApplication(sys.argv[:1])
    # Throwaway settings stores, so the shots neither read nor change the user's.
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    fresh_settings()
    configure(app)
    QCoreApplication.setOrganizationName("latentlab-screenshots")
    for name in args.shots or list(SHOTS):
        clock = QElapsedTimer()
        clock.start()
        out = DOCS / SHOTS[name].file
        SHOTS[name].take(out, args)
        print(f"saved {out.relative_to(ROOT)} ({clock.elapsed() / 1000:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
