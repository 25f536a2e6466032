"""Light and dark themes: follow the system's colour scheme, or the user's choice (View > Theme).

Qt 6.5+ reports the system scheme (`QStyleHints.colorScheme()`) and announces changes
(`colorSchemeChanged`); in "system" mode the app follows both. Where the platform already draws
the chosen scheme (a dark desktop with "system" or "dark"), its own style and palette are kept;
otherwise the portable Fusion style is given an explicit palette, so the choice also works on
platforms that cannot switch (X11 without a theme, offscreen). Style sheets are
`resources/style.qss` plus `style-light.qss` or `style-dark.qss`.

pyqtgraph widgets are not styled by Qt: `style_plots` recolours every plot's background, axes,
legend and marker in place, and pyqtgraph's defaults are set so later plots start right.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QSettings, Qt, Signal, SignalInstance, Slot
from PySide6.QtGui import QAction, QActionGroup, QColor, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QMenu, QStyleFactory, QWidget

SYSTEM, LIGHT, DARK = "system", "light", "dark"
MODES = (SYSTEM, LIGHT, DARK)
MODE_TITLES = {SYSTEM: "&System", LIGHT: "&Light", DARK: "&Dark"}
# Two-key chords (Ctrl+K, then a letter): single letters are taken by the explorer.
MODE_SHORTCUTS = {SYSTEM: "Ctrl+K, S", LIGHT: "Ctrl+K, L", DARK: "Ctrl+K, D"}
SETTINGS_KEY = "view/theme"
_PACKAGE = Path(__file__).resolve().parents[1]


def resources_dir() -> Path:
    """`latentlab/_resources` in a wheel install; the repository's `resources/` otherwise."""
    installed = _PACKAGE / "_resources"
    return installed if installed.is_dir() else _PACKAGE.parent / "resources"


@dataclass(frozen=True)
class PlotColours:
    """What a pyqtgraph plot needs to match the window."""

    background: str
    axis: str  # axis lines and ticks
    text: str  # tick labels, axis titles, legend text
    marker: str  # outline of draggable markers
    legend_fill: tuple[int, int, int, int]
    legend_border: str


LIGHT_PLOTS = PlotColours(
    "#ffffff", "#5a5a5a", "#282828", "#000000", (255, 255, 255, 215), "#b4b4b4"
)
DARK_PLOTS = PlotColours("#1c1d20", "#9c9c9c", "#dedede", "#f0f0f0", (40, 42, 46, 215), "#5c5c5c")


def _palette(colours: dict[QPalette.ColorRole, str], disabled_text: str) -> QPalette:
    palette = QPalette()
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled_text))
    return palette


def dark_palette() -> QPalette:
    """A neutral dark palette for Fusion (grey surfaces, light text, a blue accent)."""
    r = QPalette.ColorRole
    return _palette(
        {
            r.Window: "#2b2d31",
            r.WindowText: "#e6e6e6",
            r.Base: "#1f2023",
            r.AlternateBase: "#2f3136",
            r.ToolTipBase: "#3a3d42",
            r.ToolTipText: "#f0f0f0",
            r.PlaceholderText: "#8a8a8a",
            r.Text: "#e6e6e6",
            r.Button: "#36393e",
            r.ButtonText: "#e6e6e6",
            r.BrightText: "#ff6b6b",
            r.Light: "#4a4d52",
            r.Midlight: "#3e4146",
            r.Mid: "#2a2c30",
            r.Dark: "#1a1b1e",
            r.Shadow: "#000000",
            r.Highlight: "#3d7bd9",
            r.HighlightedText: "#ffffff",
            r.Link: "#6aa7ff",
            r.LinkVisited: "#b39ddb",
        },
        disabled_text="#7a7a7a",
    )


