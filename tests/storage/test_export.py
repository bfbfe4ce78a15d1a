"""Export (Markdown, JSON, whole archive), import round trips, bad archives, and deleting all local data."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.storage import (
    ArchiveError,
    Attachment,
    HistoryError,
    HistoryStore,
    MessageError,
    Outcome,
    Usage,
)
from desktop.storage._store import insert_attachments
from tests.conftest import LogFailures
from tests.storage.conftest import StepClock


def fill(store: HistoryStore) -> int:
    """One conversation with every kind of message; returns its id."""
    conv = store.create_conversation(
        "Holiday *plans*", deployment="gpt-4o", api="responses", instructions="Be brief\nand kind", params={"t": 1}
    )
    store.add_user_message(conv.id, "Where to go?", [Attachment("image/png", b"\x00\x01png", "map.png")])
    ans = store.begin_answer(conv.id, model="gpt-4o")
    store.finish_answer(
        ans.id,
        Outcome.FAILED,
        "Try Lisbon",
        usage=Usage(1, 2, 3, 6),
        error=MessageError("Too many requests", "Wait a minute", "429", 429, "req-9"),
        request_id="req-9",
    )
    store.finish_answer(store.begin_answer(conv.id).id, Outcome.FILTERED, "", filter_categories=["violence"])
    store.begin_answer(conv.id)  # still streaming
    store.set_pinned(conv.id, True)
    return conv.id


def test_markdown_transcript(store: HistoryStore) -> None:
    text = store.export_markdown(fill(store))
    assert text.startswith("# Holiday *plans*\n")
    assert "- Deployment: gpt-4o" in text
    assert "> Be brief\n> and kind" in text
    assert "## You · " in text
    assert "- Attachment: map.png (image/png, 5 bytes)" in text
    assert "> **Too many requests**: Wait a minute" in text
    assert "blocked by the content filter: violence" in text
    assert "still being written" in text


def test_json_export_is_an_importable_archive_of_one(store: HistoryStore, tmp_path: Path) -> None:
    cid = fill(store)
    data = json.loads(store.export_json(cid))
    assert data["format"] == "azure-openai-chat-history"
    assert data["version"] == 1
    [conv] = data["conversations"]
    assert conv["title"] == "Holiday *plans*"
    assert [m["outcome"] for m in conv["messages"]] == ["complete", "failed", "filtered", "streaming"]
    target = tmp_path / "one.json"
    target.write_text(store.export_json(cid), encoding="utf-8")
    assert store.import_archive(target).skipped == 1


def test_archive_round_trip_into_a_fresh_store(store: HistoryStore, tmp_path: Path, clock: StepClock) -> None:
    fill(store)
    store.create_conversation("archived one")
    store.set_archived(store.create_conversation("old").id, True)
    gone = store.create_conversation("deleted")
    store.delete_conversation(gone.id)
    archive = tmp_path / "all.json"
    assert store.export_archive(archive) == 3

    other = HistoryStore(tmp_path / "other" / "history.sqlite3", clock=clock)
    other.open()
    report = other.import_archive(archive)
    assert (report.imported, report.skipped) == (3, 0)
    assert snapshot(other) == snapshot(store)
    again = other.import_archive(archive)
    assert (again.imported, again.skipped) == (0, 3)
    assert other.count_conversations(include_archived=True) == 3
    other.close()


def snapshot(store: HistoryStore) -> list[tuple[object, ...]]:
    """Everything that must survive a round trip, with the local ids left out."""
    out: list[tuple[object, ...]] = []
    for conv in store.list_conversations(limit=-1, include_archived=True):
        messages = tuple(
            m.__class__(**{**m.__dict__, "id": 0, "conversation_id": 0}) for m in store.load_messages(conv.id, -1)
        )
        out.append((conv.__class__(**{**conv.__dict__, "id": 0}), messages))
    return out


texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
opt_texts = st.none() | texts
times = st.integers(0, 4_000_000_000_000)  # milliseconds since 1970, as stored
messages = st.lists(
    st.tuples(
        st.sampled_from(["user", "assistant", "system"]),
        texts,
        st.sampled_from([o.value for o in Outcome]),
        times,
        st.none() | times,
        st.lists(st.tuples(texts, st.binary(max_size=30), texts), max_size=2),
        st.none() | st.builds(Usage, *(st.none() | st.integers(0, 2**40) for _ in range(4))),
        st.none() | st.builds(MessageError, texts, texts, opt_texts, st.none() | st.integers(100, 599), opt_texts),
        st.lists(texts, max_size=3),
    ),
    max_size=6,
)
conversations = st.lists(
    st.tuples(texts, opt_texts, st.dictionaries(texts, st.integers() | texts, max_size=3), st.booleans(), messages),
    max_size=4,
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(conversations)
def test_round_trip_property(tmp_path: Path, data: list[tuple[Any, ...]]) -> None:
    folder = tmp_path / str(len(list(tmp_path.iterdir())))
    source = HistoryStore(folder / "a.sqlite3")
    target = HistoryStore(folder / "b.sqlite3")
    source.open()
    target.open()
    for title, deployment, params, pinned, msgs in data:
        conv = source.create_conversation(title, deployment=deployment, params=params)
        source.set_pinned(conv.id, pinned)
        for role, text, outcome, created, finished, atts, usage, error, cats in msgs:
            # Written through SQL so every field (times, any outcome for any role) takes arbitrary values.
            mid = source._db.execute(
                "INSERT INTO messages (conversation_id, position, role, text, outcome, created_at, finished_at,"
                " usage, error, filter_categories) VALUES (?, (SELECT count(*) + 1 FROM messages"
                " WHERE conversation_id = ?), ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conv.id, conv.id, role, text, outcome,
                    created, finished,
                    None if usage is None else json.dumps(usage.__dict__),
                    None if error is None else json.dumps(error.__dict__),
                    json.dumps(cats),
                ),
            ).lastrowid  # fmt: skip
            insert_attachments(source._db, mid, [Attachment(mime, blob, name) for mime, blob, name in atts])
    archive = folder / "archive.json"
    source.export_archive(archive)
    target.import_archive(archive)
    assert snapshot(target) == snapshot(source)
    source.close()
    target.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe not utf-8", "Could not read"),
        (b"{not json", "Could not read"),
        (b"[]", "expected an object"),
        (b'{"format": "something else"}', "not a chat history archive"),
        (b'{"format": "azure-openai-chat-history", "version": 99}', "format version 99"),
        (b'{"format": "azure-openai-chat-history", "version": 1}', "conversations"),
        (b'{"format": "azure-openai-chat-history", "version": 1, "conversations": [1]}', "conversations[0]"),
    ],
)
def test_bad_archives_are_refused_clearly(store: HistoryStore, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ArchiveError, match=message.replace("[", r"\[").replace("]", r"\]")):
        store.import_archive(path)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", 5, "title"),
        ("created_at", "yesterday", "not a date"),
        ("created_at", "2026-01-01T00:00:00", "time zone"),
        ("api", "completions", "not one of"),
        ("params", [], "params"),
        ("pinned", "yes", "pinned"),
    ],
)
def test_a_bad_field_names_itself_and_imports_nothing(
    store: HistoryStore, tmp_path: Path, field: str, value: object, message: str
) -> None:
    fill(store)
    good = json.loads(store.export_json(store.list_conversations()[0].id))
    good["conversations"][0]["uuid"] = "fresh"
    bad = json.loads(json.dumps(good))
    bad["conversations"][0][field] = value
    path = tmp_path / "bad.json"
    bad["conversations"][0]["uuid"] = "fresh-2"
    path.write_text(json.dumps({**good, "conversations": good["conversations"] + bad["conversations"]}))
    with pytest.raises(ArchiveError, match=message):
        store.import_archive(path)
    assert store.count_conversations() == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda m: m.update(role="robot"), "role"),
        (lambda m: m.update(position=None), "position"),
        (lambda m: m.update(position=True), "position"),
        (lambda m: m.update(filter_categories=[1]), "filter_categories"),
        (lambda m: m["attachments"][0].update(data="***"), "base64"),
        (lambda m: m.update(usage={"input_tokens": "many"}), "input_tokens"),
        (lambda m: m.update(error={"title": "t"}), "message"),
    ],
)
def test_bad_message_fields_are_refused(store: HistoryStore, tmp_path: Path, mutate: object, message: str) -> None:
    data = json.loads(store.export_json(fill(store)))
    data["conversations"][0]["uuid"] = "other"
    mutate(data["conversations"][0]["messages"][0])  # type: ignore[operator]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ArchiveError, match=message):
        store.import_archive(path)


def test_duplicate_positions_are_refused(store: HistoryStore, tmp_path: Path) -> None:
    data = json.loads(store.export_json(fill(store)))
    data["conversations"][0]["uuid"] = "other"
    data["conversations"][0]["messages"][1]["position"] = 1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ArchiveError, match="share a position"):
        store.import_archive(path)


def test_missing_archive_file(store: HistoryStore, tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="Could not read"):
        store.import_archive(tmp_path / "nope.json")


def test_export_to_unwritable_place_is_a_clear_error(store: HistoryStore, tmp_path: Path) -> None:
    fill(store)
    with pytest.raises(HistoryError, match="Could not write the export"):
        store.export_archive(tmp_path / "missing-folder" / "x.json")
    assert not (tmp_path / "missing-folder").exists()


def test_delete_all_data_removes_database_backups_and_moved_files(
    db_path: Path, clock: StepClock, logfail: LogFailures
) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"junk" * 100)
    logfail.allow("desktop.storage", "moved to")
    store = HistoryStore(db_path, clock=clock)
    moved = store.open().moved_to
    backup = db_path.parent / "backups" / "history-x-from-v1.sqlite3"
    backup.parent.mkdir()
    with closing(sqlite3.connect(backup)):
        pass
    fill(store)
    removed = store.delete_all_data()
    assert db_path in removed
    assert moved in removed
    assert backup in removed
    assert sorted(p.name for p in db_path.parent.iterdir()) == []
    with pytest.raises(HistoryError, match="closed"):
        store.list_conversations()
    assert store.open().status.value == "created"
    store.close()


def test_export_of_a_missing_history_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="Could not read the chat history"):
        HistoryStore(tmp_path / "none.sqlite3").export_archive(tmp_path / "x.json")
