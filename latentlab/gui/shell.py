"""What a dock may use of the explorer window, named, instead of the whole window.

Docks (morph, manifold, neighbours, draw, report) get the state and this shell: where to put a
dock and a menu entry, the scatter to draw overlays on, the image pane for previews, the test
images. They never reach into the window itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QWidget

from latentlab.core.explore.state import ExplorerState

from .image_pane import ImagePane
from .latent_scatter import LatentScatter
from .test_images import TestImages


@dataclass
class Shell:
    state: ExplorerState
    test_images: TestImages
    image_pane: ImagePane
    scatter: LatentScatter
    explore_menu: QMenu
    model_menu: QMenu
    host: QMainWindow  # only for docking and as the parent of dialogs

    def add_dock(
        self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea
    ) -> QDockWidget:
        """A hidden dock holding `widget`, with the window's dock area `area` as its home."""
        dock = QDockWidget(title, self.host)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.host.addDockWidget(area, dock)
        dock.hide()
        return dock

    @property
    def dialog_parent(self) -> QWidget:
        return self.host
