"""Attached files: stored once by content, their read text searchable apart from the messages, kept by edits,
exports and upgrades, and removed with the last message that uses them."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from desktop.storage import Attachment, HistoryStore
from desktop.storage._schema import MIGRATIONS
from tests.storage.conftest import StepClock

REPORT = Attachment("application/pdf", b"%PDF-1.4 quarterly", "report.pdf", "Quarterly figures: turnover rose.")
PNG = Attachment("image/png", b"\x89PNG\r\n\x1a\n\x00\xff", "shot.png")


def _files(store: HistoryStore) -> int:
    return int(store._db.execute("SELECT count(*) FROM files").fetchone()[0])


def test_the_same_file_attached_twice_is_stored_once(store: HistoryStore) -> None:
    conv = store.create_conversation("c")
    first = store.add_user_message(conv.id, "read this", [REPORT])
    second = store.add_user_message(conv.id, "and again", [REPORT, PNG])
    assert first.attachments == (REPORT,)
    assert second.attachments == (REPORT, PNG)
    assert _files(store) == 2


def test_a_file_goes_with_the_last_message_that_uses_it(store: HistoryStore) -> None:
    one = store.create_conversation("one")
    two = store.create_conversation("two")
    store.add_user_message(one.id, "a", [REPORT])
    store.add_user_message(two.id, "b", [REPORT])
    store.delete_conversation(one.id)
    store.purge_deleted()
    assert _files(store) == 1
    store.delete_conversation(two.id)
    store.purge_deleted()
    assert _files(store) == 0
    assert store.search("turnover") == []


def test_text_read_from_a_document_is_found_by_search_but_not_its_bytes(store: HistoryStore) -> None:
    conv = store.create_conversation("Budget talk")
    message = store.add_user_message(conv.id, "what changed?", [REPORT])
    [hit] = store.search("turnover")
    assert (hit.conversation_id, hit.message_id, hit.conversation_title) == (conv.id, message.id, "Budget talk")
    assert hit.snippet.startswith("report.pdf: ")
    assert "\x02turnover\x03" in hit.snippet
    assert store.search("quarterly figures")  # the text, not the PDF's bytes ("%PDF-1.4 quarterly") is indexed
    assert len(store.search("PDF")) == 0


def test_edit_keeps_the_attachments_and_hides_the_old_revision_from_search(store: HistoryStore) -> None:
    conv = store.create_conversation("c")
    first = store.add_user_message(conv.id, "summarise", [REPORT])
    edited = store.edit_user_message(first.id, "summarise briefly")
    assert edited.attachments == (REPORT,)
    assert [h.message_id for h in store.search("turnover")] == [edited.id]
    assert _files(store) == 1


def test_export_and_import_carry_the_file_and_its_text(store: HistoryStore, tmp_path: Path, clock: StepClock) -> None:
    conv = store.create_conversation("c")
    store.add_user_message(conv.id, "see attached", [REPORT, PNG])
    archive = tmp_path / "all.json"
    store.export_archive(archive)
    assert "report.pdf" in store.export_markdown(conv.id)
    other = HistoryStore(tmp_path / "other" / "history.sqlite3", clock=clock)
    other.open()
    try:
        [cid] = other.import_archive(archive).conversation_ids
        [message] = other.load_messages(cid)
        assert message.attachments == (REPORT, PNG)
        assert [h.conversation_id for h in other.search("turnover")] == [cid]
    finally:
        other.close()


def test_upgrade_moves_inline_attachments_into_files_once(db_path: Path, clock: StepClock) -> None:
    db_path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(db_path)) as conn:
        for step in MIGRATIONS[:4]:
            conn.executescript(step)
        conn.execute("PRAGMA user_version = 4")
        conn.execute("INSERT INTO conversations (id, uuid, title, created_at, updated_at) VALUES (1, 'u', 'old', 1, 1)")
        conn.executemany(
            "INSERT INTO messages (id, conversation_id, position, role, text, outcome, created_at)"
            " VALUES (?, 1, ?, 'user', 'look', 'complete', 1)",
            [(1, 1), (2, 2)],
        )
        conn.executemany(
            "INSERT INTO attachments (message_id, position, mime, name, data) VALUES (?, ?, ?, ?, ?)",
            [
                (1, 0, PNG.mime, PNG.name, PNG.data),
                (2, 0, PNG.mime, PNG.name, PNG.data),
                (2, 1, "image/gif", "", b"GIF"),
            ],
        )
        conn.commit()
    store = HistoryStore(db_path, clock=clock)
    store.open()
    try:
        assert [m.attachments for m in store.load_messages(1)] == [(PNG,), (PNG, Attachment("image/gif", b"GIF"))]
        assert _files(store) == 2
    finally:
        store.close()
