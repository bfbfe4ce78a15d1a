"""The real main window, built by the app's own composition (`desktop.app.compose`), against the simulator.

Nothing replaces target resolution: a saved connection with its key in the (in-memory) keyring goes through
`Connections.target_for` as in the app. Where it matters, the tests look at what is on the screen: pixels of the text
in the chat view's viewport, the clipboard, which page and banner show.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit

from desktop.app import Composition, build_parser, compose
from desktop.auth import KeyStore
from desktop.config import ChatDefaults, Configuration, Deployment, Profile, SettingsStore
from desktop.messages import MessageBridge
from desktop.paths import AppPaths
from desktop.services import MessageAction, Outcome, Role
from desktop.simulator import Fault, FaultKind, Simulator, SimulatorConfig
from desktop.ui import MainWindow

WORK = "work"


WINDOW_DEPLOYMENTS = (
    Deployment("gpt-4.1", "gpt-4.1", "2025-04-14", "responses"),
    Deployment("gpt-4o-mini", "gpt-4o-mini", "2024-07-18", "chat"),
)


def save_profile(
    paths: AppPaths,
    sim: Simulator,
    *,
    deployments: tuple[Deployment, ...] = WINDOW_DEPLOYMENTS,
    chat_defaults: ChatDefaults | None = None,
    **app: Any,
) -> Configuration:
    """Save the "Contoso" connection to the simulator (its first deployment the default) as the active one."""
    configuration = Configuration(SettingsStore(paths.config_dir))
    configuration.load()
    configuration.put_profile(
        Profile(
            id=WORK,
            display_name="Contoso",
            endpoint=sim.base_url,
            deployments=deployments,
            default_deployment=deployments[0].name,
            **({"chat_defaults": chat_defaults} if chat_defaults is not None else {}),
        )
    )
    configuration.update_app(active_profile_id=WORK, first_run_done=True, **app)
    return configuration


def build(qapp: Any, qtbot: Any, tmp_path: Path, *argv: str, demo_config: Any = None) -> Composition:
    paths = AppPaths.under(tmp_path)
    paths.ensure()
    args = build_parser().parse_args(["--profile-dir", str(tmp_path), *argv])
    built = compose(qapp, args, paths, MessageBridge(), demo_config=demo_config)
    assert isinstance(built, Composition)
    qtbot.addWidget(built.window)
    built.window.resize(1000, 700)
    built.window.show()
    qtbot.waitExposed(built.window)
    return built


@pytest.fixture
def app(
    request: pytest.FixtureRequest,
    qapp: Any,
    qtbot: Any,
    arun: Any,
    tmp_path: Path,
    sim: Simulator,
    memory_keyring: Any,
) -> Iterator[Composition]:
    """The app on a saved connection to the simulator; `max_retries` 0 unless a test asks (indirect parameter)."""
    save_profile(AppPaths.under(tmp_path), sim, max_retries=getattr(request, "param", 0))
    arun(KeyStore().aset(WORK, sim.api_key))
    built = build(qapp, qtbot, tmp_path)
    yield built
    arun(built.aclose())


def finish_turn(window: MainWindow, arun: Any, action: Callable[[], object]) -> tuple[int, str]:
    """Run `action` (which starts a turn) inside the loop and wait for the window's turn_finished signal."""
    results: list[tuple[int, str]] = []
    finished = asyncio.Event()

    def on_finished(cid: int, outcome: str) -> None:
        results.append((cid, outcome))
        finished.set()

    async def go() -> tuple[int, str]:
        action()
        await finished.wait()
        return results[0]

    window.turn_finished.connect(on_finished)
    try:
        return arun(go(), timeout=30)  # type: ignore[no-any-return]
    finally:
        window.turn_finished.disconnect(on_finished)


def run_until(
    window: MainWindow, arun: Any, condition: Callable[[], bool], action: Callable[[], object] = lambda: None
) -> None:
    """Do `action` in the loop, then let it run until `condition` holds (checked after every controller event)."""

    async def go() -> None:
        action()
        await window.controller.settled(condition)

    arun(go(), timeout=30)


