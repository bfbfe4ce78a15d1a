"""Theme: system scheme following, manual override, font size, change signal."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from desktop.ui.theme import DARK_COLORS, LIGHT_COLORS, MAX_FONT_SIZE, MIN_FONT_SIZE, SchemeChoice, ThemeManager


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    """The application, with palette, style sheet, font and style restored afterwards."""
    palette, sheet, font = qapp.palette(), qapp.styleSheet(), qapp.font()
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setFont(font)


def _window_color(app: QApplication) -> str:
    return str(app.palette().color(QPalette.ColorRole.Window).name())


def test_follows_system_scheme(app: QApplication, qtbot: Any) -> None:
    system = [Qt.ColorScheme.Light]
    theme = ThemeManager(app, system_scheme=lambda: system[0])
    assert not theme.is_dark()
    assert _window_color(app) == LIGHT_COLORS.window
    system[0] = Qt.ColorScheme.Dark
    with qtbot.waitSignal(theme.changed):
        app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert theme.is_dark()
    assert theme.colors() is DARK_COLORS
    assert _window_color(app) == DARK_COLORS.window


def test_a_remembered_system_scheme_is_used_until_the_system_is_asked(app: QApplication, qtbot: Any) -> None:
    asked: list[bool] = []
    system = [Qt.ColorScheme.Light]

    def scheme() -> Qt.ColorScheme:
        asked.append(True)
        return system[0]

    seen: list[bool] = []
    theme = ThemeManager(app, system_scheme=scheme, system_dark=True)
    theme.system_scheme_seen.connect(seen.append)
    assert theme.is_dark() and not asked  # the first frame: dark as at the last start, the system not asked
    assert _window_color(app) == DARK_COLORS.window
    with qtbot.waitSignal(theme.changed):
        assert theme.check_system_scheme() is False  # after the paint: the system is light now
    assert asked and seen == [False]
    assert not theme.is_dark()
    assert _window_color(app) == LIGHT_COLORS.window
    with qtbot.assertNotEmitted(theme.changed):
        assert theme.check_system_scheme() is False  # asked again, nothing changed: no new style
    assert seen == [False, False]


def test_without_a_remembered_scheme_the_system_is_asked_at_once(app: QApplication) -> None:
    theme = ThemeManager(app, system_scheme=lambda: Qt.ColorScheme.Dark)
    assert theme.is_dark()
    forced = ThemeManager(app, SchemeChoice.LIGHT, system_scheme=lambda: Qt.ColorScheme.Dark, system_dark=False)
    assert forced.check_system_scheme() is True  # reported, but the user's own choice stays
    assert not forced.is_dark()


def test_manual_override_ignores_system(app: QApplication, qtbot: Any) -> None:
    theme = ThemeManager(app, SchemeChoice.DARK, system_scheme=lambda: Qt.ColorScheme.Light)
    assert theme.is_dark()
    with qtbot.assertNotEmitted(theme.changed):
        app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    with qtbot.waitSignal(theme.changed):
        theme.set_choice(SchemeChoice.LIGHT)
    assert _window_color(app) == LIGHT_COLORS.window
    assert DARK_COLORS.accent not in app.styleSheet()
    assert LIGHT_COLORS.accent in app.styleSheet()


def test_font_size_is_clamped_and_announced(app: QApplication, qtbot: Any) -> None:
    theme = ThemeManager(app, SchemeChoice.LIGHT, font_size=11)
    with qtbot.waitSignal(theme.changed):
        theme.set_font_size(14)
    assert app.font().pointSize() == 14
    theme.set_font_size(200)
    assert theme.font_size() == MAX_FONT_SIZE
    theme.set_font_size(1)
    assert theme.font_size() == MIN_FONT_SIZE
    with qtbot.assertNotEmitted(theme.changed):
        theme.set_font_size(MIN_FONT_SIZE)


def test_colour_sets_differ_in_every_text_colour() -> None:
    for name in ("window", "text", "code_bg", "user_bubble", "error_bg"):
        assert getattr(LIGHT_COLORS, name) != getattr(DARK_COLORS, name)
    assert LIGHT_COLORS.qcolor("accent").isValid()


_STYLE_PROBE = """
import sys
import PySide6.QtWidgets as widgets
from desktop.ui.theme import ThemeManager, fusion_arguments
arguments = ["probe", *fusion_arguments()] if sys.argv[1] == "arguments" else ["probe"]
app = widgets.QApplication(arguments)
ThemeManager(app)
built = "QStyle" in vars(widgets)  # PySide6 makes a Qt class's Python type (and its enums) on first use
app.setStyleSheet("")  # the theme's style sheet wraps the style: its name is the base style's without it
print(built, app.style().name())
"""


@pytest.mark.parametrize(("how", "expected"), [("arguments", "False fusion"), ("set_style", "True fusion")])
def test_an_app_started_in_fusion_keeps_it_and_builds_no_python_qstyle(how: str, expected: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _STYLE_PROBE, how],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    assert out.stdout.strip() == expected
