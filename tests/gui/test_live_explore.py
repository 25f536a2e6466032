"""`latentlab.explore` opens the explorer on live torch modules and returns when it is closed."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

import latentlab
from latentlab.gui.main_window import MainWindow
from tests.core.test_live_models import ConvDecoder, ConvEncoder


def test_explore_shows_a_live_model_and_returns_when_the_window_closes(qtbot):
    seen = {}

    def inspect_and_close() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        if not windows or windows[0].document is None:
            QTimer.singleShot(20, inspect_and_close)  # not shown yet: look again soon
            return
        window = windows[0]
        seen["source"] = window.document.source
        seen["points"] = len(window.document.points)
        seen["image"] = window.image_view.image().shape
        window.close()

    QTimer.singleShot(0, inspect_and_close)
    images = np.random.default_rng(0).integers(0, 256, (12, 16, 12, 3), dtype=np.uint8)
    latentlab.explore(
        ConvDecoder(), ConvEncoder(), images=images, labels=np.arange(12) % 2, latent_dim=3
    )
    assert seen == {"source": "live", "points": 12, "image": (16, 12, 3)}
