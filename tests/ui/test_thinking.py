"""Thinking and the per-chat settings bar in the real window (`desktop.app.compose`), against the simulator.

The simulator's o4-mini streams a reasoning summary ("**Planning the answer** …") before its answer on the Responses
API. What is checked is what the user sees: pixels in the chat view's viewport, the accessible text, the bar's
widgets, and what reached the simulator.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView

from desktop.app import Composition
from desktop.auth import KeyStore
from desktop.config import ChatDefaults, Deployment
from desktop.paths import AppPaths
from desktop.services import Outcome, SearchChanged, WindowEvent
from desktop.simulator import Simulator
from desktop.ui import MainWindow
from tests.ui.test_main_window import WORK, build, finish_turn, in_loop, run_until, save_profile

SUMMARY_START = "**Planning the answer**"
DEPLOYMENTS = (
    Deployment("o4-mini", "o4-mini", "2025-04-16", "responses"),
    Deployment("gpt-4.1", "gpt-4.1", "2025-04-14", "responses"),
)


@pytest.fixture
def app(qapp: Any, qtbot: Any, arun: Any, tmp_path: Path, sim: Simulator, memory_keyring: Any) -> Iterator[Composition]:
    save_profile(
        AppPaths.under(tmp_path),
        sim,
        deployments=DEPLOYMENTS,
        chat_defaults=ChatDefaults(instructions="You are a helpful assistant."),
        max_retries=0,
    )
    arun(KeyStore().aset(WORK, sim.api_key))
    built = build(qapp, qtbot, tmp_path)
    yield built
    arun(built.aclose())


def inked(window: MainWindow, area: QRect | None) -> int:
    """How many pixels of `area` (viewport coordinates) are drawn darker than the page: text and lines."""
    assert area is not None
    image = window.chat_view.viewport().grab().toImage()
    return sum(
        1
        for y in range(max(0, area.top()), min(image.height(), area.bottom()))
        for x in range(max(0, area.left()), min(image.width(), area.right()), 2)
        if image.pixelColor(x, y).lightness() < 180
    )


def accessible_text(window: MainWindow, row: int) -> str:
    view = window.chat_view
    return str(view.model().index(row, 0).data(Qt.ItemDataRole.AccessibleTextRole))


def test_thinking_shows_live_is_kept_when_stopped_and_after_a_restart(
    qapp: Any, qtbot: Any, app: Composition, sim: Simulator, arun: Any, tmp_path: Path
) -> None:
    window = app.window
    sim.config.first_token_delay = 120.0  # the summary arrives, then nothing until Stop

    def thinking_shown() -> bool:
        shown = window.chat_view.messages()
        return bool(shown) and shown[-1].reasoning.endswith("answer clearly.")

    run_until(window, arun, thinking_shown, lambda: window.send("Why is the sky blue?"))
    view = window.chat_view
    live = view.messages()[-1]
    assert live.outcome is Outcome.STREAMING and live.thinking_open and not live.text
    head, words = view.thinking_rects(live.id)
    assert inked(window, head) > 30 and inked(window, words) > 150  # the words are painted in the viewport
    assert view.banner_content(live)[1].startswith("Thinking…")  # not "Waiting for the answer…"
    row = len(view.messages()) - 1
    assert f"Assistant: Thinking, shown: {SUMMARY_START}" in accessible_text(window, row)

    _cid, outcome = finish_turn(window, arun, window.stop_current)
    assert outcome == "stopped"
    stopped = view.messages()[-1]
    assert stopped.reasoning.startswith(SUMMARY_START) and stopped.thinking_title.startswith("Thought for ")

    arun(app.aclose())  # a restart: the thinking comes back from the history
    again = build(qapp, qtbot, tmp_path)
    try:
        cid = again.store.list_conversations()[0].id
        again.window.open_conversation(cid)
        reopened = again.window.chat_view.messages()[-1]
        assert reopened.reasoning == stopped.reasoning and reopened.thinking_title == stopped.thinking_title
        assert not reopened.thinking_open
    finally:
        arun(again.aclose())


def test_thinking_collapses_once_the_answer_starts_and_opens_by_mouse_and_keyboard(
    app: Composition, sim: Simulator, arun: Any, qtbot: Any
) -> None:
    window = app.window
    seen: list[tuple[bool, bool]] = []  # (text shown, thinking open) of each state of the answer on screen

    def record(_event: WindowEvent) -> None:
        shown = window.chat_view.messages()
        if shown and shown[-1].reasoning:
            seen.append((bool(shown[-1].text), shown[-1].thinking_open))

    window.controller.subscribe(record)
    cid, outcome = finish_turn(window, arun, lambda: window.send("Why is the sky blue?"))
    assert outcome == "complete"
    assert (False, True) in seen and (True, False) in seen and (True, True) not in seen
    view = window.chat_view
    answer = view.messages()[-1]
    assert answer.thinking_title.startswith("Thought for ") and not answer.thinking_open
    row = len(view.messages()) - 1
    view.scrollTo(view.model().index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)  # the answer's top in view
    head, words = view.thinking_rects(answer.id)
    assert words is None and inked(window, head) > 30
    assert view.thinking_label(answer).startswith("▸ Thought for ")

    # The keyboard: the message's actions offer "Show thinking".
    menu = view.actions_menu(row)
    show = next(a for a in menu.actions() if a.text() == "Show thinking")
    show.trigger()
    opened = view.messages()[-1]
    assert opened.thinking_open
    assert f"shown: {SUMMARY_START}" in accessible_text(window, row)
    _head, words = view.thinking_rects(opened.id)
    assert inked(window, words) > 150
    # The mouse: a click on the header hides it again.
    head, _words = view.thinking_rects(opened.id)
    assert head is not None
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=head.center())
    assert not view.messages()[-1].thinking_open
    assert view.actions_menu(row).actions()[0].text() == "Show thinking"

    # Saved, found by the words of the thinking, exported, and in the answer's Details.
    results: list[SearchChanged] = []
    window.controller.subscribe(lambda e: results.append(e) if isinstance(e, SearchChanged) else None)
    window.controller.search("Planning answer")
    assert results[-1].results is not None and [r.conversation_id for r in results[-1].results] == [cid]
    markdown = window.controller.export_text(cid, "md")
    assert "> **Thinking** (" in markdown and f"> {SUMMARY_START}" in markdown
    details = window.controller.details(answer.id)
    assert "Thought for: " in details and "Instructions: Connection default" in details


def test_the_settings_bar_changes_the_effort_mid_conversation(app: Composition, sim: Simulator, arun: Any) -> None:
    window = app.window
    bar = window.turn_settings
    assert bar.deployments is window.composer.deployments  # one picker, shown in the bar
    assert bar.deployments.parent() is bar
    chain = [bar.deployments, bar.effort, bar.preset, bar.instructions_button, window.composer.input]
    assert all(a.nextInFocusChain() is b for a, b in itertools.pairwise(chain))  # Tab reads the bar
    efforts = [bar.effort.itemText(i) for i in range(bar.effort.count())]
    assert efforts == ["Default", "Low", "Medium", "High"] and bar.effort.isEnabled()  # o4-mini's family
    in_loop(arun, lambda: bar.deployments.setCurrentIndex(bar.deployments.findData("gpt-4.1")))
    assert not bar.effort.isEnabled() and bar.effort.toolTip() == "gpt-4.1 does not take a reasoning effort."
    in_loop(arun, lambda: bar.deployments.setCurrentIndex(bar.deployments.findData("o4-mini")))
    assert bar.effort.isEnabled()

    finish_turn(window, arun, lambda: window.send("first"))
    assert sim.requests[-1].json["reasoning"] == {"summary": "auto"}  # the thinking is asked for, no effort
    bar.effort.setFocus()
    for _ in range(3):  # Down three times: Default → Low → Medium → High
        in_loop(arun, lambda: QTest.keyClick(bar.effort, Qt.Key.Key_Down))
    assert bar.effort.currentText() == "High"
    preset = bar.preset.findData("Concise")
    in_loop(arun, lambda: bar.preset.activated.emit(preset))
    assert bar.preset.currentText() == "Concise"
    finish_turn(window, arun, lambda: window.send("second"))
    body = sim.requests[-1].json
    assert body["reasoning"]["effort"] == "high" and body["instructions"].startswith("Answer briefly")
    details = window.controller.details(window.chat_view.messages()[-1].id)
    assert "Reasoning effort: high" in details and "Instructions: Concise" in details
    first_answer = window.chat_view.messages()[1]
    assert "Reasoning effort" not in window.controller.details(first_answer.id)
    conversation = app.store.get_conversation(window.controller.current_id or 0)
    assert conversation is not None and conversation.params == {"reasoning_effort": "high", "preset": "Concise"}
