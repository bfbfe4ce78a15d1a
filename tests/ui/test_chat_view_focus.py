"""The conversation view's focus ring: drawn when the keyboard brought the focus, not after a click."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from desktop.services import MessageView, Role
from desktop.ui.chat_view import ChatView
from desktop.ui.theme import LIGHT_COLORS


def _show_active(qtbot: Any, top: QWidget, *children: QWidget) -> None:
    """Lay `children` out one above the other in `top`, show it and make it the active window (focus needs one)."""
    qtbot.addWidget(top)
    layout = QVBoxLayout(top)
    for child in children:
        layout.addWidget(child)
    top.resize(800, 600)
    top.show()
    qtbot.waitExposed(top)
    top.activateWindow()
    qtbot.waitActive(top)


@pytest.fixture
def window(qtbot: Any) -> tuple[QWidget, ChatView, QLineEdit]:
    """A window with a line edit above the view, so that Tab can move the focus into the view."""
    top = QWidget()
    before = QLineEdit(top)
    view = ChatView(top)
    _show_active(qtbot, top, before, view)
    view.set_messages(
        [
            MessageView(1, Role.USER, "A question"),
            MessageView(2, Role.ASSISTANT, "An answer with a few words in it."),
            MessageView(3, Role.USER, "Another question"),
            MessageView(4, Role.ASSISTANT, "Another answer."),
        ]
    )
    view.grab()
    return top, view, before


def _ring_drawn(view: ChatView, row: int) -> bool:
    """Whether the row's left edge, where the ring goes, shows the accent colour."""
    rect = view.visualRect(view.model().index(row, 0))
    image = view.viewport().grab().toImage()
    accent = LIGHT_COLORS.qcolor("accent")
    x = rect.left() + 4
    for y in range(rect.top() + 10, rect.bottom() - 10):
        pixel = QColor(image.pixel(x, y))
        if (
            abs(pixel.red() - accent.red()) + abs(pixel.green() - accent.green()) + abs(pixel.blue() - accent.blue())
            < 60
        ):
            return True
    return False


def test_a_click_focuses_the_view_without_a_ring(window: tuple[QWidget, ChatView, QLineEdit], qtbot: Any) -> None:
    _top, view, before = window
    before.setFocus()
    center = view.visualRect(view.model().index(1, 0)).center()
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, center)
    qtbot.waitUntil(view.hasFocus)
    assert view.currentIndex().isValid()
    assert not view.focus_ring_shown()
    assert not any(_ring_drawn(view, row) for row in range(4))


def test_the_keyboard_shows_the_ring_and_a_click_hides_it(
    window: tuple[QWidget, ChatView, QLineEdit], qtbot: Any
) -> None:
    _top, view, before = window
    before.setFocus()
    QTest.keyClick(before, Qt.Key.Key_Tab)  # into the view by the keyboard: the newest message is current
    qtbot.waitUntil(view.hasFocus)
    assert view.focus_ring_shown()
    assert view.currentIndex().row() == 3
    assert _ring_drawn(view, 3)
    QTest.keyClick(view, Qt.Key.Key_Up)
    assert view.currentIndex().row() == 2
    assert _ring_drawn(view, 2) and not _ring_drawn(view, 3)

    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(200, 5))
    assert view.hasFocus()
    assert not any(_ring_drawn(view, row) for row in range(4))

    QTest.keyClick(view, Qt.Key.Key_Down)  # a key in the view brings it back
    assert view.focus_ring_shown()
    assert _ring_drawn(view, view.currentIndex().row())


def test_stop_clicked_gives_the_focus_to_the_message_box_not_a_ring_in_the_view(qtbot: Any) -> None:
    # Clicking Stop focuses the button; when the answer ends it turns into a disabled Send, and Qt passed its focus on
    # as if Tab had been pressed: into the conversation, ringing whichever message was current.
    from desktop.ui.composer import Composer

    top = QWidget()
    view = ChatView(top)
    composer = Composer(top)
    top.setTabOrder(composer.send_button, view)  # the view is next after the button, as in the main window
    _show_active(qtbot, top, view, composer)
    view.set_messages([MessageView(1, Role.USER, "A question"), MessageView(2, Role.ASSISTANT, "An answer.")])
    view.setCurrentIndex(view.model().index(1, 0))
    composer.set_streaming(True)
    QTest.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(composer.send_button.hasFocus)
    composer.set_streaming(False)  # the answer stopped: an empty composer's Send is disabled
    assert not composer.send_button.isEnabled()
    assert composer.input.hasFocus()
    assert not view.focus_ring_shown()
    assert not any(_ring_drawn(view, row) for row in range(2))
