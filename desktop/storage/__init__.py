"""Conversation history in SQLite: crash-safe answers, search, export/import, verified migrations, recovery."""

from desktop.storage._archive import thinking_words
from desktop.storage._models import (
    Api,
    ArchiveError,
    Attachment,
    Conversation,
    HistoryBackupError,
    HistoryError,
    HistoryLockedError,
    HistoryTooNewError,
    HistoryUnavailableError,
    ImportReport,
    Message,
    MessageError,
    NotFoundError,
    OpenReport,
    OpenStatus,
    Outcome,
    Role,
    SearchHit,
    Usage,
    UsageRow,
)
from desktop.storage._opening import check_early as check_history_early
from desktop.storage._opening import needs_upgrade as history_needs_upgrade
from desktop.storage._schema import CURRENT_VERSION as SCHEMA_VERSION
from desktop.storage._search import MARK_END, MARK_START
from desktop.storage._store import UNSET, HistoryStore

__all__ = [
    "MARK_END",
    "MARK_START",
    "SCHEMA_VERSION",
    "UNSET",
    "Api",
    "ArchiveError",
    "Attachment",
    "Conversation",
    "HistoryBackupError",
    "HistoryError",
    "HistoryLockedError",
    "HistoryStore",
    "HistoryTooNewError",
    "HistoryUnavailableError",
    "ImportReport",
    "Message",
    "MessageError",
    "NotFoundError",
    "OpenReport",
    "OpenStatus",
    "Outcome",
    "Role",
    "SearchHit",
    "Usage",
    "UsageRow",
    "check_history_early",
    "history_needs_upgrade",
    "thinking_words",
]
