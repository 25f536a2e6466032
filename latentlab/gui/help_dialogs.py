"""Help > Shortcuts, Help > Reading the scatter and Help > About.

The shortcuts table is read from the window's own QActions (menu by menu, in menu order) and
QShortcuts each time it opens, so it lists exactly what the keys do now and cannot go stale
when a menu item or key is added. A QShortcut is described by its `whatsThis` text; shortcuts
that share one description are merged into one row ("0–9").
"""

from __future__ import annotations

import platform
from dataclasses import dataclass

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QEvent, QObject, Qt, Slot, qVersion
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

SHORTCUTS_KEY = QKeySequence.StandardKey.HelpContents  # F1 on most platforms
ABOUT_KEY = "Ctrl+F1"
SCATTER_HELP_KEY = "Shift+F1"
HEADERS = ("Keys", "Command", "Where")
MOUSE = "Scatter (mouse)"
# The scatter's mouse gestures: no action holds them, so they are written down here.
MOUSE_ROWS = (
    ("Hover", "Show a point's image and label beside the cursor"),
    ("Click a point", "Go to it: its reconstruction, the sliders at its latent"),
    ("Drag the ring", "Move the point along the axes (through the inverse on a map)"),
    ("Click empty space", "Move the point there"),
    ("Drag, middle-drag", "Pan the view"),
    ("Right-drag, wheel", "Zoom"),
    ("Shift+drag", "Select the points inside a loop"),
    ("Ctrl+Shift+drag", "Select the points inside a rectangle"),
    ("Click a legend entry", "Hide or show that class"),
    ("Click a class's bar", "Show only that class in colour (again: every class)"),
    ("Drag the band's edges", "Show only a range of values in colour (on the histogram)"),
)
PROJECT = "latentlab"


@dataclass(frozen=True)
class ShortcutRow:
    keys: str  # as the platform writes them ("Ctrl+O", "⌘O")
    command: str  # the action's text without its "&" mnemonic marker
    where: str  # "File", "View > Theme", or "Window" for keys that have no menu item


def _keys(sequences: list[QKeySequence]) -> str:
    return ", ".join(
        s.toString(QKeySequence.SequenceFormat.NativeText) for s in sequences if not s.isEmpty()
    )


