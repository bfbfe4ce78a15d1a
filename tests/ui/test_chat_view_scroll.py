"""Scrolling a long conversation: rows measured ahead of the view, older messages shown before the top is reached,
layouts whose cost does not grow with the rows in Python, heights kept right across width changes."""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType
from typing import Any

from PySide6.QtCore import QPersistentModelIndex, QPoint, QRect, Qt
from PySide6.QtWidgets import QAbstractSlider

from desktop.services import MessageView, Role
from desktop.ui import chat_view as chat_view_module
from desktop.ui.chat_view import ChatView
from tests.ui import test_chat_view as chat_view_tests

view = chat_view_tests.view  # the shown 800x600 view fixture, shared

_TABLE = "| name | value |\n|---|---|\n" + "| a | 1 |\n" * 6


def _rich(n: int, start: int = 0) -> list[MessageView]:
    """Messages whose real heights differ from their estimates (tables and code lay out taller than plain text)."""
    return [
        MessageView(
            start + i,
            Role.USER if i % 2 == 0 else Role.ASSISTANT,
            f"Question {i}: show me a table" if i % 2 == 0 else f"## Part {i}\n\n{_TABLE}\n```\ncode\n```\n\nWords.",
        )
        for i in range(n)
    ]


def _settle(view: ChatView, qtbot: Any) -> None:
    """Paint, then let the idle work that follows a paint (measuring ahead, showing older rows) finish."""
    view.grab()
    qtbot.waitUntil(lambda: not view.idle_work_pending())


def _renders(view: ChatView) -> int:
    return sum(view.render_count(m.id) for m in view.messages())


def _python_calls_into_chat_view(action: Any) -> int:
    """How many Python functions of chat_view.py run during `action()`."""
    source = str(Path(chat_view_module.__file__).resolve())
    calls = 0

    def profile(frame: FrameType, event: str, _arg: object) -> None:
        nonlocal calls
        if event == "call" and frame.f_code.co_filename == source:
            calls += 1

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


def test_a_layout_of_every_row_does_not_call_into_python_per_row(view: ChatView) -> None:
    # Qt asks every row for its size at each layout; 2,000 calls into Python took 30-50 ms on their own.
    view.set_messages(_rich(2000))
    view.grab()
    view.doItemsLayout()
    assert _python_calls_into_chat_view(view.doItemsLayout) < 50
    msg = view.messages()[1000]
    view.update_message(MessageView(msg.id, msg.role, msg.text + "\n\nOne more paragraph."))  # one row changed
    assert _python_calls_into_chat_view(view.doItemsLayout) < 50


def test_rows_above_the_view_are_measured_after_a_paint_so_page_up_renders_nothing(view: ChatView, qtbot: Any) -> None:
    view.set_messages(_rich(200))
    _settle(view, qtbot)
    bar = view.verticalScrollBar()
    reading = QPersistentModelIndex(view.indexAt(QPoint(10, 5)))
    top = view.visualRect(reading).top()
    rendered = _renders(view)
    bar.triggerAction(QAbstractSlider.SliderAction.SliderPageStepSub)
    view.grab()
    assert _renders(view) == rendered  # what the Page Up shows was laid out before it
    assert view.visualRect(reading).top() - top == bar.pageStep()  # and nothing on screen moved but by the scroll
    for _ in range(3):  # and so on, page after page, once the app had a moment between them
        _settle(view, qtbot)
        rendered = _renders(view)
        bar.triggerAction(QAbstractSlider.SliderAction.SliderPageStepSub)
        view.grab()
        assert _renders(view) == rendered


def test_older_messages_are_asked_for_before_the_top_and_shown_a_chunk_at_a_time(view: ChatView, qtbot: Any) -> None:
    view.set_messages(_rich(60, 10_000), has_older=True)
    view.grab()
    bar = view.verticalScrollBar()
    bar.setValue(bar.pageStep())  # a screen below the top: not there yet
    with qtbot.waitSignal(view.older_requested):
        view.grab()  # asked for once this scroll is painted
    reading = QPersistentModelIndex(view.indexAt(QPoint(10, 5)))
    top = view.visualRect(reading).top()
    view.prepend_messages(_rich(200, 20_000), has_older=False)
    assert len(view.messages()) == 60 + chat_view_module._OLDER_CHUNK  # the rest are held back
    assert view.visualRect(reading).top() == top  # what the user reads did not move
    with qtbot.assertNotEmitted(view.older_requested):  # the rest are shown as the user nears them
        while len(view.messages()) < 260:
            bar.setValue(bar.minimum())
            _settle(view, qtbot)
    assert [m.id for m in view.messages()] == [m.id for m in _rich(200, 20_000)] + [m.id for m in _rich(60, 10_000)]


def test_at_the_top_older_messages_are_shown_at_once(view: ChatView, qtbot: Any) -> None:
    view.set_messages(_rich(60, 10_000), has_older=True)
    view.grab()
    bar = view.verticalScrollBar()
    with qtbot.waitSignal(view.older_requested):
        bar.setValue(bar.minimum())
    view.prepend_messages(_rich(200, 20_000), has_older=False)
    shown = len(view.messages())
    bar.setValue(bar.minimum())  # a Page Up at the top shows the next older rows in the same scroll
    assert len(view.messages()) == shown + chat_view_module._OLDER_CHUNK


def test_after_a_width_change_rows_are_as_tall_as_their_laid_out_messages(view: ChatView, qtbot: Any) -> None:
    view.set_messages(_rich(40))
    _settle(view, qtbot)
    view.resize(420, 600)
    _settle(view, qtbot)
    view.doItemsLayout()
    delegate: Any = view.itemDelegate()
    port = view.viewport().rect()
    first, last = view.indexAt(port.topLeft()).row(), view.indexAt(QPoint(0, port.bottom())).row()
    assert first >= 0 and last >= first
    for row in range(first, last + 1):
        index = view.model().index(row, 0)
        msg = index.data(Qt.ItemDataRole.UserRole)
        rect = view.visualRect(index)
        doc = delegate.document(msg, delegate.column(rect)[1])
        assert rect.height() == delegate.geometry(rect, msg, doc, copies=False).height


def test_text_only_rows_are_estimated_as_the_full_geometry_would(view: ChatView) -> None:
    delegate: Any = view.itemDelegate()
    messages = [
        MessageView(1, Role.USER, "short"),
        MessageView(2, Role.ASSISTANT, "a long line " * 80),
        MessageView(3, Role.ASSISTANT, "\n".join(f"line {i}" for i in range(30))),
        MessageView(4, Role.USER, "several\n\nparagraphs\nof words " * 5),
    ]
    for width in (300, 800, 1400):
        rect = QRect(0, 0, width, 0)
        column = delegate.column(rect)[1]
        for msg in messages:
            assert delegate._plain_estimate(msg, column) == delegate.geometry(rect, msg, None, copies=False).height
