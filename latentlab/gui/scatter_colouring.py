"""The scatter's colouring, bound to its widgets: class colours or a value's colour map, the
colour bar (its handles a range filter), the histogram under the plot (of the values, or of the
classes) and the "Only:" class filter.

A mixin of `LatentScatter` (one concern per module): it reads and sets the scatter's grouping
(`_groups`), values (`_values`, `_value_index`) and legend items, and refills the drawn layer.
A recolour never resizes the plot: the colour bar keeps its column when hidden and the
histogram is always there, so a million points are not laid out and drawn anew.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Slot
from PySide6.QtGui import QColor

from latentlab.core.explore.colouring import ColourChoice, values_for

from .scatter_colours import colour_map, level_indices, value_range

LEGEND_FADED = 0.45  # the legend's opacity while the points are coloured by a value


class ColouringMixin:
    """What `LatentScatter` does when the colour choice, the colour bar or the filter change."""

    def colouring(self) -> ColourChoice | None:
        return self.colours.choice

    def colour_values(self) -> np.ndarray | None:
        """The continuous values the points are coloured by (None: coloured by class)."""
        return self._values

    @Slot(object)
    def _on_colouring(self, choice: ColourChoice) -> None:
        state, points = self.state, self.state.points
        if points is None:
            return
        if choice.categorical:
            groups = points.predicted if choice.key == "predicted" else points.labels
            self._groups = np.asarray(groups) if self._labelled else self._labels
            self._values = None
            self._show_colour_bar(False)
            self._class_counts = None
        else:
            columns = getattr(getattr(state.document, "images", None), "attributes", None)
            values = values_for(choice, points, columns=columns, computed=self.colours.computed())
            self._groups, self._values = self._labels, values
            low, high = value_range(values)
            self._show_colour_bar(True)
            self.colour_bar.setLevels((low, high))
            self.colour_bar.setLabel("right", choice.title)
            # The 1st..99th percentile in the colours, the tails in the end colours; the band
            # on the histogram starts over every value, and dragging its edges greys out what
            # lies outside (a show-only filter), in the values' own units.
            self._colour_index = level_indices(values, low, high)
            self._value_index = self._colour_index
            self.histogram.show_values(values, low, high)
        self.set_points(state.points_2d(), state.projection.titles, fit=False)

    @Slot(float, float)
    def _on_value_band(self, low: float, high: float) -> None:
        """The histogram's band moved: the points whose value lies outside it turn grey."""
        values = self._values
        if values is None:
            return
        index = self._colour_index  # the colours themselves stay: only grey is laid over
        outside = 0
        if self.histogram.band_filters():
            index = index.copy()
            v = np.asarray(values, np.float32)
            left_out = (v < np.float32(low)) | (v > np.float32(high)) | ~np.isfinite(v)
            index[left_out] = len(self._level_palette) - 1
            outside = int(left_out.sum())
        self._value_index = index
        self.histogram.show_band_count(low, high, len(index) - outside, len(index))
        self._fill_all_points()

    def _show_colour_bar(self, shown: bool) -> None:
        """The colour bar shown or hidden; hidden, it keeps its place, as the histogram (of
        the values, or of the classes) stays under the plot, so that a recolour never resizes
        the plot: at 1,000,000 points a new layout costs more than the colours."""
        if self.colour_bar is None:
            bar = pg.ColorBarItem(
                values=(0.0, 1.0),
                colorMap=colour_map(),
                width=14,
                colorMapMenu=False,
                interactive=False,
            )
            bar.getAxis("right").enableAutoSIPrefix(False)  # the histogram's units, no "x0.001"
            bar.setToolTip(
                "The colours: the 1st to 99th percentile of the values, the end colours "
                "beyond. Drag the band's edges on the histogram below to show only a range."
            )
            policy = bar.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            bar.setSizePolicy(policy)
            self._plot.getPlotItem().layout.addItem(bar, 2, 5)  # owned by Qt from here on
            self.colour_bar = bar
        self.colour_bar.setVisible(shown)
        # Coloured by a value, the legend is no colour key: faded, it still hides a class on
        # a click (a new user read the class dots as the points' colours).
        self._legend.setOpacity(LEGEND_FADED if shown else 1.0)

    def _show_class_counts(self) -> None:
        """The histogram of the classes the points are coloured by, hidden classes grey."""
        groups, names = np.asarray(self._groups), self._names
        if self._class_counts is None or self._class_counts[0] is not self._groups:
            counts = np.bincount(groups[groups >= 0], minlength=len(names))[: len(names)]
            self._class_counts = (self._groups, counts)
        only = self.class_filter.only
        colours = [
            brush.color() if item.isVisible() and only in (None, c) else None
            for c, (brush, item) in enumerate(
                zip(self._brushes, self._items[: len(names)], strict=False)
            )
        ]
        self.histogram.show_classes(self._class_counts[1], colours, list(names))

    @Slot(int)
    def _on_bar_clicked(self, c: int) -> None:
        """A class's bar under the plot: show only it, or, clicked again, every class."""
        self.class_filter.choose(None if self.class_filter.only == c else c)

    @Slot(object)
    def _on_class_filter(self, _only: int | None) -> None:
        self._fill_all_points()
        self.thumbnails.layer.update()

    def frame_colours(self) -> tuple[np.ndarray, list[QColor]] | None:
        """Each point's class and the class colours (None while coloured by a value)."""
        if self._values is not None or not self._labelled:
            return None
        return self._groups, [brush.color() for brush in self._brushes[: len(self._names)]]

    def _class_colours(self) -> list[QColor]:
        return [brush.color() for brush in self._brushes[: len(self._names)]]

    def _shown_classes(self) -> np.ndarray:
        """(classes,) bool: whether each class is shown (not hidden from the legend)."""
        return np.array([item.isVisible() for item in self._items[: len(self._names)]], bool)

    def shown_mask(self) -> np.ndarray:
        """(N,) bool: whether each point's class is shown in colour (not hidden from the
        legend, not greyed by the class filter)."""
        shown = np.array([item.isVisible() for item in self._items[: len(self._names)]], bool)
        if len(shown) == 0:
            return np.ones(len(self._groups), bool)
        mask = shown[np.minimum(self._groups, len(shown) - 1)]
        greyed = self.class_filter.greyed(self._groups)
        return mask if greyed is None else mask & ~greyed
