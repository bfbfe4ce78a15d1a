"""What the chat window shows, as plain values built from history: messages, sidebar rows, the header.

One enum per concept (the history's `Role` and `Outcome`) and one id type (the history's integer ids) from the
database up to the widgets; the window never reads the history itself.
"""

from __future__ import annotations

import enum
from datetime import datetime

from desktop.lazy_dataclass import dataclass
from desktop.services._documents import file_note, size_words
from desktop.services._turn_settings import NO_EFFORTS, Efforts
from desktop.services._user_error import LENGTH_CODE, TOO_LONG_CODE, ErrorAction, Problem, category_words
from desktop.services._words import say
from desktop.storage import Conversation, Message, Outcome, Role, thinking_words

__all__ = [
    "PENDING_ANSWER",
    "ConversationRow",
    "DeploymentChoice",
    "Header",
    "MessageAction",
    "MessageView",
    "RetryWait",
    "SearchRow",
    "conversation_row",
    "message_details",
    "message_view",
]

PENDING_ANSWER = -1  # the id shown for an answer whose row does not exist yet (before its first words)


class MessageAction(enum.StrEnum):
    """The one thing an answer's notice offers, as a button; it always acts on that answer."""

    RETRY = "retry"
    CONTINUE = "continue"
    SIGN_IN = "sign_in"
    OPEN_SETTINGS = "open_settings"
    EDIT = "edit"
    NEW_CHAT = "new_chat"
    COPY_DETAILS = "copy_details"
    LEAVE_OUT = "leave_out"  # continue without this (flagged) turn: it is no longer sent
    PUT_BACK = "put_back"  # a left-out turn is sent again with later turns
    SHORTEN_ANSWER_LIMIT = "shorten_answer_limit"  # halve the conversation's answer limit and answer again
    TOGGLE_THINKING = "toggle_thinking"  # show or hide the answer's thinking (not a notice's button: its header's)


_FROM_ERROR = {
    ErrorAction.OPEN_SETTINGS: MessageAction.OPEN_SETTINGS,
    ErrorAction.SIGN_IN: MessageAction.SIGN_IN,
    ErrorAction.WAIT_AND_RETRY: MessageAction.RETRY,
    ErrorAction.RETRY: MessageAction.RETRY,
    ErrorAction.SHORTEN: MessageAction.NEW_CHAT,
    ErrorAction.REPHRASE: MessageAction.EDIT,
    ErrorAction.LEAVE_OUT: MessageAction.LEAVE_OUT,
    ErrorAction.SHORTEN_ANSWER_LIMIT: MessageAction.SHORTEN_ANSWER_LIMIT,
    ErrorAction.CONTACT_ADMIN: MessageAction.COPY_DETAILS,
    ErrorAction.COPY_DETAILS: MessageAction.COPY_DETAILS,
    ErrorAction.NONE: None,
}


@dataclass(frozen=True)
class FileChip:
    """An attached document as its chip shows it: name, size in words, and how it reaches the model."""

    name: str
    size: str
    note: str
    mime: str = ""


@dataclass(frozen=True)
class MessageView:
    """One message as the chat view shows it."""

    id: int
    role: Role
    text: str
    outcome: Outcome = Outcome.COMPLETE
    error_title: str = ""
    error_text: str = ""
    action: MessageAction | None = None
    filter_categories: tuple[str, ...] = ()
    deployment: str = ""
    created_at: datetime | None = None
    images: tuple[bytes, ...] = ()
    left_out: bool = False  # not sent with later turns (the user continued without it); shown marked
    reasoning: str = ""  # the model's thinking (its reasoning summary), shown in a section above the answer
    thinking_ms: int | None = None  # how long it thought before its first words (None: still thinking, or unknown)
    thinking_open: bool = False  # the thinking section is expanded

    @property
    def thinking_title(self) -> str:
        """The thinking section's header: "Thinking" while the model thinks, then "Thought for 12 s"."""
        if self.thinking_ms is None:
            return "Thinking"  # the waiting line below says "Thinking… N s" meanwhile
        return f"Thought for {thinking_words(self.thinking_ms)}"

    files: tuple[FileChip, ...] = ()  # attached documents (images are in `images`)


@dataclass(frozen=True)
class ConversationRow:
    """A sidebar row; `updated_at` is UTC."""

    id: int
    title: str
    updated_at: datetime
    pinned: bool = False
    archived: bool = False
    streaming: bool = False


@dataclass(frozen=True)
class SearchRow:
    """A search hit: one row per conversation, its best snippet (matches between \\x02 and \\x03)."""

    conversation_id: int
    title: str
    snippet: str


@dataclass(frozen=True)
class DeploymentChoice:
    """A deployment in the picker: `label` may be shortened by the view, `tooltip` never is."""

    name: str
    label: str
    tooltip: str


@dataclass(frozen=True)
class Header:
    """The open conversation's title, its connection and deployments, and whether the demo notice shows."""

    conversation_id: int | None
    title: str
    connection_id: str | None
    connection_name: str
    demo: bool
    deployments: tuple[DeploymentChoice, ...]
    deployment: str | None
    instructions: str
    efforts: Efforts = NO_EFFORTS  # the reasoning efforts the deployment's model accepts
    effort: str | None = None  # the one chosen for the conversation (None: the default)
    presets: tuple[str, ...] = ()  # the instructions presets' names
    preset: str = ""  # the one the conversation uses ("Custom" for instructions the user wrote)
    usage: str = ""  # the conversation's tokens (and estimated cost, with prices), quiet in the header
    usage_tip: str = ""  # their breakdown
    reads_files: bool = False  # the deployment takes PDFs as files (Responses API, a model that reads them)


