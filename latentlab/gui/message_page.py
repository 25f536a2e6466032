"""What the central area shows when there is no model to explore: loading, or why not."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget


class MessagePage(QWidget):
    """A title, a detail line, a busy bar while loading, and Open / Train buttons otherwise."""

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