def _command(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _merge_keys(keys: list[str]) -> str:
    """["0", "1", ..., "9"] -> "0–9"; anything else is listed."""
    if len(keys) > 2 and all(k.isdigit() and len(k) == 1 for k in keys):
        digits = sorted(int(k) for k in keys)
        if digits == list(range(digits[0], digits[-1] + 1)):
            return f"{digits[0]}–{digits[-1]}"
    return ", ".join(keys)


def _menu_rows(menu: QMenu, path: str, seen: set[int]) -> list[ShortcutRow]:
    rows: list[ShortcutRow] = []
    for action in menu.actions():
        sub = action.menu()
        if isinstance(sub, QMenu):
            rows += _menu_rows(sub, f"{path} > {_command(sub.title())}", seen)
            continue
        if action.isSeparator():
            continue
        seen.add(id(action))
        keys = _keys(action.shortcuts())
        if keys:
            rows.append(ShortcutRow(keys, _command(action.text()), path))
    return rows


def shortcut_rows(window: QMainWindow) -> list[ShortcutRow]:
    """Every key the window answers to: menu actions, then other actions, then QShortcuts."""
    rows: list[ShortcutRow] = []
    seen: set[int] = set()
    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            rows += _menu_rows(menu, _command(menu.title()), seen)
    others = [*window.actions(), *window.findChildren(QAction)]
    for action in others:
        if id(action) in seen or action.menu() is not None or not action.associatedObjects():
            continue  # an action on no widget has no working key
        seen.add(id(action))
        keys = _keys(action.shortcuts())
        if keys and action.text():
            rows.append(ShortcutRow(keys, _command(action.text()), "Window"))
    grouped: dict[str, list[str]] = {}
    for shortcut in window.findChildren(QShortcut):
        keys = _keys([shortcut.key()])
        if keys and shortcut.isEnabled():
            grouped.setdefault(shortcut.whatsThis() or "(no description)", []).append(keys)
    rows += [ShortcutRow(_merge_keys(k), what, "Window") for what, k in grouped.items()]
    return rows


class ShortcutsDialog(QDialog):
    """A read-only table of the window's keys, built when it opens."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.rows = shortcut_rows(window)
        self.rows += [ShortcutRow(keys, what, MOUSE) for keys, what in MOUSE_ROWS]
        intro = QLabel(
            "What each key does in this window (taken from its menus and keys), and what the "
            "mouse does on the scatter."
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(len(self.rows), len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a list to read, not to edit
        self.table.setStyleSheet("QTableWidget::item { padding: 0px 8px; }")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        row_height = self.fontMetrics().height() + 8
        self.table.verticalHeader().setDefaultSectionSize(row_height)
        for r, row in enumerate(self.rows):
            for c, text in enumerate((row.keys, row.command, row.where)):
                item = QTableWidgetItem(text)
                if c == 0:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setToolTip("Close this list")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(780, min(760, 110 + row_height * (len(self.rows) + 1)))

    def texts(self) -> list[tuple[str, str, str]]:
        """The table as shown (for tests)."""
        return [
            tuple(self.table.item(r, c).text() for c in range(len(HEADERS)))  # type: ignore[misc]
            for r in range(self.table.rowCount())
        ]


def package_version(name: str) -> str:
    from importlib import metadata  # ~30 ms to import: only when the About box opens

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


# How each bundled model was made (models/README.md has the commands and every figure).
BUNDLED_PROVENANCE = (
    (
        "mnist-cvae",
        "conditional VAE on MNIST, preset handwriting-cvae: 16 free latent dimensions, "
        "beta 0.7, the label read by decoder and encoder in training, 20 epochs; test "
        "accuracy 0.986, 99.2 % of generated digits read as asked, FID 23",
    ),
    (
        "mnist-vae-2d",
        "plain VAE on MNIST, preset vae-2d: a 2-D latent plane, 20 epochs",
    ),
    (
        "fashion-cvae",
        "conditional VAE on Fashion-MNIST, preset clean-cvae: 8 free latent dimensions, "
        "beta 2, 12 epochs; test accuracy 0.893",
    ),
)


def models_readme_link() -> str:
    """Where the full story is: the installed or source tree's models/README.md."""
    from latentlab.core.bundled import models_dir

    readme = models_dir() / "README.md"
    if readme.is_file():
        return (
            f'How each was trained, and how every preset does: <a href="{readme.as_uri()}">'
            "models/README.md</a>"
        )
    return "How each was trained: models/README.md in latentlab's source"


def about_text() -> str:
    """The About box's rich text: what the app is, its version, the versions it runs on, the
    licence and where the bundled models come from."""
    import pyqtgraph

    provenance = "".join(f"<li><b>{name}</b>: {text}</li>" for name, text in BUNDLED_PROVENANCE)

    return (
        f"<h3>{PROJECT} {package_version(PROJECT)}</h3>"
        "<p>A desktop explorer for the latent space of variational autoencoders trained on "
        "MNIST and Fashion-MNIST: pick a class, move the latent sliders, and see where every "
        "test image lands.</p>"
        f"<p>Python {platform.python_version()} · Qt {qVersion()} · PySide6 {pyside_version} · "
        f"pyqtgraph {pyqtgraph.__version__} · numpy {package_version('numpy')}</p>"
        "<p>MIT licence. Fashion-MNIST © Zalando SE (MIT); MNIST by Yann LeCun, "
        "Corinna Cortes and Christopher Burges.</p>"
        f"<p><b>The bundled models</b>, each trained once by latentlab's own "
        f"<code>latentlab train</code> with seed 0 from the original files:</p><ul>{provenance}"
        "</ul>"
        f"<p>{models_readme_link()}</p>"
    )


def about_box(parent: QWidget) -> QMessageBox:
    """A non-blocking About box (opened with `open()`, deleted when closed)."""
    box = QMessageBox(parent)
    box.setWindowTitle(f"About {PROJECT}")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_text())
    box.setIconPixmap(parent.windowIcon().pixmap(64, 64))
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    return box