def in_loop(arun: Any, action: Callable[[], Any]) -> Any:
    """Call `action` as a slot would: inside the running loop (dialogs start their own async work)."""

    async def call() -> Any:
        return action()

    return arun(call())


def dark_pixels_of(window: MainWindow, message_id: int) -> int:
    """How many text-coloured pixels the message's row shows in the chat view's viewport right now."""
    view = window.chat_view
    row = next(i for i, m in enumerate(view.messages()) if m.id == message_id)
    rect = view.visualRect(view.model().index(row, 0))
    image = view.viewport().grab().toImage()
    return sum(
        1
        for y in range(max(0, rect.top()), min(image.height(), rect.bottom()))
        for x in range(0, image.width(), 2)
        if image.pixelColor(x, y).lightness() < 110
    )


def test_a_one_line_answer_is_on_the_screen(app: Composition, sim: Simulator, arun: Any) -> None:
    window = app.window
    sim.push_answer("Hello! How can I help you today?")
    cid, outcome = finish_turn(window, arun, lambda: window.send("hello"))
    assert outcome == "complete"
    answer = window.chat_view.messages()[-1]
    assert answer.text == "Hello! How can I help you today?"
    assert dark_pixels_of(window, answer.id) > 150  # the words are painted (the tool chips alone stay under 100)
    window.new_chat()
    window.open_conversation(cid)  # and again after reopening
    assert dark_pixels_of(window, window.chat_view.messages()[-1].id) > 150


