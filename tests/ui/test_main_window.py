"""The real main window driven against the simulator: send and stream, stop, regenerate, edit, search, delete/undo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit

from desktop.client import AzureOpenAIClient
from desktop.config import Configuration, SettingsStore
from desktop.messages import MessageBridge
from desktop.paths import AppPaths
from desktop.services import ChatService, TurnTarget
from desktop.simulator import Fault, FaultKind, Simulator
from desktop.storage import HistoryStore, Outcome
from desktop.ui import MainWindow, TaskRunner
from desktop.ui.chat_view import Outcome as ViewOutcome
from desktop.ui.main_window import WindowServices
from desktop.ui.theme import SchemeChoice, ThemeManager


@pytest.fixture
def sim(arun: Any) -> Iterator[Simulator]:
    simulator = Simulator()
    arun(simulator.start())
    yield simulator
    arun(simulator.stop())


@pytest.fixture
def window(qtbot: Any, qapp: Any, arun: Any, tmp_path: Path, sim: Simulator) -> Iterator[MainWindow]:
    paths = AppPaths.under(tmp_path)
    paths.ensure()
    store = HistoryStore(paths.history_file)
    store.open()

    async def no_sleep(seconds: float) -> None:
        return None

    client = AzureOpenAIClient(base_url=sim.base_url, api_key=sim.api_key, sleep=no_sleep)

    async def resolve(conversation_id: int) -> TurnTarget:
        conv = store.get_conversation(conversation_id)
        deployment = conv.deployment if conv and conv.deployment else "gpt-4.1"
        limit = conv.params.get("max_output_tokens") if conv else None
        return TurnTarget(
            client=client,
            deployment=deployment,
            instructions=conv.instructions if conv else "",
            max_output_tokens=limit if isinstance(limit, int) else None,
        )

    configuration = Configuration(SettingsStore(paths.config_dir))
    configuration.load()
    tasks = TaskRunner()
    services = WindowServices(
        store=store,
        chat=ChatService(store, resolve),
        configuration=configuration,
        bridge=MessageBridge(),
        paths=paths,
        tasks=tasks,
        theme=ThemeManager(qapp, SchemeChoice.LIGHT),
    )
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    yield win
    arun(tasks.cancel_all())
    arun(client.aclose())
    store.close()


def finish_turn(window: MainWindow, arun: Any, action: Any) -> tuple[int, str]:
    """Run `action` (which starts a turn) and wait for the window's turn_finished signal on the loop."""
    import asyncio

    results: list[tuple[int, str]] = []
    finished = asyncio.Event()

    def on_finished(cid: int, outcome: str) -> None:
        results.append((cid, outcome))
        finished.set()

    async def go() -> tuple[int, str]:
        action()  # as a slot would: inside the running loop
        await finished.wait()
        return results[0]

    window.turn_finished.connect(on_finished)
    try:
        return arun(go(), timeout=30)  # type: ignore[no-any-return]
    finally:
        window.turn_finished.disconnect(on_finished)


def test_send_streams_an_answer_and_lists_the_conversation(window: MainWindow, sim: Simulator, arun: Any) -> None:
    sim.push_answer("# Title\n\nSome **bold** text and `code`.")
    cid, outcome = finish_turn(window, arun, lambda: window.send("Hello there"))
    assert outcome == "complete"
    shown = window.chat_view.messages()
    assert [m.text for m in shown] == ["Hello there", "# Title\n\nSome **bold** text and `code`."]
    assert shown[-1].outcome == ViewOutcome.COMPLETE
    assert window.title_label.text() == "Hello there"
    assert window.store.load_messages(cid)[-1].text == shown[-1].text
    assert window.sidebar.current_id() == str(cid)


def test_stop_keeps_partial_answer(window: MainWindow, sim: Simulator, arun: Any, qtbot: Any) -> None:
    sim.push_fault(Fault(kind=FaultKind.STALL_MID_STREAM, after_deltas=3))

    def send_then_stop() -> None:
        window.send("tell me more")

        def stop_when_text_arrives() -> None:
            live = window._live.get(window._current or -1)
            if live is not None and len(live.text) >= 3:
                window.stop_current()
            else:
                from PySide6.QtCore import QTimer

                QTimer.singleShot(5, stop_when_text_arrives)

        stop_when_text_arrives()

    cid, outcome = finish_turn(window, arun, send_then_stop)
    assert outcome == "stopped"
    answer = window.store.load_messages(cid)[-1]
    assert answer.outcome is Outcome.STOPPED
    assert answer.text
    assert window.chat_view.messages()[-1].outcome == ViewOutcome.STOPPED


