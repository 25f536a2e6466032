"""The explorer window: menus, the model's widgets, the training dock; wiring only, no maths.

State lives in one core `Explorer` (current latent point, class, axes). Every user action is a
slot that changes the explorer and then calls `_refresh`, which decodes once and updates the
image and the scatter marker. Widgets are told values with their signals blocked, so a
programmatic change never loops back into another decode.

Models arrive from `ModelLoader` (files and freshly trained records, prepared on its thread) in
one signal and are swapped in by `_on_model_loaded` in one step.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.bundled import bundled_models, default_model_path
from latentlab.core.errors import LatentlabError
from latentlab.core.explorer import Explorer, dims_axes
from latentlab.core.vae.record import ModelRecord

from . import help_dialogs, settings, theme
from .class_selector import ClassSelector
from .explore_tools import ExploreTools
from .image_view import DigitView, to_qimage
from .insight_tools import InsightTools
from .latent_scatter import LatentScatter
from .latent_sliders import LatentSliders
from .model_info_dialog import ModelInfoDialog
from .model_loader import ModelLoader, TestData, TestDataLoader, load_test_data

APP_TITLE = "latentlab"
MODEL_FILTER = "latentlab models (*.safetensors);;All files (*)"
PNG_FILTER = "PNG images (*.png)"
EXPORT_SCALE = 10  # exported digits: 280 x 280 pixels, each model pixel a crisp 10x10 block
UNSAVED_NAME = "untitled (unsaved)"
DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
ORIGINAL_HINT = "Click a point in the scatter to see a test image here."

TrainingFactory = Callable[[QWidget], Any]


def default_training_factory(parent: QWidget) -> Any:
    """The training engineer's controller; imported here so the app starts without it (or torch)."""
    from latentlab.gui.training_controller import TrainingController

    return TrainingController(parent=parent)


