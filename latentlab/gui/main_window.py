"""The explorer window: menus, the model's widgets, the training dock; wiring only, no maths.

State lives in one core `ExplorerState` (the point, class, selection, axes and sliders); every
widget binds to it and follows its events, so no slot has to remember to refresh anything. The
window builds the widgets, hands docks the state and a `Shell` (never itself), and swaps models:
they arrive from `ModelLoader` (files and freshly trained records, prepared on its thread) in one
signal and are opened on the state in one step.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.bundled import default_model_path
from latentlab.core.explore.document import Document
from latentlab.core.explore.state import ExplorerState

from . import help_dialogs, settings, theme
from .capabilities import NO_POINTS_SCATTER_EXPORT, record_of, save_reason, shown_name
from .class_selector import ClassSelector, DigitKeys
from .counterfactual_tools import CounterfactualTools
from .directions_panel import DirectionTools
from .explore_tools import ExploreTools
from .file_actions import FileActions, UnsavedQuestion
from .image_pane import ImagePane
from .insight_tools import InsightTools
from .latent_scatter import LatentScatter
from .latent_sliders import LatentSliders
from .live_view import LiveView
from .message_page import MessagePage
from .model_info_dialog import info_dialog
from .model_loader import ModelLoader, TestDataLoader, load_test_data
from .selection_tools import SelectionTools
from .shell import Shell
from .status_line import status_text
from .test_images import TestImages
from .window_layout import WindowLayout

APP_TITLE = "latentlab"
NO_MODEL_TIP = "Open a model first (File > Open model…)"
BOTTOM_DOCK_SHARE = 0.38  # of the window's height, at most, for a bottom dock opened
SEPARATOR_SLACK = 16  # dock separators and margins, in pixels
SLIDERS_MIN_HEIGHT = 180  # two slider rows with their strips stay in view however docks grow

TrainingFactory = Callable[[QWidget], Any]


def default_training_factory(parent: QWidget) -> Any:
    """The training engineer's controller; imported here so the app starts without it (or torch)."""
    from latentlab.gui.training_controller import TrainingController

    return TrainingController(parent=parent)