SCATTER_HELP = (
    "<h3>Reading the scatter</h3>"
    "<p>Each dot is one test image, placed where the encoder puts it in the latent space "
    "(the mean of q(z|x)), seen along the axes chosen above the plot, and coloured by its "
    "class.</p>"
    "<p><b>A plain VAE</b> (such as mnist-vae-2d) has to keep everything about an image in z, "
    "the class included, so the classes form separate clouds.</p>"
    "<p><b>A conditional VAE</b> (mnist-cvae, fashion-cvae) is also given the class as a "
    "separate input, so z only needs what the class does not say: the <i>style</i> (slant, "
    "width, stroke thickness). That style is independent of the class by design: a slanted 3 "
    "and a slanted 7 sit in the same place. So the colours mix in the scatter, and that is "
    "the model working as intended, not a failure. Pick a class with the buttons or keys 0-9 "
    "and the same point in the scatter draws that style as the chosen class.</p>"
    "<p>Click a dot to go to that image; drag the ring to move the style; click a legend "
    "entry to hide a class; hold Shift and drag to select points (Ctrl+Shift: a rectangle). "
    "The bars under the plot count the points of each class, or show how the values spread "
    "when the points are coloured by a value.</p>"
    "<p><b>Other axes.</b> Principal components show the directions of most variance; with "
    "8 or more dimensions that is a fraction of it. <i>Axes > UMAP</i> or <i>t-SNE</i> lays "
    "the points out by their neighbours instead (computed in the background, then kept): near "
    "points are near in latent space, but distances between clusters mean little. Dragging "
    "the ring through such a map moves the point through a blend of its nearest points' "
    "latents. <i>Colour</i> shows any value of the points (a dimension, the KL, the stroke "
    "slant...); drag the band on the histogram to show only a range. docs/maps.md has it "
    "all.</p>"
)


def scatter_help_box(parent: QWidget) -> QMessageBox:
    """Help > Reading the scatter: why a conditional model's classes overlap."""
    box = QMessageBox(parent)
    box.setWindowTitle("Reading the scatter")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(SCATTER_HELP)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    return box


# Buttons Qt makes itself (dock title bars, the menu bar's overflow arrow) come without a tip.
BUILTIN_TIPS = {
    "qt_dockwidget_closebutton": "Close this panel (View menu shows it again)",
    "qt_dockwidget_floatbutton": "Float this panel in its own window, or dock it again",
    "qt_menubar_ext_button": "More menus",
    "ScrollLeftButton": "Show the panels' tabs further left",
    "ScrollRightButton": "Show the panels' tabs further right",
}


def tip_builtin_buttons(root: QWidget) -> None:
    """Give Qt's own buttons under `root` a tooltip (every control in the window has one)."""
    for button in root.findChildren(QAbstractButton):
        tip = BUILTIN_TIPS.get(button.objectName())
        if tip and not button.toolTip():
            button.setToolTip(tip)


class HelpMenu(QObject):
    """Help > Shortcuts (F1) and Help > About (Ctrl+F1), added at the end of the menu bar."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.menu = window.menuBar().addMenu("&Help")
        self.shortcuts_action = QAction("Keyboard &shortcuts…", window)
        self.shortcuts_action.setShortcut(QKeySequence(SHORTCUTS_KEY))
        self.shortcuts_action.setStatusTip("List every keyboard shortcut")
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        self.about_action = QAction(f"&About {PROJECT}…", window)
        self.about_action.setShortcut(QKeySequence(ABOUT_KEY))
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.setStatusTip("Version and credits")
        self.about_action.triggered.connect(self.show_about)
        self.scatter_action = QAction("&Reading the scatter…", window)
        self.scatter_action.setShortcut(QKeySequence(SCATTER_HELP_KEY))
        self.scatter_action.setStatusTip(
            "What the scatter shows, and why a conditional model's classes overlap"
        )
        self.scatter_action.triggered.connect(self.show_scatter_help)
        self.menu.addAction(self.shortcuts_action)
        self.menu.addAction(self.scatter_action)
        self.menu.addSeparator()
        self.menu.addAction(self.about_action)
        self.dialog: ShortcutsDialog | None = None  # the last one opened (tests look at it)
        self.about: QMessageBox | None = None
        self.scatter_help: QMessageBox | None = None
        tip_builtin_buttons(window)
        window.installEventFilter(self)  # docks added later get their tips too

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ChildPolished and isinstance(event.child(), QWidget):
            tip_builtin_buttons(event.child())
        return False

    @Slot()
    def show_shortcuts(self) -> None:
        self.dialog = ShortcutsDialog(self._window)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.open()

    @Slot()
    def show_scatter_help(self) -> None:
        self.scatter_help = scatter_help_box(self._window)
        self.scatter_help.open()

    @Slot()
    def show_about(self) -> None:
        self.about = about_box(self._window)
        self.about.open()