class _MessagePage(QWidget):
    """What the central area shows when there is no model to explore: loading, or why not."""

    def __init__(self, open_action: QAction, train_action: QAction) -> None:
        super().__init__()
        self.title = QLabel()
        self.title.setObjectName("messageTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = QLabel()
        self.detail.setObjectName("messageDetail")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(260)
        self.busy.setTextVisible(False)
        self.open_button = QPushButton("Open model…")
        self.open_button.setToolTip("Open a latentlab model file (.safetensors)")
        self.open_button.clicked.connect(open_action.trigger)
        self.train_button = QPushButton("Train new model…")
        self.train_button.setToolTip("Train a model on MNIST or Fashion-MNIST")
        self.train_button.clicked.connect(train_action.trigger)
        self.train_button.setEnabled(train_action.isEnabled())
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.train_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(self.title)
        layout.addWidget(self.detail)
        layout.addWidget(self.busy, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addLayout(buttons)
        layout.addStretch(3)

    def show_loading(self, path: str) -> None:
        self.title.setText("Loading model…")
        self.detail.setText(path)
        self.busy.setVisible(True)
        self.open_button.setVisible(False)
        self.train_button.setVisible(False)

    def show_problem(self, title: str, detail: str) -> None:
        self.title.setText(title)
        self.detail.setText(detail)
        self.busy.setVisible(False)
        self.open_button.setVisible(True)
        self.train_button.setVisible(True)


class MainWindow(QMainWindow):
    """Explore one model at a time: class buttons, latent sliders, live image, latent scatter."""

    model_loaded = Signal(object)  # the Explorer now shown
    load_failed = Signal(str)  # one-line message (also shown in a dialog)
    test_data_changed = Signal()  # the test images arrived, or their absence is known
    view_changed = Signal()  # the shown state (point, class, axes) changed: docks follow it

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        test_loader: TestDataLoader = load_test_data,
        training_factory: TrainingFactory | None = default_training_factory,
    ) -> None:
        super().__init__(parent)
        self.explorer: Explorer | None = None
        self.model_path: Path | None = None
        self._unsaved = False
        self._selected: int | None = None  # test point whose reconstruction is shown
        self._test_data: dict[str, TestData | str | None] = {}  # None: loading; str: why absent
        self._rng = np.random.default_rng()
        self._info_dialog: ModelInfoDialog | None = None
        self._shut_down = False

        self.loader = ModelLoader(self, test_loader)
        self.loader.loaded.connect(self._on_model_loaded)
        self.loader.failed.connect(self._on_load_failed)
        self.loader.busy_changed.connect(self._on_busy_changed)
        self.loader.test_data_loaded.connect(self._on_test_data_loaded)
        self.loader.test_data_failed.connect(self._on_test_data_failed)

        self._build_actions()
        self._build_widgets()
        self._build_menus()
        self._build_status_bar()
        self.training = self._create_training(training_factory)
        self._build_shortcuts()
        self.explore_tools = ExploreTools(self)  # Morph, Manifold grid, Nearest test images
        self.insight_tools = InsightTools(self)  # Draw a digit, slider insight, Evaluate
        self._restore_settings()
        self._update_title()
        self._update_actions()
        self.help = help_dialogs.HelpMenu(self)  # last, so Help stays the last menu

    # --- construction ----------------------------------------------------------------------
    def _build_actions(self) -> None:
        def action(text: str, slot: Callable[[], None], shortcut: Any = None) -> QAction:
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            return act

        self.open_action = action("&Open model…", self._on_open, QKeySequence.StandardKey.Open)
        self.save_action = action(
            "&Save model as…", self._on_save_as, QKeySequence.StandardKey.SaveAs
        )
        self.export_image_action = action("Export &image…", self._on_export_image, "Ctrl+E")
        self.export_scatter_action = action(
            "Export &scatter…", self._on_export_scatter, "Ctrl+Shift+E"
        )
        self.quit_action = action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        if self.quit_action.shortcut().isEmpty():  # platforms without a standard Quit key
            self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.train_action = action("&Train new model…", self._on_train, "Ctrl+T")
        self.info_action = action("Model &info…", self._on_model_info, "Ctrl+I")
        self.random_action = action("&Random style", self._on_random, "R")
        self.reset_action = action("R&eset style", self._on_reset, "Z")

    def _build_widgets(self) -> None:
        self.selector = ClassSelector()
        self.selector.digit_selected.connect(self._on_digit_selected)
        self.image_view = DigitView("Decoded")
        self.original_view = DigitView("Test image")
        self.original_view.clear(ORIGINAL_HINT)
        self.sliders = LatentSliders()
        self.sliders.value_changed.connect(self._on_latent_changed)
        self.sliders.random_requested.connect(self._on_random)
        self.sliders.reset_requested.connect(self._on_reset)
        self.scatter = LatentScatter()
        self.scatter.point_clicked.connect(self._on_point_clicked)
        self.scatter.marker_moved.connect(self._on_marker_moved)
        self.scatter.axes_changed.connect(self._on_axes_changed)

        images = QWidget()
        row = QHBoxLayout(images)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)
        row.addWidget(self.image_view, 1)
        row.addWidget(self.original_view, 1)
        # The digits are square and as wide as the column; the sliders sit right below them
        # (they scroll only when the window is very short) and spare height goes to the bottom.
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.selector)
        left_layout.addWidget(images)
        left_layout.addWidget(self.sliders, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.scatter)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([470, 730])

        explorer_page = QWidget()
        page_layout = QHBoxLayout(explorer_page)
        page_layout.setContentsMargins(6, 6, 6, 6)
        page_layout.addWidget(self.splitter)
        self.message_page = _MessagePage(self.open_action, self.train_action)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message_page)
        self.stack.addWidget(explorer_page)
        self.setCentralWidget(self.stack)
        self.message_page.show_problem("No model loaded", "")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = QMenu("Open &recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addMenu(self.recent_menu)
        self.bundled_menu = QMenu("Open &bundled model", self)
        self.bundled_menu.aboutToShow.connect(self._fill_bundled_menu)
        file_menu.addMenu(self.bundled_menu)
        file_menu.addAction(self.save_action)
        file_menu.addSeparator()
        file_menu.addAction(self.export_image_action)
        file_menu.addAction(self.export_scatter_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self._fill_recent_menu()
        self._fill_bundled_menu()

        model_menu = bar.addMenu("&Model")
        model_menu.addAction(self.train_action)
        model_menu.addAction(self.info_action)
        self.explore_menu = bar.addMenu("&Explore")
        self.explore_menu.addAction(self.random_action)
        self.explore_menu.addAction(self.reset_action)
        self.view_menu = bar.addMenu("&View")
        theme.add_theme_menu(self.view_menu, self)

    def _build_status_bar(self) -> None:
        self.status_model = QLabel()
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(160)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setVisible(False)
        self.busy_label = QLabel()
        self.busy_label.setVisible(False)
        status = self.statusBar()
        status.addWidget(self.status_model, 1)
        status.addPermanentWidget(self.busy_label)
        status.addPermanentWidget(self.busy_bar)

    def _build_shortcuts(self) -> None:
        """Keys 0-9 pick the class anywhere in the window (an edited spin box keeps its digits)."""
        self.digit_shortcuts: list[QShortcut] = []
        for digit in range(10):
            shortcut = QShortcut(QKeySequence(str(digit)), self)
            shortcut.setWhatsThis("Choose the class with that number")
            shortcut.activated.connect(lambda d=digit: self._on_digit_key(d))
            self.digit_shortcuts.append(shortcut)

    def _create_training(self, factory: TrainingFactory | None) -> Any:
        """The training controller and its dock; without one, Train is disabled (and says why)."""
        self.training_dock: QDockWidget | None = None
        controller = None
        if factory is not None:
            try:
                controller = factory(self)
            except ImportError as exc:
                self.train_action.setToolTip(f"Training is not available: {exc}")
        if controller is None:
            self.train_action.setEnabled(False)
            self.message_page.train_button.setEnabled(False)
            return None
        dock = QDockWidget("Training", self)
        dock.setObjectName("trainingDock")
        dock.setWidget(controller.panel)
        dock.setAllowedAreas(
            Qt.DockWidgetArea.BottomDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.hide()
        dock.toggleViewAction().setShortcut(QKeySequence("Ctrl+Shift+T"))
        self.view_menu.addAction(dock.toggleViewAction())
        self.training_dock = dock
        controller.model_trained.connect(self._on_model_trained)
        controller.running_changed.connect(self._on_training_running)
        return controller

    # --- public API (app.run and tests) -----------------------------------------------------
    def start(self, model_path: str | Path | None = None) -> None:
        """Begin loading the model to show first: `model_path`, else the bundled default."""
        if model_path is None:
            default = default_model_path()
            if not default.is_file():
                self.message_page.show_problem(
                    "No model loaded",
                    f"The bundled model was not found at {default}.\n"
                    "Train one (Model > Train new model…) "
                    "or open a model file (File > Open model…).",
                )
                self.stack.setCurrentIndex(0)
                return
            model_path = default
        self.open_model(model_path)

    def open_model(self, path: str | Path) -> None:
        """Load a model file in the background; the newest request wins over any earlier one."""
        path = str(path)
        if self.explorer is None:
            self.message_page.show_loading(path)
            self.stack.setCurrentIndex(0)
        self.loader.load_path(path)

    def adopt_record(self, record: ModelRecord) -> None:
        """Show an in-memory model (a freshly trained one) as the active, unsaved model."""
        self.loader.load_record(record)

    @property
    def is_unsaved(self) -> bool:
        return self._unsaved

    def refresh(self) -> None:
        """Show the explorer's state again (after a dock showed something else, e.g. a morph)."""
        self._refresh()

    def test_image(self, index: int) -> tuple[np.ndarray | None, str]:
        """Test image `index` in [0, 1] and a caption, or None and why it is not available."""
        return self._original(index)

    def show_latent(self, z: np.ndarray, digit: int | None = None) -> None:
        """Move to latent `z` (and class `digit`, conditional models): sliders, image, marker."""
        if self.explorer is None:
            return
        self.explorer.set_z(z)
        if digit is not None and self.explorer.conditional:
            self.explorer.set_digit(digit)
            self.selector.set_digit(digit)
        self._show_new_z()

    # --- model swap -------------------------------------------------------------------------
    @Slot(object, object)
    def _on_model_loaded(self, path: str | None, explorer: Explorer) -> None:
        self.explorer = explorer
        self.model_path = Path(path).resolve() if path else None
        self._unsaved = path is None
        self._selected = None
        self.selector.set_classes(explorer.class_names, explorer.conditional)
        if explorer.conditional:
            self.selector.set_digit(explorer.digit)
        self.sliders.set_dimension(explorer.latent_dim)
        self.sliders.set_values(explorer.z)
        enc = explorer.encoding
        self.scatter.set_model(
            explorer.latent_dim,
            enc.labels,
            explorer.predicted if explorer.conditional else None,
            explorer.class_names,
        )
        self.scatter.set_points(explorer.points(), explorer.axes.labels)
        self.stack.setCurrentIndex(1)
        self._restore_splitters()
        if self.model_path is not None:
            settings.add_recent_model(self.model_path)
        self._request_test_data(explorer.config.dataset)
        self._update_title()
        self._update_actions()
        self._update_status_text()
        self._refresh()
        self.model_loaded.emit(explorer)

    @Slot(object, str)
    def _on_load_failed(self, path: str | None, message: str) -> None:
        if path and not Path(path).exists():
            settings.remove_recent_model(path)
        if self.explorer is None:
            self.message_page.show_problem("No model loaded", message)
            self.stack.setCurrentIndex(0)
        self.load_failed.emit(message)
        QMessageBox.critical(self, "Could not open the model", message)

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)
        self.busy_label.setVisible(busy)
        self.busy_label.setText("Loading model…" if busy else "")

    @Slot(object)
    def _on_model_trained(self, record: ModelRecord) -> None:
        if self._unsaved and not self._confirm_discard(allow_cancel=False):
            return
        self.adopt_record(record)

    @Slot(bool)
    def _on_training_running(self, running: bool) -> None:
        dock = self.training_dock
        if running and dock is not None:
            first_time = not dock.isVisible()
            dock.show()
            dock.raise_()
            if first_time and not dock.isFloating():
                # The panel would take half the window; the explorer stays the main view.
                size = max(280, int(self.height() * 0.4))
                self.resizeDocks([dock], [size], Qt.Orientation.Vertical)

    # --- test images ------------------------------------------------------------------------
    def _request_test_data(self, dataset: str) -> None:
        if dataset not in self._test_data:
            self._test_data[dataset] = None
            self.loader.load_test_data(dataset)

    @Slot(str, object)
    def _on_test_data_loaded(self, dataset: str, data: TestData) -> None:
        self._test_data[dataset] = data
        self._refresh()
        self.test_data_changed.emit()

    @Slot(str, str)
    def _on_test_data_failed(self, dataset: str, message: str) -> None:
        title = DATASET_TITLES.get(dataset, dataset)
        self._test_data[dataset] = f"original not available (no {title} data found)"
        self._refresh()
        self.test_data_changed.emit()

    def _original(self, index: int) -> tuple[np.ndarray | None, str]:
        """The test image `index` as floats in [0, 1] and a caption, or None and the reason."""
        assert self.explorer is not None
        state = self._test_data.get(self.explorer.config.dataset)
        if state is None:
            return None, "loading the test images…"
        if isinstance(state, str):
            return None, state
        images, labels = state
        enc = self.explorer.encoding
        if len(labels) != len(enc) or not np.array_equal(labels, enc.labels):
            return None, "original not available (the test data does not match this model)"
        label = self.explorer.class_names[int(labels[index])]
        return images[index].astype(np.float32) / 255.0, f"test image #{index} — label {label}"

    # --- user actions on the explorer -------------------------------------------------------
    @Slot(int)
    def _on_digit_selected(self, digit: int) -> None:
        if self.explorer is None or not self.explorer.conditional:
            return
        self.explorer.set_digit(digit)
        self._selected = None
        self._refresh()

    def _on_digit_key(self, digit: int) -> None:
        if self.explorer is not None and self.explorer.conditional:
            self.selector.select(digit)

    @Slot(int, float)
    def _on_latent_changed(self, index: int, value: float) -> None:
        if self.explorer is None:
            return
        self.explorer.set_latent(index, value)
        self._selected = None
        self._refresh()

    @Slot()
    def _on_random(self) -> None:
        if self.explorer is None:
            return
        self.explorer.randomize(self._rng)
        self._show_new_z()

    @Slot()
    def _on_reset(self) -> None:
        if self.explorer is None:
            return
        self.explorer.reset()
        self._show_new_z()

    @Slot(int)
    def _on_point_clicked(self, index: int) -> None:
        if self.explorer is None:
            return
        self.explorer.select(index)
        if self.explorer.conditional:
            self.selector.set_digit(self.explorer.digit)
        self.sliders.set_values(self.explorer.z)
        self._selected = index
        self._refresh()

    @Slot(float, float)
    def _on_marker_moved(self, x: float, y: float) -> None:
        if self.explorer is None:
            return
        self.explorer.move_to_point(x, y)
        self._show_new_z()

    @Slot(str, int, int)
    def _on_axes_changed(self, kind: str, i: int, j: int) -> None:
        explorer = self.explorer
        if explorer is None:
            return
        axes = explorer.pca() if kind == "pca" else dims_axes(explorer.latent_dim, i, j)
        explorer.set_axes(axes)
        self.scatter.set_points(explorer.points(), axes.labels)
        self.scatter.set_marker(*explorer.current_point())
        self.view_changed.emit()

    def _show_new_z(self) -> None:
        """After z changed as a whole: show it on the sliders (no signals), then decode once."""
        assert self.explorer is not None
        self.sliders.set_values(self.explorer.z)
        self._selected = None
        self._refresh()

    def _refresh(self) -> None:
        """Decode the current state once; update the image, its reading and the marker."""
        explorer = self.explorer
        if explorer is None:
            return
        names = explorer.class_names
        if self._selected is None:
            image = explorer.decode()
            title = f"Decoded: {names[explorer.digit]}" if explorer.conditional else "Decoded"
            self.original_view.set_title("Test image")
            self.original_view.clear(ORIGINAL_HINT)
        else:
            index = self._selected
            image = explorer.reconstruction(index)
            title = f"Reconstruction of #{index}"
            original, caption = self._original(index)
            self.original_view.set_title(f"Test image #{index}")
            if original is None:
                self.original_view.clear(caption)
            else:
                self.original_view.set_image(original, caption)
        reading = explorer.classify(image)
        if reading is None:
            caption = "plain VAE: no classifier to read it"
        else:
            caption = f"reads as {names[reading[0]]} — {reading[1]:.0%}"
        self.image_view.set_title(title)
        self.image_view.set_image(image, caption)
        self.scatter.set_marker(*explorer.current_point())
        self.view_changed.emit()

    # --- file menu --------------------------------------------------------------------------
    @Slot()
    def _on_open(self) -> None:
        start = str(self.model_path.parent) if self.model_path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open model", start, MODEL_FILTER)
        if path:
            self._open_confirmed(path)

    def _open_confirmed(self, path: str) -> None:
        if self._confirm_discard():
            self.open_model(path)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = settings.recent_models()
        for path in recent:
            act = self.recent_menu.addAction(Path(path).name)
            act.setToolTip(path)
            act.setStatusTip(path)
            act.triggered.connect(lambda _=False, p=path: self._open_confirmed(p))
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)
        self.recent_menu.setToolTipsVisible(True)

    def _fill_bundled_menu(self) -> None:
        self.bundled_menu.clear()
        models = bundled_models()
        for path in models:
            act = self.bundled_menu.addAction(path.name)
            act.triggered.connect(lambda _=False, p=str(path): self._open_confirmed(p))
        if not models:
            self.bundled_menu.addAction("(no bundled models found)").setEnabled(False)

    def _on_save_as(self) -> bool:
        """Save the current model (atomically); True when it was written."""
        if self.explorer is None:
            return False
        folder = self.model_path.parent if self.model_path else Path.home()
        name = self.model_path.name if self.model_path else "untitled.safetensors"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save model as", str(folder / name), MODEL_FILTER
        )
        if not path:
            return False
        target = Path(path)
        if target.suffix != ".safetensors":
            target = target.with_name(target.name + ".safetensors")
        from latentlab.core.vae.checkpoint import save_model

        try:
            save_model(self.explorer.record, target)
        except (OSError, LatentlabError) as exc:
            QMessageBox.critical(self, "Could not save the model", f"{target}: {exc}")
            return False
        self.model_path = target.resolve()
        self._unsaved = False
        settings.add_recent_model(self.model_path)
        self._update_title()
        self._update_actions()
        self._update_status_text()
        self.statusBar().showMessage(f"Saved {target}", 5000)
        return True

    @Slot()
    def _on_export_image(self) -> None:
        image = self.image_view.image()
        if image is None:
            return
        path = self._ask_png_path("Export image", "digit.png")
        if path and not to_qimage(image, EXPORT_SCALE).save(path, "PNG"):
            QMessageBox.critical(self, "Could not export the image", f"{path}: could not write")

    @Slot()
    def _on_export_scatter(self) -> None:
        if self.explorer is None:
            return
        path = self._ask_png_path("Export scatter", "latent-scatter.png")
        if not path:
            return
        try:
            self.scatter.export_png(path)
        except Exception as exc:  # pyqtgraph's exporter raises plain exceptions
            QMessageBox.critical(self, "Could not export the scatter", f"{path}: {exc}")

    def _ask_png_path(self, title: str, name: str) -> str:
        folder = self.model_path.parent if self.model_path else Path.home()
        path, _ = QFileDialog.getSaveFileName(self, title, str(folder / name), PNG_FILTER)
        if path and not path.lower().endswith(".png"):
            path += ".png"
        return path

    # --- model menu -------------------------------------------------------------------------
    @Slot()
    def _on_train(self) -> None:
        if self.training is not None:
            self.training.open_dialog()

    @Slot()
    def _on_model_info(self) -> None:
        if self.explorer is None:
            return
        source = str(self.model_path) if self.model_path else UNSAVED_NAME
        if self._info_dialog is not None:
            self._info_dialog.close()
        self._info_dialog = ModelInfoDialog(self.explorer.record, source, self)
        self._info_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._info_dialog.destroyed.connect(self._on_info_closed)
        self._info_dialog.show()

    @Slot()
    def _on_info_closed(self) -> None:
        self._info_dialog = None

    # --- unsaved models and quitting ----------------------------------------------------------
    def _ask_unsaved(self, allow_cancel: bool = True) -> QMessageBox.StandardButton:
        """Save / Discard (/ Cancel) for the unsaved model; tests replace this method."""
        buttons = QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
        if allow_cancel:
            buttons |= QMessageBox.StandardButton.Cancel
        return QMessageBox.question(
            self,
            "Unsaved model",
            "The trained model has not been saved. Save it before it is replaced?",
            buttons,
            QMessageBox.StandardButton.Save,
        )

    def _confirm_discard(self, allow_cancel: bool = True) -> bool:
        """True when it is fine to replace the current model (saved, or the user chose)."""
        if not self._unsaved:
            return True
        answer = self._ask_unsaved(allow_cancel)
        if answer == QMessageBox.StandardButton.Save:
            return self._on_save_as() or not allow_cancel
        return answer == QMessageBox.StandardButton.Discard or not allow_cancel

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._confirm_discard():
            event.ignore()
            return
        self._save_settings()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop training and loading threads and wait for them (idempotent; also on aboutToQuit)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.insight_tools.shutdown()
        if self.training is not None:
            self.training.shutdown()
        self.loader.shutdown()

    # --- settings -------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = settings.load_bytes("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(QSize(1280, 820))
        state = settings.load_bytes("window/state")
        if state is not None:
            self.restoreState(state)
        if self.training_dock is not None:
            self.training_dock.hide()  # shown when training starts
        # Splitters are restored when the explorer page first shows, at its real size: a state
        # restored into the hidden page would be undone when the page is laid out.
        self._splitter_states = {key: settings.load_bytes(key) for key, _ in self._splitters()}

    def _save_settings(self) -> None:
        settings.save_bytes("window/geometry", self.saveGeometry())
        settings.save_bytes("window/state", self.saveState())
        for key, splitter in self._splitters():
            pending = self._splitter_states.get(key)
            if self.explorer is not None:
                settings.save_bytes(key, splitter.saveState())
            elif pending is not None:
                settings.save_bytes(key, pending)  # never shown this run: keep the old layout

    def _splitters(self) -> list[tuple[str, QSplitter]]:
        return [("window/splitter", self.splitter)]

    def _restore_splitters(self) -> None:
        """Apply the saved splitter layout once, the first time the explorer page is shown."""
        if not any(self._splitter_states.values()):
            self._splitter_states.clear()
            return
        page = self.stack.currentWidget()
        page.setGeometry(self.stack.contentsRect())  # lay the page out now, at its real size
        page.layout().activate()
        for key, splitter in self._splitters():
            state = self._splitter_states.pop(key, None)
            if state is not None:
                splitter.restoreState(state)

    # --- presentation -------------------------------------------------------------------------
    def _update_title(self) -> None:
        if self.explorer is None:
            name = ""
        elif self.model_path is None:
            name = UNSAVED_NAME
        else:
            name = self.model_path.name
        self.setWindowTitle(f"{APP_TITLE} — {name}[*]" if name else APP_TITLE)
        self.setWindowModified(self._unsaved)

    def _update_actions(self) -> None:
        loaded = self.explorer is not None
        self.save_action.setEnabled(loaded and self._unsaved)
        for act in (
            self.export_image_action,
            self.export_scatter_action,
            self.info_action,
            self.random_action,
            self.reset_action,
        ):
            act.setEnabled(loaded)

    def _update_status_text(self) -> None:
        explorer = self.explorer
        if explorer is None:
            self.status_model.setText("")
            return
        cfg = explorer.config
        kind = "conditional VAE" if cfg.conditional else "plain VAE"
        parts = [
            self.model_path.name if self.model_path else UNSAVED_NAME,
            f"{kind}, {cfg.latent_dim}-D latent",
            DATASET_TITLES.get(cfg.dataset, cfg.dataset),
        ]
        loss = explorer.record.metrics.get("test_loss")
        if isinstance(loss, int | float):
            parts.append(f"test loss {loss:.1f} nats")
        accuracy = explorer.record.metrics.get("test_accuracy")
        if isinstance(accuracy, int | float):
            parts.append(f"classifier {accuracy:.1%}")
        self.status_model.setText("  ·  ".join(parts))
