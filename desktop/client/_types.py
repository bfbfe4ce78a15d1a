"""Small typed results parsed leniently from the wire: the fields the app uses, `.raw` for everything else."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatMessage",
    "Choice",
    "ChoiceDelta",
    "ChunkChoice",
    "CompletionUsage",
    "Deployment",
    "IncompleteDetails",
    "Response",
    "ResponseError",
    "ResponseStreamEvent",
    "ResponseUsage",
    "parse_chat_chunk",
    "parse_chat_completion",
    "parse_deployments",
    "parse_response",
]

JSON = dict[str, Any]


def _dict(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _dicts(value: Any) -> list[JSON]:
    """Return the objects of a JSON array, skipping anything else."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# ---- Responses API -------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class ResponseUsage:
    """Token counts of a response; `reasoning_tokens` are part of `output_tokens`, `cached_tokens` of `input_tokens`."""

    input_tokens: int
    output_tokens: int
    total_tokens: int
    reasoning_tokens: int
    cached_tokens: int = 0


@dataclass(slots=True)
class IncompleteDetails:
    """Why a response stopped early: `max_output_tokens` or `content_filter`."""

    reason: str | None


@dataclass(slots=True)
class ResponseError:
    """The error of a failed response."""

    code: str | None
    message: str | None


@dataclass(slots=True)
class Response:
    """A Responses API result; `output_text` joins every `output_text` part of every `message` item."""

    id: str
    status: str | None
    model: str | None
    output_text: str
    refusal: str | None
    reasoning_summary: str
    usage: ResponseUsage | None
    incomplete_details: IncompleteDetails | None
    error: ResponseError | None
    request_id: str | None
    raw: JSON = field(repr=False)


def parse_response(raw: JSON, request_id: str | None = None) -> Response:
    """Build a Response from its JSON, ignoring unknown fields and item types."""
    texts: list[str] = []
    refusals: list[str] = []
    summaries: list[str] = []
    for item in _dicts(raw.get("output")):
        kind = item.get("type")
        if kind == "message":
            for part in _dicts(item.get("content")):
                if part.get("type") == "output_text":
                    texts.append(_str(part.get("text")) or "")
                elif part.get("type") == "refusal":
                    refusals.append(_str(part.get("refusal")) or "")
        elif kind == "reasoning":
            summaries.extend(_str(s.get("text")) or "" for s in _dicts(item.get("summary")))
    usage_raw = raw.get("usage")
    usage = None
    if isinstance(usage_raw, dict):
        usage = ResponseUsage(
            input_tokens=_int(usage_raw.get("input_tokens")),
            output_tokens=_int(usage_raw.get("output_tokens")),
            total_tokens=_int(usage_raw.get("total_tokens")),
            reasoning_tokens=_int(_dict(usage_raw.get("output_tokens_details")).get("reasoning_tokens")),
            cached_tokens=_int(_dict(usage_raw.get("input_tokens_details")).get("cached_tokens")),
        )
    incomplete = raw.get("incomplete_details")
    error = raw.get("error")
    return Response(
        id=_str(raw.get("id")) or "",
        status=_str(raw.get("status")),
        model=_str(raw.get("model")),
        output_text="".join(texts),
        refusal="".join(refusals) if refusals else None,
        reasoning_summary="\n\n".join(summaries),
        usage=usage,
        incomplete_details=IncompleteDetails(_str(incomplete.get("reason"))) if isinstance(incomplete, dict) else None,
        error=ResponseError(_str(error.get("code")), _str(error.get("message"))) if isinstance(error, dict) else None,
        request_id=request_id,
        raw=raw,
    )


class ResponseStreamEvent:
    """One Responses stream event; fields an event type lacks are None (`response` only on lifecycle events)."""

    __slots__ = (
        "content_index",
        "delta",
        "item_id",
        "output_index",
        "raw",
        "response",
        "sequence_number",
        "text",
        "type",
    )

    def __init__(self, raw: JSON, event_type: str, request_id: str | None) -> None:
        get = raw.get
        self.type = event_type
        self.delta: str | None = get("delta")
        self.sequence_number: int | None = get("sequence_number")
        self.item_id: str | None = get("item_id")
        self.output_index: int | None = get("output_index")
        self.content_index: int | None = get("content_index")
        self.text: str | None = get("text")
        response = get("response")
        self.response = parse_response(response, request_id) if isinstance(response, dict) else None
        self.raw = raw

    def __repr__(self) -> str:
        return f"ResponseStreamEvent(type={self.type!r}, sequence_number={self.sequence_number!r})"


# ---- Chat Completions ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class CompletionUsage:
    """Token counts of a chat completion; `cached_tokens` are part of `prompt_tokens`, `reasoning_tokens` of
    `completion_tokens`."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(slots=True)
class ChatMessage:
    """The assistant message of a choice."""

    role: str | None
    content: str | None
    refusal: str | None


@dataclass(slots=True)
class Choice:
    """One choice of a chat completion, with Azure's `content_filter_results` when present."""

    index: int
    message: ChatMessage
    finish_reason: str | None
    content_filter_results: JSON | None


