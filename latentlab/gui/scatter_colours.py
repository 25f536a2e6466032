"""Colouring the scatter: the choice, a colour map's brushes, the colour bar and the histogram.

`ColourControls` is the "Colour:" combo (its entries are the core's `available_choices` for the
document) and runs the choices that need a job (reconstruction error, the stroke measures) in a
`GeneratorWorker`, keeping each result for the model shown. Continuous values are drawn with
viridis (perceptually uniform, readable in grey and by most colour-blind readers) from 256
brushes made once; the colour bar's handles are a show-only filter: points outside its range are
drawn grey, under the others. The histogram beside it shows where the values lie.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QWidget

from latentlab.core.explore.colouring import (
    ColourChoice,
    available_choices,
    reconstruction_error_job,
)
from latentlab.core.explore.morphometry import ATTRIBUTES, measure_job
from latentlab.core.explore.state import ExplorerState
from latentlab.core.jobs import Progress
from latentlab.core.text import first_line

from .workers import GeneratorWorker

COLOUR_MAP = "viridis"
LEVELS = 256
GREY = (222, 222, 222, 100)  # points a show-only filter leaves out (light: no class's colour)


def colour_map() -> pg.ColorMap:
    return pg.colormap.get(COLOUR_MAP)


def level_brushes(alpha: int) -> np.ndarray:
    """LEVELS brushes along the colour map, then one grey brush (index LEVELS)."""
    table = colour_map().getLookupTable(0.0, 1.0, LEVELS, alpha=False)
    brushes = [pg.mkBrush(int(r), int(g), int(b), alpha) for r, g, b in table]
    brushes.append(pg.mkBrush(*GREY))
    return np.array(brushes, dtype=object)


def level_indices(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Each value's brush index: 0..LEVELS-1 inside [low, high], the end colours outside it;
    NaN is grey (LEVELS). The band on the histogram greys a range of its own.

    In float32, in place: at 1,000,000 points float64 temporaries cost a recolour ~20 ms.
    """
    values = np.asarray(values, np.float32)
    span = (high - low) or 1.0
    t = (values - np.float32(low)) * np.float32((LEVELS - 1) / span)
    finite = np.isfinite(t)
    t[~finite] = 0.0
    np.rint(t, out=t)
    np.clip(t, 0, LEVELS - 1, out=t)
    index = t.astype(np.int64)
    index[~finite] = LEVELS
    return index


RANGE_SAMPLE = 50_000  # above this many values, the percentiles come from an even sample


