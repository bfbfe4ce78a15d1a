"""The main window's first frame (sidebar, header, a new chat, composer) comes before its message view."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from desktop.app import Composition, build_parser, compose_window
from desktop.auth import KeyStore
from desktop.messages import MessageBridge
from desktop.paths import AppPaths
from desktop.services import Outcome, Role
from desktop.simulator import Simulator
from tests.benchmarks._history import write_history
from tests.ui.test_main_window import WORK, save_profile


def _window_only(qapp: Any, qtbot: Any, tmp_path: Path) -> Composition:
    paths = AppPaths.under(tmp_path)
    paths.ensure()
    write_history(paths.history_file, 3, 4)
    args = build_parser().parse_args(["--profile-dir", str(tmp_path)])
    built = compose_window(qapp, args, paths, MessageBridge())
    assert isinstance(built, Composition)
    qtbot.addWidget(built.window)
    return built


def test_the_first_frame_has_no_message_view_until_the_app_finishes_building(
    qapp: Any, qtbot: Any, tmp_path: Path, arun: Any
) -> None:
    built = _window_only(qapp, qtbot, tmp_path)
    window = built.window
    window.show()
    qtbot.waitExposed(window)
    ids = [c.id for c in built.store.list_conversations(limit=10)]
    assert len(ids) == 3
    assert all(window.sidebar.model.row_of(i) >= 0 for i in ids)  # the sidebar's first page is in the first frame
    assert window.pages.currentWidget() is window.empty_state
    assert window.pages.count() == 1  # the new chat's prompts; the message view is not built yet
    menus = [a.menu() for a in window.menuBar().actions()]
    assert [a.text() for a in window.menuBar().actions()] == ["&File", "&Chat", "&View", "&Help"]
    assert all(not m.actions() for m in menus)  # their actions and shortcuts come after the paint
    assert not window.sidebar.search.isClearButtonEnabled()  # hidden while the field is empty: after the paint too
    built.complete()
    assert window.pages.count() == 2
    assert window.sidebar.search.isClearButtonEnabled()
    new_chat = next(a for a in menus[0].actions() if a.text() == "New chat")
    assert new_chat.shortcut().toString() == "Ctrl+N"
    view = window.chat_view
    window.finish_building()  # once only
    assert window.chat_view is view and window.pages.count() == 2
    arun(built.aclose())


def test_a_conversation_opened_before_the_rest_is_built_shows_its_messages(
    qapp: Any, qtbot: Any, tmp_path: Path, arun: Any
) -> None:
    built = _window_only(qapp, qtbot, tmp_path)
    window = built.window
    latest = built.store.list_conversations(limit=1)[0]
    window.open_conversation(latest.id)
    assert window.pages.currentWidget() is window.chat_view
    texts = [m.text for m in window.chat_view.messages()]
    assert len(texts) == 4
    assert texts[0] == f"Question 1 of conversation {latest.title.rsplit(' ', 1)[1]}: show me markdown"
    built.complete()
    assert window.pages.count() == 2  # the view built on demand is the one kept
    arun(built.aclose())


def test_a_message_sent_before_the_rest_is_built_waits_for_it_and_is_then_answered(
    qapp: Any, qtbot: Any, tmp_path: Path, arun: Any, sim: Simulator, memory_keyring: Any
) -> None:
    save_profile(AppPaths.under(tmp_path), sim)
    arun(KeyStore().aset(WORK, sim.api_key))
    built = _window_only(qapp, qtbot, tmp_path)
    window, controller = built.window, built.controller
    outcomes: list[str] = []

    async def scenario() -> None:
        finished = asyncio.Event()

        def on_finished(_conversation_id: int, outcome: str) -> None:
            outcomes.append(outcome)
            finished.set()

        window.turn_finished.connect(on_finished)
        window.send("Sent before the rest of the app is built")
        for _ in range(20):  # let the turn's task run as far as it can: it must stop at the missing chat service
            await asyncio.sleep(0)
        assert controller.is_running()
        assert sim.requests == [] and outcomes == []
        built.complete()  # the chat service (client, keys, connections) arrives: the waiting turn goes on
        await finished.wait()

    arun(scenario())
    assert outcomes == [Outcome.COMPLETE.value]
    assert len(sim.requests) == 1
    messages = controller.messages()
    assert [m.role for m in messages] == [Role.USER, Role.ASSISTANT]
    assert messages[0].text == "Sent before the rest of the app is built" and messages[1].text
    arun(built.aclose())
