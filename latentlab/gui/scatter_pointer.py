"""The scatter under the pointer: hover cards and tips, clicks on points, the marker's drags,
clicks on empty space (through the axes' inverse) and the legend labels that toggle.

A mixin of `LatentScatter` (one concern per module): the pointer's events become the state's
`select` and `move_to`; the hover card shows the point under a still cursor, test point or
training point, and follows a zoom or a pan beneath it.
"""

from __future__ import annotations

import weakref

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Slot
from PySide6.QtWidgets import QGraphicsItem


class PointerMixin:
    """What `LatentScatter` does under the mouse."""

    def tip_for(self, index: int) -> str:
        """Hover text for test point `index`."""
        if not self.is_labelled():
            return f"image #{index}"
        true = self._name(int(self._labels[index]))
        if self._predicted is None:
            return f"test image #{index}\nlabel: {true}"
        predicted = self._name(int(self._predicted[index]))
        return f"test image #{index}\ntrue label: {true}\npredicted: {predicted}"

    def _name(self, index: int) -> str:
        return self._names[index] if 0 <= index < len(self._names) else f"class {index}"

    def _hover_image(self, index: int) -> np.ndarray | None:
        """The hover card's image: test point `index`, or training point -1 - `index`."""
        return self._test_image(index) if index >= 0 else self.training.image(-1 - index)

    @Slot(int)
    def _on_point_clicked(self, index: int) -> None:
        self.state.select(index)
        self.point_clicked.emit(index)

    @Slot(object)
    def _on_marker_moved(self, marker: pg.TargetItem) -> None:
        pos = marker.pos()
        self.state.move_to(float(pos.x()), float(pos.y()))

    @Slot(object)
    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if self._plot.scene().clickEvents:
            return  # a button is down: a drag or a pan, no tips (nor a hit test) on every move
        self._hover_pos = QPointF(scene_pos)
        index = self.thumbnails.layer.index_at(scene_pos)  # a thumbnail answers all over
        if index is None:
            index = self.index_at(scene_pos)
        text = "" if index is None else self.tip_for(index)
        training = None if index is not None else self.training.index_at(scene_pos)
        if training is not None:  # a training point: -1 - its index on the hover card
            text, index = self.training.tip_for(training), -1 - training
        if text == self.last_tip and (self.hover.shown or index is None):
            return  # the same card is up (a press hides it: then it comes back)
        self.last_tip = text
        if index is None:
            self.hover.hide()
        else:
            x, y = self.state.points_2d()[index] if index >= 0 else self.training.xy(-1 - index)
            self.hover.show(index, float(x), float(y), text)

    def _training_in_view(self) -> int:
        """How many training points are drawn in the view now (0 while they are hidden)."""
        layer = self.training.layer
        return layer.count_in_view() if layer.isVisible() and len(layer) else 0

    @Slot()
    def _hide_hover(self, *_args: object) -> None:
        self.hover.hide()
        self.last_tip = ""

    @Slot()
    def _recheck_hover(self, *_args: object) -> None:
        """The view moved under a still cursor: the card shows the point under it now."""
        shown = self.hover.shown
        self._hide_hover()
        if shown and self._hover_pos is not None and not self._plot.scene().clickEvents:
            self._on_mouse_moved(self._hover_pos)


def empty_click_handler(scatter: object, view: pg.ViewBox):
    """The view box's click handler: empty space moves the point, else the view's own.

    Only weak references: a strong one from the view box to the scatter would make a cycle of
    Qt wrappers that Python's garbage collector frees on whatever thread it happens to run.
    """
    scatter_ref, view_ref = weakref.ref(scatter), weakref.ref(view)

    def clicked(ev: object) -> None:
        owner, box = scatter_ref(), view_ref()
        if owner is not None and owner._on_view_clicked(ev):
            return
        if box is not None:
            pg.ViewBox.mouseClickEvent(box, ev)

    return clicked


def toggle_through(sample: QGraphicsItem):
    """A legend label's click handler: the same as a click on its sample (the dot)."""
    sample_ref = weakref.ref(sample)

    def clicked(ev: object) -> None:
        target = sample_ref()
        if target is not None:
            target.mouseClickEvent(ev)

    return clicked
