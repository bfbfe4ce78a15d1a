"""Pure conversions between stored objects and export formats (JSON archive, Markdown); no I/O here."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from desktop.storage._models import (
    Api,
    ArchiveError,
    Attachment,
    Conversation,
    Message,
    MessageError,
    Outcome,
    Role,
    Usage,
)

ARCHIVE_FORMAT = "azure-openai-chat-history"
ARCHIVE_VERSION = 1
_APIS = ("responses", "chat")
T = TypeVar("T")


def iso(when: datetime) -> str:
    """UTC ISO 8601 with milliseconds: the precision the database stores."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def conversation_to_json(conv: Conversation, messages: Sequence[Message]) -> dict[str, Any]:
    """One conversation with its messages as a JSON-ready dict (ids are local and left out; uuid is kept)."""
    return {
        "uuid": conv.uuid,
        "title": conv.title,
        "profile_id": conv.profile_id,
        "deployment": conv.deployment,
        "api": conv.api,
        "instructions": conv.instructions,
        "params": conv.params,
        "pinned": conv.pinned,
        "archived": conv.archived,
        "created_at": iso(conv.created_at),
        "updated_at": iso(conv.updated_at),
        "messages": [_message_to_json(m) for m in messages],
    }


def _message_to_json(msg: Message) -> dict[str, Any]:
    import base64  # this module loads with the history; exports and imports (and base64) come later

    return {
        "position": msg.position,
        "role": msg.role.value,
        "text": msg.text,
        "outcome": msg.outcome.value,
        "created_at": iso(msg.created_at),
        "finished_at": iso(msg.finished_at) if msg.finished_at else None,
        "duration_ms": msg.duration_ms,
        "model": msg.model,
        "deployment": msg.deployment,
        "api": msg.api,
        "request_id": msg.request_id,
        "filter_categories": list(msg.filter_categories),
        "left_out": msg.left_out,
        "reasoning": msg.reasoning,
        "thinking_ms": msg.thinking_ms,
        "reasoning_effort": msg.reasoning_effort,
        "preset": msg.preset,
        "usage": dataclasses.asdict(msg.usage) if msg.usage else None,
        "error": dataclasses.asdict(msg.error) if msg.error else None,
        "attachments": [
            {"mime": a.mime, "name": a.name, "data": base64.b64encode(a.data).decode("ascii"), "text": a.text}
            for a in msg.attachments
        ],
    }