@dataclass(slots=True)
class ChatCompletion:
    """A Chat Completions result, with Azure's `prompt_filter_results` when present."""

    id: str
    model: str | None
    choices: list[Choice]
    usage: CompletionUsage | None
    prompt_filter_results: list[Any] | None
    request_id: str | None
    raw: JSON = field(repr=False)


def _usage(value: Any) -> CompletionUsage | None:
    if not isinstance(value, dict):
        return None
    return CompletionUsage(
        _int(value.get("prompt_tokens")),
        _int(value.get("completion_tokens")),
        _int(value.get("total_tokens")),
        cached_tokens=_int(_dict(value.get("prompt_tokens_details")).get("cached_tokens")),
        reasoning_tokens=_int(_dict(value.get("completion_tokens_details")).get("reasoning_tokens")),
    )


def _filter_results(value: Any) -> JSON | None:
    return value if isinstance(value, dict) else None


def parse_chat_completion(raw: JSON, request_id: str | None = None) -> ChatCompletion:
    """Build a ChatCompletion from its JSON, ignoring unknown fields."""
    choices = []
    for choice in _dicts(raw.get("choices")):
        message = _dict(choice.get("message"))
        choices.append(
            Choice(
                index=_int(choice.get("index")),
                message=ChatMessage(
                    _str(message.get("role")), _str(message.get("content")), _str(message.get("refusal"))
                ),
                finish_reason=_str(choice.get("finish_reason")),
                content_filter_results=_filter_results(choice.get("content_filter_results")),
            )
        )
    prompt_filters = raw.get("prompt_filter_results")
    return ChatCompletion(
        id=_str(raw.get("id")) or "",
        model=_str(raw.get("model")),
        choices=choices,
        usage=_usage(raw.get("usage")),
        prompt_filter_results=prompt_filters if isinstance(prompt_filters, list) else None,
        request_id=request_id,
        raw=raw,
    )


class ChoiceDelta:
    """The new piece of a streamed choice; `content` is None when the chunk carries none."""

    __slots__ = ("content", "refusal", "role")

    def __init__(self, raw: JSON) -> None:
        self.content: str | None = raw.get("content")
        self.role: str | None = raw.get("role")
        self.refusal: str | None = raw.get("refusal")

    def __repr__(self) -> str:
        return f"ChoiceDelta(content={self.content!r})"


_NO_DELTA: JSON = {}


class ChunkChoice:
    """One choice of a stream chunk (Azure may send one with only `content_filter_results`)."""

    __slots__ = ("content_filter_results", "delta", "finish_reason", "index")

    def __init__(self, raw: JSON) -> None:
        get = raw.get
        delta = get("delta")
        self.delta = ChoiceDelta(delta if isinstance(delta, dict) else _NO_DELTA)
        self.index: int = get("index") or 0
        self.finish_reason: str | None = get("finish_reason")
        self.content_filter_results: JSON | None = get("content_filter_results")

    def __repr__(self) -> str:
        return f"ChunkChoice(index={self.index}, finish_reason={self.finish_reason!r})"


class ChatCompletionChunk:
    """One streamed chat chunk; `choices` may be empty (Azure's first chunk, the usage chunk)."""

    __slots__ = ("choices", "id", "model", "prompt_filter_results", "raw", "usage")

    def __init__(self, raw: JSON) -> None:
        get = raw.get
        self.id: str = get("id") or ""
        self.model: str | None = get("model")
        choices = get("choices")
        self.choices = [ChunkChoice(c) for c in choices if isinstance(c, dict)] if choices else []
        usage = get("usage")
        self.usage = _usage(usage) if usage else None
        self.prompt_filter_results: list[Any] | None = get("prompt_filter_results")
        self.raw = raw

    def __repr__(self) -> str:
        return f"ChatCompletionChunk(id={self.id!r}, choices={self.choices!r})"


def parse_chat_chunk(raw: JSON) -> ChatCompletionChunk:
    """Build a ChatCompletionChunk from its JSON."""
    return ChatCompletionChunk(raw)


# ---- Deployments ---------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Deployment:
    """A deployment of the resource: its `name` is what requests pass as `model`."""

    name: str
    model: str | None
    model_version: str | None
    raw: JSON = field(repr=False)


def parse_deployments(raw: Any) -> list[Deployment]:
    """Read the data-plane list (`data[].id/model`) or the ARM list (`value[].name/properties.model`)."""
    body = _dict(raw)
    found = []
    for item in _dicts(body.get("data")) + _dicts(body.get("value")):
        properties = item.get("properties")
        model = _dict(_dict(properties).get("model"))
        # ARM items carry the deployment in `name` (their `id` is a resource path); the data plane uses `id`.
        name = _str(item.get("name")) if properties is not None else _str(item.get("id")) or _str(item.get("name"))
        if not name:
            continue
        found.append(
            Deployment(
                name=name,
                model=_str(item.get("model")) or _str(model.get("name")),
                model_version=_str(item.get("model_version")) or _str(model.get("version")),
                raw=item,
            )
        )
    return found
