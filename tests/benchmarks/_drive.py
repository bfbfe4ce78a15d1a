"""Every way the benchmarks drive the app's window, in one place: when the window's API changes, only this changes.

The benchmark cases (ui_child.py) never touch the window's attributes themselves; they call these functions with the
window that `desktop.app.main` hands to its `on_ready` hook.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSlider, QWidget

Window = Any  # whatever `desktop.app.main` passes to `on_ready` as the window


def new_chat(window: Window) -> None:
    """Show an empty conversation (the next send creates one)."""
    window.new_chat()


def open_conversation(window: Window, conversation_id: int) -> None:
    """Open a conversation from history, scrolled to its end (as a click in the sidebar does)."""
    window.open_conversation(conversation_id)


async def send_and_wait(window: Window, text: str, timeout: float) -> None:
    """Send `text` in the current conversation and wait until its turn has finished (any outcome)."""
    finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_finished(_conversation_id: int, _outcome: str) -> None:
        if not finished.done():
            finished.set_result(None)

    window.turn_finished.connect(on_finished)
    try:
        window.send(text)
        await asyncio.wait_for(finished, timeout)
    finally:
        window.turn_finished.disconnect(on_finished)


def chat_viewport(window: Window) -> QWidget:
    """The widget the conversation is painted on (its Paint events are the frames the benchmarks time)."""
    viewport: QWidget = window.chat_view.viewport()
    return viewport


def answer_text_shown(window: Window) -> bool:
    """Whether the conversation's last message is an answer with some text (streaming or finished)."""
    model = window.chat_view.model()
    rows = model.rowCount()
    if rows == 0:
        return False
    message = model.index(rows - 1, 0).data(Qt.ItemDataRole.UserRole)
    return message is not None and str(message.role) == "assistant" and bool(message.text)


def messages_loaded(window: Window) -> int:
    """How many messages of the open conversation the view holds (older ones load as the user scrolls up)."""
    rows: int = window.chat_view.model().rowCount()
    return rows


async def page_up(window: Window) -> bool:
    """Scroll the conversation up by one page, as the Page Up key does (loading older messages at the top).

    Returns False, changing nothing, when the view is already at the top with nothing older left to load.
    """
    bar = window.chat_view.verticalScrollBar()
    before = (bar.value(), messages_loaded(window))
    bar.triggerAction(QAbstractSlider.SliderAction.SliderPageStepSub)
    return (bar.value(), messages_loaded(window)) != before


def scroll_to_end(window: Window) -> None:
    """Scroll the conversation to its last message."""
    window.chat_view.scrollToBottom()


def attach_file(window: Window, path: Path, on_read: Callable[[], None]) -> None:
    """Attach a file through the composer (as the paperclip does); `on_read` runs once it has been read."""
    composer = window.composer

    def settled() -> None:
        composer.documents_settled.disconnect(settled)
        on_read()

    composer.documents_settled.connect(settled)
    composer.add_paths([path])


def clear_attachments(window: Window) -> None:
    """Remove what the composer has attached."""
    for chip in window.composer.file_chips():
        window.composer.remove_file(chip)
