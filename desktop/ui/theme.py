"""Light/dark theme: follows the system scheme, allows an override, applies a palette, and exposes colours."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from desktop.ui.lazy_qt import Qt

__all__ = ["DARK_COLORS", "LIGHT_COLORS", "ColorSet", "SchemeChoice", "ThemeManager", "fusion_arguments"]

_started_with_fusion = False


def fusion_arguments() -> list[str]:
    """QApplication's arguments that start it in the Fusion style (which the theme's palettes are made for).

    Chosen this way rather than with `setStyle`, PySide6 makes no Python QStyle object: QStyle's enums (hundreds of
    members) are not built before the window's first paint. ThemeManager then leaves the style as it is.
    """
    global _started_with_fusion  # noqa: PLW0603 (one QApplication per process: its arguments are asked for once)
    _started_with_fusion = True
    return ["-style", "Fusion"]


MIN_FONT_SIZE = 8
MAX_FONT_SIZE = 28


class SchemeChoice(StrEnum):
    """The user's choice: follow the system, or force light or dark."""

    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True)
class ColorSet:
    """Named colours (as '#rrggbb') shared by the palette, the stylesheet and rendered answers."""

    dark: bool
    window: str
    surface: str
    text: str
    muted: str
    border: str
    accent: str
    accent_text: str
    link: str
    user_bubble: str
    user_text: str
    code_bg: str
    code_border: str
    quote_bar: str
    quote_text: str
    table_border: str
    table_header_bg: str
    error: str
    error_bg: str
    warning: str
    warning_bg: str
    hover: str
    pygments_style: str

    def qcolor(self, name: str) -> QColor:
        """Return the named colour as a QColor."""
        return QColor(str(getattr(self, name)))


LIGHT_COLORS = ColorSet(
    dark=False,
    window="#f7f7f8",
    surface="#ffffff",
    text="#1f2328",
    muted="#6e7781",
    border="#d0d7de",
    accent="#0f6cbd",
    accent_text="#ffffff",
    link="#0b5cad",
    user_bubble="#e8f0fb",
    user_text="#1f2328",
    code_bg="#f4f5f7",
    code_border="#d8dee4",
    quote_bar="#c8d1da",
    quote_text="#57606a",
    table_border="#d0d7de",
    table_header_bg="#f0f2f4",
    error="#b42318",
    error_bg="#fdecea",
    warning="#8a5300",
    warning_bg="#fff4e0",
    hover="#eaeef2",
    pygments_style="default",
)

DARK_COLORS = ColorSet(
    dark=True,
    window="#1e1f22",
    surface="#26282c",
    text="#e6e6e6",
    muted="#9aa0a6",
    border="#3c4043",
    accent="#4c9aff",
    accent_text="#0b1524",
    link="#7cb7ff",
    user_bubble="#2f3b4d",
    user_text="#eef2f7",
    code_bg="#17181b",
    code_border="#34373c",
    quote_bar="#4a4f57",
    quote_text="#b0b6bd",
    table_border="#474b52",
    table_header_bg="#2d3035",
    error="#ff8a80",
    error_bg="#3b2222",
    warning="#ffcc80",
    warning_bg="#3a3020",
    hover="#33363b",
    pygments_style="one-dark",
)

_STYLESHEET = """
QToolTip {{ color: {text}; background: {surface}; border: 1px solid {border}; }}
QPushButton#primary {{ background: {accent}; color: {accent_text}; border: none; border-radius: 6px;
    padding: 6px 14px; font-weight: 600; }}
QPushButton#primary:disabled {{ background: {border}; color: {muted}; }}
QLineEdit, QPlainTextEdit#composerInput {{ border: 1px solid {border}; border-radius: 8px; padding: 4px 6px;
    background: {surface}; }}
QLineEdit:focus, QPlainTextEdit#composerInput:focus {{ border: 1px solid {accent}; }}
QLabel#inlineError {{ color: {error}; }}
QFrame#fileChip {{ background: {surface}; border: 1px solid {border}; border-radius: 8px; }}
QFrame#fileChip QLabel#chipMeta {{ color: {muted}; }}
QFrame#toast {{ background: {text}; border-radius: 8px; }}
QFrame#toast QLabel {{ color: {window}; }}
QFrame#toast QPushButton {{ color: {link}; background: transparent; border: none; font-weight: 600; }}
"""