def test_error_shows_plain_words_with_action(window: MainWindow, sim: Simulator, arun: Any) -> None:
    sim.push_fault(Fault(kind=FaultKind.STATUS, status=429, headers={"retry-after": "120"}))
    _cid, outcome = finish_turn(window, arun, lambda: window.send("hi"))
    assert outcome == "failed"
    last = window.chat_view.messages()[-1]
    assert last.error_title == "Azure is busy (rate limit)"
    assert last.error_action == "retry"
    # Azure asked for 120 s: a live countdown in place, and "Retry now" skips it.
    assert "retrying in 1" in window.chat_view.retry_notice()
    assert window._retry_timer.isActive()
    sim.push_answer("finally")
    finish_turn(window, arun, lambda: window.chat_view.retry_now_requested.emit(last.id))
    assert not window._retry_timer.isActive()
    assert window.chat_view.messages()[-1].text == "finally"


def test_regenerate_and_edit(window: MainWindow, sim: Simulator, arun: Any) -> None:
    sim.push_answer("first")
    cid, _ = finish_turn(window, arun, lambda: window.send("question"))
    sim.push_answer("second")
    finish_turn(window, arun, window.regenerate)
    assert [m.text for m in window.chat_view.messages()] == ["question", "second"]
    user_id = int(window.chat_view.messages()[0].id)
    sim.push_answer("third")
    finish_turn(window, arun, lambda: window.edit_and_resend(user_id, "better question"))
    assert [m.text for m in window.chat_view.messages()] == ["better question", "third"]
    assert [m.text for m in window.store.load_messages(cid)] == ["better question", "third"]


def test_search_delete_and_undo(window: MainWindow, sim: Simulator, arun: Any, qtbot: Any) -> None:
    sim.push_answer("Oslo is the capital.")
    cid, _ = finish_turn(window, arun, lambda: window.send("capital of Norway"))
    window._on_sidebar_search_requested("Oslo")
    assert window.store.search("Oslo")
    window._on_sidebar_delete_requested(str(cid))
    assert window.store.get_conversation(cid) is None
    assert window._current is None
    window._on_toast_action_triggered()  # Undo
    assert window.store.get_conversation(cid) is not None
    assert window._current == cid


def test_switching_conversations_while_streaming_keeps_both(window: MainWindow, sim: Simulator, arun: Any) -> None:
    sim.push_answer("answer A")
    first, _ = finish_turn(window, arun, lambda: window.send("A"))
    window.new_chat()
    sim.push_answer("answer B")
    second, _ = finish_turn(window, arun, lambda: window.send("B"))
    assert first != second
    window.open_conversation(first)
    assert [m.text for m in window.chat_view.messages()] == ["A", "answer A"]
    window.open_conversation(second)
    assert [m.text for m in window.chat_view.messages()] == ["B", "answer B"]


def test_keyboard_shortcuts_exist(window: MainWindow) -> None:
    shortcuts = {a.shortcut().toString() for a in window.findChildren(type(window.new_action))}
    for key in ("Ctrl+N", "Ctrl+K", "Ctrl+,", "Esc", "Ctrl+L", "Ctrl+PgDown", "Ctrl+PgUp", "Ctrl+B"):
        assert key in shortcuts, key
    assert window.chat_view.accessibleName()
    assert window.title_label.accessibleName()
    editor = window.composer.findChild(QPlainTextEdit)
    assert editor is not None
    assert editor.focusPolicy() != Qt.FocusPolicy.NoFocus
    assert editor.accessibleName()


