"""Ten exclusive buttons that choose the class fed to a conditional decoder.

Digits sit in one row; word class names (Fashion-MNIST's "T-shirt/top", "Ankle boot") get two
rows of five so they fit whole, shortened only past LONG_NAME characters (the tooltip always
has the full name). A plain VAE has no class input, so the buttons are disabled and a line says
why, instead of offering a control that would do nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

NUM_BUTTONS = 10
PLAIN_REASON = "Plain VAE: no class input"
LONG_NAME = 12  # names longer than this are shortened on the buttons
WORD_NAME = 2  # names longer than this get two rows of five buttons
ROW_LENGTH_TWO_ROWS = 5


def short_name(name: str, limit: int = 7) -> str:
    """A button-sized version of a class name ("T-shirt/top" -> "T-shirt")."""
    first = name.split("/")[0].split(" ")[0]
    return first if len(first) <= limit else first[: limit - 1] + "…"


def button_text(name: str) -> str:
    """The name itself when it fits a button of the two-row layout, else a short form."""
    return name if len(name) <= LONG_NAME else short_name(name)


class ClassSelector(QWidget):
    """Buttons 0-9; emits `digit_selected` when the user picks one."""

    digit_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._grid = QGridLayout()
        self._grid.setSpacing(3)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._rows = 0
        for digit in range(NUM_BUTTONS):
            button = QPushButton(str(digit))
            button.setCheckable(True)
            button.setObjectName("classButton")  # style.qss marks the chosen one
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setMinimumWidth(26)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setToolTip(f"Digit {digit} (key {digit})")
            self._group.addButton(button, digit)
        self._arrange(1)
        self._group.idClicked.connect(self._on_clicked)
        self._reason = QLabel()
        self._reason.setObjectName("selectorReason")
        self._reason.setWordWrap(True)
        self._reason.setVisible(False)
        title = QLabel("Class (keys 0-9)")
        title.setObjectName("sectionTitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addLayout(self._grid)
        layout.addWidget(self._reason)
        self._group.button(0).setChecked(True)

    # --- public --------------------------------------------------------------------------
    def set_classes(self, names: Sequence[str], conditional: bool) -> None:
        """Label the buttons for a model; disable them (with the reason shown) for a plain VAE."""
        words = any(len(name) > WORD_NAME for name in names)
        self._arrange(2 if words else 1)
        for digit, button in enumerate(self.buttons()):
            if digit < len(names):
                name = names[digit]
                button.setText(button_text(name) if name != str(digit) else name)
                tip = (
                    f"{name} (key {digit})"
                    if name != str(digit)
                    else f"Digit {digit} (key {digit})"
                )
                button.setToolTip(tip)
                button.setVisible(True)
            else:
                button.setVisible(False)
        for button in self.buttons():
            button.setEnabled(conditional)
        self._reason.setText("" if conditional else PLAIN_REASON)
        self._reason.setVisible(not conditional)
        self._group.setExclusive(conditional)
        if not conditional:
            checked = self._group.checkedButton()
            if checked is not None:
                checked.setChecked(False)

    def set_digit(self, digit: int) -> None:
        """Show `digit` as chosen without emitting `digit_selected`."""
        button = self._group.button(digit)
        if button is not None and button.isEnabled():
            self._group.setExclusive(True)
            button.setChecked(True)

    def rows(self) -> int:
        """How many rows the buttons are laid out in (1 for digits, 2 for word names)."""
        return self._rows

    def _arrange(self, rows: int) -> None:
        if rows == self._rows:
            return
        per_row = NUM_BUTTONS if rows == 1 else ROW_LENGTH_TWO_ROWS
        for digit, button in enumerate(self.buttons()):
            self._grid.removeWidget(button)
            self._grid.addWidget(button, digit // per_row, digit % per_row)
        for column in range(NUM_BUTTONS):  # equal widths, whatever each button's text
            self._grid.setColumnStretch(column, 1 if column < per_row else 0)
        self._rows = rows

    def digit(self) -> int | None:
        checked = self._group.checkedId()
        return None if checked < 0 else checked

    def buttons(self) -> list[QAbstractButton]:
        return [self._group.button(d) for d in range(NUM_BUTTONS)]

    def reason(self) -> str:
        """Why the buttons are disabled ("" when they are not)."""
        return self._reason.text()

    def select(self, digit: int) -> None:
        """Act as if the user clicked button `digit` (for key shortcuts)."""
        button = self._group.button(digit)
        if button is not None and button.isEnabled() and not button.isHidden():
            button.click()

    @Slot(int)
    def _on_clicked(self, digit: int) -> None:
        self.digit_selected.emit(digit)
