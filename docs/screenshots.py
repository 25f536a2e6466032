"""Retake the README's screenshots of the real app: `xvfb-run -s "-screen 0 1600x1000x24" python docs/screenshots.py`.

Each shot is the real main window (as `latentlab` builds it) on a bundled model, driven through
its public API the way a user would drive it, then grabbed to a PNG in `docs/`. Training shots
need MNIST: point `LATENTLAB_DATA_DIR` at the IDX files (e.g. `../shared/datasets/mnist`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MODELS = ROOT / "models"


def pump(ms: int) -> None:
    """Let the event loop run for `ms` (paints, queued signals) without blocking it."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    clock = QElapsedTimer()
    clock.start()
    while not condition():
        if clock.elapsed() > timeout_s * 1000:
            raise SystemExit(f"timed out waiting for {what}")
        pump(50)


def new_window(model: Path, size: tuple[int, int]):
    from latentlab.gui.main_window import MainWindow

    window = MainWindow()
    window.resize(*size)
    window.show()
    loaded: list[object] = []
    window.model_loaded.connect(loaded.append)
    window.open_model(model)
    wait_for(lambda: bool(loaded), 30, f"{model.name} to load")
    pump(400)
    return window


def first_index_of(window, label: int) -> int:
    encoding = window.explorer.record.test_encoding
    return int(np.flatnonzero(encoding.labels == label)[0])


def shot_explorer_cvae(out: Path) -> None:
    window = new_window(MODELS / "mnist-cvae.safetensors", (1360, 860))
    window.scatter.point_clicked.emit(first_index_of(window, 3))
    pump(1500)  # the test images load in the background
    window.grab().save(str(out))
    window.shutdown()
    window.close()


def shot_explorer_vae2d(out: Path) -> None:
    window = new_window(MODELS / "mnist-vae-2d.safetensors", (1360, 860))
    window.scatter.point_clicked.emit(first_index_of(window, 6))
    pump(1500)
    window.grab().save(str(out))
    window.shutdown()
    window.close()


def shot_training(out: Path, epochs: int) -> None:
    from latentlab.core.config import get_preset

    window = new_window(MODELS / "mnist-cvae.safetensors", (1360, 980))
    controller = window.training
    assert controller is not None, "training is not available (torch missing?)"
    config = get_preset("seed-cvae").config.replace(epochs=epochs + 3)
    controller.start(config, device="cpu")
    wait_for(lambda: controller.panel.sample_rows >= epochs, 600, f"{epochs} epochs of training")
    pump(600)
    window.grab().save(str(out))
    controller.cancel()
    wait_for(lambda: not controller.is_running, 60, "the cancelled run to stop")
    window.shutdown()
    window.close()


SHOTS = {
    "explorer-cvae": lambda out, args: shot_explorer_cvae(out),
    "explorer-vae-2d": lambda out, args: shot_explorer_vae2d(out),
    "training": lambda out, args: shot_training(out, args.epochs),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shots", nargs="*", help=f"some of {', '.join(SHOTS)} (default: all)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs shown in the training shot")
    args = parser.parse_args()
    unknown = set(args.shots) - set(SHOTS)
    if unknown:
        parser.error(f"unknown shots: {', '.join(sorted(unknown))}")
    app = QApplication(sys.argv[:1])
    # A throwaway settings store, so the shots neither read nor change the user's.
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp("-shots")
    )
    from latentlab.gui.app import configure

    configure(app)
    QCoreApplication.setOrganizationName("latentlab-screenshots")
    for name in args.shots or list(SHOTS):
        out = DOCS / f"screenshot-{name}.png"
        SHOTS[name](out, args)
        print(f"saved {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
