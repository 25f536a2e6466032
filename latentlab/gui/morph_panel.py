"""The Morph panel: ends A and B, interpolation and steps, a strip of frames, Play and export.

The panel owns the morph (a core `Morph`, recomputed in one batched decode whenever an end, the
kind or the step count changes) and a QTimer that walks through its frames; it says which frame
to show with `frame_shown` and leaves showing it to the window. It knows nothing about the
window: "current" comes from a callable the owner provides.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRect, QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.explore.latent_model import LatentModel
from latentlab.core.explore.morph import MAX_STEPS, MIN_STEPS, Morph, MorphEnd, morph, save_morph
from latentlab.core.text import about_path

from . import settings
from .image_view import fit_rect, to_qimage

FRAME_MS = 120  # play speed and GIF frame time: about 8 frames a second
DEFAULT_STEPS = 10
KIND_TEXTS = {"linear": "Linear", "slerp": "Spherical (slerp)"}
GIF_FILTER = "Animated GIF (*.gif)"
PNG_FILTER = "PNG strip (*.png)"


class FrameStrip(QWidget):
    """The frames side by side, scaled to the width, the shown one outlined; click to pick one.

    Each cell has the frames' shape; a frame is enlarged by whole pixels (crisp), at any size.
    """

    frame_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._frames: np.ndarray | None = None
        self._images: list = []
        self._current = -1
        self.setMinimumHeight(48)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("The morph from A (left) to B (right): click a frame to show it")

    def set_frames(self, frames: np.ndarray | None) -> None:
        self._frames = frames
        self._images = [] if frames is None else [to_qimage(f, 1) for f in frames]
        self._current = -1
        self.updateGeometry()
        self.update()

    def set_current(self, index: int) -> None:
        self._current = index
        self.update()

    def current(self) -> int:
        return self._current

    def count(self) -> int:
        return len(self._images)

    def sizeHint(self) -> QSize:
        return QSize(600, 76)

    def cell_rect(self, index: int) -> QRect:
        """Where frame `index` is drawn (cells of the frames' shape, left to right, centred)."""
        n = max(len(self._images), 1)
        w, h = (self._images[0].width(), self._images[0].height()) if self._images else (1, 1)
        height = max(8, min(self.height() - 4, int(((self.width() - 2) / n - 2) * h / w)))
        width = max(8, round(height * w / h))
        left = (self.width() - n * (width + 2)) // 2
        return QRect(left + index * (width + 2) + 1, (self.height() - height) // 2, width, height)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if not self._images:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "Set A and B to see a morph"
            )
            return
        for i, image in enumerate(self._images):
            target, smooth = fit_rect(image.width(), image.height(), QRectF(self.cell_rect(i)))
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
            painter.drawImage(target, image)
        if 0 <= self._current < len(self._images):
            pen = QPen(QColor("#d62728"), 2)
            painter.setPen(pen)
            painter.drawRect(self.cell_rect(self._current).adjusted(-1, -1, 1, 1))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        for i in range(len(self._images)):
            if self.cell_rect(i).contains(event.position().toPoint()):
                self.frame_clicked.emit(i)
                return
        super().mousePressEvent(event)


class MorphPanel(QWidget):
    """Choose A and B, see and play the morph between them, export it."""

    frame_shown = Signal(int)  # the frame the live image should show now
    playing_changed = Signal(bool)
    morph_changed = Signal()  # a new morph (or none)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model: LatentModel | None = None
        self._current: Callable[[], MorphEnd | None] = lambda: None
        self._ends: dict[str, MorphEnd | None] = {"A": None, "B": None}
        self._morph: Morph | None = None
        self._index = -1
        self._scatter = True  # whether points can be clicked to choose an end
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._on_tick)

        self.set_a_button = QPushButton("Set A = current")
        self.set_b_button = QPushButton("Set B = current")
        self._set_end_tips()
        self.swap_button = QPushButton("Swap")
        self.swap_button.setToolTip("Exchange A and B")
        self.a_label = QLabel()
        self.b_label = QLabel()
        for label in (self.a_label, self.b_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.set_a_button.clicked.connect(lambda: self.set_end("A", self._current()))
        self.set_b_button.clicked.connect(lambda: self.set_end("B", self._current()))
        self.swap_button.clicked.connect(self.swap)

        self.kind_combo = QComboBox()
        for kind, text in KIND_TEXTS.items():
            self.kind_combo.addItem(text, kind)
        self.kind_combo.setToolTip(
            "Linear: a straight line in latent space. Spherical: along a great circle, which "
            "keeps the style's norm typical of the prior"
        )
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(MIN_STEPS, MAX_STEPS)
        self.steps_spin.setValue(DEFAULT_STEPS)
        self.steps_spin.setToolTip("Frames in the morph, A and B included")
        self.kind_combo.currentIndexChanged.connect(self._recompute)
        self.steps_spin.valueChanged.connect(self._recompute)

        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip(
            "Animate the live image along the morph, again and again (Stop to end)"
        )
        self.play_button.toggled.connect(self._on_play_toggled)
        self.loop_check = QCheckBox("Loop")
        self.loop_check.setChecked(True)
        self.loop_check.setToolTip("Start again at A after B; off: stop at B")
        self.export_gif_button = QPushButton("Export GIF…")
        self.export_gif_button.setToolTip("Save the morph as an animated GIF, one frame per step")
        self.export_png_button = QPushButton("Export PNG…")
        self.export_png_button.setToolTip("Save the frames side by side as one PNG strip")
        self.export_gif_button.clicked.connect(lambda: self._export(GIF_FILTER, "morph.gif"))
        self.export_png_button.clicked.connect(lambda: self._export(PNG_FILTER, "morph.png"))

        self.strip = FrameStrip()
        self.strip.frame_clicked.connect(self.show_frame)
        self.note = QLabel()
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)

        ends = QGridLayout()
        ends.addWidget(self.set_a_button, 0, 0)
        ends.addWidget(self.a_label, 0, 1)
        ends.addWidget(self.set_b_button, 1, 0)
        ends.addWidget(self.b_label, 1, 1)
        ends.setColumnStretch(1, 1)
        controls = QHBoxLayout()
        controls.addWidget(self.swap_button)
        controls.addWidget(QLabel("Interpolation:"))
        controls.addWidget(self.kind_combo)
        controls.addWidget(QLabel("Steps:"))
        controls.addWidget(self.steps_spin)
        controls.addStretch(1)
        controls.addWidget(self.play_button)
        controls.addWidget(self.loop_check)
        controls.addWidget(self.export_gif_button)
        controls.addWidget(self.export_png_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(ends)
        layout.addLayout(controls)
        layout.addWidget(self.strip)
        layout.addWidget(self.note)
        self._update_labels()
        self._update_enabled()

    # --- set-up ----------------------------------------------------------------------------
    def set_model(self, model: LatentModel | None) -> None:
        """A new model: its decoder; A and B (styles of the old model) are forgotten."""
        self.stop()
        self._model = model
        self._ends = {"A": None, "B": None}
        self._recompute()

    def set_scatter(self, available: bool) -> None:
        """Whether ends can come from scatter points too, or (no encoder) from the sliders only."""
        self._scatter = available
        self._set_end_tips()
        self._update_labels()

    def _set_end_tips(self) -> None:
        where = (
            "click a scatter point first to use it" if self._scatter else "as the sliders set it"
        )
        self.set_a_button.setToolTip(f"Start the morph at the current point ({where})")
        self.set_b_button.setToolTip(f"End the morph at the current point ({where})")

    def set_current_provider(self, provider: Callable[[], MorphEnd | None]) -> None:
        """Where "current" comes from (the explorer state's point)."""
        self._current = provider

    # --- ends ------------------------------------------------------------------------------
    def set_end(self, which: str, end: MorphEnd | None) -> None:
        if which not in self._ends:
            raise ValueError(f"end must be A or B, not {which!r}")
        self._ends[which] = end
        self._recompute()

    def end(self, which: str) -> MorphEnd | None:
        return self._ends[which]

    @Slot()
    def swap(self) -> None:
        self._ends = {"A": self._ends["B"], "B": self._ends["A"]}
        self._recompute()

    def set_kind(self, kind: str) -> None:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))

    def kind(self) -> str:
        return str(self.kind_combo.currentData())

    # --- the morph --------------------------------------------------------------------------
    def current_morph(self) -> Morph | None:
        return self._morph

    def frame_z(self, index: int) -> np.ndarray | None:
        """The latent point of frame `index` (for the sliders to show while it plays)."""
        if self._morph is None or not 0 <= index < len(self._morph):
            return None
        return self._morph.z[index]

    def shown_index(self) -> int:
        """The frame last shown (played or clicked); -1 when none."""
        return self._index

    @Slot()
    def _recompute(self) -> None:
        a, b = self._ends["A"], self._ends["B"]
        self._morph = None
        if self._model is not None and a is not None and b is not None:
            self._morph = morph(self._model, a, b, self.steps_spin.value(), self.kind())
        self._index = -1
        self.strip.set_frames(None if self._morph is None else self._morph.frames)
        if self._morph is None:
            self.stop()
        self._update_labels()
        self._update_enabled()
        self.morph_changed.emit()

    @Slot(int)
    def show_frame(self, index: int) -> None:
        if self._morph is None or not 0 <= index < len(self._morph):
            return
        self._index = index
        self.strip.set_current(index)
        self.frame_shown.emit(index)

    # --- playing ------------------------------------------------------------------------------
    def is_playing(self) -> bool:
        return self._timer.isActive()

    def play(self) -> None:
        self.play_button.setChecked(True)

    def stop(self) -> None:
        self.play_button.setChecked(False)

    @Slot(bool)
    def _on_play_toggled(self, on: bool) -> None:
        if on and self._morph is None:
            self.play_button.setChecked(False)
            return
        self.play_button.setText("Stop" if on else "Play")
        if on == self._timer.isActive():
            return
        if on:
            self._index = -1
            self._timer.start()
            self._on_tick()  # the first frame at once, not after one interval
        else:
            self._timer.stop()
        self.playing_changed.emit(on)

    @Slot()
    def _on_tick(self) -> None:
        if self._morph is None:
            self.stop()
            return
        nxt = self._index + 1
        if nxt >= len(self._morph):
            if not self.loop_check.isChecked():
                self.stop()
                return
            nxt = 0
        self.show_frame(nxt)

    # --- export ---------------------------------------------------------------------------------
    def export(self, path: str) -> None:
        """Write the morph as a GIF or a PNG strip (by the suffix)."""
        if self._morph is None:
            raise ValueError("there is no morph to export: set A and B first")
        save_morph(self._morph.frames, path, frame_ms=FRAME_MS)

    def _export(self, file_filter: str, name: str) -> None:
        suffix = ".gif" if file_filter == GIF_FILTER else ".png"
        start = settings.last_folder()
        suggested = str(Path(start) / name) if start else name
        path, _ = QFileDialog.getSaveFileName(self, "Export morph", suggested, file_filter)
        if not path:
            return
        settings.remember_folder(path)
        if not path.lower().endswith(suffix):
            path += suffix
        try:
            self.export(path)
        except (OSError, ValueError) as exc:
            QMessageBox.critical(self, "Could not export the morph", about_path(path, exc))
            return
        self.note.setText(f"Saved {path}")

    # --- presentation ------------------------------------------------------------------------
    def _update_labels(self) -> None:
        for which, label in (("A", self.a_label), ("B", self.b_label)):
            end = self._ends[which]
            label.setText(f"{which}: {end.label}" if end else f"{which}: not set")
        if self._model is None:
            self.note.setText("No model loaded.")
        elif self._morph is None:
            how = (
                "Click a point in the scatter (or set the sliders)"
                if self._scatter
                else ("Set the sliders (or press Random)")
            )
            self.note.setText(f"{how}, press Set A; do the same for B.")
        else:
            a, b = self._ends["A"], self._ends["B"]
            conditional = a is not None and a.digit is not None and b is not None
            extra = " The class input moves from A's to B's." if conditional else ""
            self.note.setText(
                f"{len(self._morph)} frames, {self.kind_combo.currentText().lower()}.{extra}"
            )

    def _update_enabled(self) -> None:
        loaded = self._model is not None
        for button in (self.set_a_button, self.set_b_button):
            button.setEnabled(loaded)
        self.swap_button.setEnabled(loaded and any(self._ends.values()))
        ready = self._morph is not None
        for widget in (self.play_button, self.export_gif_button, self.export_png_button):
            widget.setEnabled(ready)