def light_palette() -> QPalette:
    """Fusion's light palette, for a light choice on a dark desktop."""
    r = QPalette.ColorRole
    return _palette(
        {
            r.Window: "#efefef",
            r.WindowText: "#000000",
            r.Base: "#ffffff",
            r.AlternateBase: "#f7f7f7",
            r.ToolTipBase: "#ffffdc",
            r.ToolTipText: "#000000",
            r.PlaceholderText: "#7f7f7f",
            r.Text: "#000000",
            r.Button: "#efefef",
            r.ButtonText: "#000000",
            r.BrightText: "#ffffff",
            r.Light: "#ffffff",
            r.Midlight: "#cacaca",
            r.Mid: "#b8b8b8",
            r.Dark: "#9f9f9f",
            r.Shadow: "#767676",
            r.Highlight: "#308cc6",
            r.HighlightedText: "#ffffff",
            r.Link: "#0000ff",
            r.LinkVisited: "#ff00ff",
        },
        disabled_text="#9a9a9a",
    )


def saved_mode() -> str:
    """The theme chosen in View > Theme (QSettings), "system" when none or unknown."""
    value = QSettings().value(SETTINGS_KEY, SYSTEM)
    return value if value in MODES else SYSTEM


def plot_colours(theme: str) -> PlotColours:
    return DARK_PLOTS if theme == DARK else LIGHT_PLOTS


def style_plots(root: QWidget, colours: PlotColours) -> None:
    """Recolour every pyqtgraph view under `root` (itself included); transparent views stay so."""
    views = root.findChildren(pg.GraphicsView)
    if isinstance(root, pg.GraphicsView):
        views.append(root)
    for view in views:
        if getattr(view, "_background", "default") is not None:
            view.setBackground(colours.background)
        view.resetCachedContent()  # pyqtgraph caches the background, palette colour included
        view.viewport().update()
        scene = view.scene()
        if scene is None:
            continue
        for item in scene.items():
            if isinstance(item, pg.AxisItem):
                item.setPen(pg.mkPen(colours.axis))
                item.setTextPen(pg.mkPen(colours.text))
            elif isinstance(item, pg.LegendItem):
                item.setBrush(pg.mkBrush(*colours.legend_fill))
                item.setPen(pg.mkPen(colours.legend_border))
                item.setLabelTextColor(colours.text)
                for _, label in item.items:  # pyqtgraph only stores the colour: redraw the text
                    label.setText(label.text)
            elif isinstance(item, pg.TargetItem):
                item.setPen(pg.mkPen(colours.marker, width=2.5))
            elif isinstance(item, pg.PlotItem) and item.titleLabel.text:
                item.titleLabel.setText(item.titleLabel.text, color=colours.text)


