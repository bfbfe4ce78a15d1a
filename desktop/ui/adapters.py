"""Turn history records and service results into the plain data the widgets show."""

from __future__ import annotations

from datetime import UTC, datetime

from desktop.services import ErrorAction, UserError, category_words
from desktop.storage import Conversation, Message
from desktop.storage import Outcome as StoredOutcome
from desktop.storage import Role as StoredRole
from desktop.ui.chat_view import ChatMessage, Outcome, Role
from desktop.ui.conversation_list import ConversationItem

LENGTH_CODE = "length"

# What the chat view's banner button does for each action the error mapping chose.
_ACTION_KEYS = {
    ErrorAction.OPEN_SETTINGS: "settings",
    ErrorAction.SIGN_IN: "sign_in",
    ErrorAction.WAIT_AND_RETRY: "retry",
    ErrorAction.RETRY: "retry",
    ErrorAction.SHORTEN: "new_chat",
    ErrorAction.REPHRASE: "edit_last",
    ErrorAction.CONTACT_ADMIN: "copy_details",
    ErrorAction.NONE: "",
}


def action_key(action: ErrorAction) -> str:
    """The chat view's key for an error action."""
    return _ACTION_KEYS[action]


def _local(dt: datetime) -> datetime:
    """History stores UTC; the sidebar groups by the user's local day."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone().replace(tzinfo=None)


def conversation_item(conv: Conversation, streaming: bool = False) -> ConversationItem:
    """A sidebar row for a conversation."""
    return ConversationItem(
        id=str(conv.id),
        title=conv.title or "New chat",
        updated_at=_local(conv.updated_at),
        pinned=conv.pinned,
        archived=conv.archived,
        streaming=streaming,
    )


def chat_message(msg: Message, error: UserError | None = None) -> ChatMessage:
    """A chat-view message for a stored one; `error` (from a live turn) gives the precise action."""
    outcome = Outcome(msg.outcome.value) if msg.outcome.value in Outcome._value2member_map_ else Outcome.COMPLETE
    error_title = error_text = action = ""
    if msg.error is not None:
        error_title, error_text = msg.error.title, msg.error.message
        if msg.error.code == LENGTH_CODE:
            action = "continue"
        elif error is not None:
            action = action_key(error.action)
        elif msg.error.status in (401, 403):
            action = "settings"
        else:
            action = "retry"
    if msg.outcome is StoredOutcome.FILTERED:
        # Blocked prompt: the service's explanation is stored; an answer cut mid-way has only its categories.
        if not error_text:
            which = category_words(list(msg.filter_categories))
            error_text = (f"It was flagged for {which}. " if which else "") + "Rephrase your message and try again."
        action = "edit_last"
    usage = msg.usage
    return ChatMessage(
        id=str(msg.id),
        role=Role.USER if msg.role is StoredRole.USER else Role.ASSISTANT,
        text=msg.text,
        outcome=outcome,
        error_title=error_title,
        error_text=error_text,
        error_action=action,
        filter_categories=msg.filter_categories,
        deployment=msg.deployment or "",
        api={"responses": "Responses", "chat": "Chat Completions"}.get(msg.api or "", ""),
        prompt_tokens=usage.input_tokens if usage else None,
        completion_tokens=usage.output_tokens if usage else None,
        duration_ms=msg.duration_ms,
        request_id=msg.request_id or "",
        created_at=_local(msg.created_at),
        attachments=tuple(a.data for a in msg.attachments if a.mime.startswith("image/")),
    )


def message_details(msg: Message) -> str:
    """The 'Details' text of an answer: what a support person would ask for."""
    lines = []
    if msg.deployment:
        lines.append(f"Deployment: {msg.deployment}")
    if msg.model:
        lines.append(f"Model: {msg.model}")
    if msg.api:
        lines.append("API: " + {"responses": "Responses", "chat": "Chat Completions"}.get(msg.api, msg.api))
    if msg.usage is not None:
        u = msg.usage
        lines.append(f"Tokens: {u.input_tokens or 0} in, {u.output_tokens or 0} out, {u.total_tokens or 0} in total")
        if u.reasoning_tokens:
            lines.append(f"Reasoning tokens: {u.reasoning_tokens}")
    if msg.duration_ms is not None:
        lines.append(f"Duration: {msg.duration_ms / 1000:.1f} s")
    lines.append(f"Outcome: {msg.outcome.value}")
    if msg.error is not None:
        lines.append(f"Problem: {msg.error.title}")
        if msg.error.status:
            lines.append(f"HTTP status: {msg.error.status}")
        if msg.error.code:
            lines.append(f"Code: {msg.error.code}")
    if msg.request_id:
        lines.append(f"Request id: {msg.request_id}")
    lines.append(f"Sent: {_local(msg.created_at):%Y-%m-%d %H:%M:%S}")
    return "\n".join(lines)
