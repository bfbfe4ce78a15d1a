"""Messages: saving before sending, streaming checkpoints, finishing, paging, and edit revisions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop.storage import (
    Attachment,
    HistoryError,
    HistoryLockedError,
    HistoryStore,
    MessageError,
    NotFoundError,
    Outcome,
    Role,
    Usage,
)
from tests.storage.conftest import StepClock

PNG = Attachment("image/png", b"\x89PNG\r\n\x1a\n\x00\xff", "shot.png")


def test_user_message_is_saved_with_attachments_and_touches_conversation(store: HistoryStore) -> None:
    conv = store.create_conversation("c")
    msg = store.add_user_message(conv.id, "look", [PNG, Attachment("image/jpeg", b"jpg")])
    assert (msg.role, msg.text, msg.outcome, msg.position) == (Role.USER, "look", Outcome.COMPLETE, 1)
    assert msg.attachments == (PNG, Attachment("image/jpeg", b"jpg"))
    assert store.get_message(msg.id) == msg
    assert store.load_messages(conv.id) == [msg]
    current = store.get_conversation(conv.id)
    assert current is not None
    assert current.updated_at == msg.created_at > conv.updated_at


def test_system_message(store: HistoryStore) -> None:
    conv = store.create_conversation()
    assert store.add_system_message(conv.id, "note").role is Role.SYSTEM


def test_message_to_missing_conversation(store: HistoryStore) -> None:
    with pytest.raises(NotFoundError):
        store.add_user_message(42, "hi")
    assert store.get_message(42) is None


def test_answer_streams_then_finishes(store: HistoryStore) -> None:
    conv = store.create_conversation()
    store.add_user_message(conv.id, "q")
    ans = store.begin_answer(conv.id, model="gpt-4o", deployment="dep", api="chat")
    assert (ans.outcome, ans.text, ans.position, ans.finished_at) == (Outcome.STREAMING, "", 2, None)
    store.checkpoint_answer(ans.id, "partial")
    got = store.get_message(ans.id)
    assert got is not None
    assert got.text == "partial"
    usage = Usage(input_tokens=3, output_tokens=5, reasoning_tokens=0, total_tokens=8)
    done = store.finish_answer(
        ans.id, Outcome.COMPLETE, "full answer", usage=usage, request_id="req-1", model="gpt-4o-2024"
    )
    assert (done.outcome, done.text, done.usage, done.request_id) == (Outcome.COMPLETE, "full answer", usage, "req-1")
    assert (done.model, done.deployment, done.api) == ("gpt-4o-2024", "dep", "chat")
    assert done.finished_at is not None
    assert done.duration_ms == (done.finished_at - done.created_at).total_seconds() * 1000
    # A late checkpoint (a race with finishing) must not overwrite the final text.
    store.checkpoint_answer(ans.id, "stale")
    assert store.load_messages(conv.id)[-1].text == "full answer"


def test_failed_and_filtered_answers_keep_details(store: HistoryStore) -> None:
    conv = store.create_conversation()
    err = MessageError("Rate limited", "Try again in 20 s", code="429", status=429, request_id="r")
    failed = store.finish_answer(store.begin_answer(conv.id).id, Outcome.FAILED, "half", error=err, duration_ms=7)
    assert (failed.error, failed.duration_ms, failed.text) == (err, 7, "half")
    filtered = store.finish_answer(
        store.begin_answer(conv.id).id, Outcome.FILTERED, "", filter_categories=["violence", "hate"]
    )
    assert filtered.filter_categories == ("violence", "hate")


def test_finish_rejects_streaming_and_missing(store: HistoryStore) -> None:
    conv = store.create_conversation()
    ans = store.begin_answer(conv.id)
    with pytest.raises(ValueError, match="final outcome"):
        store.finish_answer(ans.id, Outcome.STREAMING, "")
    with pytest.raises(NotFoundError):
        store.finish_answer(9999, Outcome.COMPLETE, "")


def test_load_messages_pages_backwards(store: HistoryStore) -> None:
    conv = store.create_conversation()
    for i in range(10):
        store.add_user_message(conv.id, f"m{i}")
    last = store.load_messages(conv.id, limit=4)
    assert [m.text for m in last] == ["m6", "m7", "m8", "m9"]
    older = store.load_messages(conv.id, limit=4, before_position=last[0].position)
    assert [m.text for m in older] == ["m2", "m3", "m4", "m5"]
    oldest = store.load_messages(conv.id, limit=4, before_position=older[0].position)
    assert [m.text for m in oldest] == ["m0", "m1"]
    assert store.message_count(conv.id) == 10


def test_edit_supersedes_later_messages_and_can_be_undone(store: HistoryStore) -> None:
    conv = store.create_conversation()
    q1 = store.add_user_message(conv.id, "q1", [PNG])
    a1 = store.finish_answer(store.begin_answer(conv.id).id, Outcome.COMPLETE, "a1")
    q2 = store.add_user_message(conv.id, "q2")
    a2 = store.finish_answer(store.begin_answer(conv.id).id, Outcome.COMPLETE, "a2")

    edited = store.edit_user_message(q2.id, "q2 better")
    assert [m.text for m in store.load_messages(conv.id)] == ["q1", "a1", "q2 better"]
    assert store.message_count(conv.id) == 3
    assert [m.id for m in store.superseded_messages(conv.id)] == [q2.id, a2.id]
    assert all(m.superseded_by == edited.id for m in store.superseded_messages(conv.id))

    assert store.restore_superseded(conv.id) == 2
    assert [m.id for m in store.load_messages(conv.id)] == [q1.id, a1.id, q2.id, a2.id]
    assert store.get_message(edited.id) is None
    assert store.restore_superseded(conv.id) == 0


def test_next_edit_purges_previous_revision(store: HistoryStore) -> None:
    conv = store.create_conversation()
    q1 = store.add_user_message(conv.id, "q1", [PNG])
    store.finish_answer(store.begin_answer(conv.id).id, Outcome.COMPLETE, "a1")
    first = store.edit_user_message(q1.id, "q1 v2")
    assert first.attachments == (PNG,)  # kept when not given
    second = store.edit_user_message(first.id, "q1 v3", attachments=[])
    assert second.attachments == ()
    assert [m.text for m in store.superseded_messages(conv.id)] == ["q1 v2"]
    assert store.get_message(q1.id) is None
    assert [m.text for m in store.load_messages(conv.id)] == ["q1 v3"]


def test_only_current_user_messages_can_be_edited(store: HistoryStore) -> None:
    conv = store.create_conversation()
    q = store.add_user_message(conv.id, "q")
    ans = store.begin_answer(conv.id)
    with pytest.raises(HistoryError, match="edited"):
        store.edit_user_message(ans.id, "x")
    store.edit_user_message(q.id, "q2")
    with pytest.raises(HistoryError, match="edited"):
        store.edit_user_message(q.id, "again")
    with pytest.raises(NotFoundError):
        store.edit_user_message(12345, "x")


def test_deleting_a_conversation_removes_its_messages(store: HistoryStore) -> None:
    conv = store.create_conversation()
    q = store.add_user_message(conv.id, "q", [PNG])
    store.edit_user_message(q.id, "q2")
    store.delete_conversation(conv.id)
    store.purge_deleted()
    assert store.get_message(q.id) is None


def test_writes_while_another_process_holds_the_file_fail_clearly(db_path: Path) -> None:
    store = HistoryStore(db_path, busy_timeout_ms=20)
    store.open()
    conv = store.create_conversation()
    ans = store.begin_answer(conv.id)
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(HistoryLockedError, match="in use"):
            store.add_user_message(conv.id, "hi")
        with pytest.raises(HistoryLockedError):
            store.checkpoint_answer(ans.id, "text")
    finally:
        holder.close()
    store.checkpoint_answer(ans.id, "text")
    assert store.load_messages(conv.id)[-1].text == "text"
    store.close()


def test_other_write_failures_become_history_errors(store: HistoryStore) -> None:
    conv = store.create_conversation()
    store._db.execute("PRAGMA query_only = ON")  # stands in for a read-only or full disk
    with pytest.raises(HistoryError, match="Could not save"):
        store.add_user_message(conv.id, "hi")


def test_appended_checkpoints_are_cheap_readable_and_survive_a_crash(
    store: HistoryStore, db_path: Path, clock: StepClock
) -> None:
    conv = store.create_conversation()
    ans = store.begin_answer(conv.id)
    for piece in ("Once ", "upon ", "a time"):
        store.append_answer(ans.id, piece)
    # The message row itself is not rewritten (nor re-indexed for search) at each checkpoint: only a part is added.
    assert store._db.execute("SELECT text FROM messages WHERE id = ?", (ans.id,)).fetchone()[0] == ""
    loaded = store.get_message(ans.id)
    assert loaded is not None
    assert loaded.text == "Once upon a time"
    assert store.load_messages(conv.id)[-1].text == "Once upon a time"
    store.close()  # as if the app died here

    again = HistoryStore(db_path, clock=clock)
    report = again.open()
    assert report.interrupted_answers == 1
    msg = again.get_message(ans.id)
    assert msg is not None
    assert (msg.outcome, msg.text) == (Outcome.INTERRUPTED, "Once upon a time")
    assert [h.message_id for h in again.search("upon")] == [ans.id]
    assert again._db.execute("SELECT count(*) FROM answer_parts").fetchone()[0] == 0
    again.close()


def test_finishing_replaces_the_parts_and_late_appends_are_ignored(store: HistoryStore) -> None:
    conv = store.create_conversation()
    ans = store.begin_answer(conv.id)
    store.append_answer(ans.id, "partial ")
    store.finish_answer(ans.id, Outcome.COMPLETE, "partial and whole")
    store.append_answer(ans.id, "stale")
    msg = store.get_message(ans.id)
    assert msg is not None
    assert msg.text == "partial and whole"
    assert store._db.execute("SELECT count(*) FROM answer_parts").fetchone()[0] == 0
