"""Large histories: every statement the store runs uses an index (checked with EXPLAIN QUERY PLAN)."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from desktop.storage import Attachment, HistoryStore, Outcome, Usage
from tests.storage.bigdb import populate


# A full-table scan reads as "SCAN <table or alias>" with no "USING ... INDEX"; virtual tables (FTS, json_each)
# have their own index machinery.
def is_full_scan(line: str) -> bool:
    """True for a plan line that reads a whole table rather than an index."""
    return line.startswith("SCAN ") and "INDEX" not in line and "VIRTUAL TABLE" not in line


def plans(db_path: Path, statements: list[str]) -> dict[str, list[str]]:
    """EXPLAIN QUERY PLAN of each statement, as its detail lines."""
    out: dict[str, list[str]] = {}
    with closing(sqlite3.connect(db_path)) as conn:
        for sql in statements:
            out[sql] = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
    return out


def test_no_full_scans_on_a_large_history(db_path: Path) -> None:
    store = HistoryStore(db_path)
    store.open()
    big = populate(store)
    seen: list[str] = []
    store._db.set_trace_callback(seen.append)

    store.list_conversations(limit=100)
    store.list_conversations(limit=100, offset=4000, include_archived=True)
    store.count_conversations()
    store.count_conversations(include_archived=True)
    assert len(store.load_messages(big, limit=200)) == 200
    assert len(store.load_messages(big, limit=200, before_position=1000)) == 200
    assert store.message_count(big) == 2000
    q = store.add_user_message(big, "hello", [Attachment("image/png", b"x")])
    ans = store.begin_answer(big)
    store.checkpoint_answer(ans.id, "partial")
    store.finish_answer(ans.id, Outcome.COMPLETE, "done", usage=Usage(input_tokens=5, output_tokens=3, cached_tokens=1))
    now = datetime.now(UTC) + timedelta(seconds=1)  # the last period ends after the answer (the same ms missed it)
    days = [now - timedelta(days=30 - i) for i in range(31)]
    assert sum(r.answers for r in store.usage_per_period(days)) == 1
    assert store.conversation_usage(big)
    store.get_conversation(big)
    store.rename(big, "new title")
    edited = store.edit_user_message(q.id, "hello again")
    store.superseded_messages(big)
    store.restore_superseded(big)
    assert store.get_message(edited.id) is None
    store.search("lorem 1999")
    store.export_markdown(big)
    store.delete_conversation(1)
    store.purge_deleted()
    store._db.set_trace_callback(None)
    store.close()
    reopened = HistoryStore(db_path)
    reopened.open()
    reopened.close()

    statements = [s for s in seen if not re.match(r"(BEGIN|COMMIT|ROLLBACK|PRAGMA|--)", s)]
    assert len(statements) > 20
    report = plans(db_path, statements)
    scans = {sql: lines for sql, lines in report.items() if any(map(is_full_scan, lines))}
    assert scans == {}
    listing = next(lines for sql, lines in report.items() if "ORDER BY pinned DESC" in sql)
    assert not any("TEMP B-TREE" in line for line in listing)  # served in index order, not sorted


def test_open_finds_streaming_rows_by_index(db_path: Path) -> None:
    store = HistoryStore(db_path)
    store.open()
    store.close()
    [[line]] = plans(db_path, ["SELECT id FROM messages WHERE outcome = 'streaming'"]).values()
    assert "messages_streaming" in line
