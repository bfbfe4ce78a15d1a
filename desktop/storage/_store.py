"""The conversation history store: a synchronous SQLite facade used from the event-loop thread."""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, cast

from desktop.storage import _archive, _opening
from desktop.storage._models import (
    Api,
    ArchiveError,
    Attachment,
    Conversation,
    HistoryError,
    ImportReport,
    Message,
    MessageError,
    NotFoundError,
    OpenReport,
    Outcome,
    Role,
    SearchHit,
    Usage,
    UsageRow,
)
from desktop.storage._opening import sha256_hex
from desktop.storage._search import MARK_END, MARK_START, fts_query

log = logging.getLogger(__name__)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS: Final = timedelta(milliseconds=1)
_NO_POSITION: Final = 2**62
_APIS: Final = (None, "responses", "chat")


class _Unset(enum.Enum):
    UNSET = enum.auto()


UNSET: Final = _Unset.UNSET
"""Marks a field `update_conversation` should leave as it is."""


def _ms(when: datetime) -> int:
    return (when - _EPOCH) // _ONE_MS


def _dt(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _clean(text: str) -> str:
    # Lone surrogates (pasted from some Windows apps) cannot be encoded as UTF-8 and would make sqlite3 raise.
    return text.encode("utf-8", "replace").decode("utf-8")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _check_api(api: str | None) -> None:
    if api not in _APIS:
        raise ValueError(f"api must be one of {_APIS}, not {api!r}")


def _conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(
        id=row["id"],
        uuid=row["uuid"],
        title=row["title"],
        profile_id=row["profile_id"],
        deployment=row["deployment"],
        api=row["api"],
        instructions=row["instructions"],
        params=json.loads(row["params"]),
        pinned=bool(row["pinned"]),
        archived=bool(row["archived"]),
        created_at=_dt(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
    )


def _message(row: sqlite3.Row, attachments: tuple[Attachment, ...]) -> Message:
    usage, error = row["usage"], row["error"]
    settings = _settings(row["settings"])
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        position=row["position"],
        role=Role(row["role"]),
        text=row["text"],
        outcome=Outcome(row["outcome"]),
        created_at=_dt(row["created_at"]),
        attachments=attachments,
        error=MessageError.from_json(json.loads(error)) if error else None,
        usage=Usage.from_json(json.loads(usage)) if usage else None,
        model=row["model"],
        deployment=row["deployment"],
        api=row["api"],
        request_id=row["request_id"],
        filter_categories=tuple(json.loads(row["filter_categories"])),
        finished_at=None if row["finished_at"] is None else _dt(row["finished_at"]),
        duration_ms=row["duration_ms"],
        superseded_by=row["superseded_by"],
        left_out=bool(row["left_out"]),
        reasoning=row["reasoning"],
        thinking_ms=row["thinking_ms"],
        reasoning_effort=settings.get("reasoning_effort"),
        preset=settings.get("preset"),
    )


def _settings(raw: str | None) -> dict[str, str]:
    """The settings an answer was sent with (`messages.settings`, JSON); values that are not text are dropped."""
    data = json.loads(raw) if raw else {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str) and v}


def _settings_json(reasoning_effort: str | None, preset: str | None) -> str | None:
    data = {k: v for k, v in (("reasoning_effort", reasoning_effort), ("preset", preset)) if v}
    return json.dumps(data) if data else None


def _with_attachments(conn: sqlite3.Connection, rows: Sequence[sqlite3.Row]) -> list[Message]:
    found: dict[int, list[Attachment]] = {}
    if rows:
        ids = json.dumps([r["id"] for r in rows])
        for a in conn.execute(
            "SELECT a.message_id, a.mime, a.name, f.data, f.text FROM attachments a JOIN files f ON f.id = a.file_id"
            " WHERE a.message_id IN (SELECT value FROM json_each(?)) ORDER BY a.message_id, a.position",
            (ids,),
        ):
            found.setdefault(a["message_id"], []).append(Attachment(a["mime"], bytes(a["data"]), a["name"], a["text"]))
    messages = [_message(r, tuple(found.get(r["id"], ()))) for r in rows]
    streaming = [m.id for m in messages if m.outcome is Outcome.STREAMING]
    if not streaming:
        return messages
    parts: dict[int, list[str]] = {}
    for p in conn.execute(
        "SELECT message_id, text FROM answer_parts WHERE message_id IN (SELECT value FROM json_each(?))"
        " ORDER BY message_id, seq",
        (json.dumps(streaming),),
    ):
        parts.setdefault(p[0], []).append(p[1])
    return [dataclasses.replace(m, text=m.text + "".join(parts[m.id])) if m.id in parts else m for m in messages]