def test_keyboard_only_main_flow(window: MainWindow, sim: Simulator, arun: Any, qtbot: Any) -> None:
    """Compose, send, start a new chat and move between conversations with keys only (shortcuts on the window)."""
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QLineEdit

    window.activateWindow()
    qtbot.waitActive(window)

    def keys(sequence: str) -> None:
        # To whatever has the keyboard focus, as a real key press would go.
        QTest.keySequence(QApplication.focusWidget() or window, sequence)

    def type_and_send(text: str) -> None:
        keys("Ctrl+L")  # focus the message box
        editor = QApplication.focusWidget()
        assert isinstance(editor, QPlainTextEdit)
        QTest.keyClicks(editor, text)
        QTest.keyClick(editor, Qt.Key.Key_Return)

    sim.push_answer("one")
    first, _ = finish_turn(window, arun, lambda: type_and_send("first question"))
    keys("Ctrl+N")
    assert window._current is None
    sim.push_answer("two")
    second, _ = finish_turn(window, arun, lambda: type_and_send("second question"))
    assert first != second
    assert [m.text for m in window.chat_view.messages()] == ["second question", "two"]
    keys("Ctrl+PgDown")  # newest first: the next one down is the older conversation
    assert window._current == first
    keys("Ctrl+PgUp")
    assert window._current == second
    keys("Ctrl+K")
    assert isinstance(QApplication.focusWidget(), QLineEdit)


@pytest.mark.parametrize(
    ("fault", "outcome", "title", "button"),
    [
        (Fault(kind=FaultKind.STATUS, status=401), "failed", "The API key was not accepted", "Open settings"),
        (Fault(kind=FaultKind.STATUS, status=403), "failed", "Access to this resource is blocked", "Copy details"),
        (Fault(kind=FaultKind.STATUS, status=404, body={"error": {"code": "DeploymentNotFound", "message": "x"}}),
         "failed", "This deployment does not exist", "Open settings"),
        (Fault(kind=FaultKind.STATUS, status=500), "failed", "Azure had a problem", "Try again"),
        (Fault(kind=FaultKind.STATUS, status=503), "failed", "Azure is temporarily unavailable", "Try again"),
        (Fault(kind=FaultKind.STATUS, status=504), "failed", "Azure took too long to answer", "Try again"),
        (Fault(kind=FaultKind.DROP_MID_STREAM, after_deltas=2), "failed", "The answer was cut off", "Try again"),
        (Fault(kind=FaultKind.PROMPT_FILTERED), "filtered", "Blocked by the content filter", "Edit your message"),
        (Fault(kind=FaultKind.FILTER_CUT, after_deltas=3), "filtered", "", "Edit your message"),
    ],
)  # fmt: skip
def test_each_error_category_shows_its_action(
    window: MainWindow, sim: Simulator, arun: Any, fault: Fault, outcome: str, title: str, button: str
) -> None:
    sim.push_fault(fault, times=3)
    _cid, finished = finish_turn(window, arun, lambda: window.send("hello"))
    assert finished == outcome
    answer = window.chat_view.messages()[-1]
    shown_title, text, label = window.chat_view.banner_content(answer)
    assert label.startswith(button)
    assert text
    if title:
        assert shown_title == title


def test_answer_cut_at_the_length_limit_offers_continue(window: MainWindow, sim: Simulator, arun: Any) -> None:
    conv = window.store.create_conversation("long", deployment="gpt-4.1", params={"max_output_tokens": 20})
    window.open_conversation(conv.id)
    sim.push_answer(" ".join(f"word{i}" for i in range(200)))
    _cid, finished = finish_turn(window, arun, lambda: window.send("write a lot"))
    assert finished == "complete"
    cut = window.chat_view.messages()[-1]
    title, _text, label = window.chat_view.banner_content(cut)
    assert (title, label) == ("The answer reached its length limit", "Continue")
    sim.push_answer("the rest")
    finish_turn(window, arun, lambda: window.chat_view.action_requested.emit(cut.id, cut.error_action))
    assert window.chat_view.messages()[-1].text == "the rest"


def test_rename_and_send_an_image(window: MainWindow, sim: Simulator, arun: Any) -> None:
    from desktop.ui.composer import ImageAttachment

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    cid, outcome = finish_turn(
        window, arun, lambda: window.send("what is this?", [ImageAttachment("image/png", png, "a.png")])
    )
    assert outcome == "complete"
    assert window.chat_view.messages()[0].attachments == (png,)  # the thumbnail's bytes reach the view
    content = sim.requests[-1].json["input"][-1]["content"]
    assert content[1]["image_url"].startswith("data:image/png;base64,")
    window._on_sidebar_rename_requested(str(cid), "  Holiday photo  ")
    assert window.title_label.text() == "Holiday photo"
    assert window.store.get_conversation(cid).title == "Holiday photo"  # type: ignore[union-attr]
