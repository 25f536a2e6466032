"""Exclusive buttons, one per class, that choose the class fed to a conditional decoder.

Bound to the explorer state: a click sets the state's class, and the buttons show the state's
class whoever changed it (a scatter click, a key). Short names (digits) sit in one row; word class names (Fashion-MNIST's "T-shirt/top", "Ankle boot") get two
rows so they fit whole, shortened only past LONG_NAME characters (the tooltip always
has the full name). A plain VAE has no class input, so the buttons are disabled and a line says
why, instead of offering a control that would do nothing; a model without classes (unlabelled
data) has no buttons at all, and the selector hides.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from latentlab.core.explore.state import ExplorerState

from .capabilities import NO_CLASS_INPUT, NO_CLASSES, record_of

PLAIN_REASON = "Plain VAE: no class input"
LONG_NAME = 12  # names longer than this are shortened on the buttons
WORD_NAME = 2  # names longer than this get two rows of five buttons…
WORDS_PER_ROW = 5  # …when there are more of them than fit one row
MAX_PER_ROW = 10  # short names: one row of up to ten buttons


def short_name(name: str, limit: int = 7) -> str:
    """A button-sized version of a class name ("T-shirt/top" -> "T-shirt")."""
    first = name.split("/")[0].split(" ")[0]
    return first if len(first) <= limit else first[: limit - 1] + "…"


def button_text(name: str) -> str:
    """The name itself when it fits a button of the two-row layout, else a short form."""
    return name if len(name) <= LONG_NAME else short_name(name)


class ClassSelector(QWidget):
    """One button per class of the state's model; the chosen one is the state's class."""

    def __init__(self, state: ExplorerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._grid = QGridLayout()
        self._grid.setSpacing(3)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._rows = 0
        self._group.idClicked.connect(self._on_clicked)
        self._reason = QLabel()
        self._reason.setObjectName("selectorReason")
        self._reason.setWordWrap(True)
        self._reason.setVisible(False)
        self._title = QLabel("Class")
        self._title.setObjectName("sectionTitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._title)
        layout.addLayout(self._grid)
        layout.addWidget(self._reason)
        state.events.model.connect(self._on_model)
        state.events.class_index.connect(self._show_class)
        if state.loaded:  # built on a state that already shows a model
            self._on_model()

    # --- public --------------------------------------------------------------------------
    def rows(self) -> int:
        """How many rows the buttons are laid out in (1 for digits, 2 for word names)."""
        return self._rows

    def digit(self) -> int | None:
        checked = self._group.checkedId()
        return None if checked < 0 else checked

    def buttons(self) -> list[QAbstractButton]:
        return list(self._group.buttons())

    def reason(self) -> str:
        """Why the buttons are disabled ("" when they are not)."""
        return self._reason.text()

    def select(self, index: int) -> None:
        """Act as if the user clicked button `index` (for key shortcuts)."""
        button = self._group.button(index)
        if button is not None and button.isEnabled() and not button.isHidden():
            button.click()

    # --- state events --------------------------------------------------------------------
    def _on_model(self) -> None:
        names = self.state.class_names
        conditional = self.state.conditional
        for button in self.buttons():
            self._group.removeButton(button)
            self._grid.removeWidget(button)
            button.deleteLater()
        for index, name in enumerate(names):
            button = QPushButton(button_text(name) if name != str(index) else name)
            button.setCheckable(True)
            button.setObjectName("classButton")  # style.qss marks the chosen one
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setMinimumWidth(26)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            key = f" (key {index})" if index < 10 else ""
            button.setToolTip(f"{name}{key}" if name != str(index) else f"Digit {index}{key}")
            button.setEnabled(conditional)
            self._group.addButton(button, index)
        words = any(len(name) > WORD_NAME for name in names)
        self._arrange(len(names), 2 if words and len(names) > WORDS_PER_ROW else 1)
        self._title.setText("Class (keys 0-9)" if conditional and names else "Class")
        reason = ""
        if not names:
            reason = NO_CLASSES
        elif not conditional:
            reason = PLAIN_REASON if record_of(self.state.document) is not None else NO_CLASS_INPUT
        self._reason.setText(reason)
        self._reason.setVisible(bool(reason))
        self.setToolTip(reason)
        if self.parentWidget() is not None or not names:  # never pop up as a window
            self.setVisible(bool(names))  # no classes: nothing to choose, nothing to show
        if conditional:
            self._show_class(self.state.class_index)

    def _show_class(self, index: int) -> None:
        button = self._group.button(index)
        if button is not None:
            button.setChecked(True)

    def _arrange(self, count: int, rows: int) -> None:
        per_row = max(1, math.ceil(count / rows)) if rows > 1 else max(1, min(count, MAX_PER_ROW))
        for index, button in enumerate(self.buttons()):
            self._grid.addWidget(button, index // per_row, index % per_row)
        for column in range(max(per_row, self._grid.columnCount())):
            self._grid.setColumnStretch(column, 1 if column < per_row else 0)
        self._rows = math.ceil(count / per_row) if count else 0

    @Slot(int)
    def _on_clicked(self, index: int) -> None:
        self.state.set_class(index)


# --- keys 0-9 ------------------------------------------------------------------------------------

TEXT_ENTRIES = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)
# Focus the user gave a field (a click, Tab): there, digits are typed. Focus the window handed
# out by itself (activation, start-up, a dock appearing) does not make a field take the digits.
USER_FOCUS = (
    Qt.FocusReason.MouseFocusReason,
    Qt.FocusReason.TabFocusReason,
    Qt.FocusReason.BacktabFocusReason,
    Qt.FocusReason.ShortcutFocusReason,
)
DIGIT_KEYS = {getattr(Qt.Key, f"Key_{d}"): d for d in range(10)}


def text_entry(widget: QWidget | None) -> QWidget | None:
    """The text field `widget` belongs to (a spin box's line edit is its spin box), or None."""
    while widget is not None:
        if isinstance(widget, TEXT_ENTRIES):
            parent = widget.parentWidget()
            if isinstance(widget, QLineEdit) and isinstance(parent, QAbstractSpinBox | QComboBox):
                return parent
            if isinstance(widget, QLineEdit) and widget.isReadOnly():
                return None
            return widget
        if isinstance(widget, QComboBox) and widget.isEditable():
            return widget
        widget = widget.parentWidget() if isinstance(widget, QLineEdit) else None
    return None


class DigitKeys(QObject):
    """Keys 0-9 choose the class in `window` unless the user is typing in a text field.

    Qt gives a focused spin box every digit (it claims them before shortcuts run), so at
    start-up, when the window hands focus to the first field in a dock, the keys would be lost.
    This filter lets a field keep the digits only when the user put the focus there. It sits on
    the window's text fields only (`watch`, again whenever widgets are added), not on the whole
    application, so no other event pays for it.
    """

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._chosen: QWidget | None = None  # the text field the user focused, if any
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    def watch(self, root: QWidget | None = None) -> None:
        """Filter the text fields under `root` (default: the window)."""
        root = root or self._window
        for widget in root.findChildren(QWidget):
            if isinstance(widget, TEXT_ENTRIES):
                widget.installEventFilter(self)  # once: installing again only moves it first

    def typing_in(self) -> QWidget | None:
        """The text field taking the digits now (the user focused it), or None."""
        entry = text_entry(QApplication.focusWidget())
        return entry if entry is not None and entry is self._chosen else None

    @Slot(object, object)
    def _on_focus_changed(self, _old: QWidget | None, now: QWidget | None) -> None:
        if now is not None and now.window() is self._window and text_entry(now) is None:
            self._chosen = None  # the focus left the fields (a button, the scatter…)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.FocusIn and isinstance(watched, QWidget):
            entry = text_entry(watched)
            if entry is None:
                pass
            elif event.reason() in USER_FOCUS:  # type: ignore[attr-defined]
                self._chosen = entry
            elif entry is not self._chosen:  # handed out by the window, not chosen
                self._chosen = None
        elif kind == QEvent.Type.ShortcutOverride and isinstance(watched, QWidget):
            key = event.key()  # type: ignore[attr-defined]
            modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier  # type: ignore[attr-defined]
            if (
                key in DIGIT_KEYS
                and modifiers == Qt.KeyboardModifier.NoModifier
                and watched.window() is self._window
                and text_entry(watched) is not None
                and self.typing_in() is None
            ):
                event.ignore()  # not claimed by the field: the window's digit shortcut runs
                return True
        return False
