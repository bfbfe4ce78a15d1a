"""The conversation view: virtualisation, streaming batches, follow-end, retry countdown, actions."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QEvent, QObject, QPersistentModelIndex, QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QPaintEvent
from PySide6.QtWidgets import QAbstractSlider, QApplication, QTextBrowser, QWidget

from desktop.services import MessageAction, MessageView, Outcome, RetryWait, Role
from desktop.ui.chat_view import ChatView
from desktop.ui.theme import DARK_COLORS


def _conversation(n: int, start: int = 0) -> list[MessageView]:
    return [
        MessageView(
            start + i,
            Role.USER if i % 2 == 0 else Role.ASSISTANT,
            f"Message **{i}**\n\n"
            + ("Some words. " * (i % 7 + 1))
            + ("\n\n```python\nprint(1)\n```" if i % 5 == 0 else ""),
        )
        for i in range(n)
    ]


@pytest.fixture
def view(qtbot: Any) -> ChatView:
    widget = ChatView()
    qtbot.addWidget(widget)
    widget.resize(800, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _total_renders(view: ChatView) -> int:
    return sum(view.render_count(m.id) for m in view.messages())


def _geometry(view: ChatView, message_id: int) -> Any:
    msg = view.message(message_id)
    assert msg is not None
    index = view.model().index(view.messages().index(msg), 0)
    delegate = view.itemDelegate()
    rect = view.visualRect(index)
    return delegate.geometry(rect, msg, delegate.document(msg, delegate.column(rect)[1]))  # type: ignore[attr-defined]


def test_two_thousand_messages_paint_without_widgets(view: ChatView, qtbot: Any) -> None:
    widgets_before = len(view.findChildren(QWidget))
    view.set_messages(_conversation(2000))
    image = view.grab()
    assert not image.isNull()
    assert len(view.findChildren(QWidget)) == widgets_before
    rendered = [m.id for m in view.messages() if view.render_count(m.id)]
    assert 0 < len(rendered) < 100  # only what is on screen was laid out
    assert 1999 in rendered
    assert view.verticalScrollBar().value() == view.verticalScrollBar().maximum()


def test_streaming_batches_deltas_and_relayouts_only_the_streaming_message(view: ChatView, qtbot: Any) -> None:
    view.set_messages(_conversation(20))
    view.append_message(MessageView(1, Role.ASSISTANT, "", Outcome.STREAMING))
    view.grab()
    others_before = _total_renders(view) - view.render_count(1)
    streaming_before = view.render_count(1)
    deltas = [f"word{i} " for i in range(300)]
    for delta in deltas:
        view.append_delta(1, delta)
    qtbot.waitUntil(lambda: view.message(1) is not None and view.message(1).text == "".join(deltas))  # type: ignore[union-attr]
    view.grab()
    # 300 deltas: the first words laid out at once, then one or two batched layouts.
    assert view.render_count(1) - streaming_before <= 3
    # Other messages are laid out at most once (when they first show), never again because of the stream.
    assert all(view.render_count(m.id) <= 1 for m in view.messages() if m.id != 1)
    assert others_before <= _total_renders(view) - view.render_count(1)


def test_first_delta_shows_at_once_then_batches(view: ChatView) -> None:
    view.set_messages([MessageView(1, Role.ASSISTANT, "", Outcome.STREAMING)])
    view.append_delta(1, "Hello")
    assert view.message(1).text == "Hello"  # type: ignore[union-attr]  # no timer wait for the first words
    view.append_delta(1, " world")
    assert view.message(1).text == "Hello"  # type: ignore[union-attr]  # later words wait for the batch
    view.flush()
    assert view.message(1).text == "Hello world"  # type: ignore[union-attr]


def test_update_message_drops_pending_deltas(view: ChatView) -> None:
    view.set_messages([MessageView(1, Role.ASSISTANT, "partial", Outcome.STREAMING)])
    view.append_delta(1, " more")
    view.update_message(MessageView(1, Role.ASSISTANT, "final text", Outcome.COMPLETE))
    view.flush()
    assert view.message(1) == MessageView(1, Role.ASSISTANT, "final text", Outcome.COMPLETE)


def test_follows_end_unless_scrolled_up(view: ChatView, qtbot: Any) -> None:
    view.set_messages([*_conversation(60), MessageView(1, Role.ASSISTANT, "", Outcome.STREAMING)])
    bar = view.verticalScrollBar()
    view.grab()
    assert bar.value() == bar.maximum()
    for _ in range(40):
        view.append_delta(1, "line of streamed text\n\n")
    view.flush()
    view.grab()
    assert view.is_following()
    assert bar.value() == bar.maximum()
    assert not view.jump_button().isVisible()

    bar.setValue(bar.maximum() // 2)
    assert not view.is_following()
    assert view.jump_button().isVisible()
    held = bar.value()
    for _ in range(40):
        view.append_delta(1, "more text\n\n")
    view.flush()
    view.grab()
    assert bar.value() == held

    qtbot.mouseClick(view.jump_button(), Qt.MouseButton.LeftButton)
    assert view.is_following()
    assert bar.value() == bar.maximum()
    assert not view.jump_button().isVisible()


def test_own_message_brings_the_end_into_view(view: ChatView) -> None:
    """Sending while scrolled up shows what was sent (and the answer coming), not the old page being read."""
    view.set_messages(_conversation(60))
    bar = view.verticalScrollBar()
    view.grab()
    bar.setValue(bar.maximum() // 3)
    assert not view.is_following()
    view.append_message(MessageView(1000, Role.USER, "a new question"))
    view.append_message(MessageView(1001, Role.ASSISTANT, "", Outcome.STREAMING))
    view.grab()
    assert view.is_following()
    assert bar.value() == bar.maximum()
    assert not view.jump_button().isVisible()


def test_retry_countdown_and_retry_now(qtbot: Any) -> None:
    now = [100.0]
    view = ChatView(clock=lambda: now[0])
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    view.set_messages([MessageView(3, Role.USER, "hi"), MessageView(2, Role.ASSISTANT, "", Outcome.STREAMING)])
    view.show_retry(RetryWait(2, 3, now[0] + 3, 1, 2, "rate limit", automatic=False))
    assert view.retry_notice() == "Azure is busy (rate limit) - retrying in 3 s (1 of 2)"
    assert view.banner_content(view.message(2))[2] == ""  # type: ignore[arg-type]
    view.show_retry(RetryWait(2, 45, now[0] + 45, 2, 2, "rate limit", automatic=True))
    assert view.banner_content(view.message(2))[2] == "Retry now"  # type: ignore[arg-type]
    now[0] += 5
    assert "retrying in 40 s (2 of 2)" in view.retry_notice()
    now[0] += 60
    assert view.retry_notice() == "Azure is busy (rate limit) - retrying now (2 of 2)"
    view.grab()
    geo = _geometry(view, 2)
    with qtbot.waitSignal(view.retry_now_requested) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=geo.banner_button.center().toPoint())
    assert blocker.args == [2]
    view.update_message(MessageView(2, Role.ASSISTANT, "done"))
    assert view.retry_notice() == ""


def test_outcome_banners(view: ChatView) -> None:
    failed = MessageView(
        4,
        Role.ASSISTANT,
        "",
        Outcome.FAILED,
        error_title="No access",
        error_text="Ask your admin for the Cognitive Services OpenAI User role.",
        action=MessageAction.SIGN_IN,
    )
    # The words come from the services (desktop/services/_words.py); the view only shows them with their button.
    filtered = MessageView(
        5,
        Role.ASSISTANT,
        "Partial",
        Outcome.FILTERED,
        error_title="The answer was stopped by the content filter",
        error_text="It was flagged for hate and violence. Rephrase your message, or continue without it.",
        action=MessageAction.LEAVE_OUT,
        filter_categories=("hate", "violence"),
    )
    left_out = MessageView(8, Role.USER, "flagged", error_title="Left out", error_text="Not sent.", left_out=True)
    stopped = MessageView(1, Role.ASSISTANT, "Half", Outcome.STOPPED, error_text="Stopped. It is incomplete.")
    interrupted = MessageView(
        6, Role.ASSISTANT, "Half", Outcome.INTERRUPTED, error_text="Interrupted.", action=MessageAction.RETRY
    )
    complete = MessageView(7, Role.ASSISTANT, "All good")
    view.set_messages([failed, filtered, stopped, interrupted, complete, left_out])
    assert view.banner_content(failed) == ("No access", failed.error_text, "Sign in")
    assert view.banner_content(filtered) == (
        filtered.error_title,
        filtered.error_text,
        "Continue without this message",
    )
    assert view.banner_content(left_out) == ("Left out", "Not sent.", "")
    assert view.banner_kind(left_out) == "note"
    assert view.banner_kind(filtered) == "warning"
    assert view.banner_content(stopped) == ("", "Stopped. It is incomplete.", "")
    assert view.banner_content(interrupted) == ("", "Interrupted.", "Try again")
    assert view.banner_content(complete) == ("", "", "")
    assert view.banner_kind(failed) == "error"


def test_failed_action_button_click_emits_action(view: ChatView, qtbot: Any) -> None:
    failed = MessageView(
        4,
        Role.ASSISTANT,
        "",
        Outcome.FAILED,
        error_title="Key refused",
        error_text="x",
        action=MessageAction.OPEN_SETTINGS,
    )
    view.set_messages([MessageView(3, Role.USER, "hi"), failed])
    view.grab()
    geo = _geometry(view, 4)
    with qtbot.waitSignal(view.action_requested) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=geo.banner_button.center().toPoint())
    assert blocker.args == [4, MessageAction.OPEN_SETTINGS]


def test_toolbar_actions_per_message(view: ChatView) -> None:
    msgs = [
        MessageView(3, Role.USER, "q"),
        MessageView(8, Role.ASSISTANT, "x"),
        MessageView(9, Role.USER, "q2"),
        MessageView(10, Role.ASSISTANT, "y"),
    ]
    view.set_messages(msgs)
    keys = {m.id: [k for k, _ in view.tool_actions(m)] for m in msgs}
    assert keys == {
        3: ["copy", "edit"],
        8: ["copy", "details"],
        9: ["copy", "edit"],
        10: ["copy", "regenerate", "details"],
    }


@pytest.mark.parametrize(
    ("action", "signal"),
    [("edit", "edit_requested"), ("regenerate", "regenerate_requested"), ("details", "details_requested")],
)
def test_toolbar_clicks_emit_signals(view: ChatView, qtbot: Any, action: str, signal: str) -> None:
    view.set_messages([MessageView(3, Role.USER, "question"), MessageView(2, Role.ASSISTANT, "answer")])
    view.grab()
    target = 3 if action == "edit" else 2
    box = next(b for key, _, b in _geometry(view, target).tools if key == action)
    with qtbot.waitSignal(getattr(view, signal)) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=box.center().toPoint())
    assert blocker.args == [target]


def test_copy_message_and_code_block(view: ChatView, qtbot: Any) -> None:
    text = "Run this:\n\n```bash\necho hello\n```\n\nThen relax."
    view.set_messages([MessageView(2, Role.ASSISTANT, text)])
    view.grab()
    geo = _geometry(view, 2)
    with qtbot.waitSignal(view.copy_requested):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=geo.code_copies[0][0].center().toPoint())
    assert QGuiApplication.clipboard().text() == "echo hello"
    copy_box = next(b for key, _, b in geo.tools if key == "copy")
    with qtbot.waitSignal(view.copy_requested) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=copy_box.center().toPoint())
    assert blocker.args == [2]
    assert QGuiApplication.clipboard().text() == text


def test_select_text_opens_read_only_browser(view: ChatView, qtbot: Any) -> None:
    view.set_messages([MessageView(2, Role.ASSISTANT, "Selectable **answer** with [a link](https://x.org)")])
    view.trigger(2, "select")
    browsers = view.findChildren(QTextBrowser)
    assert len(browsers) == 1
    assert browsers[0].isReadOnly()
    assert not browsers[0].openLinks()
    assert "Selectable answer" in browsers[0].toPlainText()


def test_prepend_keeps_scroll_position_and_older_requested(view: ChatView, qtbot: Any) -> None:
    view.set_messages(_conversation(100, 10_000), has_older=True)
    view.grab()
    bar = view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    view.grab()
    view.doItemsLayout()  # apply the height corrections found while painting
    top_before = view.indexAt(QPoint(10, 5)).data(Qt.ItemDataRole.UserRole).id
    offset_before = view.visualRect(view.indexAt(QPoint(10, 5))).top()
    view.prepend_messages(_conversation(50, 20_000), has_older=True)
    index = view.indexAt(QPoint(10, 5))
    assert index.data(Qt.ItemDataRole.UserRole).id == top_before
    assert view.visualRect(index).top() == offset_before
    with qtbot.waitSignal(view.older_requested):
        bar.setValue(0)
    with qtbot.assertNotEmitted(view.older_requested):
        bar.setValue(50)
        bar.setValue(0)  # already loading: no second request until messages arrive


def test_theme_and_width_changes_invalidate_cache(view: ChatView, qtbot: Any) -> None:
    view.set_messages([MessageView(2, Role.ASSISTANT, "Hello **world**")])
    view.grab()
    assert view.render_count(2) == 1
    view.grab()
    assert view.render_count(2) == 1  # cached
    view.set_colors(DARK_COLORS)
    view.grab()
    assert view.render_count(2) == 2
    view.resize(500, 600)
    view.grab()
    assert view.render_count(2) == 3


def test_attachments_and_accessible_text(view: ChatView) -> None:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QImage

    image = QImage(20, 20, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    msg = MessageView(3, Role.USER, "What is this?", images=(bytes(array.data()), b"not an image"))
    view.set_messages([msg])
    assert not view.grab().isNull()
    assert len(_geometry(view, 3).thumbs) == 2
    assert view.model().index(0, 0).data(Qt.ItemDataRole.AccessibleTextRole) == "You: What is this?"


def test_flushes_come_at_whole_display_frames(view: ChatView, qtbot: Any) -> None:
    from desktop.ui.chat_view import FLUSH_FRAMES

    screen = view.screen()
    assert screen is not None
    assert view.flush_interval() == round(FLUSH_FRAMES * 1000 / screen.refreshRate())
    view.set_messages([MessageView(1, Role.ASSISTANT, "", Outcome.STREAMING)])
    view.append_delta(1, "First words")
    shown = view.render_count(1)
    for i in range(50):  # every delta until the next frame's flush joins it: one re-layout for all of them
        view.append_delta(1, f" word{i}")
    qtbot.waitUntil(lambda: view.render_count(1) > shown)
    assert view.render_count(1) == shown + 1
    assert view.message(1).text == "First words" + "".join(f" word{i}" for i in range(50))  # type: ignore[union-attr]


def _stream_through_the_view(view: ChatView, monkeypatch: Any, copies: int) -> list[tuple[int, int, int]]:
    """Stream `copies` copies of a rich answer through the view, flushing and painting after every 40 characters;
    return the work of each flush: (source characters rendered, blocks looked at for code, Copy chips placed)."""
    from desktop.simulator._answers import choose_answer
    from desktop.ui import chat_view, markdown

    looked, chips = [0], [0]
    real_is_code, real_geometry = markdown._is_code, chat_view._Delegate.geometry

    def counting_is_code(block: Any) -> bool:
        looked[0] += 1
        return real_is_code(block)

    def counting_geometry(self: Any, *args: Any, **kwargs: Any) -> Any:
        geo = real_geometry(self, *args, **kwargs)
        chips[0] += len(geo.code_copies)
        return geo

    monkeypatch.setattr(markdown, "_is_code", counting_is_code)
    monkeypatch.setattr(chat_view._Delegate, "geometry", counting_geometry)
    view.set_messages([MessageView(1, Role.USER, "Show me"), MessageView(2, Role.ASSISTANT, "", Outcome.STREAMING)])
    view.grab()
    piece = choose_answer("Show me markdown with a table") + "\n\n"
    delegate: Any = view.itemDelegate()
    work = []
    for _ in range(copies):
        for start in range(0, len(piece), 40):
            rendered, seen, placed = delegate._live[2].rendered if 2 in delegate._live else 0, looked[0], chips[0]
            view.append_delta(2, piece[start : start + 40])
            view.flush()
            view.doItemsLayout()
            view.viewport().repaint()
            work.append((delegate._live[2].rendered - rendered, looked[0] - seen, chips[0] - placed))
    assert view.message(2).text == piece * copies  # type: ignore[union-attr]
    assert view.is_following()
    return work


def test_streaming_work_per_flush_does_not_grow_with_the_answer(view: ChatView, monkeypatch: Any) -> None:
    short = _stream_through_the_view(view, monkeypatch, 2)
    long = _stream_through_the_view(view, monkeypatch, 6)
    per_copy = len(short) // 2
    # Streaming the last copy of a 6-copy answer renders and scans exactly what the last copy of a 2-copy answer
    # does (the unfinished tail), and painting places Copy chips only for the code blocks that show.
    assert [w[:2] for w in long[-per_copy:]] == [w[:2] for w in short[-per_copy:]]
    assert max(w[2] for w in long) == max(w[2] for w in short)
    delegate: Any = view.itemDelegate()
    assert len(delegate._live[2].doc.code) == 6 * 3  # three code blocks per copy, all found


@pytest.mark.parametrize(("cost_ms", "spaced"), [(1.0, False), (15.0, True), (80.0, True)])
def test_a_costly_flush_spaces_the_next_ones(
    view: ChatView, monkeypatch: pytest.MonkeyPatch, cost_ms: float, spaced: bool
) -> None:
    from desktop.ui import chat_view

    view._paint_ms = 0.0  # the fixture's first paint, timed by the real clock, is not what this test measures
    frames = view.flush_interval()  # after that reset: a slow first paint (a loaded machine) made it fail now and then
    ticks = iter([0.0, cost_ms / 1000] * 4)
    monkeypatch.setattr(chat_view, "_perf", lambda: next(ticks))
    view.set_messages([MessageView(1, Role.ASSISTANT, "", Outcome.STREAMING)])
    view.append_delta(1, "First words")  # shown at once: this flush is the one measured
    expected = min(chat_view.FLUSH_LONGEST_MS, round(cost_ms / chat_view.FLUSH_SHARE)) if spaced else frames
    assert view.flush_interval() == max(frames, expected)
    view.append_delta(1, " and more")
    assert view._flush_timer.interval() == max(frames, expected)


def test_rows_laid_out_as_they_show_do_not_move_what_was_on_screen(view: ChatView, qtbot: Any) -> None:
    # Rows not shown yet have estimated heights; scrolling up shows them and gives them their real ones, which must
    # not shift the message the user was reading by more than the scroll itself.
    table = "| name | value |\n|---|---|\n" + "| a | 1 |\n" * 6
    view.set_messages(
        [
            MessageView(i, Role.USER if i % 2 == 0 else Role.ASSISTANT, f"## Part {i}\n\n{table}\n```\ncode\n```")
            for i in range(80)
        ]
    )
    view.grab()
    bar = view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    for _ in range(3):  # settle the rows on screen at their real heights
        view.grab()
        view.doItemsLayout()
    reading = QPersistentModelIndex(view.indexAt(QPoint(10, view.viewport().height() - 5)))
    top = view.visualRect(reading).top()
    bar.triggerAction(QAbstractSlider.SliderAction.SliderPageStepSub)
    view.grab()
    view.doItemsLayout()
    assert view.visualRect(reading).top() - top == bar.pageStep()


def _drawn_clips(monkeypatch: Any) -> list[Any]:
    """Record the clip of every document the chat view draws (an invalid clip makes Qt draw the whole document)."""
    from desktop.ui import chat_view

    clips: list[Any] = []
    real = chat_view._draw_document

    def recording(doc: Any, painter: Any, ctx: Any) -> None:
        clips.append(QRectF(ctx.clip))
        real(doc, painter, ctx)

    monkeypatch.setattr(chat_view, "_draw_document", recording)
    return clips


@pytest.mark.parametrize("outcome", [Outcome.STREAMING, Outcome.COMPLETE])
def test_an_answer_taller_than_a_list_row_draws_only_what_shows(
    view: ChatView, monkeypatch: pytest.MonkeyPatch, outcome: Outcome
) -> None:
    # Qt's list view gives a row at most 32,767 px; a long answer is taller. Its row then ended above the viewport
    # while its end showed, the clip came out empty, and Qt drew the whole answer at every paint (a quarter of a
    # second at 16,000 tokens).
    text = "\n\n".join(f"Paragraph {i}: " + "word " * 30 for i in range(1500))
    view.set_messages([MessageView(1, Role.USER, "Tell me a lot"), MessageView(2, Role.ASSISTANT, text, outcome)])
    view.grab()
    view.doItemsLayout()
    view.scroll_to_latest()
    assert _geometry(view, 2).doc_rect.height() > 40_000
    clips = _drawn_clips(monkeypatch)
    image = view.viewport().grab().toImage()
    assert clips
    port = view.viewport().rect()
    for clip in clips:
        assert clip.isValid()
        assert clip.height() <= port.height()
    # And the end of the answer shows: dark text in the lower half of the viewport.
    dark = sum(
        1
        for y in range(port.height() // 2, port.height(), 2)
        for x in range(0, port.width(), 2)
        if image.pixelColor(x, y).lightness() < 128
    )
    assert dark > 50


def _layout_per_flush(view: ChatView, copies: int) -> list[tuple[int, int, int]]:
    """Stream `copies` copies of a rich answer through the view, flushing and painting after every 60 characters;
    return per flush: the layout passes Qt was asked for on the live answer, the characters they covered, and the
    height of what was drawn of it."""
    from desktop.simulator._answers import choose_answer
    from desktop.ui import chat_view

    piece = choose_answer("Show me markdown with a table") + "\n\n"
    drawn: list[float] = []
    real_draw = chat_view._draw_document

    def recording(doc: Any, painter: Any, ctx: Any) -> None:
        drawn.append(ctx.clip.height() if ctx.clip.isValid() else float("inf"))
        real_draw(doc, painter, ctx)

    chat_view._draw_document = recording  # type: ignore[assignment]
    try:
        view.set_messages([MessageView(1, Role.USER, "Show me"), MessageView(2, Role.ASSISTANT, "", Outcome.STREAMING)])
        view.append_delta(2, piece[:60])
        view.grab()
        changes: list[int] = []
        delegate: Any = view.itemDelegate()
        delegate._live[2].doc.contentsChange.connect(lambda _start, _removed, added: changes.append(added))
        work = []
        for _ in range(copies):
            for start in range(60, len(piece) + 60, 60):
                seen, painted = len(changes), len(drawn)
                view.append_delta(2, piece[start : start + 60] if start < len(piece) else piece[:60])
                view.flush()
                view.doItemsLayout()
                view.viewport().repaint()
                work.append((len(changes) - seen, sum(changes[seen:]), int(max(drawn[painted:], default=0))))
    finally:
        chat_view._draw_document = real_draw  # type: ignore[assignment]
    return work


def test_each_flush_lays_out_the_live_answer_once_whatever_its_length(view: ChatView) -> None:
    short = _layout_per_flush(view, 2)
    long = _layout_per_flush(view, 8)
    per_copy = len(short) // 2
    # One layout pass per flush, over the unfinished tail: the last copy of a 12-copy answer costs what the last
    # copy of a 2-copy one does. And only what shows is drawn, never the whole answer.
    assert {passes for passes, _, _ in long} <= {0, 1}  # none when only blank lines came
    assert [w[:2] for w in long[-per_copy:]] == [w[:2] for w in short[-per_copy:]]
    assert max(w[2] for w in long) <= view.viewport().height()


def test_an_answer_that_ends_keeps_its_height_until_it_is_painted(view: ChatView) -> None:
    # When an answer ended, its row was given an estimated height for one layout (its finished document was not
    # known yet), and the view following the end jumped by the difference before the next paint put it back.
    import dataclasses

    text = "\n\n".join(f"Paragraph {i}: " + "word " * 30 for i in range(40))
    view.set_messages([MessageView(1, Role.USER, "Q"), MessageView(2, Role.ASSISTANT, "", Outcome.STREAMING)])
    for start in range(0, len(text), 200):
        view.append_delta(2, text[start : start + 200])
        view.flush()
        view.doItemsLayout()
        view.viewport().repaint()
    streamed = view.message(2)
    assert streamed is not None
    shown = view.itemDelegate()._live[2].doc  # type: ignore[attr-defined]
    view.append_delta(2, " The last words.")  # not flushed yet: the final text is authoritative
    view.update_message(dataclasses.replace(streamed, text=text + " The last words.", outcome=Outcome.COMPLETE))
    bar = view.verticalScrollBar()
    view.doItemsLayout()
    ended = bar.maximum()
    view.viewport().repaint()
    view.doItemsLayout()
    assert bar.maximum() == ended
    assert bar.value() == bar.maximum()
    # The streamed document became the finished row's, with the last words: not rendered again.
    delegate: Any = view.itemDelegate()
    final = view.message(2)
    assert final is not None
    assert delegate.document(final, delegate.column(view.viewport().rect())[1]) is shown
    assert shown.toPlainText().endswith("The last words.")


def test_an_answer_without_words_offers_no_copy_and_keeps_the_clipboard(view: ChatView) -> None:
    """A stopped answer that never began has nothing to copy: no Copy button, and the clipboard is left alone."""
    view.set_messages([MessageView(1, Role.USER, "hi"), MessageView(2, Role.ASSISTANT, "", Outcome.STOPPED)])
    assert [key for key, _label in view.tool_actions(view.message(2))] == ["regenerate", "details"]  # type: ignore[arg-type]
    QGuiApplication.clipboard().setText("what the user copied before")
    view.trigger(2, "copy")
    assert QGuiApplication.clipboard().text() == "what the user copied before"


class _PaintedRegions(QObject):
    """Records the region of every paint of a widget."""

    def __init__(self) -> None:
        super().__init__()
        self.regions: list[list[QRect]] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QPaintEvent):
            self.regions.append(list(event.region()))
        return False


def test_a_streamed_update_repaints_only_what_changed_and_shows_the_same(view: ChatView, qtbot: Any) -> None:
    # Each update of the streaming answer repainted the whole viewport (its row's new data, then the re-layout of
    # its new height), and a paint cost more than the update it showed. Only the unfinished tail changes, and what
    # scrolls into view while the view follows the end.
    from desktop.simulator._answers import choose_answer

    text = (choose_answer("Show me markdown with a table") + "\n\n") * 2
    view.set_messages([MessageView(1, Role.USER, "Show me"), MessageView(2, Role.ASSISTANT, "", Outcome.STREAMING)])
    view.append_delta(2, text[:50])
    QApplication.processEvents()
    port, bar = view.viewport(), view.verticalScrollBar()
    screen = QGuiApplication.primaryScreen()
    painted = _PaintedRegions()
    port.installEventFilter(painted)
    partial = 0
    for start in range(50, len(text), 50):
        view.append_delta(2, text[start : start + 50])
        view.flush()
        painted.regions.clear()
        QApplication.processEvents()
        assert bar.value() == bar.maximum()  # still following the end
        shown = screen.grabWindow(view.winId()).toImage()  # what is on screen: earlier paints and this one
        if bar.value() > port.height():  # a screen into the answer: its unfinished tail is below the top
            assert painted.regions, "an update showed nothing"
            assert all(rect.top() > 0 for region in painted.regions for rect in region)
            partial += 1
        view.repaint()  # the viewport and the scroll bar
        assert shown == screen.grabWindow(view.winId()).toImage()  # the same as painting all of it again
    assert partial > 10
    assert view.message(2).text == text  # type: ignore[union-attr]


def test_a_paint_draws_only_the_part_of_the_answer_it_repaints(view: ChatView, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "\n\n".join(f"Paragraph {i}: " + "word " * 30 for i in range(60))
    view.set_messages([MessageView(1, Role.USER, "Tell me a lot"), MessageView(2, Role.ASSISTANT, text)])
    view.grab()
    QApplication.processEvents()  # nothing left to repaint but what this test asks for
    clips = _drawn_clips(monkeypatch)
    port = view.viewport()
    port.repaint(QRect(0, port.height() - 40, port.width(), 40))
    assert clips
    assert all(0 < clip.height() <= 40 for clip in clips), clips


def test_the_scroll_bar_repaints_while_an_answer_streams_only_when_its_handle_moves(view: ChatView) -> None:
    # The bar's range grows at every update of a streaming answer, and Qt repainted the bar each time: as costly as
    # painting the new words, though in a long answer the handle moves by less than a pixel at most updates.
    long = "\n\n".join(f"Paragraph {i}: " + "word " * 30 for i in range(300))
    view.set_messages(
        [MessageView(1, Role.USER, "Tell me a lot"), MessageView(2, Role.ASSISTANT, "", Outcome.STREAMING)]
    )
    view.append_delta(2, long)
    QApplication.processEvents()
    bar, screen = view.verticalScrollBar(), QGuiApplication.primaryScreen()
    painted = _PaintedRegions()
    bar.installEventFilter(painted)
    handle = []
    for i in range(30):
        view.append_delta(2, f"\n\nMore {i}")
        view.flush()
        painted.regions.clear()
        QApplication.processEvents()
        handle.append((bar.maximum(), bool(painted.regions)))
        shown = screen.grabWindow(view.winId()).toImage()
        view.repaint()
        assert shown == screen.grabWindow(view.winId()).toImage()  # the handle is where it would be drawn anew
    assert len({maximum for maximum, _ in handle}) == 30  # every update grew the range
    assert 0 < sum(repainted for _, repainted in handle) < 10