class ThemeManager(QObject):
    """Chooses light or dark colours, applies them to the application and announces every change."""

    changed = Signal()
    system_scheme_seen = Signal(bool)  # the system's scheme, each time it is asked: dark or not (the app keeps it)

    def __init__(
        self,
        app: QApplication,
        choice: SchemeChoice = SchemeChoice.SYSTEM,
        font_size: int | None = None,
        parent: QObject | None = None,
        *,
        system_scheme: Callable[[], Qt.ColorScheme] | None = None,
        system_dark: bool | None = None,
    ) -> None:
        """`system_dark`: whether the system's scheme was dark when the app last asked (None: not known). Given, the
        theme starts from it and asks the system only later: in `check_system_scheme`, which the app calls after the
        window's first paint, or when the system says its scheme changed. The answer is a Qt.ColorScheme, and the
        first frame makes no Qt namespace (see desktop/ui/lazy_qt.py)."""
        super().__init__(parent)
        self._app = app
        # The platform reports the scheme; tests (and platforms without a report) may supply it.
        self._system_scheme = system_scheme or app.styleHints().colorScheme
        self._system_dark = system_dark
        self._choice = choice
        self._font_size = font_size or max(MIN_FONT_SIZE, app.font().pointSize())
        self._colors = LIGHT_COLORS
        if not _started_with_fusion:
            app.setStyle("Fusion")
        app.styleHints().colorSchemeChanged.connect(self._on_hints_color_scheme_changed)
        self.apply()

    def choice(self) -> SchemeChoice:
        """Return the user's scheme choice."""
        return self._choice

    def set_choice(self, choice: SchemeChoice) -> None:
        """Follow the system, or force light/dark."""
        if choice != self._choice:
            self._choice = choice
            self.apply()

    def font_size(self) -> int:
        """Return the base font size in points."""
        return self._font_size

    def set_font_size(self, points: int) -> None:
        """Change the base font size (clamped to a readable range)."""
        points = max(MIN_FONT_SIZE, min(MAX_FONT_SIZE, points))
        if points != self._font_size:
            self._font_size = points
            self.apply()

    def is_dark(self) -> bool:
        """Return True when dark colours are in use."""
        return self._colors.dark

    def colors(self) -> ColorSet:
        """Return the colour set in use."""
        return self._colors

    def apply(self) -> None:
        """Apply palette, stylesheet and font to the application, then emit `changed`."""
        self._colors = DARK_COLORS if self._wants_dark() else LIGHT_COLORS
        self._app.setPalette(build_palette(self._colors))
        self._app.setStyleSheet(_STYLESHEET.format(**_string_fields(self._colors)))
        font = QFont(self._app.font())
        font.setPointSize(self._font_size)
        self._app.setFont(font)
        self.changed.emit()

    def check_system_scheme(self) -> bool:
        """Ask the system whether its scheme is dark, follow the answer if the theme follows the system, return it."""
        self._system_dark = None
        if self._choice == SchemeChoice.SYSTEM and self._system_is_dark() != self._colors.dark:
            self.apply()
        return self._system_is_dark()

    def _system_is_dark(self) -> bool:
        if self._system_dark is None:
            self._system_dark = self._system_scheme() == Qt.ColorScheme.Dark
            self.system_scheme_seen.emit(self._system_dark)
        return self._system_dark

    def _wants_dark(self) -> bool:
        if self._choice == SchemeChoice.SYSTEM:
            return self._system_is_dark()
        return self._choice == SchemeChoice.DARK

    def _on_hints_color_scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        self._system_dark = None
        if self._choice == SchemeChoice.SYSTEM:
            self.apply()


def _string_fields(colors: ColorSet) -> dict[str, str]:
    return {k: v for k, v in vars(colors).items() if isinstance(v, str)}


def build_palette(colors: ColorSet) -> QPalette:
    """Build a QPalette from a colour set (Fusion honours every role)."""
    c = colors.qcolor
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: c("window"),
        QPalette.ColorRole.WindowText: c("text"),
        QPalette.ColorRole.Base: c("surface"),
        QPalette.ColorRole.AlternateBase: c("hover"),
        QPalette.ColorRole.Text: c("text"),
        QPalette.ColorRole.Button: c("surface"),
        QPalette.ColorRole.ButtonText: c("text"),
        QPalette.ColorRole.ToolTipBase: c("surface"),
        QPalette.ColorRole.ToolTipText: c("text"),
        QPalette.ColorRole.PlaceholderText: c("muted"),
        QPalette.ColorRole.Highlight: c("accent"),
        QPalette.ColorRole.HighlightedText: c("accent_text"),
        QPalette.ColorRole.Link: c("link"),
        QPalette.ColorRole.Mid: c("border"),
        QPalette.ColorRole.Midlight: c("hover"),
    }
    for role, color in roles.items():
        pal.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, c("muted"))
    return pal
