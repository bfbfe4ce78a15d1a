"""Value objects and errors of the history store."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

Api = Literal["responses", "chat"]
JsonObject = dict[str, Any]


class Role(enum.StrEnum):
    """Who wrote a message."""

    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


class Outcome(enum.StrEnum):
    """How a message ended; user and system messages are always complete."""

    COMPLETE = "complete"
    STREAMING = "streaming"
    STOPPED = "stopped"
    FAILED = "failed"
    FILTERED = "filtered"
    INTERRUPTED = "interrupted"


class OpenStatus(enum.StrEnum):
    """What `HistoryStore.open` found."""

    OK = "ok"
    CREATED = "created"
    MIGRATED = "migrated"
    RECOVERED = "recovered"  # the old file was unusable, moved aside, and a fresh database created


@dataclass(frozen=True)
class Attachment:
    """An image or a document sent with a message; thumbnails are the UI's job.

    `text` is what was read from a document on this computer (searchable, sent to models that cannot read the file
    itself); empty for images. Stored once per content, however many messages attach it.
    """

    mime: str
    data: bytes
    name: str = ""
    text: str = ""


@dataclass(frozen=True)
class Usage:
    """Token counts reported by the service for one answer.

    `cached_tokens` are part of `input_tokens` (the prompt's start the service had seen recently), and
    `reasoning_tokens` part of `output_tokens`.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    total_tokens: int | None = None
    cached_tokens: int | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> Usage:
        """Rebuild from the stored JSON, ignoring fields this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known and (v is None or isinstance(v, int))})


@dataclass(frozen=True)
class UsageRow:
    """Tokens of some answers, summed: per time bucket (`when`) or for a whole conversation (`when` None).

    `profile_id` is the connection the answers came through; with `deployment` it finds the prices that apply.
    """

    when: datetime | None
    profile_id: str | None
    deployment: str | None
    model: str | None
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int
    answers: int


@dataclass(frozen=True)
class MessageError:
    """Why an answer failed, in the words the UI showed, with the button it offered (kept across restarts).

    `action` and `category` are the services' names (ErrorAction and Category values); `problem` is the whole
    problem as the services wrote it (details for an administrator, retry and rate-limit information).
    """

    title: str
    message: str
    code: str | None = None
    status: int | None = None
    request_id: str | None = None
    action: str | None = None
    category: str | None = None
    problem: JsonObject | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> MessageError:
        """Rebuild from the stored JSON, ignoring fields this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Conversation:
    """One conversation and its settings (messages are loaded separately)."""

    id: int
    uuid: str
    title: str
    profile_id: str | None
    deployment: str | None
    api: Api | None
    instructions: str
    params: JsonObject
    pinned: bool
    archived: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Message:
    """One message; `superseded_by` is set when an edit replaced it (see `HistoryStore.edit_user_message`)."""

    id: int
    conversation_id: int
    position: int
    role: Role
    text: str
    outcome: Outcome
    created_at: datetime
    attachments: tuple[Attachment, ...] = ()
    error: MessageError | None = None
    usage: Usage | None = None
    model: str | None = None
    deployment: str | None = None
    api: Api | None = None
    request_id: str | None = None
    filter_categories: tuple[str, ...] = ()
    finished_at: datetime | None = None
    duration_ms: int | None = None
    superseded_by: int | None = None
    left_out: bool = False  # the user chose to continue without it: not sent with later turns
    reasoning: str = ""  # the model's reasoning summary ("thinking"), shown above the answer
    thinking_ms: int | None = None  # from the request to the answer's first words (or its end), when it thought
    reasoning_effort: str | None = None  # the reasoning effort the answer was asked with
    preset: str | None = None  # the name of the instructions preset the answer was asked with


@dataclass(frozen=True)
class SearchHit:
    """A message matching a search; `snippet` marks matches with \\x02 ... \\x03 (the UI makes them bold)."""

    conversation_id: int
    message_id: int
    conversation_title: str
    role: Role
    snippet: str
    created_at: datetime


@dataclass(frozen=True)
class OpenReport:
    """What happened when the history was opened, in words the UI can show as-is."""

    status: OpenStatus
    path: Path
    schema_version: int
    message: str = ""
    moved_to: Path | None = None
    backup: Path | None = None
    from_version: int | None = None
    interrupted_answers: int = 0
    purged_conversations: int = 0


@dataclass(frozen=True)
class ImportReport:
    """Result of importing an archive: new conversations and those already present (matched by uuid)."""

    imported: int
    skipped: int
    conversation_ids: tuple[int, ...] = field(default=())


class HistoryError(Exception):
    """A history problem with a message fit for the user (the environment's fault, not a bug)."""


class HistoryLockedError(HistoryError):
    """Another process holds the database; it is left untouched."""


class HistoryUnavailableError(HistoryError):
    """The history cannot be opened right now (disk full, read-only folder, I/O error); the file was not touched."""


class HistoryTooNewError(HistoryError):
    """The history was written by a newer version of the app; it is left in place and this version will not start."""


class HistoryBackupError(HistoryError):
    """The pre-migration backup could not be made or verified, so nothing was migrated."""


class ArchiveError(HistoryError):
    """An archive to import is not one of ours or is damaged; nothing was imported."""


class NotFoundError(HistoryError):
    """The conversation or message no longer exists."""
