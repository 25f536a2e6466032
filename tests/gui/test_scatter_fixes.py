"""Scatter fixes found under Xvfb: the rows above the plot never widen the window, the hover card
goes when the view or the layers change, a clicked training point shows its image, the
thumbnails' note counts what is drawn and sits bottom-left, and the training layer never shows a
stale layout."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from latentlab.core.jobs import Progress


def min_width(window) -> int:
    QApplication.processEvents()
    # The central widget's hint is the one computed now (the window's may be from the last
    # layout pass); the docks are closed.
    return max(window.minimumSizeHint().width(), window.centralWidget().minimumSizeHint().width())


def test_a_map_computing_does_not_raise_the_windows_minimum_width(
    qtbot, open_explorer_window, cvae_file
):
    window = open_explorer_window(cvae_file)
    scatter = window.scatter
    scatter._show_map_controls("umap")
    before = min_width(window)
    controls = scatter.map_controls
    controls.progress.setRange(0, 0)
    controls.status.setText("computing UMAP (15 neighbours) of 10,000 points: epoch 120 of 500…")
    controls._show_running(True)
    training = scatter.training.controls
    training.show_progress(Progress(5, 60, "encoding the training images, chunk 5 of 60 (60,000)"))
    assert controls.progress.isVisible() and training.isVisible()
    assert min_width(window) <= before
    assert controls.status.toolTip() == controls.status.text()  # the whole text, where cut