class ThemeManager(QObject):
    """Applies the theme to the application and keeps it current; one per QApplication."""

    changed = Signal(str)  # the theme now shown: "light" or "dark"

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self._native_style = app.style().name() or "Fusion"  # "" once a style sheet wraps it
        self._overridden = False  # True while our own palette replaces the platform's
        self._platform_theme = LIGHT  # how the platform's own look is, judged while it is shown
        self._reported = Qt.ColorScheme.Unknown  # the last scheme announced by the desktop
        self._mode = saved_mode()
        self._shown: str | None = None
        self._sheets = {name: _read(name) for name in ("style", LIGHT, DARK)}
        app.styleHints().colorSchemeChanged.connect(self._on_scheme_changed)
        self.apply()

    # --- state ------------------------------------------------------------------------------
    def mode(self) -> str:
        return self._mode

    def theme(self) -> str:
        """The theme shown: the chosen one, or the system's in "system" mode."""
        return self.system_theme() if self._mode == SYSTEM else self._mode

    def system_theme(self) -> str:
        """What the desktop asks for; where it does not say (Qt's Unknown), how its look is."""
        scheme = self._app.styleHints().colorScheme()
        if scheme == Qt.ColorScheme.Unknown:
            scheme = self._reported
        if scheme == Qt.ColorScheme.Dark:
            return DARK
        if scheme == Qt.ColorScheme.Light:
            return LIGHT
        return self._platform_theme

    def colours(self) -> PlotColours:
        return plot_colours(self.theme())

    def set_mode(self, mode: str) -> None:
        """Choose "system", "light" or "dark"; remembered for the next start."""
        if mode not in MODES:
            raise ValueError(f"unknown theme {mode!r}; choose one of {MODES}")
        self._mode = mode
        QSettings().setValue(SETTINGS_KEY, mode)
        self.apply()

    # --- applying ---------------------------------------------------------------------------
    def apply(self) -> None:
        """Palette, style, style sheet and plot colours for the current theme.

        The platform's own look is kept when it already draws the theme (judged by its palette,
        since a platform may report a dark scheme and still draw light); else Fusion draws it.
        """
        self._use_platform_look()
        window = self._app.palette().color(QPalette.ColorRole.Window)
        self._platform_theme = DARK if window.lightness() < 128 else LIGHT
        theme = self.theme()
        if theme != self._platform_theme:
            self._use_fusion(dark_palette() if theme == DARK else light_palette())
        sheet = self._sheets["style"] + "\n" + self._sheets[theme]
        if self._app.styleSheet() != sheet:
            self._app.setStyleSheet(sheet)
        colours = plot_colours(theme)
        pg.setConfigOptions(background=colours.background, foreground=colours.text)
        for widget in self._app.topLevelWidgets():
            style_plots(widget, colours)
        if theme != self._shown:
            self._shown = theme
            self.changed.emit(theme)

    def watch(self, window: QWidget, *refresh_signals: SignalInstance) -> None:
        """Restyle `window`'s plots now, when it is shown, when a child (a dock) is added and
        when any of `refresh_signals` fires (a new model adds items to existing plots)."""
        window.installEventFilter(self)
        for signal in refresh_signals:
            signal.connect(lambda *_: style_plots(window, self.colours()))
        style_plots(window, self.colours())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Show and isinstance(watched, QWidget):
            style_plots(watched, self.colours())
        elif kind == QEvent.Type.ChildPolished:  # a dock or panel added after the window was made
            child = event.child()
            if isinstance(child, QWidget):
                style_plots(child, self.colours())
        return False

    def _use_platform_look(self) -> None:
        if self._overridden:
            self._app.setStyle(self._native_style)
            self._app.setPalette(QPalette())  # an empty palette: the platform's own again
            self._overridden = False

    def _use_fusion(self, palette: QPalette) -> None:
        if self._app.style().name().lower() != "fusion":
            self._app.setStyle(QStyleFactory.create("Fusion"))
        self._app.setPalette(palette)
        self._overridden = True

    @Slot(Qt.ColorScheme)
    def _on_scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        """The desktop switched: follow it in "system" mode; re-check a forced choice too."""
        self._reported = scheme
        self.apply()


def _read(name: str) -> str:
    path = resources_dir() / ("style.qss" if name == "style" else f"style-{name}.qss")
    return path.read_text(encoding="utf-8") if path.is_file() else ""


_managers: dict[int, ThemeManager] = {}


def manager(app: QApplication | None = None) -> ThemeManager:
    """The application's ThemeManager, made (and applied) on first use."""
    app = app or QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("the theme needs a QApplication")
    found = _managers.get(id(app))
    if found is None or found.parent() is not app:
        found = ThemeManager(app)
        _managers[id(app)] = found
    return found


def add_theme_menu(menu: QMenu, window: QWidget) -> QMenu:
    """View > Theme: System / Light / Dark as exclusive choices, each with a shortcut."""
    themes = manager()
    submenu = menu.addMenu("&Theme")
    group = QActionGroup(submenu)
    group.setExclusive(True)
    actions: dict[str, QAction] = {}
    for mode in MODES:
        action = QAction(MODE_TITLES[mode], window)
        action.setCheckable(True)
        action.setShortcut(QKeySequence(MODE_SHORTCUTS[mode]))
        action.setChecked(themes.mode() == mode)
        action.setObjectName(f"theme_{mode}")
        action.setStatusTip(
            "Follow the system's light or dark setting" if mode == SYSTEM else f"Always {mode}"
        )
        action.triggered.connect(lambda _=False, m=mode: themes.set_mode(m))
        group.addAction(action)
        submenu.addAction(action)
        actions[mode] = action
    window.addActions(list(actions.values()))  # shortcuts work even while the menu is closed
    loaded = getattr(window, "model_loaded", None)  # MainWindow's: plot items come with a model
    themes.watch(window, *([loaded] if isinstance(loaded, SignalInstance) else []))
    return submenu