def value_range(values: np.ndarray) -> tuple[float, float]:
    """The 1st to 99th percentile: a few outliers do not wash out the colours.

    Past RANGE_SAMPLE values they are read from every k-th value (a colour range needs no
    more; at 1,000,000 points the full sort was a third of a recolour).
    """
    values = np.asarray(values)
    if len(values) > RANGE_SAMPLE:
        values = values[:: -(-len(values) // RANGE_SAMPLE)]
    finite = np.asarray(values, np.float64)
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return 0.0, 1.0
    low, high = (float(v) for v in np.percentile(finite, [1, 99]))
    if high <= low:
        low, high = float(finite.min()), float(finite.max())
    if high <= low:
        high = low + 1.0
    return low, high


class ColourControls(QWidget):
    """The colour choice for one document's points, and the jobs some choices need."""

    choice_changed = Signal(object)  # ColourChoice, once its values are there
    computing = Signal(bool)

    def __init__(self, state: ExplorerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.combo = QComboBox()
        self.combo.setToolTip("What the points' colours show")
        # A fixed width: a new model's entries must not re-lay out the scatter under the mouse.
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(24)
        self.combo.currentIndexChanged.connect(self._on_combo)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(120)
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setObjectName("hint")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Colour:"))
        layout.addWidget(self.combo)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self._choices: list[ColourChoice] = []
        self._computed: dict[ColourChoice, np.ndarray] = {}
        self._choice: ColourChoice | None = None
        self._worker: GeneratorWorker | None = None
        self._images_source = None  # callable -> (images (N, H, W, C) or None, why not)

    # --- the document --------------------------------------------------------------------
    def set_images_source(self, source) -> None:
        """`source()` gives the points' images (N, H, W, C) uint8 or floats, or (None, why)."""
        self._images_source = source
        self.refresh()

    def images(self) -> tuple[np.ndarray | None, str]:
        if self._images_source is None:
            return None, "no images for these points"
        return self._images_source()

    def refresh(self) -> None:
        """List the choices of the document shown (after a model or its images arrive)."""
        state, points = self.state, self.state.points
        if points is None:
            self._set_choices([])
            return
        images, _why = self.images()
        document = state.document
        columns = getattr(getattr(document, "images", None), "attributes", None) or {}
        choices = available_choices(
            points,
            labelled=bool(state.class_names),
            can_classify=bool(state.model.can_classify),
            has_images=images is not None,
            columns=columns,
        )
        self._set_choices(choices)

    def reset(self) -> None:
        """A new model: nothing computed, the first choice."""
        self._stop()
        self._computed = {}
        self._choice = None
        self.refresh()

    def _set_choices(self, choices: list[ColourChoice]) -> None:
        keep = self._choice if self._choice in choices else None
        self._choices = choices
        self.combo.blockSignals(True)
        self.combo.clear()
        for choice in choices:
            self.combo.addItem(choice.title[:1].upper() + choice.title[1:])
        self.combo.setCurrentIndex(choices.index(keep) if keep is not None else 0)
        self.combo.blockSignals(False)
        self.combo.setEnabled(bool(choices))
        if keep is None and choices:
            self._choice = choices[0]

    # --- access ----------------------------------------------------------------------------
    @property
    def choice(self) -> ColourChoice | None:
        return self._choice

    def choices(self) -> list[ColourChoice]:
        return list(self._choices)

    def computed(self) -> dict[ColourChoice, np.ndarray]:
        return self._computed

    def choose(self, choice: ColourChoice) -> None:
        """Choose as a user would (a job runs first where the choice needs one)."""
        self.combo.setCurrentIndex(self._choices.index(choice))

    @property
    def is_computing(self) -> bool:
        return self._worker is not None

    # --- slots -------------------------------------------------------------------------------
    @Slot(int)
    def _on_combo(self, index: int) -> None:
        if not 0 <= index < len(self._choices):
            return
        choice = self._choices[index]
        self._stop()
        if choice.needs_images and choice not in self._computed:
            self._compute(choice)
            return
        self._choice = choice
        self.status.setText("")
        self.choice_changed.emit(choice)

    def _compute(self, choice: ColourChoice) -> None:
        images, why = self.images()
        state, points = self.state, self.state.points
        if images is None or points is None:
            self.status.setText(why)
            return
        model = state.model
        if choice.key == "recon_error":

            def job(token):
                return reconstruction_error_job(model, points, images, token)
        else:

            def job(token):
                return measure_job(images, token)

        worker = GeneratorWorker(job, name="latentlab-colour", parent=self)  # as MapControls
        worker.finished.connect(worker.deleteLater)
        worker.yielded.connect(lambda p: self._on_progress(worker, p))
        worker.returned.connect(lambda v: self._on_returned(worker, choice, v))
        worker.errored.connect(lambda e: self._on_ended(worker, f"failed: {first_line(e)}"))
        worker.cancelled.connect(lambda _p: self._on_ended(worker, "cancelled"))
        self._worker = worker
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.status.setText("measuring…" if choice.key == "stroke" else "reconstructing…")
        self.computing.emit(True)
        worker.start()

    def _on_progress(self, worker: GeneratorWorker, progress: Progress) -> None:
        if worker is self._worker and isinstance(progress, Progress) and progress.total:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)

    def _on_returned(self, worker: GeneratorWorker, choice: ColourChoice, value) -> None:
        if worker is not self._worker:
            return
        self._worker = None
        self.progress.setVisible(False)
        self.status.setText("")
        if isinstance(value, dict):  # the stroke measures: all five at once
            for name in ATTRIBUTES:
                self._computed[ColourChoice("stroke", name=name)] = value[name]
        else:
            self._computed[choice] = value
        self.computing.emit(False)
        self._choice = choice
        self.choice_changed.emit(choice)

    def _on_ended(self, worker: GeneratorWorker, why: str) -> None:
        if worker is not self._worker:
            return
        self._worker = None
        self.progress.setVisible(False)
        self.status.setText(why)
        self.computing.emit(False)
        self._select_shown()

    def _select_shown(self) -> None:
        """The combo shows the colouring drawn (after a job that did not finish)."""
        if self._choice in self._choices:
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(self._choices.index(self._choice))
            self.combo.blockSignals(False)

    def _stop(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.quit()
            self.progress.setVisible(False)
            self.computing.emit(False)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        worker, self._worker = self._worker, None
        if worker is None:
            return True
        worker.quit()
        return worker.join(timeout_ms)


class Histogram(pg.PlotWidget):
    """A small histogram under the scatter: of the colour values, its bars in the colour map's
    colours, or, coloured by a class, the count of each class in its colour (a hidden class's
    bar grey). It is always there, so a recolour never resizes the plot above it."""

    BINS = 40
    class_clicked = Signal(int)  # a class's bar was clicked (coloured by class)
    band_moved = Signal(float, float)  # the value band's edges were dragged: (low, high)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.setFixedHeight(70)
        item = self.getPlotItem()
        item.hideButtons()
        item.hideAxis("left")
        item.getAxis("bottom").enableAutoSIPrefix(False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=1.0, pen=None)
        item.addItem(self.bars)
        self.counts = np.zeros(0, np.int64)
        self.kind = "values"  # what the bars count: "values" or "classes"
        self.scene().sigMouseClicked.connect(self._on_click)
        # The show-only range of the values: drag its edges; outside it points turn grey.
        self.band = pg.LinearRegionItem(
            orientation="vertical",
            brush=pg.mkBrush(40, 40, 40, 28),
            hoverBrush=pg.mkBrush(40, 40, 40, 45),
            pen=pg.mkPen(60, 60, 60, width=2),
            hoverPen=pg.mkPen(214, 39, 40, width=3),
        )
        self.band.setZValue(10)
        self.band.hide()
        self.band.sigRegionChanged.connect(self._on_band)
        item.addItem(self.band, ignoreBounds=True)
        # What the band leaves in colour, in words: its bounds and how many points (top left).
        self.band_note = pg.TextItem("", color=(40, 40, 40), anchor=(0, 0))
        self.band_note.setZValue(20)
        self.band_note.hide()
        item.addItem(self.band_note, ignoreBounds=True)
        self._centres = np.zeros(0)
        self._bar_index = np.zeros(0, np.int64)
        self._data_range = (0.0, 1.0)

    def show_values(self, values: np.ndarray, low: float, high: float) -> None:
        finite = np.asarray(values, np.float32)
        usable = np.isfinite(finite)
        if not usable.all():  # no copy of a million values where every one is finite
            finite = finite[usable]
        lo = min(low, float(finite.min())) if len(finite) else low
        hi = max(high, float(finite.max())) if len(finite) else high
        if hi <= lo:
            hi = lo + 1.0
        # One bincount of each value's bin: np.histogram's general path costs 8 ms at 1,000,000.
        width = (hi - lo) / self.BINS
        bins = ((finite - np.float32(lo)) * np.float32(1.0 / width)).astype(np.intp)
        np.clip(bins, 0, self.BINS - 1, out=bins)
        counts = np.bincount(bins, minlength=self.BINS)[: self.BINS]
        edges = lo + width * np.arange(self.BINS + 1)
        centres = (edges[:-1] + edges[1:]) / 2
        self._centres, self._bar_index = centres, level_indices(centres, low, high)
        self._data_range = (lo, hi)
        self.kind = "values"
        self.setToolTip(
            f"How the values spread: {len(finite):,} points in {self.BINS} bins. Drag the "
            "band's edges to show only a range: the points outside it turn grey."
        )
        self.getPlotItem().getAxis("bottom").setTicks(None)
        self._show(centres, counts, width, self._value_brushes(lo, hi), (lo, hi))
        self.band.blockSignals(True)
        self.band.setBounds((lo, hi))
        self.band.setRegion((lo, hi))  # every value shown
        self.band.blockSignals(False)
        self.band.show()
        self.band_note.hide()

    def band_filters(self) -> bool:
        """Whether the band leaves some values out (its edges moved in from the ends)."""
        a, b = self.band.getRegion()
        lo, hi = self._data_range
        tol = 1e-6 * max(abs(hi - lo), 1e-12)
        return self.band.isVisible() and (a > lo + tol or b < hi - tol)

    def show_band_count(self, low: float, high: float, inside: int, total: int) -> None:
        """Say what the band shows: its bounds and how many of the points are in colour."""
        if not self.band_filters():
            self.band_note.hide()
            return
        self.band_note.setText(
            f"{low:.4g} to {high:.4g}: {inside:,} of {total:,} points in colour "
            "(drag the edges back to the ends for all)"
        )
        self.band_note.setPos(self._data_range[0], float(max(1, int(self.counts.max(initial=0)))))
        self.band_note.show()

    def _value_brushes(self, low: float, high: float) -> list:
        table = colour_map().getLookupTable(0.0, 1.0, LEVELS, alpha=False)
        return [
            pg.mkBrush(*GREY) if not low <= x <= high else pg.mkBrush(*(int(c) for c in table[i]))
            for i, x in zip(self._bar_index, self._centres, strict=True)
        ]

    def _on_band(self) -> None:
        low, high = (float(v) for v in self.band.getRegion())
        self.bars.setOpts(brushes=self._value_brushes(low, high))
        self.band_moved.emit(low, high)

    def show_classes(self, counts: np.ndarray, colours: list, names: list[str]) -> None:
        """One bar per class, `colours[c]` (None: hidden, drawn grey), labelled by name."""
        counts = np.asarray(counts, np.int64)
        brushes = [pg.mkBrush(*GREY) if c is None else pg.mkBrush(c) for c in colours]
        x = np.arange(len(counts), dtype=np.float64)
        ticks = [(float(i), short_name(name)) for i, name in enumerate(names)]
        self.kind = "classes"
        self.band.hide()
        self.band_note.hide()
        self.setToolTip(
            "Points per class: "
            + ", ".join(f"{name}: {int(n):,}" for name, n in zip(names, counts, strict=False))
            + ". Click a bar to show only that class in colour, again to show all."
        )
        self.getPlotItem().getAxis("bottom").setTicks([ticks])
        self._show(x, counts, 0.8, brushes, (-0.6, len(counts) - 0.4))

    def _on_click(self, ev: object) -> None:
        if self.kind != "classes" or ev.button() != Qt.MouseButton.LeftButton:
            return
        x = self.getPlotItem().getViewBox().mapSceneToView(ev.scenePos()).x()
        c = round(x)
        if 0 <= c < len(self.counts) and abs(x - c) <= 0.4:  # on a bar, not between two
            self.class_clicked.emit(c)

    def _show(
        self, x: np.ndarray, counts: np.ndarray, width: float, brushes: list, span: tuple
    ) -> None:
        self.counts = counts
        self.bars.setOpts(x=x, height=counts, width=float(width), brushes=brushes)
        self.getPlotItem().setXRange(*span, padding=0.02)
        self.getPlotItem().setYRange(0, max(1, int(counts.max(initial=0))), padding=0.05)


def short_name(name: str, width: int = 8) -> str:
    """A class name short enough for a tick under a bar ("T-shirt/top" -> "T-shirt…")."""
    return name if len(name) <= width else name[: width - 1] + "\u2026"
