"""The training dock's plots: loss curves per epoch and per batch, and the per-epoch samples.

Every plot item is created once and updated with ``setData`` / ``setImage``. Data arrive at
once; the plots are redrawn at most four times a second (a tiny dataset can finish an epoch
every few milliseconds, and redrawing axes costs milliseconds each), and at once on ``redraw()``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import QSplitter, QWidget

from latentlab.core.vae.config import Config
from latentlab.core.vae.events import EpochEnd

TRAIN_PEN = pg.mkPen("#4c9be8", width=2)
TEST_PEN = pg.mkPen("#f28e2b", width=2)
BATCH_PEN = pg.mkPen("#4c9be8", width=1, style=Qt.PenStyle.DotLine)
TRAIN_BRUSH = pg.mkBrush("#4c9be8")
TEST_BRUSH = pg.mkBrush("#f28e2b")
PLACEHOLDER_TILE = (32, 32)  # (height, width) of a sample before the first epoch shows one
REDRAW_INTERVAL_MS = 250  # the batch curve follows at 4 Hz: each redraw costs the GUI thread
MAX_ROW_LABELS = 12


def sample_strip(samples: np.ndarray, columns: int = 10) -> np.ndarray:
    """(n, H, W) images side by side as one (H, W * columns) float32 row, padded with black."""
    samples = np.asarray(samples, dtype=np.float32)
    h, w = samples.shape[1:3]
    tiles = samples.reshape(-1, h, w)[:columns]
    if len(tiles) < columns:
        pad = np.zeros((columns - len(tiles), h, w), np.float32)
        tiles = np.concatenate([tiles, pad])
    return np.concatenate(list(tiles), axis=1)


class TrainingPlots(QSplitter):
    """Loss plots beside the sample grid, for one run at a time (``reset`` starts one)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setChildrenCollapsible(False)
        self._drawn_epochs = -1  # epoch points last given to the curves
        self._history: dict[str, list[float]] = {
            k: [] for k in ("epoch", "vae_train", "vae_test", "cls_train", "cls_test")
        }
        self._batch_x: list[float] = []
        self._batch_y: list[float] = []
        self._rows: list[np.ndarray] = []  # one (H, 10 W) strip of samples per finished epoch
        self._samples_from: str | None = None  # what the shown rows' styles were drawn from
        self._tile = PLACEHOLDER_TILE  # (height, width) of one sample
        self._tick_names: list[str] = []
        self._grid = np.zeros((0, 10 * self._tile[1]), np.float32)
        self._conditional = True

        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setMinimumSize(320, 260)
        # Side by side: the dock is wide and short, so each plot keeps a readable height.
        self.vae_plot = self._make_plot("VAE loss (recon + KL)", "nats / image", col=0)
        self.class_plot = self._make_plot("Classifier loss", "cross-entropy", col=1)
        self.vae_plot.addLegend(offset=(-8, 8), labelTextSize="8pt")
        self.class_plot.addLegend(offset=(-8, 8), labelTextSize="8pt")
        self.batch_curve = self.vae_plot.plot(pen=BATCH_PEN, name="train objective (smoothed)")
        self.vae_train_curve = self._epoch_curve(self.vae_plot, TRAIN_PEN, TRAIN_BRUSH, "train")
        self.vae_test_curve = self._epoch_curve(self.vae_plot, TEST_PEN, TEST_BRUSH, "test")
        self.class_train_curve = self._epoch_curve(self.class_plot, TRAIN_PEN, TRAIN_BRUSH, "train")
        self.class_test_curve = self._epoch_curve(self.class_plot, TEST_PEN, TEST_BRUSH, "test")

        self.samples = pg.GraphicsLayoutWidget()
        self.samples.setMinimumSize(200, 120)
        self.samples_plot = self.samples.addPlot(title="Samples after each epoch")
        self.samples_plot.setMenuEnabled(False)
        self.samples_plot.setMouseEnabled(x=False, y=False)
        self.samples_plot.hideButtons()
        self.samples_plot.getViewBox().setAspectLocked(True)
        self.samples_plot.getViewBox().invertY(True)
        self.samples_plot.getAxis("left").setStyle(tickLength=0)
        self.samples_plot.getAxis("bottom").setStyle(tickLength=0)
        self.sample_image = pg.ImageItem(axisOrder="row-major")
        self.samples_plot.addItem(self.sample_image)
        self._set_sample_ticks([str(d) for d in range(10)])

        self.addWidget(self.plots)
        self.addWidget(self.samples)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)

        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_INTERVAL_MS)
        self._redraw.timeout.connect(self.redraw)

    def _make_plot(self, title: str, units: str, col: int) -> pg.PlotItem:
        plot = self.plots.addPlot(row=0, col=col, title=title)
        plot.setLabel("left", units)
        plot.getAxis("left").enableAutoSIPrefix(False)  # "cross-entropy (x0.001)" reads badly
        plot.setLabel("bottom", "epoch")
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setMenuEnabled(False)
        return plot

    @staticmethod
    def _epoch_curve(plot: pg.PlotItem, pen, brush, name: str) -> pg.PlotDataItem:
        return plot.plot(pen=pen, symbol="o", symbolSize=6, symbolBrush=brush, name=name)

    def _set_sample_ticks(self, class_names: list[str]) -> None:
        self._tick_names = list(class_names)  # placed again once the samples' width is known
        ticks = [((i + 0.5) * self._tile[1], name[:6]) for i, name in enumerate(class_names)]
        self.samples_plot.getAxis("bottom").setTicks([ticks])

    def _set_row_ticks(self, rows: int) -> None:
        """Epoch numbers beside the rows; every k-th only, when there are many."""
        step = -(-rows // MAX_ROW_LABELS) if rows else 1
        labels = [((r + 0.5) * self._tile[0], str(r + 1)) for r in range(step - 1, rows, step)]
        self.samples_plot.getAxis("left").setTicks([labels])

    # --- what the panel and the tests read ----------------------------------------------------
    @property
    def sample_rows(self) -> int:
        """Epochs whose samples are held (drawn at the next redraw)."""
        return len(self._rows)

    @property
    def sample_grid(self) -> np.ndarray:
        """The image on screen: one row of samples per epoch drawn so far."""
        return self._grid

    # --- one run ---------------------------------------------------------------------------------
    def reset(self, config: Config) -> None:
        """Clear everything for a new run of ``config``."""
        for values in self._history.values():
            values.clear()
        self._batch_x.clear()
        self._batch_y.clear()
        self._rows.clear()
        self._samples_from = None
        self._drawn_epochs = -1
        self.vae_plot.enableAutoRange(axis="y")  # until the first fit gives it a range of ours
        for plot in (self.vae_plot, self.class_plot):  # fixed for the run: no re-layout per batch
            plot.setXRange(0, config.epochs, padding=0.02)
        self._redraw.stop()
        self.redraw()
        self._conditional = config.conditional
        self._show_class_plot(config.conditional)
        self._set_sample_ticks([str(d) for d in range(10)] if config.conditional else [""] * 10)
        self.samples_plot.setTitle(
            "Samples after each epoch (one style, classes 0-9)"
            if config.conditional
            else "Samples after each epoch (10 draws from the prior)"
        )

    def set_class_names(self, class_names: list[str]) -> None:
        """Label the sample columns with the dataset's classes (conditional models)."""
        if self._conditional:
            self._set_sample_ticks(class_names)

    def add_batch(self, x: float, smoothed_loss: float) -> None:
        self._batch_x.append(x)
        self._batch_y.append(smoothed_loss)
        self._request_redraw()

    def add_epoch(self, ev: EpochEnd) -> None:
        h = self._history
        h["epoch"].append(ev.epoch)
        h["vae_train"].append(ev.train.elbo_loss)
        h["vae_test"].append(ev.test.elbo_loss)
        h["cls_train"].append(ev.train.classifier)
        h["cls_test"].append(ev.test.classifier)
        self._rows.append(sample_strip(ev.samples))
        if ev.samples_from != self._samples_from:
            self._samples_from = ev.samples_from
            what = "classes 0-9" if self._conditional else "10 draws"
            self.samples_plot.setTitle(f"Samples per epoch ({what})")
            self.samples_plot.setToolTip(
                f"One row per finished epoch, {what}; styles drawn from {ev.samples_from}"
            )
        self._request_redraw()

    def finish(self) -> None:
        """The run ended: draw what is left now."""
        self._redraw.stop()
        self.redraw()

    @Slot()
    def redraw(self) -> None:
        # A redraw runs on the GUI thread while the user explores: it touches only what changed
        # (the epoch points and the class plot once an epoch) and keeps the axes' ranges unless
        # the data leaves them, since a range change re-lays and repaints every axis and grid.
        h = self._history
        self.batch_curve.setData(self._batch_x, self._batch_y)
        if self._drawn_epochs != len(h["epoch"]):
            self._drawn_epochs = len(h["epoch"])
            self.vae_train_curve.setData(h["epoch"], h["vae_train"])
            self.vae_test_curve.setData(h["epoch"], h["vae_test"])
            self.class_train_curve.setData(h["epoch"], h["cls_train"])
            self.class_test_curve.setData(h["epoch"], h["cls_test"])
        self._fit_vae_range()
        self._draw_samples()

    # --- internals ---------------------------------------------------------------------------
    def _request_redraw(self) -> None:
        if not self._redraw.isActive():
            self._redraw.start()

    def _draw_samples(self) -> None:
        rows = len(self._rows)
        if self._rows:
            tile = (self._rows[0].shape[0], self._rows[0].shape[1] // 10)
            if tile != self._tile:
                self._tile = tile
                self._set_sample_ticks(self._tick_names)
        th, tw = self._tile
        if rows == self._grid.shape[0] // th:
            return
        if rows == 0:
            self._grid = np.zeros((0, 10 * tw), np.float32)
            self.sample_image.clear()
        else:
            self._grid = np.ascontiguousarray(np.concatenate(self._rows, axis=0))
            # Ink on paper, as every other image in the app (the padding is paper too).
            ink = np.ascontiguousarray(1.0 - self._grid)
            self.sample_image.setImage(ink, autoLevels=False, levels=(0.0, 1.0))
        self._set_row_ticks(rows)
        self.samples_plot.getViewBox().setRange(
            xRange=(0, 10 * tw), yRange=(0, max(rows, 1) * th), padding=0.02
        )

    def _show_class_plot(self, show: bool) -> None:
        """Plain VAEs have no classifier: remove its plot from the layout, not leave it empty."""
        layout = self.plots.ci
        present = self.class_plot in layout.items
        if show and not present:
            layout.addItem(self.class_plot, row=0, col=1)
        elif not show and present:
            layout.removeItem(self.class_plot)

    def _fit_vae_range(self) -> None:
        """Fit the y axis to the epoch points and the batch curve from mid-epoch 1 on.

        The first batches' loss (several hundred nats above the rest) would otherwise flatten
        every later difference into one line; headroom on top keeps the legend off the curves.
        The range changes only when the data leaves it or fills less than half of it.
        """
        h = self._history
        batch_y = np.asarray(self._batch_y, dtype=np.float64)
        if h["epoch"]:
            settled = batch_y[np.asarray(self._batch_x) >= 0.5]
            values = np.concatenate([settled, h["vae_train"], h["vae_test"]])
        else:
            values = batch_y
        values = values[np.isfinite(values)]
        if len(values) == 0:
            return
        low, high = float(values.min()), float(values.max())
        span = max(high - low, 1.0)
        want_low, want_high = low - 0.05 * span, high + 0.45 * span
        shown_low, shown_high = self.vae_plot.getViewBox().viewRange()[1]
        fits = shown_low <= low and high <= shown_high
        loose = shown_high - shown_low > 2.0 * (want_high - want_low)
        ours = not self.vae_plot.getViewBox().autoRangeEnabled()[1]  # setYRange turns auto off
        if ours and fits and not loose:
            return
        self.vae_plot.setYRange(want_low, want_high, padding=0)
