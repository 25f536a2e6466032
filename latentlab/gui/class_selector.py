"""Ten exclusive buttons that choose the class fed to a conditional decoder.

A plain VAE has no class input, so the buttons are disabled and a line says why, instead of
offering a control that would do nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

NUM_BUTTONS = 10
PLAIN_REASON = "Plain VAE: no class input"


def short_name(name: str, limit: int = 7) -> str:
    """A button-sized version of a class name ("T-shirt/top" -> "T-shirt")."""
    first = name.split("/")[0].split(" ")[0]
    return first if len(first) <= limit else first[: limit - 1] + "…"


class ClassSelector(QWidget):
    """Buttons 0-9; emits `digit_selected` when the user picks one."""

    digit_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        row = QHBoxLayout()
        row.setSpacing(3)
        row.setContentsMargins(0, 0, 0, 0)
        for digit in range(NUM_BUTTONS):
            button = QPushButton(str(digit))
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setMinimumWidth(26)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            self._group.addButton(button, digit)
            row.addWidget(button)
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
        layout.addLayout(row)
        layout.addWidget(self._reason)
        self._group.button(0).setChecked(True)

    # --- public --------------------------------------------------------------------------
    def set_classes(self, names: Sequence[str], conditional: bool) -> None:
        """Label the buttons for a model; disable them (with the reason shown) for a plain VAE."""
        for digit, button in enumerate(self.buttons()):
            if digit < len(names):
                name = names[digit]
                button.setText(short_name(name) if name != str(digit) else name)
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
