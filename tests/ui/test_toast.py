"""The toast: shows, offers an action, times out, stays inside its window."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from desktop.ui.toast import Toast


@pytest.fixture
def window(qtbot: Any) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    return widget


def test_action_button_emits_and_hides(window: QWidget, qtbot: Any) -> None:
    toast = Toast(window)
    toast.show_message("Chat deleted.", "Undo", timeout_ms=0)
    assert toast.isVisible()
    assert toast.label.text() == "Chat deleted."
    assert toast.action.isVisible()
    assert toast.action.accessibleName() == "Undo"
    assert window.rect().contains(toast.geometry())
    with qtbot.waitSignal(toast.action_triggered), qtbot.waitSignal(toast.dismissed):
        qtbot.mouseClick(toast.action, Qt.MouseButton.LeftButton)
    assert not toast.isVisible()


def test_times_out(window: QWidget, qtbot: Any) -> None:
    toast = Toast(window)
    toast.show_message("Copied.", timeout_ms=30)
    assert not toast.action.isVisible()
    with qtbot.waitSignal(toast.dismissed):
        pass
    assert not toast.isVisible()


def test_new_message_replaces_and_follows_resize(window: QWidget, qtbot: Any) -> None:
    toast = Toast(window)
    toast.show_message("First", "Undo", timeout_ms=0)
    toast.show_message("Second", timeout_ms=0)
    assert toast.label.text() == "Second"
    assert not toast.action.isVisible()
    window.resize(900, 700)
    qtbot.waitUntil(lambda: window.rect().contains(toast.geometry()) and toast.geometry().bottom() > 500)
    with qtbot.waitSignal(toast.dismissed):
        qtbot.mouseClick(toast.close_button, Qt.MouseButton.LeftButton)
