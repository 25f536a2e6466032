"""The Directions dock: named directions of the model shown, made, renamed, removed, exported.

`DirectionsPanel` is the list (name, source, held-out score; names are edited in place) and its
buttons; `DirectionTools` builds the dock through the `Shell`, keeps the model's directions
(`core.explore.direction_store`: in the model file, or a sidecar for a file latentlab must not
change) and feeds the direction sliders under the latent sliders. Finding a direction of an
attribute that must be measured on the test images (the stroke measures, reconstruction error)
runs in a `GeneratorWorker` with progress and Cancel; measures the scatter already computed for
its colours are used as they are.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.errors import LatentlabError
from latentlab.core.explore.colouring import ColourChoice
from latentlab.core.explore.direction_store import DirectionStore, export_json, store_for
from latentlab.core.explore.directions import (
    Direction,
    attribute_choices,
    attribute_direction,
    attribute_name,
    attribute_values_job,
    class_direction,
    selection_direction,
    with_data_scale,
)
from latentlab.core.jobs import Progress
from latentlab.core.text import first_line

from .direction_sliders import DirectionSliders
from .scatter_hover import points_images
from .shell import Shell
from .workers import GeneratorWorker

TIP = "Show the Directions panel: slant, thickness, one class to another, as sliders"
COLUMNS = ("Name", "Source", "Held-out score")
ATTRIBUTE_TIP = (
    "The direction along which a measure grows (slant, thickness, reconstruction error, a "
    "column of your attribute file): a linear fit on the encoded test points"
)
CLASSES_TIP = "From one class towards another: the difference of the class means"


class DirectionsPanel(QWidget):
    """The list of directions and the buttons that act on it (no state of its own)."""

    new_attribute = Signal()
    new_classes = Signal()
    renamed = Signal(int, str)  # row, new name
    remove_requested = Signal(list)  # rows
    export_requested = Signal(list)  # rows (all of them for Export all…)
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("Double-click a name to rename the direction")
        rows = self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(
            self.table.horizontalHeader().sizeHint().height() + 5 * rows + 4
        )
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        corner = self.table.findChild(QAbstractButton)  # the table's select-all corner
        if corner is not None:
            corner.setToolTip("Select every direction")

        self.attribute_button = QPushButton("New from attribute…")
        self.attribute_button.setToolTip(ATTRIBUTE_TIP)
        self.classes_button = QPushButton("New from two classes…")
        self.classes_button.setToolTip(CLASSES_TIP)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected directions (from the model file too)")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the selected directions (or all) as JSON with vectors")
        self.attribute_button.clicked.connect(self.new_attribute)
        self.classes_button.clicked.connect(self.new_classes)
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.selected_rows()))
        self.export_button.clicked.connect(self._on_export)
        buttons = QHBoxLayout()
        for button in (self.attribute_button, self.classes_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        for button in (self.remove_button, self.export_button):
            buttons.addWidget(button)

        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop measuring; no direction is made")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.status = QLabel()
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        working = QHBoxLayout()
        working.addWidget(self.progress, 1)
        working.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addLayout(working)
        layout.addWidget(self.status)
        self._filling = False
        self._update_buttons()

    # --- showing --------------------------------------------------------------------------
    def show_directions(self, directions: Sequence[Direction]) -> None:
        self._filling = True
        self.table.setRowCount(len(directions))
        for i, d in enumerate(directions):
            name = QTableWidgetItem(d.name)
            name.setToolTip(f"{d.title}\n{d.kind}; double-click to rename")
            self.table.setItem(i, 0, name)
            for column, text in ((1, d.source), (2, d.score_text)):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(i, column, item)
        self._filling = False
        self._update_buttons()

    def set_busy(self, busy: bool, text: str = "") -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)
        self.attribute_button.setEnabled(not busy and self._can_attribute)
        self.classes_button.setEnabled(not busy and self._can_classes)
        self.status.setText(text)

    def show_progress(self, done: int, total: int) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def enable(self, *, attribute: str, classes: str) -> None:
        """Which ways of making a direction this model allows ("" = allowed, else why not)."""
        self._can_attribute, self._can_classes = not attribute, not classes
        self.attribute_button.setEnabled(not attribute)
        self.classes_button.setEnabled(not classes)
        self.attribute_button.setToolTip(attribute or ATTRIBUTE_TIP)
        self.classes_button.setToolTip(classes or CLASSES_TIP)

    _can_attribute = _can_classes = False

    def selected_rows(self) -> list[int]:
        return sorted({index.row() for index in self.table.selectionModel().selectedRows()})

    # --- slots -----------------------------------------------------------------------------
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if not self._filling and item.column() == 0:
            self.renamed.emit(item.row(), item.text())

    def _update_buttons(self) -> None:
        chosen = bool(self.selected_rows())
        self.remove_button.setEnabled(chosen)
        self.export_button.setEnabled(self.table.rowCount() > 0)

    def _on_export(self) -> None:
        rows = self.selected_rows() or list(range(self.table.rowCount()))
        self.export_requested.emit(rows)


class AttributeDialog(QDialog):
    """Choose the attribute a new direction follows."""

    def __init__(self, choices: Sequence[ColourChoice], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New direction from an attribute")
        self.choices = list(choices)
        self.combo = QComboBox()
        for choice in self.choices:
            self.combo.addItem(choice.title[:1].upper() + choice.title[1:])
        form = QFormLayout()
        form.addRow("Attribute:", self.combo)
        note = QLabel(
            "A linear fit of the attribute on the encoded test points (80 % of them); the "
            "direction is its normalised weights, scored by R² on the other 20 %."
        )
        note.setWordWrap(True)
        note.setObjectName("hint")
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(box)

    def choice(self) -> ColourChoice:
        return self.choices[self.combo.currentIndex()]


class ClassesDialog(QDialog):
    """Choose the two classes (from, to) and the method of a class direction."""

    METHODS = (("Difference of class means", "mean-difference"), ("Logistic probe", "logistic"))

    def __init__(self, names: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New direction between two classes")
        self.first, self.second, self.method = QComboBox(), QComboBox(), QComboBox()
        for combo in (self.first, self.second):
            combo.addItems(list(names))
        self.second.setCurrentIndex(min(1, len(names) - 1))
        for text, key in self.METHODS:
            self.method.addItem(text, key)
        form = QFormLayout()
        form.addRow("From class:", self.first)
        form.addRow("To class:", self.second)
        form.addRow("Method:", self.method)
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(box)

    def chosen(self) -> tuple[int, int, str]:
        return self.first.currentIndex(), self.second.currentIndex(), self.method.currentData()


class SaveQueue(QObject):
    """Saves of direction lists, one at a time on a worker thread, in order; a list waiting for
    the same store as a newer one is dropped (only the newest matters), and `finish` (at quit)
    writes what is still waiting before the app ends."""

    done = Signal(object, str)  # the store, and "" or the one-line problem

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._waiting: list[tuple[DirectionStore, list[Direction]]] = []
        self._worker: GeneratorWorker | None = None
        self._closed = False

    @property
    def busy(self) -> bool:
        return self._worker is not None or bool(self._waiting)

    def put(self, store: DirectionStore, directions: list[Direction]) -> None:
        if self._closed:
            return
        self._waiting = [(s, d) for s, d in self._waiting if s is not store]
        self._waiting.append((store, directions))
        if self._worker is None:
            self._next()

    def _next(self) -> None:
        store, directions = self._waiting.pop(0)
        worker = GeneratorWorker(
            lambda _token: store.save(directions), name="latentlab-directions-save", parent=self
        )
        worker.returned.connect(lambda _v: self._ended(worker, store, ""))
        worker.errored.connect(lambda exc: self._ended(worker, store, first_line(exc)))
        self._worker = worker
        worker.start()

    def _ended(self, worker: GeneratorWorker, store: DirectionStore, problem: str) -> None:
        if worker is not self._worker:
            return
        self._worker = None
        worker.deleteLater()
        self.done.emit(store, problem)
        if self._waiting and not self._closed:
            self._next()

    def finish(self, timeout_ms: int = 10_000) -> bool:
        """Quitting: wait for the running save, then write the waiting ones here."""
        self._closed = True
        worker, self._worker = self._worker, None
        joined = worker is None or worker.join(timeout_ms)
        waiting, self._waiting = self._waiting, []
        for store, directions in waiting:
            with contextlib.suppress(LatentlabError, OSError):  # nowhere left to say it
                store.save(directions)
        return joined


class DirectionTools(QObject):
    """The dock, its View menu entry, the model's directions and the sliders that show them."""

    changed = Signal()  # the list of directions changed (made, renamed, removed, loaded)
    saved = Signal()  # a save of the list ended (kept, or failed: the panel says which)
    computing = Signal(bool)

    def __init__(self, shell: Shell, view_menu: QMenu | None = None) -> None:
        super().__init__(shell.host)
        self.shell = shell
        self.state = shell.state
        self.panel = DirectionsPanel()
        self.sliders = DirectionSliders(self.state)
        self.dock = shell.add_dock(
            "Directions", "directionsDock", self.panel, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.action: QAction = self.dock.toggleViewAction()
        self.action.setText("&Directions")
        self.action.setShortcut(QKeySequence("Ctrl+Shift+D"))
        self.action.setToolTip(TIP)
        self.action.setStatusTip(TIP)
        if view_menu is not None:
            view_menu.addAction(self.action)
        self._directions: list[Direction] = []
        self._store: DirectionStore | None = None
        self._worker: GeneratorWorker | None = None
        self._computed: dict[ColourChoice, np.ndarray] = {}
        self._saves = SaveQueue(self)
        self._saves.done.connect(self._on_saved)
        self.ask_export_path: Callable[[str], str] = self._ask_export_path
        self.panel.new_attribute.connect(self.open_attribute_dialog)
        self.panel.new_classes.connect(self.open_classes_dialog)
        self.panel.renamed.connect(self.rename)
        self.panel.remove_requested.connect(self.remove)
        self.panel.export_requested.connect(self._on_export)
        self.panel.cancel_requested.connect(self.cancel)
        self.state.events.model.connect(self._on_model)
        self.state.events.document.connect(self._on_document_saved)
        shell.test_images.changed.connect(self._update_enabled)
        self.panel.enable(attribute="Open a model first", classes="Open a model first")

    # --- the model's directions -------------------------------------------------------------
    def directions(self) -> list[Direction]:
        return list(self._directions)

    def _on_model(self) -> None:
        self.cancel()
        self._computed = {}
        document = self.state.document
        self._store = store_for(document)
        self._directions = []
        note = ""
        if self._store is None:
            note = "This model is not saved: its directions are kept once it is."
        else:
            try:
                self._directions = self._store.load()
                note = f"Kept {self._store.where}." if self._directions else ""
            except (LatentlabError, OSError) as exc:
                note = f"Stored directions not read: {first_line(exc)}"
        self._show(note)
        self._update_enabled()

    def _on_document_saved(self) -> None:
        """Saved as another file: the directions go with it."""
        self._store = store_for(self.state.document)
        if self._directions:
            self._save()

    def _show(self, note: str | None = None) -> None:
        self.panel.show_directions(self._directions)
        self.sliders.set_directions(self._directions)
        if note is not None:
            self.panel.status.setText(note)
        self.changed.emit()

    def _save(self) -> None:
        """Keep the list, on the save thread (a model file is rewritten whole)."""
        if self._store is None:
            self.panel.status.setText("Not kept: save the model to keep its directions.")
            return
        self._saves.put(self._store, list(self._directions))

    def _on_saved(self, store: DirectionStore, problem: str) -> None:
        if store is self._store:
            self.panel.status.setText(f"Not kept: {problem}" if problem else f"Kept {store.where}.")
        self.saved.emit()

    @property
    def is_saving(self) -> bool:
        return self._saves.busy

    def add(self, direction: Direction) -> None:
        """Add (or replace one of the same name) and keep."""
        self._directions = [d for d in self._directions if d.name != direction.name] + [direction]
        self._show()
        self._save()

    @Slot(int, str)
    def rename(self, row: int, name: str) -> None:
        name = name.strip()
        if not 0 <= row < len(self._directions):
            return
        taken = {d.name for i, d in enumerate(self._directions) if i != row}
        if not name or name in taken:
            self._show("A direction needs a name of its own.")
            return
        self._directions[row] = self._directions[row].renamed(name)
        self._show()
        self._save()

    @Slot(list)
    def remove(self, rows: list[int]) -> None:
        drop = set(rows)
        self._directions = [d for i, d in enumerate(self._directions) if i not in drop]
        self._show()
        self._save()

    def export(self, path: str | Path, rows: Sequence[int] | None = None) -> Path:
        """Write the directions of `rows` (default all) as JSON with their vectors."""
        chosen = self._directions if rows is None else [self._directions[i] for i in rows]
        return export_json(path, chosen)

    # --- making directions ------------------------------------------------------------------
    def attribute_choices(self) -> list[ColourChoice]:
        points = self.state.points
        if points is None:
            return []
        return attribute_choices(points, has_images=self._has_images(), columns=self._columns())

    def _has_images(self) -> bool:
        """Whether the points' images are there (asked of one image: stacking them all costs)."""
        document, points = self.state.document, self.state.points
        carried = getattr(getattr(document, "images", None), "images", None)
        if carried is not None:
            return points is not None and len(carried) == len(points)
        return (
            points is not None
            and len(points) > 0
            and self.shell.test_images.image(0)[0] is not None
        )

    def _columns(self) -> dict:
        return getattr(getattr(self.state.document, "images", None), "attributes", None) or {}

    def _update_enabled(self) -> None:
        state = self.state
        if state.points is None:
            why = "This model has no encoded points to find directions in" if state.loaded else ""
            self.panel.enable(attribute=why or "Open a model first", classes=why or "Open a model")
            return
        attribute = ""
        if not self.attribute_choices():
            _image, why = self.shell.test_images.image(0)
            attribute = f"No attributes to measure: {why}"
        classes = "" if len(state.class_names) >= 2 else "This model has no classes"
        self.panel.enable(attribute=attribute, classes=classes)

    @Slot()
    def open_attribute_dialog(self) -> AttributeDialog | None:
        choices = self.attribute_choices()
        if not choices:
            return None
        dialog = AttributeDialog(choices, self.shell.dialog_parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.create_from_attribute(dialog.choice()))
        dialog.open()
        return dialog

    @Slot()
    def open_classes_dialog(self) -> ClassesDialog | None:
        if self.state.points is None or len(self.state.class_names) < 2:
            return None
        dialog = ClassesDialog(self.state.class_names, self.shell.dialog_parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.create_from_classes(*dialog.chosen()))
        dialog.open()
        return dialog

    def create_from_classes(self, a: int, b: int, method: str = "mean-difference") -> None:
        """Quick (the means of stored points): on the GUI thread."""
        points = self.state.points
        if points is None:
            return
        try:
            direction = class_direction(
                points.mu, points.labels, a, b, names=self.state.class_names, method=method
            )
        except LatentlabError as exc:
            self.panel.status.setText(first_line(exc))
            return
        self.add(direction)

    def add_vector(
        self, name: str, unit: np.ndarray, _distance: float = 0.0, source: str = ""
    ) -> None:
        """A direction made elsewhere (the Selection dock's A -> B: a `direction_sink`), its
        slider scaled to the encoded points like every other direction."""
        points = self.state.points
        try:
            direction = Direction(
                name, unit, "mean-difference", source or "selections A → B", low="A", high="B"
            )
        except ValueError as exc:
            self.panel.status.setText(first_line(exc))
            return
        if points is not None and points.latent_dim == direction.latent_dim:
            direction = with_data_scale(direction, points.mu)
        self.add(direction)

    def create_from_selections(
        self, idx_a: Sequence[int], idx_b: Sequence[int], name: str = "A → B"
    ) -> None:
        """From one selection of points towards another (for a selection tool to call)."""
        points = self.state.points
        if points is None:
            return
        try:
            direction = selection_direction(points.mu, idx_a, idx_b, name)
        except LatentlabError as exc:
            self.panel.status.setText(first_line(exc))
            return
        self.add(direction)

    def create_from_attribute(self, choice: ColourChoice) -> None:
        """Fit the attribute's direction; a measure not yet known is computed in a worker."""
        points = self.state.points
        if points is None:
            return
        known = {**self._scatter_computed(), **self._computed}
        if choice in known or choice.key == "column":
            values = known.get(choice)
            if values is None:
                values = self._columns().get(choice.name)
            self._fit(choice, values)
            return
        self.cancel()
        state, model = self.state, self.state.model
        images, why = points_images(state, self.shell.test_images)
        if images is None:
            self.panel.status.setText(f"{attribute_name(choice)} needs the test images: {why}")
            return
        columns = self._columns()

        def job(token):
            return attribute_values_job(choice, model, points, images, columns, token)

        worker = GeneratorWorker(job, name="latentlab-directions", parent=self)
        worker.finished.connect(worker.deleteLater)
        worker.yielded.connect(lambda p: self._on_progress(worker, p))
        worker.returned.connect(lambda v: self._on_measured(worker, choice, v))
        worker.errored.connect(lambda e: self._on_ended(worker, f"Failed: {first_line(e)}"))
        worker.cancelled.connect(lambda _p: self._on_ended(worker, "Cancelled."))
        self._worker = worker
        self.panel.set_busy(True, f"Measuring {attribute_name(choice)} on the test images…")
        self.computing.emit(True)
        worker.start()

    def _scatter_computed(self) -> dict[ColourChoice, np.ndarray]:
        """What the scatter's colours measured already (the same values, not measured twice)."""
        colours = getattr(self.shell.scatter, "colours", None)
        computed = getattr(colours, "computed", None)
        return dict(computed()) if callable(computed) else {}

    def _fit(self, choice: ColourChoice, values: np.ndarray | None) -> None:
        points = self.state.points
        if values is None or points is None:
            self.panel.status.setText(f"No values of {attribute_name(choice)}")
            return
        try:
            direction = attribute_direction(points.mu, values, attribute_name(choice))
        except LatentlabError as exc:
            self.panel.status.setText(first_line(exc))
            return
        if not math.isfinite(direction.score):
            direction = replace(direction, score_name="")
        self.add(direction)

    def _on_progress(self, worker: GeneratorWorker, progress: object) -> None:
        if worker is self._worker and isinstance(progress, Progress):
            self.panel.show_progress(progress.done, progress.total)

    def _on_measured(self, worker: GeneratorWorker, choice: ColourChoice, values: dict) -> None:
        if worker is not self._worker:
            return
        self._worker = None
        self._computed.update(values)
        self.panel.set_busy(False)
        self.computing.emit(False)
        self._fit(choice, values.get(choice))

    def _on_ended(self, worker: GeneratorWorker, why: str) -> None:
        if worker is not self._worker:
            return
        self._worker = None
        self.panel.set_busy(False, why)
        self.computing.emit(False)

    @property
    def is_computing(self) -> bool:
        return self._worker is not None

    @Slot()
    def cancel(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.quit()
            self.panel.set_busy(False, "Cancelled.")
            self.computing.emit(False)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop measuring, finish saving (a list still waiting is written now)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.quit()
        stopped = worker is None or worker.join(timeout_ms)
        return self._saves.finish(timeout_ms) and stopped

    # --- export -------------------------------------------------------------------------------
    def _ask_export_path(self, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self.shell.dialog_parent, "Export directions", suggested, "JSON (*.json)"
        )
        return path

    @Slot(list)
    def _on_export(self, rows: list[int]) -> None:
        if not self._directions:
            return
        one = len(rows) == 1
        suggested = (self._directions[rows[0]].name if one else "directions") + ".json"
        path = self.ask_export_path(suggested.replace("/", "-").replace(" ", "-"))
        if not path:
            return
        try:
            written = self.export(path, rows)
        except OSError as exc:
            self.panel.status.setText(f"Not exported: {first_line(exc)}")
            return
        self.panel.status.setText(f"Exported {len(rows)} direction(s) to {written.name}.")