class MainWindow(QMainWindow):
    """Explore one model at a time: class buttons, latent sliders, live image, latent scatter."""

    model_loaded = Signal(object)  # the Document now shown
    load_failed = Signal(str)  # one-line message (also shown in a dialog)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        test_loader: TestDataLoader = load_test_data,
        training_factory: TrainingFactory | None = default_training_factory,
        ask_unsaved: UnsavedQuestion | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = ExplorerState()
        self._info_dialog: QDialog | None = None
        self._import_dialog: Any = None  # File > Import model…, while open
        self._preferences: QDialog | None = None  # File > Preferences…, while open
        self._sizes = (QSize(), QSize())  # the window's last size and the one before it
        self._shut_down = False

        self.loader = ModelLoader(self, test_loader)
        self.loader.loaded.connect(self._on_model_loaded)
        self.loader.failed.connect(self._on_load_failed)
        self.loader.busy_changed.connect(self._on_busy_changed)
        self.test_images = TestImages(self.state, self.loader, self)
        self.files = FileActions(self, self.state, self.open_model, ask_unsaved)
        self.files.status = lambda message: self.statusBar().showMessage(message, 5000)

        self._build_actions()
        self._build_widgets()
        self._build_menus()
        self._build_status_bar()
        self.training = self._create_training(training_factory)
        self._build_shortcuts()
        shell = Shell(
            self.state,
            self.test_images,
            self.image_pane,
            self.scatter,
            self.explore_menu,
            self.model_menu,
            self,
        )
        self.explore_tools = ExploreTools(shell)  # Morph, Manifold grid, Nearest test images
        self.insight_tools = InsightTools(shell)  # Draw, Evaluate
        self.direction_tools = DirectionTools(shell, self.view_menu)  # View > Directions
        self._left_layout.addWidget(self.direction_tools.sliders)  # under the latent sliders
        sliders = self.direction_tools.sliders  # its rows' value boxes keep digits only if chosen
        self.direction_tools.changed.connect(lambda: self.digit_keys.watch(sliders))
        self.counterfactual_tools = CounterfactualTools(shell)  # counterfactual, decision map
        self.selection_tools = SelectionTools(shell)  # lasso selections, A -> B
        self.selection_tools.direction_sink = self.direction_tools.add_vector  # A -> B a slider
        self.live_view = LiveView(shell, self.training, self.view_menu)  # View > Live training
        self._model_tools = self._tools_needing_a_model()
        morph = self.explore_tools.morph_panel  # a played frame moves the sliders with the image
        morph.frame_shown.connect(lambda i: self.sliders.show_point(morph.frame_z(i)))
        morph.playing_changed.connect(lambda on: None if on else self.sliders.show_point(None))
        self.state.events.document.connect(self._on_document)
        self._arrange_docks()
        self.layout_memory = WindowLayout(self, self.splitter, self.training_dock)
        self.layout_memory.restore()
        self._on_document()
        self.help = help_dialogs.HelpMenu(self)  # last, so Help stays the last menu
        self.digit_keys.watch()  # every field the docks brought

    # --- construction ----------------------------------------------------------------------
    def _build_actions(self) -> None:
        def action(text: str, slot: Callable[[], Any], shortcut: Any = None) -> QAction:
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            return act

        files = self.files
        self.open_action = action("&Open model…", files.open_dialog, QKeySequence.StandardKey.Open)
        self.import_action = action("&Import model…", self.open_import_dialog, "Ctrl+Shift+O")
        self.import_action.setToolTip(
            "Your own ONNX decoder (and encoder, classifier) and images, into one model file"
        )
        self.save_action = action("&Save model as…", files.save_as, QKeySequence.StandardKey.SaveAs)
        self.export_image_action = action(
            "Export &image…", lambda: files.export_image(self.image_view.image()), "Ctrl+E"
        )
        self.export_scatter_action = action(
            "Export &scatter…",
            lambda: files.export_scatter(self.scatter.export_png),
            "Ctrl+Shift+E",
        )
        self.preferences_action = action(
            "&Preferences…", self.open_preferences, QKeySequence.StandardKey.Preferences
        )
        if self.preferences_action.shortcut().isEmpty():  # no standard key (most of Linux)
            self.preferences_action.setShortcut(QKeySequence("Ctrl+,"))
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.preferences_action.setToolTip("The data folder and whether datasets may be downloaded")
        self.quit_action = action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        if self.quit_action.shortcut().isEmpty():  # platforms without a standard Quit key
            self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.train_action = action("&Train new model…", self._on_train, "Ctrl+T")
        self.info_action = action("Model &info…", self._on_model_info, "Ctrl+I")
        self.random_action = action("&Random style", lambda: self.sliders.randomize(), "R")
        self.reset_action = action("R&eset style", lambda: self.sliders.reset(), "Z")

    def _build_widgets(self) -> None:
        state = self.state
        self.selector = ClassSelector(state)
        self.image_pane = ImagePane(state, self.test_images)
        self.image_view = self.image_pane.decoded
        self.original_view = self.image_pane.original
        self.sliders = LatentSliders(state)
        self.scatter = LatentScatter(state)
        self.scatter.set_images_source(self.test_images)  # colour by stroke / recon error
        self.image_pane.follow_training(self.scatter.training)  # a clicked training image

        # The images are square and as wide as the column; the sliders sit right below them
        # (they scroll only when the window is very short) and spare height goes to the bottom.
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.selector)
        left_layout.addWidget(self.image_pane)
        left_layout.addWidget(self.sliders, 1)
        self._left_layout = left_layout
        self.sliders.setMinimumHeight(SLIDERS_MIN_HEIGHT)  # docks cannot squeeze it away

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
        self.message_page = MessagePage(self.open_action, self.train_action)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message_page)
        self.stack.addWidget(explorer_page)
        self.setCentralWidget(self.stack)
        self.message_page.show_problem("No model loaded", "")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.setToolTipsVisible(True)  # disabled entries say why
        file_menu.addAction(self.open_action)
        self.recent_menu = QMenu("Open &recent", self)
        self.recent_menu.aboutToShow.connect(lambda: self.files.fill_recent_menu(self.recent_menu))
        file_menu.addMenu(self.recent_menu)
        self.bundled_menu = QMenu("Open &bundled model", self)
        self.bundled_menu.aboutToShow.connect(
            lambda: self.files.fill_bundled_menu(self.bundled_menu)
        )
        file_menu.addMenu(self.bundled_menu)
        file_menu.addAction(self.import_action)
        file_menu.addAction(self.save_action)
        file_menu.addSeparator()
        file_menu.addAction(self.export_image_action)
        file_menu.addAction(self.export_scatter_action)
        file_menu.addSeparator()
        file_menu.addAction(self.preferences_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self.files.fill_recent_menu(self.recent_menu)
        self.files.fill_bundled_menu(self.bundled_menu)

        self.model_menu = bar.addMenu("&Model")
        self.model_menu.setToolTipsVisible(True)
        self.model_menu.addAction(self.train_action)
        self.model_menu.addAction(self.info_action)
        self.explore_menu = bar.addMenu("&Explore")
        self.explore_menu.setToolTipsVisible(True)
        self.explore_menu.addAction(self.random_action)
        self.explore_menu.addAction(self.reset_action)
        self.view_menu = bar.addMenu("&View")
        theme.add_theme_menu(self.view_menu, self)
        self.scatter.add_view_actions(self.view_menu)  # View > Fit points in view

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
        """Keys 0-9 pick the class anywhere in the window (a field the user clicked into or
        tabbed to keeps its digits: `DigitKeys`)."""
        self.digit_keys = DigitKeys(self)
        self.digit_shortcuts: list[QShortcut] = []
        for digit in range(10):
            shortcut = QShortcut(QKeySequence(str(digit)), self)
            shortcut.setWhatsThis("Choose the class with that number")
            shortcut.activated.connect(lambda d=digit: self.selector.select(d))
            self.digit_shortcuts.append(shortcut)

    def _arrange_docks(self) -> None:
        """The bottom docks share one tabbed place (side by side, their widths would add up and
        widen the window past the screen); a dock opened from a menu comes to the front at a
        height that leaves the sliders room."""
        bottom = [
            dock
            for dock in self.findChildren(QDockWidget)
            if self.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea
        ]
        for dock in bottom[1:]:
            self.tabifyDockWidget(bottom[0], dock)
        self._bottom_docks = bottom
        for dock in self.findChildren(QDockWidget):
            dock.toggleViewAction().triggered.connect(
                lambda on, d=dock: self._bring_dock_forward(d) if on else None
            )

    def _bring_dock_forward(self, dock: QDockWidget) -> None:
        """A dock the user opened: in front of its tab group, sized to leave the sliders room,
        and never widening the window: a side dock that does not fit beside the explorer joins
        the bottom tabs instead."""
        if dock.isFloating():
            dock.raise_()
            return
        self._keep_size(self._size_before_dock())
        area = self.dockWidgetArea(dock)
        if area in (Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.LeftDockWidgetArea):
            side_by_side = (
                self.centralWidget().minimumSizeHint().width()
                + dock.minimumSizeHint().width()
                + SEPARATOR_SLACK
            )
            others = [d for d in self._bottom_docks if d is not dock]
            if side_by_side > self.width() and others:
                self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
                self.tabifyDockWidget(others[0], dock)
                dock.show()
                area = Qt.DockWidgetArea.BottomDockWidgetArea
        dock.raise_()
        if area == Qt.DockWidgetArea.BottomDockWidgetArea:
            size = min(dock.sizeHint().height(), int(self.height() * BOTTOM_DOCK_SHARE))
            self.resizeDocks(
                [dock], [max(size, dock.minimumSizeHint().height())], Qt.Orientation.Vertical
            )

    def _size_before_dock(self) -> QSize:
        """The window's size before a dock that was just shown made Qt widen it (if it did)."""
        recent, previous = self._sizes
        return previous if recent == self.size() and previous.isValid() else recent

    def _keep_size(self, size: QSize) -> None:
        """Once the docks are laid out, shrink the window back to `size` (as far as the
        widgets' minimum sizes allow): opening a dock never grows the window."""
        if size.isValid() and (self.width() > size.width() or self.height() > size.height()):
            QTimer.singleShot(0, lambda: self.resize(size) if not self.isMaximized() else None)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._sizes = (event.size(), event.oldSize())
        super().resizeEvent(event)

    def _tools_needing_a_model(self) -> list[tuple[QAction, QDockWidget, str]]:
        """The Explore docks' actions (with their tips), disabled while no model is open."""
        tools, insight = self.explore_tools, self.insight_tools
        pairs = [
            (tools.morph_action, tools.morph_dock),
            (tools.manifold_action, tools.manifold_dock),
            (tools.neighbours_action, tools.neighbours_dock),
            (insight.draw_action, insight.draw_dock),
        ]
        return [(act, dock, act.toolTip()) for act, dock in pairs]

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
    @property
    def document(self) -> Document | None:
        return self.state.document

    @property
    def model_path(self) -> Path | None:
        document = self.state.document
        return None if document is None else document.path

    @property
    def is_unsaved(self) -> bool:
        document = self.state.document
        return document is not None and document.unsaved

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
        if not self.state.loaded:
            self.message_page.show_loading(path)
            self.stack.setCurrentIndex(0)
        self.loader.load_path(path)

    def adopt_record(self, record: Any) -> None:
        """Show an in-memory model (a freshly trained one) as the active, unsaved model."""
        self.loader.load_record(record)

    def show_document(self, document: Document) -> None:
        """Show any `Document` (a latentlab model, an imported or a live one) as the model.

        What the model lacks (an encoder, labels, a latentlab record) is disabled with a
        tooltip that says why; `model_loaded` is emitted once it is shown.
        """
        self.state.open(document)
        self.stack.setCurrentIndex(1)
        self.layout_memory.restore_splitters(self.stack)
        if document.path is not None:
            settings.add_recent_model(document.path)
        self._on_document()
        self.model_loaded.emit(document)

    # --- model swap -------------------------------------------------------------------------
    @Slot(object, object)
    def _on_model_loaded(self, path: str | None, document: Document) -> None:
        self.show_document(document)

    @Slot(object, str)
    def _on_load_failed(self, path: str | None, message: str) -> None:
        if path and not Path(path).exists():
            settings.remove_recent_model(path)
        if not self.state.loaded:
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
    def _on_model_trained(self, record: Any) -> None:
        if self.is_unsaved and not self.files.confirm_discard(allow_cancel=False):
            return
        self.adopt_record(record)

    @Slot(bool)
    def _on_training_running(self, running: bool) -> None:
        dock = self.training_dock
        if running and dock is not None:
            first_time = not dock.isVisible()
            before = self.size()
            dock.show()
            dock.raise_()
            if first_time and not dock.isFloating():
                # The panel would take half the window; the explorer stays the main view.
                size = max(280, int(self.height() * BOTTOM_DOCK_SHARE))
                self.resizeDocks([dock], [size], Qt.Orientation.Vertical)
                self._keep_size(before)

    # --- model menu -------------------------------------------------------------------------
    @Slot()
    def _on_train(self) -> None:
        if self.training is not None:
            self.training.open_dialog()

    @Slot()
    def _on_model_info(self) -> None:
        document = self.state.document
        if document is None:
            return
        source = str(document.path) if document.path else document.name
        if self._info_dialog is not None:
            self._info_dialog.close()
        self._info_dialog = info_dialog(document, source, self)
        self._info_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._info_dialog.destroyed.connect(self._on_info_closed)
        self._info_dialog.show()

    @Slot()
    def _on_info_closed(self) -> None:
        self._info_dialog = None

    # --- preferences --------------------------------------------------------------------------
    @Slot()
    def open_preferences(self) -> QDialog:
        """File > Preferences…: the data folder and the download switch (non-modal, one)."""
        from .preferences_dialog import PreferencesDialog

        if self._preferences is None:
            self._preferences = PreferencesDialog(self)
            self._preferences.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self._preferences.destroyed.connect(self._on_preferences_closed)
        self._preferences.show()
        self._preferences.raise_()
        return self._preferences

    @Slot()
    def _on_preferences_closed(self) -> None:
        self._preferences = None

    # --- importing ----------------------------------------------------------------------------
    @Slot()
    def open_import_dialog(self) -> Any:
        """File > Import model…: one dialog at a time; the imported file opens when written."""
        from .import_dialog import ImportDialog

        if self._import_dialog is None:
            dialog = ImportDialog(self)
            dialog.imported.connect(self.open_model)
            dialog.finished.connect(self._on_import_closed)
            self._import_dialog = dialog
        self._import_dialog.show()
        self._import_dialog.raise_()
        return self._import_dialog

    @Slot()
    def _on_import_closed(self) -> None:
        dialog, self._import_dialog = self._import_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    # --- quitting ------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.confirm_discard():
            event.ignore()
            return
        self.layout_memory.save(self.state.loaded)
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop training and loading threads and wait for them (idempotent; also on aboutToQuit)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.insight_tools.shutdown()
        self.direction_tools.shutdown()
        self.counterfactual_tools.shutdown()
        self.scatter.thumbnails.shutdown()
        self.scatter.training.shutdown()
        self.live_view.shutdown()
        if self._preferences is not None:
            self._preferences.done(0)  # a download it started is cancelled and joined
        if self._import_dialog is not None:
            self._import_dialog.shutdown()
        if self.training is not None:
            self.training.shutdown()
        self.loader.shutdown()

    # --- presentation -------------------------------------------------------------------------
    def _on_document(self) -> None:
        """Title, actions and status line for the document shown (or none)."""
        document = self.state.document
        name = "" if document is None else shown_name(document)
        self.setWindowTitle(f"{name}[*] — {APP_TITLE}" if name else APP_TITLE)
        self.setWindowModified(self.is_unsaved and record_of(document) is not None)
        loaded = document is not None
        why_not = save_reason(document)
        self.save_action.setEnabled(loaded and not why_not)
        self.save_action.setToolTip(why_not or "Save the model to a file")
        for act in (
            self.export_image_action,
            self.info_action,
            self.random_action,
            self.reset_action,
        ):
            act.setEnabled(loaded)
        if not loaded:  # with a model, each tool says itself what the model allows
            for act, dock, _tip in self._model_tools:
                act.setEnabled(False)
                act.setToolTip(NO_MODEL_TIP)
                dock.hide()
        else:
            for act, _dock, tip in self._model_tools[:2]:  # morph and manifold: any model
                act.setEnabled(True)
                act.setToolTip(tip)
        mapped = loaded and document.points is not None
        self.export_scatter_action.setEnabled(mapped)
        self.export_scatter_action.setToolTip(
            NO_POINTS_SCATTER_EXPORT if loaded and not mapped else "Save the scatter as a PNG"
        )
        self.status_model.setText("" if document is None else status_text(document))
        if hasattr(self, "digit_keys"):  # a new model's slider rows bring new value boxes
            QTimer.singleShot(0, self.digit_keys.watch)