def test_send_uses_the_saved_message_and_updates_one_sidebar_row(app: Composition, sim: Simulator, arun: Any) -> None:
    window, store = app.window, app.store
    reads: list[str] = []
    for name in ("list_conversations", "load_messages", "get_message"):
        original = getattr(store, name)

        def counted(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
            reads.append(_name)
            return _original(*args, **kw)

        setattr(store, name, counted)
    sim.push_answer("Fine, thanks.")
    cid, _ = finish_turn(window, arun, lambda: window.send("How are you?"))
    assert "list_conversations" not in reads  # the sidebar is never reloaded for a turn
    assert reads.count("load_messages") == 1  # the request's history, read once by the chat service
    assert [m.text for m in window.chat_view.messages()] == ["How are you?", "Fine, thanks."]
    assert window.sidebar.current_id() == cid
    assert window.title_label.text() == "How are you?"
    assert window.composer.text() == ""


def test_the_message_box_keeps_the_text_when_it_cannot_be_saved(app: Composition, arun: Any) -> None:
    from desktop.storage import HistoryError

    window = app.window

    def full_disk(*_args: Any, **_kw: Any) -> Any:
        raise HistoryError("Your disk is full: the chat history could not be saved. Free some space and try again.")

    app.store.add_user_message = full_disk  # type: ignore[method-assign]
    QTest.keyClicks(window.composer.input, "please keep me")
    _cid, outcome = finish_turn(window, arun, window.composer.send)
    assert outcome == "failed"
    assert window.composer.text() == "please keep me"
    assert "disk is full" in window.composer.message.text()
    assert not window.composer.message.isHidden()


def test_clearing_the_search_brings_the_list_back(app: Composition, sim: Simulator, arun: Any, qtbot: Any) -> None:
    window = app.window
    sim.push_answer("Oslo is the capital of Norway. Oslo has a fjord.")
    cid, _ = finish_turn(window, arun, lambda: window.send("capital of Norway, Oslo?"))
    sidebar = window.sidebar
    for clear in ("button", "backspace", "escape"):
        sidebar.search.setFocus()
        QTest.keyClicks(sidebar.search, "Oslo")
        qtbot.waitUntil(lambda: sidebar.stack.currentWidget() is sidebar.results)
        assert sidebar.results.count() == 1  # the question and the answer both match: one row per conversation
        if clear == "button":
            sidebar.search.clear()
        elif clear == "backspace":
            for _ in range(4):
                QTest.keyClick(sidebar.search, Qt.Key.Key_Backspace)
        else:
            QTest.keyClick(sidebar.search, Qt.Key.Key_Escape)
        assert sidebar.search.text() == ""
        assert sidebar.stack.currentWidget() is sidebar.view, clear
        assert sidebar.view.isVisible()
        assert sidebar.model.row_of(cid) >= 0


def test_adjacent_code_blocks_copy_separately_after_a_reopen(app: Composition, sim: Simulator, arun: Any) -> None:
    window = app.window
    sim.push_answer("A\n\n```python\nprint(1)\n```\n\n```sql\nSELECT 1;\n```")
    cid, _ = finish_turn(window, arun, lambda: window.send("two blocks"))
    window.new_chat()
    window.open_conversation(cid)
    view = window.chat_view
    menu = view.actions_menu(len(view.messages()) - 1)
    copies = [a for a in menu.actions() if a.text().startswith("Copy code block")]
    assert [a.text().replace("&", "") for a in copies] == ["Copy code block 1 (python)", "Copy code block 2 (sql)"]
    copies[0].trigger()
    assert QGuiApplication.clipboard().text() == "print(1)"
    copies[1].trigger()
    assert QGuiApplication.clipboard().text() == "SELECT 1;"


@pytest.mark.parametrize("app", [2], indirect=True)  # max_retries
def test_a_long_wait_counts_down_and_stops_with_esc(app: Composition, sim: Simulator, arun: Any) -> None:
    window = app.window
    sim.push_fault(
        Fault(kind=FaultKind.STATUS, status=429, headers={"retry-after": "30", "x-should-retry": "false"}), times=5
    )
    run_until(window, arun, lambda: window.controller.wait() is not None, lambda: window.send("hi"))
    assert len(sim.requests) == 1
    assert "retrying in 30" in window.chat_view.retry_notice()
    assert "(1 of 2)" in window.chat_view.retry_notice()
    assert window.composer.send_button.text() == "Stop"
    window.activateWindow()
    QTest.keyClick(window.composer.input, Qt.Key.Key_Escape)
    run_until(window, arun, lambda: not window.controller.is_running())
    assert window.chat_view.retry_notice() == ""
    assert window.composer.send_button.text() == "Send"
    arun(window.controller.aclose())  # any turn or wait still kept would run now (none may)
    assert len(sim.requests) == 1
    failed = window.chat_view.messages()[-1]
    assert failed.outcome is Outcome.FAILED
    assert window.chat_view.banner_content(failed)[2] == "Try again"


@pytest.mark.parametrize("app", [2], indirect=True)  # max_retries
def test_retry_now_skips_the_wait(app: Composition, sim: Simulator, arun: Any) -> None:
    window = app.window
    sim.push_fault(Fault(kind=FaultKind.STATUS, status=429, headers={"retry-after": "30", "x-should-retry": "false"}))
    run_until(window, arun, lambda: window.controller.wait() is not None, lambda: window.send("hi"))
    sim.push_answer("finally")
    wait = window.controller.wait()
    assert wait is not None
    _cid, outcome = finish_turn(window, arun, lambda: window.chat_view.retry_now_requested.emit(wait.message_id))
    assert outcome == "complete"
    assert [m.text for m in window.chat_view.messages()] == ["hi", "finally"]
    assert len(sim.requests) == 2


def test_try_again_on_an_older_error_resends_its_own_question(app: Composition, sim: Simulator, arun: Any) -> None:
    window = app.window
    sim.push_fault(Fault(kind=FaultKind.STATUS, status=500))
    finish_turn(window, arun, lambda: window.send("first question"))
    sim.push_answer("second answer")
    finish_turn(window, arun, lambda: window.send("second question"))
    older = next(m for m in window.chat_view.messages() if m.outcome is Outcome.FAILED)
    assert window.chat_view.banner_content(older)[2] == "Try again"
    sim.push_answer("first answer")
    finish_turn(window, arun, lambda: window.chat_view.action_requested.emit(older.id, older.action))
    sent = sim.requests[-1].json["input"]
    assert sent[-1]["content"][0]["text"] == "first question"
    assert [m.text for m in window.chat_view.messages()] == ["first question", "first answer"]


def test_the_picker_and_sign_in_belong_to_the_conversation(
    app: Composition, sim: Simulator, arun: Any, qtbot: Any
) -> None:
    window, configuration = app.window, app.configuration
    sim.push_answer("on Contoso")
    cid, _ = finish_turn(window, arun, lambda: window.send("hello"))
    configuration.put_profile(
        Profile(id="other", display_name="Fabrikam", endpoint="https://fabrikam.openai.azure.com/openai/v1/",
                auth_method="entra", deployments=(Deployment("fab-only"),), default_deployment="fab-only")
    )  # fmt: skip
    configuration.update_app(active_profile_id="other")
    window.settings_changed()
    picker = window.composer.deployments
    assert [picker.itemData(i) for i in range(picker.count())] == ["gpt-4.1", "gpt-4o-mini"]  # Contoso's
    window.controller.set_deployment("fab-only")
    assert app.store.get_conversation(cid).deployment == "gpt-4.1"  # type: ignore[union-attr]
    window.new_chat()
    assert [picker.itemData(i) for i in range(picker.count())] == ["fab-only"]
    window.open_conversation(cid)
    window.sign_in_requested.disconnect(app.dialogs.open_sign_in)  # only which connection is asked for matters
    with qtbot.waitSignal(window.sign_in_requested) as blocker:
        window.chat_view.action_requested.emit(window.chat_view.messages()[-1].id, MessageAction.SIGN_IN)
    assert blocker.args == [WORK]


def test_a_locked_history_ends_the_turn_with_a_sentence(app: Composition, sim: Simulator, arun: Any) -> None:
    from desktop.storage import HistoryLockedError

    window = app.window

    def locked(*_args: Any, **_kw: Any) -> Any:
        raise HistoryLockedError("Another program is using the chat history. Close it, then try again.")

    app.store.finish_answer = locked  # type: ignore[method-assign]
    sim.push_answer("an answer that cannot be saved")
    _cid, outcome = finish_turn(window, arun, lambda: window.send("hi"))
    assert outcome == "failed"
    assert not window.controller.is_running()
    assert window.composer.send_button.text() == "Send"
    title, text, _button = window.chat_view.banner_content(window.chat_view.messages()[-1])
    assert title == "The answer could not be saved"
    assert "Another program is using the chat history" in text


def test_demo_banner_shows_only_for_the_simulator(
    qapp: Any, qtbot: Any, arun: Any, tmp_path: Path, sim: Simulator, memory_keyring: Any
) -> None:
    configuration = save_profile(AppPaths.under(tmp_path), sim, max_retries=0)
    configuration.update_app(active_profile_id=None)
    arun(KeyStore().aset(WORK, sim.api_key))
    built = build(qapp, qtbot, tmp_path, "--demo", demo_config=SimulatorConfig())
    window = built.window
    try:
        assert window.demo_banner.isVisible()
        _cid, outcome = finish_turn(window, arun, lambda: window.send("hello demo"))
        assert outcome == "complete"
        assert built.demo.simulator is not None
        assert built.configuration.settings.app.active_profile_id is None  # the user's own choice is untouched
        settings = in_loop(arun, built.dialogs.open_settings)
        settings.select_profile(WORK)
        assert arun(settings.use_for_chats())  # takes effect at once, without Save
        assert built.configuration.settings.app.active_profile_id == WORK
        assert window.demo_banner.isVisible()  # this chat still goes to the simulator
        window.new_chat()
        assert not window.demo_banner.isVisible()
        sim.push_answer("from the real connection")
        finish_turn(window, arun, lambda: window.send("hello work"))
        assert window.chat_view.messages()[-1].text == "from the real connection"
        assert not window.demo_banner.isVisible()
    finally:
        arun(built.aclose())


def test_the_guided_start_still_shows_after_a_demo(qapp: Any, qtbot: Any, arun: Any, tmp_path: Path) -> None:
    built = build(qapp, qtbot, tmp_path, "--demo", demo_config=SimulatorConfig())
    arun(built.aclose())
    again = build(qapp, qtbot, tmp_path)
    try:
        assert again.configuration.settings.active_profile is None
        assert in_loop(arun, again.dialogs.maybe_first_run) is not None
        assert not again.window.demo_banner.isVisible()
    finally:
        arun(again.aclose())


def test_regenerate_edit_and_switching(app: Composition, sim: Simulator, arun: Any) -> None:
    window = app.window
    sim.push_answer("first")
    first, _ = finish_turn(window, arun, lambda: window.send("question"))
    sim.push_answer("second")
    finish_turn(window, arun, window.regenerate)
    assert [m.text for m in window.chat_view.messages()] == ["question", "second"]
    question = window.chat_view.messages()[0].id
    sim.push_answer("third")
    finish_turn(window, arun, lambda: window.controller.edit_and_resend(question, "better question"))
    assert [m.text for m in window.chat_view.messages()] == ["better question", "third"]
    assert [m.text for m in app.store.load_messages(first)] == ["better question", "third"]
    window.new_chat()
    sim.push_answer("answer B")
    second, _ = finish_turn(window, arun, lambda: window.send("B"))
    window.open_conversation(first)
    assert [m.text for m in window.chat_view.messages()] == ["better question", "third"]
    window.open_conversation(second)
    assert [m.text for m in window.chat_view.messages()] == ["B", "answer B"]


def test_delete_and_undo(app: Composition, sim: Simulator, arun: Any) -> None:
    window = app.window
    sim.push_answer("Oslo.")
    cid, _ = finish_turn(window, arun, lambda: window.send("capital of Norway"))
    window.sidebar.delete_requested.emit(cid)
    assert app.store.get_conversation(cid) is None
    assert window.controller.current_id is None
    assert window.sidebar.model.row_of(cid) < 0
    window.toast.action_triggered.emit()  # Undo
    assert window.controller.current_id == cid
    assert window.sidebar.model.row_of(cid) >= 0


@pytest.mark.parametrize(
    ("fault", "outcome", "title", "button"),
    [
        (Fault(kind=FaultKind.STATUS, status=401), "failed", "The API key was not accepted", "Open settings"),
        (Fault(kind=FaultKind.STATUS, status=403), "failed", "Access to this resource is blocked", "Copy details"),
        (Fault(kind=FaultKind.STATUS, status=404, body={"error": {"code": "DeploymentNotFound", "message": "x"}}),
         "failed", "This deployment does not exist", "Open settings"),
        (Fault(kind=FaultKind.STATUS, status=500), "failed", "Azure had a problem", "Try again"),
        (Fault(kind=FaultKind.DROP_MID_STREAM, after_deltas=2), "failed", "The answer was cut off", "Try again"),
        (
            Fault(kind=FaultKind.PROMPT_FILTERED),
            "filtered",
            "Blocked by the content filter",
            "Continue without this message",
        ),
        (Fault(kind=FaultKind.FILTER_CUT, after_deltas=3), "filtered", "", "Continue without this message"),
    ],
)  # fmt: skip
def test_each_error_category_shows_its_action(
    app: Composition, sim: Simulator, arun: Any, fault: Fault, outcome: str, title: str, button: str
) -> None:
    window = app.window
    sim.push_fault(fault)
    _cid, finished = finish_turn(window, arun, lambda: window.send("hello"))
    assert finished == outcome
    answer = window.chat_view.messages()[-1]
    shown_title, text, label = window.chat_view.banner_content(answer)
    assert label.startswith(button)
    assert text
    if title:
        assert shown_title == title


def test_answer_cut_at_the_length_limit_offers_continue(app: Composition, sim: Simulator, arun: Any) -> None:
    window = app.window
    conv = app.store.create_conversation(
        "long", profile_id=WORK, deployment="gpt-4.1", params={"max_output_tokens": 20}
    )
    window.open_conversation(conv.id)
    sim.push_answer(" ".join(f"word{i}" for i in range(200)))
    _cid, finished = finish_turn(window, arun, lambda: window.send("write a lot"))
    assert finished == "complete"
    cut = window.chat_view.messages()[-1]
    title, _text, label = window.chat_view.banner_content(cut)
    assert (title, label) == ("The answer reached its length limit", "Continue")
    sim.push_answer("the rest")
    finish_turn(window, arun, lambda: window.chat_view.action_requested.emit(cut.id, cut.action))
    assert window.chat_view.messages()[-1].text == "the rest"


def test_rename_inline_and_send_an_image(app: Composition, sim: Simulator, arun: Any, qtbot: Any) -> None:
    from desktop.ui.composer import ImageAttachment

    window = app.window
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    cid, outcome = finish_turn(
        window, arun, lambda: window.send("what is this?", [ImageAttachment("image/png", png, "a.png")])
    )
    assert outcome == "complete"
    assert window.chat_view.messages()[0].images == (png,)
    content = sim.requests[-1].json["input"][-1]["content"]
    assert content[1]["image_url"].startswith("data:image/png;base64,")
    window.rename_current()  # F2: the inline field in the sidebar, full height
    editor = window.sidebar.view.findChild(QLineEdit)
    assert editor is not None
    assert editor.height() >= editor.sizeHint().height()
    editor.setText("  Holiday photo  ")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.title_label.text() == "Holiday photo")
    assert app.store.get_conversation(cid).title == "Holiday photo"  # type: ignore[union-attr]


