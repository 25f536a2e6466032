"""Retake docs/live-view.png (the Live training view during a run) and docs/live-view-replay.gif.

    xvfb-run -a -s "-screen 0 1600x1100x24" python docs/live_view_screenshot.py

The real main window on the bundled 2-D VAE trains the `vae-2d` preset on MNIST through the
app's own controller (its worker, its throttled snapshots); the window is grabbed in the second
epoch, while it trains, and the replay is exported as a GIF once the run has finished.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import DOCS, MNIST_VAE_2D, WITH_DOCK, fresh_settings, pump, save, wait_for

from latentlab.core.explore.replay import save_replay_gif
from latentlab.core.vae.config import PRESETS
from latentlab.gui.app import configure
from latentlab.gui.main_window import MainWindow

DATA = os.environ.get("LATENTLAB_DATA_DIR", str(DOCS.parent.parent / "shared/datasets/mnist"))


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    configure(app)
    fresh_settings()
    window = MainWindow()
    window.resize(*WITH_DOCK)
    window.show()
    loaded: list[object] = []
    window.model_loaded.connect(loaded.append)
    window.open_model(MNIST_VAE_2D)
    wait_for(lambda: bool(loaded), 60, "the model to load")
    window.state.set_z(np.array([0.6, -0.4], np.float32))
    controller, live = window.training, window.live_view
    controller.snapshot_every = 40
    config = PRESETS["vae-2d"].config.replace(epochs=3)
    controller.start(config, device="cpu", data_dir=DATA)
    batches = 60000 // config.batch_size
    wait_for(
        lambda: bool(live.replay and live.replay.steps and live.replay.steps[-1] > 1.6 * batches),
        900,
        "the second epoch",
    )
    window.resizeDocks([live.dock], [720], Qt.Orientation.Horizontal)
    pump(400)
    save(window, DOCS / "live-view.png")
    wait_for(lambda: not controller.is_running, 900, "the run to finish")
    done: list[object] = []
    live.gif_written.connect(lambda *args: done.append(args))
    live.export_gif(Path(tempfile.gettempdir()) / "latentlab-live-view.gif")  # as the button does
    wait_for(lambda: bool(done), 300, "the GIF")
    # the docs' copy: the snapshots alone, smaller, to keep the repository light
    frames = save_replay_gif(live.replay, DOCS / "live-view-replay.gif", 160, between=0, size=280)
    print("wrote", DOCS / "live-view.png", "and the replay GIF:", frames, "frames; app:", done[0])
    from latentlab.gui.file_actions import discard_unsaved

    window.files.ask_unsaved = discard_unsaved
    window.shutdown()
    window.close()


if __name__ == "__main__":
    main()
