"""An answer's thinking (the model's reasoning summary): saved, found by search, exported and imported back."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from desktop.storage import MARK_END, MARK_START, HistoryStore, Outcome
from desktop.storage._schema import MIGRATIONS
from tests.storage.conftest import StepClock


def thought_answer(store: HistoryStore) -> tuple[int, int]:
    conv = store.create_conversation("Fruit")
    store.add_user_message(conv.id, "What is a kumquat?")
    row = store.begin_answer(conv.id, deployment="o4-mini", api="responses", reasoning_effort="high", preset="Concise")
    store.finish_answer(
        row.id,
        Outcome.COMPLETE,
        "A small citrus fruit.",
        reasoning="**Recalling botany**\n\nThe user asks about a citrus; mention its edible peel.",
        thinking_ms=12_400,
    )
    return conv.id, row.id


def test_the_thinking_and_the_settings_used_are_saved(store: HistoryStore) -> None:
    _cid, mid = thought_answer(store)
    saved = store.get_message(mid)
    assert saved is not None
    assert saved.reasoning.startswith("**Recalling botany**")
    assert (saved.thinking_ms, saved.reasoning_effort, saved.preset) == (12_400, "high", "Concise")


def test_finishing_without_thinking_keeps_what_was_there(store: HistoryStore) -> None:
    conv = store.create_conversation("x")
    row = store.begin_answer(conv.id)
    store.finish_answer(row.id, Outcome.STOPPED, "Half", reasoning="Weighing options", thinking_ms=3000)
    again = store.finish_answer(row.id, Outcome.STOPPED, "Half")
    assert (again.reasoning, again.thinking_ms, again.reasoning_effort) == ("Weighing options", 3000, None)


def test_search_finds_a_conversation_by_words_of_its_thinking(store: HistoryStore) -> None:
    cid, mid = thought_answer(store)
    [hit] = store.search("botany")
    assert (hit.conversation_id, hit.message_id) == (cid, mid)
    assert f"{MARK_START}botany{MARK_END}" in hit.snippet
    assert next(h.message_id for h in store.search("citrus")) == mid  # the answer and its thinking both say it
    store.finish_answer(mid, Outcome.COMPLETE, "A small citrus fruit.", reasoning="Nothing special")
    assert store.search("botany") == []  # the index follows a changed thinking


def test_existing_rows_are_indexed_by_the_migration(db_path: Path, clock: StepClock) -> None:
    db_path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(db_path)) as conn:
        for step in MIGRATIONS[:-1]:
            conn.executescript(step)
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
        conn.execute("INSERT INTO conversations (id, uuid, title, created_at, updated_at) VALUES (1, 'u', 'Old', 0, 0)")
        conn.execute(
            "INSERT INTO messages (conversation_id, position, role, text, outcome, created_at)"
            " VALUES (1, 1, 'user', 'an old persimmon question', 'complete', 0)"
        )
        conn.commit()
    store = HistoryStore(db_path, clock=clock)
    store.open()
    try:
        assert [h.conversation_id for h in store.search("persimmon")] == [1]
        with closing(sqlite3.connect(db_path)) as conn:
            conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
    finally:
        store.close()


def test_export_and_import_keep_the_thinking(store: HistoryStore, tmp_path: Path, clock: StepClock) -> None:
    cid, _mid = thought_answer(store)
    markdown = store.export_markdown(cid)
    assert "> **Thinking** (12 s)\n>\n> **Recalling botany**\n>\n> The user asks about a citrus" in markdown
    assert markdown.index("Thinking") < markdown.index("A small citrus fruit.")
    archive = tmp_path / "all.json"
    store.export_archive(archive)
    exported = json.loads(archive.read_text())["conversations"][0]["messages"][1]
    assert (exported["thinking_ms"], exported["reasoning_effort"], exported["preset"]) == (12_400, "high", "Concise")

    other = HistoryStore(tmp_path / "other.sqlite3", clock=clock)
    other.open()
    try:
        report = other.import_archive(archive)
        [answer] = [m for m in other.load_messages(report.conversation_ids[0]) if m.reasoning]
        assert answer.reasoning.startswith("**Recalling botany**")
        assert (answer.thinking_ms, answer.reasoning_effort, answer.preset) == (12_400, "high", "Concise")
        assert [h.message_id for h in other.search("botany")] == [answer.id]
    finally:
        other.close()


def test_an_archive_from_before_the_thinking_still_imports(store: HistoryStore, tmp_path: Path) -> None:
    cid, _mid = thought_answer(store)
    data = json.loads(store.export_json(cid))
    for message in data["conversations"][0]["messages"]:
        for key in ("reasoning", "thinking_ms", "reasoning_effort", "preset"):
            del message[key]
    data["conversations"][0]["uuid"] = "older"
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    report = store.import_archive(path)
    answer = store.load_messages(report.conversation_ids[0])[-1]
    assert (answer.text, answer.reasoning, answer.thinking_ms) == ("A small citrus fruit.", "", None)