def test_a_new_chat_says_where_it_goes_and_offers_prompts(app: Composition) -> None:
    window = app.window
    assert window.pages.currentWidget() is window.empty_state
    assert "Contoso" in window.empty_state.target.text()
    assert "gpt-4.1" in window.empty_state.target.text()
    window.empty_state.prompts[1].click()
    assert window.composer.text().startswith("Write a polite email")


def test_keyboard_only_main_flow(app: Composition, sim: Simulator, arun: Any, qtbot: Any) -> None:
    """Compose, send, copy, edit and move between conversations with keys only."""
    window = app.window
    window.activateWindow()
    qtbot.waitActive(window)

    def keys(sequence: str) -> None:
        QTest.keySequence(QApplication.focusWidget() or window, sequence)

    def type_and_send(text: str) -> None:
        keys("Ctrl+L")
        editor = QApplication.focusWidget()
        assert isinstance(editor, QPlainTextEdit)
        QTest.keyClicks(editor, text)
        QTest.keyClick(editor, Qt.Key.Key_Return)

    sim.push_answer("one")
    first, _ = finish_turn(window, arun, lambda: type_and_send("first question"))
    keys("Ctrl+N")
    assert window.controller.current_id is None
    sim.push_answer("two")
    second, _ = finish_turn(window, arun, lambda: type_and_send("second question"))
    assert [m.text for m in window.chat_view.messages()] == ["second question", "two"]
    keys("Ctrl+J")  # into the messages: the newest has the focus, drawn as a ring
    assert QApplication.focusWidget() is window.chat_view
    assert window.chat_view.currentIndex().row() == 1
    keys("Ctrl+C")
    assert QGuiApplication.clipboard().text() == "two"
    keys("Ctrl+PgDown")
    assert window.controller.current_id == first
    keys("Ctrl+PgUp")
    assert window.controller.current_id == second
    keys("Ctrl+L")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Up)  # Up in an empty box edits the last message
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is not None)
    dialog = QApplication.activeModalWidget()
    editor = dialog.findChild(QPlainTextEdit)  # type: ignore[union-attr]
    assert editor.toPlainText() == "second question"  # type: ignore[union-attr]
    assert editor.lineWrapMode() == QPlainTextEdit.LineWrapMode.WidgetWidth  # type: ignore[union-attr]
    editor.setPlainText("second question, better")  # type: ignore[union-attr]
    sim.push_answer("three")
    finish_turn(window, arun, lambda: QTest.keyClick(editor, Qt.Key.Key_Return))
    assert [m.text for m in window.chat_view.messages()] == ["second question, better", "three"]
    assert window.chat_view.messages()[0].role is Role.USER
    window.activateWindow()  # the edit dialog gave the focus back to the message box
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.composer.input)
    keys("Ctrl+K")
    assert isinstance(QApplication.focusWidget(), QLineEdit)