def _fold_parts(conn: sqlite3.Connection) -> None:
    """Join the appended checkpoints of answers a crash left streaming into their text (inside a transaction)."""
    ids = [r[0] for r in conn.execute("SELECT DISTINCT message_id FROM answer_parts")]
    for message_id in ids:
        tail = "".join(
            r[0] for r in conn.execute("SELECT text FROM answer_parts WHERE message_id = ? ORDER BY seq", (message_id,))
        )
        conn.execute("UPDATE messages SET text = text || ? WHERE id = ?", (tail, message_id))
    conn.execute("DELETE FROM answer_parts")


_LIST_SQL = (
    "SELECT * FROM conversations WHERE deleted_at IS NULL {archived}"
    " ORDER BY pinned DESC, updated_at DESC, id DESC LIMIT ? OFFSET ?"
)
_LAST_MESSAGES_SQL = (
    "SELECT * FROM messages WHERE conversation_id = ? AND superseded_by IS NULL AND position < ?"
    " ORDER BY position DESC LIMIT ?"
)

# Oldest first, so an import creates conversations in their original order (ids break ties in the list).
_EXPORT_SQL = "SELECT * FROM conversations WHERE deleted_at IS NULL ORDER BY id"


def _list_sql(include_archived: bool) -> str:
    # The literal `archived = 0` lets SQLite pick the partial index conversations_listed_active.
    return _LIST_SQL.format(archived="" if include_archived else "AND archived = 0")


