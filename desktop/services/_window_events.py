"""What the chat window's controller publishes: plain events the main window renders, in order."""

from __future__ import annotations

from desktop.lazy_dataclass import dataclass
from desktop.services._views import ConversationRow, Header, MessageView, RetryWait, SearchRow
from desktop.storage import Outcome

__all__ = [
    "AnswerGrew",
    "ConversationShown",
    "DraftRefused",
    "DraftSaved",
    "HeaderChanged",
    "MessageAdded",
    "MessageChanged",
    "MessageRemoved",
    "Notice",
    "OlderShown",
    "SearchChanged",
    "SidebarReset",
    "SidebarRowChanged",
    "SidebarRowRemoved",
    "TurnChanged",
    "TurnEnded",
    "WindowEvent",
]


@dataclass(frozen=True)
class SidebarReset:
    """Show these rows (at start, after an import or a full delete)."""

    rows: tuple[ConversationRow, ...]


@dataclass(frozen=True)
class SidebarRowChanged:
    """Add or update one row (a turn started or ended, a rename, a pin)."""

    row: ConversationRow


@dataclass(frozen=True)
class SidebarRowRemoved:
    """Remove one row."""

    conversation_id: int


@dataclass(frozen=True)
class SearchChanged:
    """Search results for `query`, or `results` None: show the list again."""

    query: str
    results: tuple[SearchRow, ...] | None


@dataclass(frozen=True)
class ConversationShown:
    """Show a conversation (or a new chat, `header.conversation_id` None) from scratch."""

    header: Header
    messages: tuple[MessageView, ...]
    has_older: bool
    running: bool
    wait: RetryWait | None


@dataclass(frozen=True)
class HeaderChanged:
    """The open conversation's title, connection, deployments or instructions changed."""

    header: Header


@dataclass(frozen=True)
class OlderShown:
    """Older messages of the open conversation, to put above the ones shown."""

    messages: tuple[MessageView, ...]
    has_older: bool


@dataclass(frozen=True)
class MessageAdded:
    """A message at the end of the open conversation."""

    message: MessageView


@dataclass(frozen=True)
class MessageChanged:
    """A message of the open conversation changed (its text is authoritative)."""

    message: MessageView


@dataclass(frozen=True)
class MessageRemoved:
    """A message of the open conversation went away (replaced by an edit or a new answer)."""

    message_id: int


@dataclass(frozen=True)
class AnswerGrew:
    """More words of the answer streaming in the open conversation."""

    message_id: int
    text: str


@dataclass(frozen=True)
class TurnChanged:
    """A conversation's turn started, ended, or began or ended a wait."""

    conversation_id: int
    running: bool
    wait: RetryWait | None


@dataclass(frozen=True)
class TurnEnded:
    """A turn is over (notifications, tests and benchmarks wait for this)."""

    conversation_id: int
    outcome: Outcome
    title: str


@dataclass(frozen=True)
class DraftSaved:
    """The message being sent is safely in history: the composer may clear."""

    conversation_id: int


@dataclass(frozen=True)
class DraftRefused:
    """The message could not be sent or saved: the composer keeps it; `reason` says why."""

    reason: str


@dataclass(frozen=True)
class Notice:
    """A short message for the user; `undo` offers Undo (after a delete)."""

    text: str
    undo: bool = False


@dataclass(frozen=True)
class UsageChanged:
    """The open conversation's token total (and estimated cost) changed: `text` for its header, `tip` the breakdown."""

    conversation_id: int
    text: str
    tip: str


WindowEvent = (
    SidebarReset
    | SidebarRowChanged
    | SidebarRowRemoved
    | SearchChanged
    | ConversationShown
    | HeaderChanged
    | OlderShown
    | MessageAdded
    | MessageChanged
    | MessageRemoved
    | AnswerGrew
    | TurnChanged
    | TurnEnded
    | DraftSaved
    | DraftRefused
    | Notice
    | UsageChanged
)