def archive(conversations: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Wrap exported conversations in the versioned archive envelope."""
    return {
        "format": ARCHIVE_FORMAT,
        "version": ARCHIVE_VERSION,
        "exported_at": iso(now),
        "conversations": conversations,
    }


class _Reader:
    """Typed access to untrusted JSON that names the exact bad field in its error."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise ArchiveError(f"{where}: expected an object")
        self.data = cast(dict[str, Any], data)
        self.where = where

    def _get(self, key: str, kind: type[T] | tuple[type, ...], optional: bool = False) -> Any:
        value = self.data.get(key)
        if value is None and optional:
            return None
        # bool is an int in Python; a count given as true/false is still wrong.
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise ArchiveError(f"{self.where}.{key}: missing or of the wrong type")
        return value

    def text(self, key: str) -> str:
        return cast(str, self._get(key, str))

    def opt_text(self, key: str) -> str | None:
        return cast(str | None, self._get(key, str, optional=True))

    def opt_int(self, key: str) -> int | None:
        return cast(int | None, self._get(key, int, optional=True))

    def flag(self, key: str) -> bool:
        return cast(bool, self._get(key, bool))

    def items(self, key: str) -> list[Any]:
        return cast(list[Any], self._get(key, list))

    def time(self, key: str, optional: bool = False) -> datetime | None:
        raw = self._get(key, str, optional=optional)
        if raw is None:
            return None
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise ArchiveError(f"{self.where}.{key}: not a date") from None
        if value.tzinfo is None:
            raise ArchiveError(f"{self.where}.{key}: date without a time zone")
        return value.astimezone(UTC)

    def choice(self, key: str, choices: Sequence[str]) -> str:
        value = self.opt_choice(key, choices)
        if value is None:
            raise ArchiveError(f"{self.where}.{key}: missing")
        return value

    def opt_choice(self, key: str, choices: Sequence[str]) -> str | None:
        value = cast(str | None, self._get(key, str, optional=True))
        if value is not None and value not in choices:
            raise ArchiveError(f"{self.where}.{key}: {value!r} is not one of {', '.join(choices)}")
        return value

    def sub(self, key: str) -> _Reader | None:
        value = self.data.get(key)
        return None if value is None else _Reader(value, f"{self.where}.{key}")


def parse_archive(data: object) -> list[tuple[Conversation, list[Message]]]:
    """Validate a whole archive (raising ArchiveError naming the bad field) before anything is written."""
    top = _Reader(data, "archive")
    if top.data.get("format") != ARCHIVE_FORMAT:
        raise ArchiveError("This file is not a chat history archive of this app.")
    version = top.data.get("version")
    if version != ARCHIVE_VERSION:
        raise ArchiveError(
            f"This archive has format version {version!r}; this version of the app reads version "
            f"{ARCHIVE_VERSION}. Update the app to import it."
        )
    return [_parse_conversation(c, f"conversations[{i}]") for i, c in enumerate(top.items("conversations"))]


def _parse_conversation(data: object, where: str) -> tuple[Conversation, list[Message]]:
    r = _Reader(data, where)
    params = r.data.get("params", {})
    if not isinstance(params, dict):
        raise ArchiveError(f"{where}.params: expected an object")
    conv = Conversation(
        id=0,
        uuid=r.text("uuid"),
        title=r.text("title"),
        profile_id=r.opt_text("profile_id"),
        deployment=r.opt_text("deployment"),
        api=cast(Api | None, r.opt_choice("api", _APIS)),
        instructions=r.text("instructions"),
        params=params,
        pinned=r.flag("pinned"),
        archived=r.flag("archived"),
        created_at=_required(r.time("created_at")),
        updated_at=_required(r.time("updated_at")),
    )
    messages = [_parse_message(m, f"{where}.messages[{i}]") for i, m in enumerate(r.items("messages"))]
    positions = [m.position for m in messages]
    if len(set(positions)) != len(positions):
        raise ArchiveError(f"{where}.messages: two messages share a position")
    return conv, messages


def _required(value: datetime | None) -> datetime:
    assert value is not None  # _Reader.time without optional=True never returns None
    return value


def _parse_message(data: object, where: str) -> Message:
    r = _Reader(data, where)
    position = r.opt_int("position")
    if position is None:
        raise ArchiveError(f"{where}.position: missing")
    usage = r.sub("usage")
    error = r.sub("error")
    categories = r.items("filter_categories")
    if not all(isinstance(c, str) for c in categories):
        raise ArchiveError(f"{where}.filter_categories: expected a list of strings")
    return Message(
        id=0,
        conversation_id=0,
        position=position,
        role=Role(r.choice("role", [x.value for x in Role])),
        text=r.text("text"),
        outcome=Outcome(r.choice("outcome", [x.value for x in Outcome])),
        created_at=_required(r.time("created_at")),
        finished_at=r.time("finished_at", optional=True),
        duration_ms=r.opt_int("duration_ms"),
        model=r.opt_text("model"),
        deployment=r.opt_text("deployment"),
        api=cast(Api | None, r.opt_choice("api", _APIS)),
        request_id=r.opt_text("request_id"),
        filter_categories=tuple(categories),
        left_out=r.data.get("left_out") is True,
        # Since the thinking was kept (history v5); archives written before have none of these.
        reasoning=r.opt_text("reasoning") or "",
        thinking_ms=r.opt_int("thinking_ms"),
        reasoning_effort=r.opt_text("reasoning_effort"),
        preset=r.opt_text("preset"),
        usage=Usage(**{f.name: usage.opt_int(f.name) for f in dataclasses.fields(Usage)}) if usage else None,
        error=MessageError(
            title=error.text("title"),
            message=error.text("message"),
            code=error.opt_text("code"),
            status=error.opt_int("status"),
            request_id=error.opt_text("request_id"),
            action=error.opt_text("action"),
            category=error.opt_text("category"),
            problem=_problem_of(error),
        )
        if error
        else None,
        attachments=tuple(
            _parse_attachment(a, f"{where}.attachments[{i}]") for i, a in enumerate(r.items("attachments"))
        ),
    )


def _problem_of(error: _Reader) -> dict[str, Any] | None:
    value = error.data.get("problem")
    if value is not None and not isinstance(value, dict):
        raise ArchiveError(f"{error.where}.problem: expected an object")
    return cast(dict[str, Any] | None, value)


def _parse_attachment(data: object, where: str) -> Attachment:
    import base64
    import binascii

    r = _Reader(data, where)
    try:
        raw = base64.b64decode(r.text("data"), validate=True)
    except (binascii.Error, ValueError):
        raise ArchiveError(f"{where}.data: not valid base64") from None
    # "text" (what was read from a document) came after version 1's first release: optional, as in older archives.
    return Attachment(mime=r.text("mime"), data=raw, name=r.text("name"), text=r.opt_text("text") or "")


_ROLE_TITLES = {Role.USER: "You", Role.ASSISTANT: "Assistant", Role.SYSTEM: "System"}
_OUTCOME_NOTES = {
    Outcome.STREAMING: "_(still being written)_",
    Outcome.STOPPED: "_(stopped before the end)_",
    Outcome.INTERRUPTED: "_(interrupted: the app closed while this answer was being written)_",
}


def conversation_to_markdown(conv: Conversation, messages: Sequence[Message]) -> str:
    """A readable Markdown transcript (attachments are listed by name, not embedded)."""
    lines = [f"# {conv.title or 'Untitled conversation'}", ""]
    facts = [("Deployment", conv.deployment), ("API", conv.api), ("Started", _human(conv.created_at))]
    lines += [f"- {k}: {v}" for k, v in facts if v]
    if conv.instructions:
        lines += ["", "**Instructions:**", "", *(f"> {line}" for line in conv.instructions.splitlines())]
    for msg in messages:
        lines += ["", f"## {_ROLE_TITLES[msg.role]} · {_human(msg.created_at)}", ""]
        lines += _thinking(msg)
        lines.append(msg.text)
        lines += [f"- Attachment: {a.name or 'image'} ({a.mime}, {len(a.data):,} bytes)" for a in msg.attachments]
        lines += _notes(msg)
    return "\n".join(lines).rstrip() + "\n"


def _thinking(msg: Message) -> list[str]:
    """The model's thinking as a quoted block before its answer: "> **Thinking** (12 s)" then the summary."""
    if not msg.reasoning.strip():
        return []
    took = f" ({thinking_words(msg.thinking_ms)})" if msg.thinking_ms is not None else ""
    quoted = [f"> {line}".rstrip() for line in msg.reasoning.strip().splitlines()]
    return [f"> **Thinking**{took}", ">", *quoted, ""]


def thinking_words(thinking_ms: int) -> str:
    """How long a model thought, as shown: "12 s", "2 min 5 s" (whole seconds, at least 1)."""
    seconds = max(1, round(thinking_ms / 1000))
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def _notes(msg: Message) -> list[str]:
    notes: list[str] = []
    if msg.outcome in _OUTCOME_NOTES:
        notes.append(_OUTCOME_NOTES[msg.outcome])
    if msg.outcome is Outcome.FILTERED:
        notes.append("_(blocked by the content filter: " + (", ".join(msg.filter_categories) or "no details") + ")_")
    if msg.error is not None:
        notes.append(f"> **{msg.error.title}**: {msg.error.message}")
    return ["", *notes] if notes else []


def _human(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