class HistoryStore:
    """Conversation history in one SQLite file: crash-safe answers, search, export, migrations and recovery.

    Synchronous and meant for the event-loop thread: every write is one short WAL transaction. `export_archive`
    reads through its own connection, so it may also run in a worker thread.

    Edits (`edit_user_message`): the edited message and everything after it get `superseded_by` = the id of the
    new user message, which is appended at the end. Superseded messages are hidden from `load_messages`, search and
    export, and can be brought back with `restore_superseded` until the next edit in that conversation purges them.

    Deleting a conversation is soft (`restore_conversation` undoes it) until `purge_deleted` or the next `open`.
    """

    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000, clock: Callable[[], datetime] = _utcnow) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._clock = clock
        self._conn: sqlite3.Connection | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def open(self) -> OpenReport:
        """Open (create, migrate or recover) the database; raises HistoryLockedError / HistoryError."""
        if self._conn is not None:
            raise HistoryError("The chat history is already open.")
        now = self._now()
        try:
            conn, report = _opening.open_database(self.path, self._busy_timeout_ms, now)
        except OSError as exc:
            raise HistoryError(
                f"Could not open the chat history at {self.path} ({exc.strerror or exc}). "
                "Check that the folder exists and is writable."
            ) from exc
        try:
            with _opening.transaction(conn):
                _fold_parts(conn)
                interrupted = conn.execute(
                    "UPDATE messages SET outcome = 'interrupted', finished_at = ?, duration_ms = ? - created_at"
                    " WHERE outcome = 'streaming'",
                    (_ms(now), _ms(now)),
                ).rowcount
                purged = conn.execute("DELETE FROM conversations WHERE deleted_at IS NOT NULL").rowcount
        except sqlite3.Error as exc:
            conn.close()
            if _opening.is_locked(exc):
                raise _opening.locked_error(self.path) from exc
            if not _opening.is_damage(exc):
                raise _opening.unavailable_error(self.path, exc) from exc
            raise HistoryError(f"Could not open the chat history at {self.path} ({exc}).") from exc
        self._conn = conn
        message = report.message
        if interrupted:
            message = (
                f"{message} {interrupted} answer(s) were cut off when the app last closed; what had arrived was kept."
            ).strip()
        return dataclasses.replace(
            report, message=message, interrupted_answers=interrupted, purged_conversations=purged
        )

    def close(self) -> None:
        """Close the database (idempotent), with a quick check first: a file found healthy and left unchanged is not
        checked again when it is next opened (`_opening.close_checked`)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            _opening.close_checked(conn, self.path)

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise HistoryError("The chat history is closed.")
        return self._conn

    def _now(self) -> datetime:
        return _dt(_ms(self._clock()))

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction; environment failures (locked, disk full, I/O) become HistoryError for the user."""
        try:
            with _opening.transaction(self._db) as db:
                yield db
        except sqlite3.OperationalError as exc:
            if _opening.is_locked(exc):
                raise _opening.locked_error(self.path) from exc
            raise HistoryError(f"Could not save to the chat history at {self.path} ({exc}).") from exc

    # -- conversations -------------------------------------------------------------------------------------------

    def create_conversation(
        self,
        title: str = "",
        *,
        profile_id: str | None = None,
        deployment: str | None = None,
        api: Api | None = None,
        instructions: str = "",
        params: dict[str, Any] | None = None,
    ) -> Conversation:
        """Start a new, empty conversation."""
        import uuid as uuidlib  # not at the top: uuid loads `platform`, which the first paint does not need

        _check_api(api)
        now = _ms(self._now())
        with self._write() as db:
            cid = db.execute(
                "INSERT INTO conversations (uuid, title, profile_id, deployment, api, instructions, params,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    str(uuidlib.uuid4()),
                    _clean(title),
                    profile_id,
                    deployment,
                    api,
                    _clean(instructions),
                    json.dumps(params or {}),
                    now,
                    now,
                ),
            ).lastrowid
        return self._require_conversation(cast(int, cid))

    def get_conversation(self, conversation_id: int) -> Conversation | None:
        """The conversation, or None if it does not exist or is deleted."""
        row = self._db.execute(
            "SELECT * FROM conversations WHERE id = ? AND deleted_at IS NULL", (conversation_id,)
        ).fetchone()
        return None if row is None else _conversation(row)

    def _require_conversation(self, conversation_id: int) -> Conversation:
        conv = self.get_conversation(conversation_id)
        if conv is None:
            raise NotFoundError("This conversation no longer exists.")
        return conv

    def list_conversations(
        self, limit: int = 100, offset: int = 0, *, include_archived: bool = False
    ) -> list[Conversation]:
        """A page of conversations: pinned first, then most recently active first."""
        rows = self._db.execute(_list_sql(include_archived), (limit, offset))
        return [_conversation(r) for r in rows]

    def count_conversations(self, *, include_archived: bool = False) -> int:
        """How many conversations `list_conversations` pages through."""
        sql = "SELECT count(*) FROM conversations WHERE deleted_at IS NULL"
        return int(self._db.execute(sql + ("" if include_archived else " AND archived = 0")).fetchone()[0])

    def update_conversation(
        self,
        conversation_id: int,
        *,
        title: str | _Unset = UNSET,
        profile_id: str | _Unset | None = UNSET,
        deployment: str | _Unset | None = UNSET,
        api: Api | _Unset | None = UNSET,
        instructions: str | _Unset = UNSET,
        params: dict[str, Any] | _Unset = UNSET,
        pinned: bool | _Unset = UNSET,
        archived: bool | _Unset = UNSET,
    ) -> Conversation:
        """Change the given fields (others stay); does not move the conversation in the list."""
        changes: dict[str, object] = {}
        if not isinstance(title, _Unset):
            changes["title"] = _clean(title)
        if not isinstance(profile_id, _Unset):
            changes["profile_id"] = profile_id
        if not isinstance(deployment, _Unset):
            changes["deployment"] = deployment
        if not isinstance(api, _Unset):
            _check_api(api)
            changes["api"] = api
        if not isinstance(instructions, _Unset):
            changes["instructions"] = _clean(instructions)
        if not isinstance(params, _Unset):
            changes["params"] = json.dumps(params)
        if not isinstance(pinned, _Unset):
            changes["pinned"] = int(pinned)
        if not isinstance(archived, _Unset):
            changes["archived"] = int(archived)
        if changes:
            # Column names come from the fixed keyword list above, never from the caller.
            assignments = ", ".join(f"{name} = ?" for name in changes)
            with self._write() as db:
                db.execute(
                    f"UPDATE conversations SET {assignments} WHERE id = ? AND deleted_at IS NULL",  # noqa: S608
                    (*changes.values(), conversation_id),
                )
        return self._require_conversation(conversation_id)

    def rename(self, conversation_id: int, title: str) -> Conversation:
        """Set the title."""
        return self.update_conversation(conversation_id, title=title)

    def set_pinned(self, conversation_id: int, pinned: bool) -> Conversation:
        """Pin to (or unpin from) the top of the list."""
        return self.update_conversation(conversation_id, pinned=pinned)

    def set_archived(self, conversation_id: int, archived: bool) -> Conversation:
        """Hide from (or bring back to) the default list."""
        return self.update_conversation(conversation_id, archived=archived)

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete softly: hidden everywhere, undone by `restore_conversation`, gone at `purge_deleted`/next open."""
        self._require_conversation(conversation_id)
        with self._write() as db:
            db.execute("UPDATE conversations SET deleted_at = ? WHERE id = ?", (_ms(self._now()), conversation_id))

    def restore_conversation(self, conversation_id: int) -> Conversation:
        """Undo `delete_conversation`."""
        with self._write() as db:
            db.execute("UPDATE conversations SET deleted_at = NULL WHERE id = ?", (conversation_id,))
        return self._require_conversation(conversation_id)

    def purge_deleted(self) -> int:
        """Remove softly deleted conversations for good; returns how many."""
        with self._write() as db:
            return db.execute("DELETE FROM conversations WHERE deleted_at IS NOT NULL").rowcount

    # -- messages ------------------------------------------------------------------------------------------------

    def _insert_message(
        self,
        db: sqlite3.Connection,
        conversation_id: int,
        *,
        role: Role,
        text: str,
        outcome: Outcome,
        attachments: Iterable[Attachment] = (),
        **extra: object,
    ) -> int:
        if (
            db.execute("SELECT 1 FROM conversations WHERE id = ? AND deleted_at IS NULL", (conversation_id,)).fetchone()
            is None
        ):
            raise NotFoundError("This conversation no longer exists.")
        now = _ms(self._now())
        columns = ["conversation_id", "position", "role", "text", "outcome", "created_at", *extra]
        mid = cast(
            int,
            db.execute(
                f"INSERT INTO messages ({', '.join(columns)}) VALUES"  # noqa: S608 - fixed column names
                " (?, (SELECT coalesce(max(position), 0) + 1 FROM messages WHERE conversation_id = ?),"
                f" ?, ?, ?, ?{', ?' * len(extra)})",
                (conversation_id, conversation_id, role.value, _clean(text), outcome.value, now, *extra.values()),
            ).lastrowid,
        )
        insert_attachments(db, mid, attachments)
        db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
        return mid

    def add_user_message(self, conversation_id: int, text: str, attachments: Sequence[Attachment] = ()) -> Message:
        """Save what the user sent, committed before the request goes out."""
        with self._write() as db:
            mid = self._insert_message(
                db, conversation_id, role=Role.USER, text=text, outcome=Outcome.COMPLETE, attachments=attachments
            )
        return self._require_message(mid)

    def add_system_message(self, conversation_id: int, text: str) -> Message:
        """Save a system message (shown in the transcript, e.g. a note about changed instructions)."""
        with self._write() as db:
            mid = self._insert_message(db, conversation_id, role=Role.SYSTEM, text=text, outcome=Outcome.COMPLETE)
        return self._require_message(mid)

    def begin_answer(
        self,
        conversation_id: int,
        *,
        model: str | None = None,
        deployment: str | None = None,
        api: Api | None = None,
        reasoning_effort: str | None = None,
        preset: str | None = None,
    ) -> Message:
        """Create the assistant row, outcome "streaming", that checkpoints then fill; with the settings it was asked
        with (the reasoning effort, the instructions preset's name)."""
        _check_api(api)
        with self._write() as db:
            mid = self._insert_message(
                db,
                conversation_id,
                role=Role.ASSISTANT,
                text="",
                outcome=Outcome.STREAMING,
                model=model,
                deployment=deployment,
                api=api,
                settings=_settings_json(reasoning_effort, preset),
            )
        return self._require_message(mid)

    def checkpoint_answer(self, message_id: int, text: str) -> None:
        """Save the whole text so far of a streaming answer (ignored once the answer finished).

        Rewrites and re-indexes the whole text: for checkpoints every second use `append_answer`.
        """
        with self._write() as db:
            changed = db.execute(
                "UPDATE messages SET text = ? WHERE id = ? AND outcome = 'streaming'", (_clean(text), message_id)
            ).rowcount
            if changed:
                db.execute("DELETE FROM answer_parts WHERE message_id = ?", (message_id,))

    def append_answer(self, message_id: int, text: str) -> None:
        """Save the text that arrived since the last checkpoint of a streaming answer (ignored once it finished).

        One small insert whatever the answer's length so far: the cost does not grow as the answer does.
        """
        if not text:
            return
        with self._write() as db:
            db.execute(
                "INSERT INTO answer_parts (message_id, seq, text)"
                " SELECT m.id, (SELECT coalesce(max(seq), 0) + 1 FROM answer_parts WHERE message_id = m.id), ?"
                " FROM messages m WHERE m.id = ? AND m.outcome = 'streaming'",
                (_clean(text), message_id),
            )

    def finish_answer(
        self,
        message_id: int,
        outcome: Outcome,
        text: str,
        *,
        usage: Usage | None = None,
        error: MessageError | None = None,
        request_id: str | None = None,
        model: str | None = None,
        filter_categories: Sequence[str] = (),
        duration_ms: int | None = None,
        reasoning: str | None = None,
        thinking_ms: int | None = None,
    ) -> Message:
        """Finalise an answer with its outcome; duration defaults to the time since `begin_answer`.

        `reasoning` (the model's thinking) and `thinking_ms` are kept as they were when None.
        """
        if outcome is Outcome.STREAMING:
            raise ValueError("finish_answer needs a final outcome")
        now = _ms(self._now())
        with self._write() as db:
            row = db.execute("SELECT conversation_id FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise NotFoundError("This answer no longer exists.")
            db.execute(
                "UPDATE messages SET outcome = ?, text = ?, usage = ?, error = ?, request_id = ?,"
                " model = coalesce(?, model), filter_categories = ?, finished_at = ?,"
                " duration_ms = coalesce(?, ? - created_at), reasoning = coalesce(?, reasoning),"
                " thinking_ms = coalesce(?, thinking_ms) WHERE id = ?",
                (
                    outcome.value,
                    _clean(text),
                    json.dumps(dataclasses.asdict(usage)) if usage else None,
                    json.dumps(dataclasses.asdict(error)) if error else None,
                    request_id,
                    model,
                    json.dumps(list(filter_categories)),
                    now,
                    duration_ms,
                    now,
                    None if reasoning is None else _clean(reasoning),
                    thinking_ms,
                    message_id,
                ),
            )
            db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, row["conversation_id"]))
            db.execute("DELETE FROM answer_parts WHERE message_id = ?", (message_id,))
            if usage is not None:
                _log_usage(db, message_id, now, usage)
        return self._require_message(message_id)

    def get_message(self, message_id: int) -> Message | None:
        """One message (superseded ones included), or None."""
        rows = self._db.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchall()
        return _with_attachments(self._db, rows)[0] if rows else None

    def _require_message(self, message_id: int) -> Message:
        msg = self.get_message(message_id)
        if msg is None:
            raise NotFoundError("This message no longer exists.")
        return msg

    def load_messages(
        self, conversation_id: int, limit: int = 200, before_position: int | None = None
    ) -> list[Message]:
        """The last `limit` current messages, oldest first; pass the first one's position to page further back."""
        return _load_messages(self._db, conversation_id, limit, before_position)

    def message_count(self, conversation_id: int) -> int:
        """How many current (not superseded) messages the conversation has."""
        sql = "SELECT count(*) FROM messages WHERE conversation_id = ? AND superseded_by IS NULL"
        return int(self._db.execute(sql, (conversation_id,)).fetchone()[0])

    def set_left_out(self, message_ids: Sequence[int], left_out: bool) -> list[Message]:
        """Leave messages out of what later turns send (or put them back); returns them as they are now."""
        with self._write() as db:
            db.executemany(
                "UPDATE messages SET left_out = ? WHERE id = ?",
                [(int(left_out), message_id) for message_id in message_ids],
            )
        return [self._require_message(message_id) for message_id in message_ids]

    # -- usage ---------------------------------------------------------------------------------------------------

    def usage_per_period(self, boundaries: Sequence[datetime]) -> list[UsageRow]:
        """Tokens of every answer received between the first and the last boundary (deleted conversations and
        replaced answers included), summed per period [boundaries[i], boundaries[i + 1]), connection, deployment
        and model; a row's `when` is its period's start.

        Pass local midnights to count local days: the periods are the caller's, so time zones and DST are too.
        Each period is one range of the time index, so the cost follows the answers counted, not the log's size.
        """
        starts = json.dumps([_ms(b) for b in boundaries])
        rows = self._db.execute(
            "SELECT b.value, u.profile_id, u.deployment, u.model, sum(u.input_tokens), sum(u.cached_tokens),"
            " sum(u.output_tokens), sum(u.reasoning_tokens), count(*)"
            " FROM json_each(?1) b JOIN usage_log u ON u.at >= b.value"
            " AND u.at < (SELECT min(e.value) FROM json_each(?1) e WHERE e.value > b.value)"
            " GROUP BY b.value, u.profile_id, u.deployment, u.model ORDER BY b.value",
            (starts,),
        ).fetchall()
        return [UsageRow(_dt(r[0]), *r[1:]) for r in rows]

    def conversation_usage(self, conversation_id: int) -> list[UsageRow]:
        """Tokens of the conversation's current answers, summed per deployment and model."""
        rows = self._db.execute(
            "SELECT c.profile_id, m.deployment, m.model,"
            " sum(coalesce(json_extract(m.usage, '$.input_tokens'), 0)),"
            " sum(coalesce(json_extract(m.usage, '$.cached_tokens'), 0)),"
            " sum(coalesce(json_extract(m.usage, '$.output_tokens'), 0)),"
            " sum(coalesce(json_extract(m.usage, '$.reasoning_tokens'), 0)), count(*)"
            " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " WHERE m.conversation_id = ? AND m.superseded_by IS NULL AND m.role = 'assistant'"
            " AND m.usage IS NOT NULL AND json_valid(m.usage)"
            " GROUP BY m.deployment, m.model ORDER BY m.deployment, m.model",
            (conversation_id,),
        ).fetchall()
        return [UsageRow(None, *r) for r in rows]

    # -- edits ---------------------------------------------------------------------------------------------------

    def edit_user_message(self, message_id: int, text: str, attachments: Sequence[Attachment] | None = None) -> Message:
        """Replace a user message and everything after it by a new user message (attachments kept if None)."""
        old = self._require_message(message_id)
        if old.role is not Role.USER or old.superseded_by is not None:
            raise HistoryError("Only your own current messages can be edited.")
        with self._write() as db:
            # Recoverable only until the next edit: the previous revision goes now.
            db.execute(
                "DELETE FROM messages WHERE conversation_id = ? AND superseded_by IS NOT NULL",
                (old.conversation_id,),
            )
            new_attachments = old.attachments if attachments is None else attachments
            mid = self._insert_message(
                db,
                old.conversation_id,
                role=Role.USER,
                text=text,
                outcome=Outcome.COMPLETE,
                attachments=new_attachments,
            )
            db.execute(
                "UPDATE messages SET superseded_by = ? WHERE conversation_id = ? AND superseded_by IS NULL"
                " AND position >= ? AND id != ?",
                (mid, old.conversation_id, old.position, mid),
            )
        return self._require_message(mid)

    def superseded_messages(self, conversation_id: int) -> list[Message]:
        """The messages the last edit replaced (oldest first), recoverable with `restore_superseded`."""
        rows = self._db.execute(
            "SELECT * FROM messages WHERE superseded_by IN"
            " (SELECT id FROM messages WHERE conversation_id = ? AND superseded_by IS NULL) ORDER BY position",
            (conversation_id,),
        ).fetchall()
        return _with_attachments(self._db, rows)

    def restore_superseded(self, conversation_id: int) -> int:
        """Undo the last edit: drop the new message and its answers, bring the replaced ones back."""
        replaced = self.superseded_messages(conversation_id)
        if not replaced:
            return 0
        edit = self._require_message(cast(int, replaced[0].superseded_by))
        with self._write() as db:
            db.execute(
                "DELETE FROM messages WHERE conversation_id = ? AND superseded_by IS NULL AND position >= ?",
                (conversation_id, edit.position),
            )
            # The foreign key's ON DELETE SET NULL already did this; kept explicit so the intent is visible.
            db.execute(
                "UPDATE messages SET superseded_by = NULL WHERE conversation_id = ? AND superseded_by IS NOT NULL",
                (conversation_id,),
            )
        return len(replaced)

    # -- search --------------------------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Best matches over all current messages; never raises on odd input (empty or symbols-only -> [])."""
        match = fts_query(_clean(query).replace("\x00", " "))
        if match is None:
            return []
        try:
            # Messages and the text read from their attached documents: two indexes, one ranked list.
            rows = self._db.execute(
                "SELECT * FROM (SELECT m.conversation_id, m.id, c.title, m.role, m.created_at,"
                " snippet(messages_fts, -1, ?, ?, '…', 16) AS snippet, rank"
                " FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
                " JOIN conversations c ON c.id = m.conversation_id"
                " WHERE messages_fts MATCH ? AND m.superseded_by IS NULL AND c.deleted_at IS NULL"
                " UNION ALL SELECT m.conversation_id, m.id, c.title, m.role, m.created_at,"
                " a.name || ': ' || snippet(files_fts, 0, ?, ?, '…', 16) AS snippet, rank"
                " FROM files_fts JOIN attachments a ON a.file_id = files_fts.rowid"
                " JOIN messages m ON m.id = a.message_id JOIN conversations c ON c.id = m.conversation_id"
                " WHERE files_fts MATCH ? AND m.superseded_by IS NULL AND c.deleted_at IS NULL)"
                " ORDER BY rank LIMIT ?",
                (MARK_START, MARK_END, match, MARK_START, MARK_END, match, limit),
            ).fetchall()
        except sqlite3.OperationalError:
            # fts_query quotes everything, so this would be our bug; an empty result beats a crash mid-typing.
            log.exception("search failed for query %r", match)
            return []
        return [SearchHit(r[0], r[1], r[2], Role(r[3]), r["snippet"], _dt(r["created_at"])) for r in rows]

    # -- export / import -----------------------------------------------------------------------------------------

    def export_markdown(self, conversation_id: int) -> str:
        """The conversation as a readable Markdown transcript."""
        conv = self._require_conversation(conversation_id)
        return _archive.conversation_to_markdown(conv, _load_messages(self._db, conversation_id, None, None))

    def export_json(self, conversation_id: int) -> str:
        """The conversation as a JSON archive of one (so it can be imported again)."""
        conv = self._require_conversation(conversation_id)
        item = _archive.conversation_to_json(conv, _load_messages(self._db, conversation_id, None, None))
        return json.dumps(_archive.archive([item], self._now()), ensure_ascii=False, indent=1)

    def export_archive(self, target: Path) -> int:
        """Write every conversation to a JSON archive (atomically); safe to call from a worker thread."""
        uri = self.path.absolute().as_uri() + "?mode=ro"
        try:
            with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
                conn.row_factory = sqlite3.Row
                conn.execute("BEGIN")  # one snapshot for the whole export
                items = [
                    _archive.conversation_to_json(conv, _load_messages(conn, conv.id, None, None))
                    for conv in map(_conversation, conn.execute(_EXPORT_SQL).fetchall())
                ]
        except sqlite3.Error as exc:
            raise HistoryError(f"Could not read the chat history at {self.path} ({exc}).") from exc
        partial = target.with_name(target.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8") as fh:
                # json.dumps runs the C encoder; json.dump to a file falls back to the ~5x slower Python one.
                fh.write(json.dumps(_archive.archive(items, self._now()), ensure_ascii=False))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(partial, target)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise HistoryError(f"Could not write the export to {target} ({exc.strerror or exc}).") from exc
        return len(items)

    def import_archive(self, source: Path) -> ImportReport:
        """Import an archive; conversations already present (same uuid) are skipped, so importing twice is safe."""
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ArchiveError(f"Could not read {source} as a chat history archive ({exc}).") from exc
        parsed = _archive.parse_archive(data)
        imported: list[int] = []
        with self._write() as db:
            for conv, messages in parsed:
                if db.execute("SELECT 1 FROM conversations WHERE uuid = ?", (conv.uuid,)).fetchone():
                    continue
                imported.append(_insert_imported(db, conv, messages))
        return ImportReport(len(imported), len(parsed) - len(imported), tuple(imported))

    def delete_all_data(self) -> list[Path]:
        """Close and remove the database, its backups and moved-aside copies; returns what was removed."""
        self.close()
        removed: list[Path] = []
        suffixes = ("", "-wal", "-shm", "-journal", _opening.CHECKED_SUFFIX)
        candidates = [self.path.with_name(self.path.name + s) for s in suffixes]
        for path in candidates + _opening.moved_aside_files(self.path):
            if path.exists():
                path.unlink()
                removed.append(path)
        backups = _opening.backup_dir(self.path)
        if backups.is_dir():
            removed.extend(sorted(backups.iterdir()))
            shutil.rmtree(backups)
        return removed


def _log_usage(db: sqlite3.Connection, message_id: int, now: int, usage: Usage) -> None:
    """Record what an answer used in the usage log (once per answer; inside finish_answer's transaction)."""
    db.execute(
        "INSERT OR REPLACE INTO usage_log (at, message_id, profile_id, deployment, model, input_tokens, cached_tokens,"
        " output_tokens, reasoning_tokens) SELECT ?, m.id, c.profile_id, m.deployment, m.model, ?, ?, ?, ?"
        " FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?",
        (
            now,
            usage.input_tokens or 0,
            usage.cached_tokens or 0,
            usage.output_tokens or 0,
            usage.reasoning_tokens or 0,
            message_id,
        ),
    )


def _load_messages(
    conn: sqlite3.Connection, conversation_id: int, limit: int | None, before_position: int | None
) -> list[Message]:
    rows = conn.execute(
        _LAST_MESSAGES_SQL,
        (conversation_id, _NO_POSITION if before_position is None else before_position, -1 if limit is None else limit),
    ).fetchall()
    rows.reverse()
    return _with_attachments(conn, rows)


def _insert_imported(db: sqlite3.Connection, conv: Conversation, messages: Sequence[Message]) -> int:
    cid = cast(
        int,
        db.execute(
            "INSERT INTO conversations (uuid, title, profile_id, deployment, api, instructions, params, pinned,"
            " archived, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                conv.uuid,
                _clean(conv.title),
                conv.profile_id,
                conv.deployment,
                conv.api,
                _clean(conv.instructions),
                json.dumps(conv.params),
                int(conv.pinned),
                int(conv.archived),
                _ms(conv.created_at),
                _ms(conv.updated_at),
            ),
        ).lastrowid,
    )
    for m in messages:
        mid = db.execute(
            "INSERT INTO messages (conversation_id, position, role, text, outcome, error, usage, model, deployment,"
            " api, request_id, filter_categories, created_at, finished_at, duration_ms, left_out, reasoning,"
            " thinking_ms, settings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                cid,
                m.position,
                m.role.value,
                _clean(m.text),
                m.outcome.value,
                json.dumps(dataclasses.asdict(m.error)) if m.error else None,
                json.dumps(dataclasses.asdict(m.usage)) if m.usage else None,
                m.model,
                m.deployment,
                m.api,
                m.request_id,
                json.dumps(list(m.filter_categories)),
                _ms(m.created_at),
                None if m.finished_at is None else _ms(m.finished_at),
                m.duration_ms,
                int(m.left_out),
                _clean(m.reasoning),
                m.thinking_ms,
                _settings_json(m.reasoning_effort, m.preset),
            ),
        ).lastrowid
        insert_attachments(db, cast(int, mid), m.attachments)
    return cid


def insert_attachments(db: sqlite3.Connection, message_id: int, attachments: Iterable[Attachment]) -> None:
    """Attach files to a message; each file's bytes and text are stored once, keyed by their SHA-256."""
    for position, a in enumerate(attachments):
        digest = sha256_hex(a.data)
        db.execute(
            "INSERT INTO files (sha256, data, text) VALUES (?, ?, ?)"
            " ON CONFLICT (sha256) DO UPDATE SET text = excluded.text WHERE files.text = '' AND excluded.text != ''",
            (digest, a.data, _clean(a.text)),
        )
        db.execute(
            "INSERT INTO attachments (message_id, position, mime, name, file_id)"
            " SELECT ?, ?, ?, ?, id FROM files WHERE sha256 = ?",
            (message_id, position, a.mime, _clean(a.name), digest),
        )