@dataclass(frozen=True)
class RetryWait:
    """A wait before the next attempt: `deadline` on the controller's clock; `automatic` ones retry by themselves."""

    message_id: int
    seconds: float
    deadline: float
    attempt: int
    of: int
    reason: str
    automatic: bool


def conversation_row(conv: Conversation, streaming: bool = False) -> ConversationRow:
    """The sidebar row of a conversation."""
    return ConversationRow(conv.id, conv.title or "New chat", conv.updated_at, conv.pinned, conv.archived, streaming)


def _stored_action(value: str | None) -> MessageAction | None:
    """The button a stored failure offered (stored since v4 of the history), by its ErrorAction name."""
    try:
        return _FROM_ERROR[ErrorAction(value)]
    except ValueError:
        return MessageAction.RETRY


def message_view(msg: Message, error: Problem | None = None, *, reads_files: bool = False) -> MessageView:
    """The view of a stored message: the words and the button stored with its failure (the same after a restart).

    `error` is accepted from the turn that just ended for callers that have it; the stored problem wins.
    `reads_files`: whether the conversation's deployment takes PDFs as files; each turn sends the whole history, so
    the chips' notes say how the attached documents are sent now.
    """
    title = text = ""
    action: MessageAction | None = None
    if msg.error is not None:
        title, text = msg.error.title, msg.error.message
        if msg.error.code == LENGTH_CODE:
            action = MessageAction.CONTINUE
        elif msg.error.code == TOO_LONG_CODE:
            action = None
        elif msg.error.action is not None:
            action = _stored_action(msg.error.action)
        elif error is not None:
            action = _FROM_ERROR[error.action]
        else:
            action = MessageAction.RETRY
    if msg.outcome is Outcome.FILTERED:
        if not title:
            which = category_words(list(msg.filter_categories))
            title, text = say("answer_filtered", flagged_answer=f"It was flagged for {which}. " if which else "")
        action = MessageAction.LEAVE_OUT
    elif msg.outcome is Outcome.INTERRUPTED:
        title, text = say("answer_interrupted")
        action = MessageAction.RETRY
    elif msg.outcome is Outcome.STOPPED and not title:
        title, text = say("answer_stopped" if msg.text else "answer_stopped_empty")
    if msg.left_out:
        title, text = say("left_out_answer" if msg.role is Role.ASSISTANT else "left_out_question")
        action = MessageAction.PUT_BACK if msg.role is Role.ASSISTANT else None
    return MessageView(
        id=msg.id,
        role=msg.role,
        text=msg.text,
        outcome=msg.outcome,
        error_title=title,
        error_text=text,
        action=action,
        filter_categories=msg.filter_categories,
        deployment=msg.deployment or "",
        created_at=msg.created_at,
        images=tuple(a.data for a in msg.attachments if a.mime.startswith("image/")),
        left_out=msg.left_out,
        reasoning=msg.reasoning,
        thinking_ms=msg.thinking_ms,
        files=tuple(
            FileChip(a.name, size_words(len(a.data)), file_note(a, reads_files), a.mime)
            for a in msg.attachments
            if not a.mime.startswith("image/")
        ),
    )


def message_details(msg: Message, adapted: str = "") -> str:
    """The 'Details' of an answer: what a support person asks for (`adapted`: what its model refused, in words)."""
    lines = []
    if msg.deployment:
        lines.append(f"Deployment: {msg.deployment}")
    if msg.model:
        lines.append(f"Model: {msg.model}")
    if msg.api:
        lines.append("API: " + {"responses": "Responses", "chat": "Chat Completions"}.get(msg.api, msg.api))
    if msg.reasoning_effort:
        lines.append(f"Reasoning effort: {msg.reasoning_effort}")
    if msg.preset:
        lines.append(f"Instructions: {msg.preset}")
    if msg.thinking_ms is not None:
        lines.append(f"Thought for: {thinking_words(msg.thinking_ms)}")
    if adapted:
        lines.append(adapted)
    if msg.usage is not None:
        u = msg.usage
        cached = f" ({u.cached_tokens} cached)" if u.cached_tokens else ""
        lines.append(
            f"Tokens: {u.input_tokens or 0} in{cached}, {u.output_tokens or 0} out, {u.total_tokens or 0} in total"
        )
        if u.reasoning_tokens:
            lines.append(f"Reasoning tokens: {u.reasoning_tokens}")
    if msg.duration_ms is not None:
        lines.append(f"Duration: {msg.duration_ms / 1000:.1f} s")
    lines.append(f"Outcome: {msg.outcome.value}")
    if msg.error is not None:
        lines.append(f"Problem: {msg.error.title}")
        stored = Problem.from_json(msg.error.problem) if msg.error.problem else None
        if stored is not None and stored.details:
            lines.extend(
                line for line in stored.details.splitlines() if not line.startswith(("Request id:", "Deployment:"))
            )
        else:
            if msg.error.status:
                lines.append(f"HTTP status: {msg.error.status}")
            if msg.error.code:
                lines.append(f"Code: {msg.error.code}")
    if msg.request_id:
        lines.append(f"Request id: {msg.request_id}")
    lines.append(f"Sent: {msg.created_at:%Y-%m-%d %H:%M:%S} UTC")
    return "\n".join(lines)