def test_a_demo_chat_answers_after_a_restart_without_demo(qapp: Any, qtbot: Any, arun: Any, tmp_path: Path) -> None:
    first = build(qapp, qtbot, tmp_path, "--demo", demo_config=SimulatorConfig())
    cid, outcome = finish_turn(first.window, arun, lambda: first.window.send("hello"))
    assert outcome == "complete"
    arun(first.aclose())
    again = build(qapp, qtbot, tmp_path, demo_config=SimulatorConfig())
    try:
        window = again.window
        assert again.demo.simulator is None  # nothing started for the demo at start-up
        assert not window.demo_banner.isVisible()  # a new chat goes to the user's own (none yet): no demo notice
        window.open_conversation(cid)
        assert window.demo_banner.isVisible()  # this chat's next turn goes to the simulator
        _cid, outcome = finish_turn(window, arun, lambda: window.send("hello again"))
        assert outcome == "complete"
        assert again.demo.simulator is not None  # started on demand
        assert [m.text for m in window.chat_view.messages()][-2] == "hello again"
    finally:
        arun(again.aclose())


def test_another_program_locking_the_history_mid_answer_ends_the_turn_with_a_sentence(
    app: Composition, sim: Simulator, arun: Any
) -> None:
    import sqlite3

    from desktop.services import AnswerGrew

    window = app.window
    locker: list[sqlite3.Connection] = []

    def lock_on_first_words(event: object) -> None:
        if isinstance(event, AnswerGrew) and not locker:
            other = sqlite3.connect(app.store.path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # another program holds the write lock from now on
            locker.append(other)

    window.controller.subscribe(lock_on_first_words)
    sim.push_answer("words " * 200)
    try:
        _cid, outcome = finish_turn(window, arun, lambda: window.send("hi"))
    finally:
        for other in locker:
            other.rollback()
            other.close()
    assert locker
    assert outcome == "failed"
    assert not window.controller.is_running()
    assert window.composer.send_button.text() == "Send"
    title, text, _button = window.chat_view.banner_content(window.chat_view.messages()[-1])
    assert title == "The answer could not be saved"
    assert text


def test_a_new_conversation_shows_at_the_top_of_today_selected(app: Composition, sim: Simulator, arun: Any) -> None:
    window = app.window
    older = [app.store.create_conversation(f"Older {n}").id for n in range(3)]
    window.controller.start()  # the sidebar as a window opens with history in it
    sim.push_answer("Nothing much.")
    cid, _ = finish_turn(window, arun, lambda: window.send("What is new?"))
    model = window.sidebar.model
    shown = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert shown[:2] == ["Today", "What is new?"]
    assert model.row_of(cid) == 1
    assert [model.row_of(c) for c in reversed(older)] == [2, 3, 4]
    assert window.sidebar.current_id() == cid
    assert window.sidebar.view.currentIndex().row() == 1


def test_tab_goes_through_the_new_chat_window_in_reading_order(qapp: Any, qtbot: Any, tmp_path: Path) -> None:
    built = build(qapp, qtbot, tmp_path, "--demo")
    window = built.window
    stops: list[str] = []
    widget = window.nextInFocusChain()
    while widget is not window and len(stops) < 200:
        if widget.isVisible() and widget.isEnabled() and widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            stops.append(widget.accessibleName())
        widget = widget.nextInFocusChain()
    assert stops == [
        "New chat",
        "Search chats",
        "Conversations",
        "Example: Summarise this text in three bullet points:",
        "Example: Write a polite email declining a meeting and suggesting next week instead.",
        "Example: Explain what a REST API is to someone new to programming, with an example.",
        "Deployment",
        "Reasoning effort",
        "Instructions preset",
        "Edit instructions",
        "Message",
        "Attach files",
    ]  # (Send is disabled until there is something to send)
