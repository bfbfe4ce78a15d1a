"""Bodies and SSE events of the Responses and Chat Completions APIs, built from one planned turn (pure)."""

from __future__ import annotations

import enum
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ._azure import filter_results
from ._config import Deployment


class Part(enum.Enum):
    """Where an SSE event sits in a stream, so faults can act on deltas and terminal events."""

    META = 1
    DELTA = 2
    TERMINAL = 3
    THOUGHT = 4  # a delta of the reasoning summary (paced by `thinking_per_delta`, never counted by faults)


@dataclass
class Turn:
    """One planned answer: its deltas, why it ends early (if it does) and its usage."""

    deployment: Deployment
    request: dict[str, Any]
    deltas: list[str]
    input_tokens: int
    cached_tokens: int = 0  # the part of input_tokens served from the prompt cache
    reasoning: list[str] = field(default_factory=list)
    reasoning_tokens: int = 0
    cut: str | None = None  # "max_output_tokens" or "content_filter"
    created: int = field(default_factory=lambda: int(time.time()))
    response_id: str = field(default_factory=lambda: "resp_" + secrets.token_hex(24))
    chat_id: str = field(default_factory=lambda: "chatcmpl-" + secrets.token_hex(14))
    message_id: str = field(default_factory=lambda: "msg_" + secrets.token_hex(24))
    reasoning_id: str = field(default_factory=lambda: "rs_" + secrets.token_hex(24))

    @property
    def model(self) -> str:
        """The model name Azure reports: model plus version (other makers' models: their name alone)."""
        if self.deployment.model_format != "OpenAI":
            return self.deployment.model
        return f"{self.deployment.model}-{self.deployment.version}"

    @property
    def text(self) -> str:
        """The answer text."""
        return "".join(self.deltas)

    @property
    def output_tokens(self) -> int:
        """Output tokens: one per delta plus the reasoning tokens."""
        return len(self.deltas) + self.reasoning_tokens


def _dump(value: Any) -> str:
    # ensure_ascii=False keeps CJK, emoji and U+2028 raw in the bytes, as the real service sends them.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _sse(event: str | None, payload: Any) -> str:
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {_dump(payload)}\n\n"


# ---------------------------------------------------------------------------------------------- Responses API


def _message_item(turn: Turn, status: str, with_text: bool) -> dict[str, Any]:
    content = [{"type": "output_text", "text": turn.text, "annotations": [], "logprobs": []}] if with_text else []
    return {"id": turn.message_id, "type": "message", "status": status, "role": "assistant", "content": content}


def _reasoning_item(turn: Turn, done: bool) -> dict[str, Any]:
    summary = [{"type": "summary_text", "text": "".join(turn.reasoning)}] if done else []
    return {"id": turn.reasoning_id, "type": "reasoning", "summary": summary}


def _response(turn: Turn, status: str, output: list[dict[str, Any]]) -> dict[str, Any]:
    body = turn.request
    finished = status in ("completed", "incomplete")
    usage = (
        {
            "input_tokens": turn.input_tokens,
            "input_tokens_details": {"cached_tokens": turn.cached_tokens},
            "output_tokens": turn.output_tokens,
            "output_tokens_details": {"reasoning_tokens": turn.reasoning_tokens},
            "total_tokens": turn.input_tokens + turn.output_tokens,
        }
        if finished
        else None
    )
    return {
        "id": turn.response_id,
        "object": "response",
        "created_at": turn.created,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": turn.cut} if status == "incomplete" else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": turn.model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": body.get("reasoning", {}).get("effort", "medium"), "summary": None}
        if turn.deployment.reasoning
        else {"effort": None, "summary": None},
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def _final_status(turn: Turn) -> str:
    return "incomplete" if turn.cut else "completed"


def responses_body(turn: Turn) -> dict[str, Any]:
    """The non-streamed Responses API body."""
    status = _final_status(turn)
    output = [_reasoning_item(turn, True)] if turn.deployment.reasoning else []
    output.append(_message_item(turn, status, True))
    return _response(turn, status, output)


def responses_events(turn: Turn) -> Iterator[tuple[Part, str]]:
    """The Responses stream: lifecycle events with sequence numbers, deltas, and the terminal event."""
    seq = 0

    def event(kind: str, **fields: Any) -> str:
        nonlocal seq
        text = _sse(kind, {"type": kind, "sequence_number": seq, **fields})
        seq += 1
        return text

    yield Part.META, event("response.created", response=_response(turn, "in_progress", []))
    yield Part.META, event("response.in_progress", response=_response(turn, "in_progress", []))
    output: list[dict[str, Any]] = []
    if turn.deployment.reasoning:
        rid, summary = turn.reasoning_id, "".join(turn.reasoning)
        yield Part.META, event("response.output_item.added", output_index=0, item=_reasoning_item(turn, False))
        part = {"type": "summary_text", "text": ""}
        ids = {"item_id": rid, "output_index": 0, "summary_index": 0}
        yield Part.META, event("response.reasoning_summary_part.added", **ids, part=part)
        for delta in turn.reasoning:
            yield Part.THOUGHT, event("response.reasoning_summary_text.delta", **ids, delta=delta)
        yield Part.META, event("response.reasoning_summary_text.done", **ids, text=summary)
        yield Part.META, event("response.reasoning_summary_part.done", **ids, part={**part, "text": summary})
        output.append(_reasoning_item(turn, True))
        yield Part.META, event("response.output_item.done", output_index=0, item=output[-1])
    index = len(output)
    status = _final_status(turn)
    yield (
        Part.META,
        event("response.output_item.added", output_index=index, item=_message_item(turn, "in_progress", False)),
    )
    empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    ids = {"item_id": turn.message_id, "output_index": index, "content_index": 0}
    yield Part.META, event("response.content_part.added", **ids, part=empty)
    # Deltas are formatted by hand: 20,000-delta benchmark streams must not pay for a dict and a dump each.
    head = 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":'
    tail = f',"item_id":"{turn.message_id}","output_index":{index},"content_index":0,"delta":'
    for delta in turn.deltas:
        yield Part.DELTA, f'{head}{seq}{tail}{_dump(delta)},"logprobs":[]}}\n\n'
        seq += 1
    yield Part.META, event("response.output_text.done", **ids, text=turn.text, logprobs=[])
    yield Part.META, event("response.content_part.done", **ids, part={**empty, "text": turn.text})
    output.append(_message_item(turn, status, True))
    yield Part.META, event("response.output_item.done", output_index=index, item=output[-1])
    yield Part.TERMINAL, event(f"response.{status}", response=_response(turn, status, output))


# ------------------------------------------------------------------------------------------- Chat Completions


def _chat_usage(turn: Turn) -> dict[str, Any]:
    return {
        "completion_tokens": turn.output_tokens,
        "completion_tokens_details": {
            "accepted_prediction_tokens": 0,
            "audio_tokens": 0,
            "reasoning_tokens": turn.reasoning_tokens,
            "rejected_prediction_tokens": 0,
        },
        "prompt_tokens": turn.input_tokens,
        "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": turn.cached_tokens},
        "total_tokens": turn.input_tokens + turn.output_tokens,
    }


def _finish_reason(turn: Turn) -> str:
    return {"max_output_tokens": "length", "content_filter": "content_filter"}.get(turn.cut or "", "stop")


def _choice_filter(turn: Turn) -> dict[str, Any]:
    return filter_results("violence" if turn.cut == "content_filter" else None)


def _prompt_filter_results() -> list[dict[str, Any]]:
    return [{"prompt_index": 0, "content_filter_results": filter_results()}]


def chat_body(turn: Turn) -> dict[str, Any]:
    """The non-streamed Chat Completions body, with Azure's filter annotations."""
    return {
        "choices": [
            {
                "content_filter_results": _choice_filter(turn),
                "finish_reason": _finish_reason(turn),
                "index": 0,
                "logprobs": None,
                "message": {"annotations": [], "content": turn.text, "refusal": None, "role": "assistant"},
            }
        ],
        "created": turn.created,
        "id": turn.chat_id,
        "model": turn.model,
        "object": "chat.completion",
        "prompt_filter_results": _prompt_filter_results(),
        "system_fingerprint": "fp_5ad0e4a3b2",
        "usage": _chat_usage(turn),
    }


def chat_events(turn: Turn) -> Iterator[tuple[Part, str]]:
    """The Chat Completions stream as Azure sends it: filter chunk first, deltas, finish, usage, [DONE]."""
    base = {"created": turn.created, "id": turn.chat_id, "model": turn.model, "object": "chat.completion.chunk"}
    base["system_fingerprint"] = "fp_5ad0e4a3b2"
    # Azure's first chunk: empty id and model, no choices, only the prompt's filter results.
    first = {"choices": [], "created": 0, "id": "", "model": "", "object": ""}
    yield Part.META, _sse(None, {**first, "prompt_filter_results": _prompt_filter_results()})

    def chunk(choice: dict[str, Any], **extra: Any) -> str:
        return _sse(None, {"choices": [{"index": 0, **choice}], **base, **extra})

    role = {"content": "", "refusal": None, "role": "assistant"}
    yield Part.META, chunk({"content_filter_results": {}, "delta": role, "finish_reason": None, "logprobs": None})
    safe = _dump(filter_results())
    head = '{"choices":[{"index":0,"content_filter_results":' + safe + ',"delta":{"content":'
    tail = ',"finish_reason":null,"logprobs":null}],' + _dump(base)[1:]
    for delta in turn.deltas:
        yield Part.DELTA, f"data: {head}{_dump(delta)}}}{tail}\n\n"
    yield (
        Part.META,
        chunk({"content_filter_results": {}, "delta": {}, "finish_reason": _finish_reason(turn), "logprobs": None}),
    )
    # Azure's quirk: a late chunk whose choice carries only filter results, no delta.
    yield Part.META, chunk({"content_filter_results": _choice_filter(turn), "finish_reason": None})
    if (turn.request.get("stream_options") or {}).get("include_usage"):
        yield Part.META, _sse(None, {"choices": [], **base, "usage": _chat_usage(turn)})
    yield Part.TERMINAL, "data: [DONE]\n\n"
