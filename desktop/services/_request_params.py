"""The parameters a turn sends, chosen by the deployment's model family, and what a refusal teaches.

Everything here is pure: the chat service asks `responses_params` / `chat_params` what to send, and when Azure answers
400 `unsupported_parameter` or `unsupported_value` it asks `refusal_of` which of the app's own choices was refused.
That choice is then left out (once per turn, so a turn can never loop) and remembered for the deployment.

Refusal names, as kept in a deployment's `refused`:
- `temperature`, `max_output_tokens`, `max_completion_tokens`, `max_tokens`, `stream` (the request's own names);
- `effort` (no reasoning effort at all) or `effort:VALUE` (that one value), `summary` (no reasoning summary);
- `developer` (instructions go as a `system` message instead).

Azure's words, for the parser (the OpenAI error shape it passes through):
`{"error": {"code": "unsupported_parameter", "param": "temperature", "message": "Unsupported parameter: 'temperature'
is not supported with this model."}}`, `{"code": "unsupported_value", "param": "reasoning_effort", "message":
"Unsupported value: 'reasoning_effort' does not support 'minimal' with this model. ..."}`, `{"code":
"unsupported_value", "param": "messages[0].role", "message": "Unsupported value: 'messages[0].role' does not support
'developer' with this model."}` and `{"code": "unsupported_value", "param": "stream", "message": "Unsupported value:
'stream' does not support true with this model. Supported values are: false."}`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any, Literal

from desktop.lazy_dataclass import dataclass
from desktop.services._model_families import ModelFamily

__all__ = ["Choices", "adapted_words", "choices_for", "refusal_of", "request_extras"]

REFUSAL_CODES = frozenset({"unsupported_parameter", "unsupported_value"})
_QUOTED = re.compile(r"Unsupported (?:parameter|value): '([^']+)'(?: does not support '?([^' ]+)'?)?", re.IGNORECASE)
_EFFORT_PARAMS = frozenset({"reasoning_effort", "reasoning.effort", "reasoning"})
_SAMPLING_PARAMS = frozenset({"temperature", "top_p"})
_LIMIT_PARAMS = frozenset({"max_output_tokens", "max_completion_tokens", "max_tokens"})
_ROLE_PARAM = re.compile(r"(messages|input)\[\d+\]\.role")


@dataclass(frozen=True)
class Choices:
    """What a turn sends beyond the conversation itself (None / False: not sent)."""

    stream: bool
    temperature: float | None
    limit_name: str | None
    limit: int | None
    effort: str | None
    summary: bool
    instructions_role: Literal["system", "developer", "user"]


def choices_for(
    family: ModelFamily,
    refused: Collection[str],
    api: Literal["responses", "chat"],
    *,
    temperature: float | None,
    max_output_tokens: int | None,
    reasoning_effort: str | None,
) -> Choices:
    """What to send to a model of `family` that refused `refused` (the user's settings filtered by both)."""
    effort = family.effort(reasoning_effort)
    if effort is not None and ("effort" in refused or f"effort:{effort}" in refused):
        effort = None
    limit_name: str | None = None
    if max_output_tokens:
        if api == "responses":
            limit_name = None if "max_output_tokens" in refused else "max_output_tokens"
        else:
            preferred = family.chat_max_tokens
            other = "max_tokens" if preferred == "max_completion_tokens" else "max_completion_tokens"
            limit_name = next((n for n in (preferred, other) if n not in refused), None)
    role = family.instructions_role
    if role == "developer" and "developer" in refused:
        role = "system"
    return Choices(
        stream=family.streams and "stream" not in refused,
        temperature=temperature if family.sampling and "temperature" not in refused else None,
        limit_name=limit_name,
        limit=max_output_tokens if limit_name else None,
        effort=effort,
        summary=api == "responses" and family.summaries and "summary" not in refused,
        instructions_role=role,
    )


def _error_fields(exc: BaseException) -> tuple[str | None, str | None, str]:
    return getattr(exc, "code", None), getattr(exc, "param", None), str(getattr(exc, "message", "") or exc)


def refusal_of(exc: BaseException, sent: Choices) -> str | None:
    """The name of the app's own choice a 400 refused (see the module docstring), or None.

    None for anything else: another error, a refusal of what the user typed (the messages), or of a parameter this
    turn did not send.
    """
    code, param, message = _error_fields(exc)
    if getattr(exc, "status_code", None) != 400 or (code or "").lower() not in REFUSAL_CODES:
        return None
    quoted = _QUOTED.search(message)
    name = param or (quoted.group(1) if quoted else None)
    value = quoted.group(2) if quoted and quoted.group(1) == name else None
    if not name:
        return None
    if name in _SAMPLING_PARAMS:
        return "temperature" if sent.temperature is not None else None
    if name in _LIMIT_PARAMS:
        return name if sent.limit_name == name else None
    if name == "stream":
        return "stream" if sent.stream else None
    if name == "reasoning.summary":
        return "summary" if sent.summary else None
    if name in _EFFORT_PARAMS:
        if sent.effort is None:
            return "summary" if name == "reasoning" and sent.summary else None
        if (code or "").lower() == "unsupported_value" and value and value.strip("'\"") == sent.effort:
            return f"effort:{sent.effort}"
        return "effort"
    if _ROLE_PARAM.fullmatch(name) and sent.instructions_role == "developer" and (value or "developer") == "developer":
        return "developer"
    return None


_WORDS = {
    "temperature": "the creativity setting (temperature)",
    "max_output_tokens": "the answer limit",
    "max_completion_tokens": "the answer limit as “max_completion_tokens”",
    "max_tokens": "the answer limit as “max_tokens”",
    "stream": "streaming (its answers arrive whole)",
    "effort": "a reasoning effort",
    "summary": "a summary of its thinking",
    "developer": "instructions as a “developer” message (they go as “system”)",
}


def adapted_words(refused: Collection[str]) -> str:
    """One line for an answer's Details: what the app no longer sends because this model refused it ('' if none)."""
    words = []
    for name in refused:
        if name.startswith("effort:"):
            words.append(f"the reasoning effort “{name.split(':', 1)[1]}”")
        else:
            words.append(_WORDS.get(name, name))
    return "Adapted to this model (it refused them): sent without " + ", ".join(words) if words else ""


def request_extras(choices: Choices, api: Literal["responses", "chat"]) -> dict[str, Any]:
    """The request's optional parameters for these choices."""
    params: dict[str, Any] = {}
    if choices.limit_name and choices.limit:
        params[choices.limit_name] = choices.limit
    if choices.temperature is not None:
        params["temperature"] = choices.temperature
    if api == "responses":
        reasoning: dict[str, Any] = {}
        if choices.effort:
            reasoning["effort"] = choices.effort
        if choices.summary:
            reasoning["summary"] = "auto"
        if reasoning:
            params["reasoning"] = reasoning
    elif choices.effort:
        params["reasoning_effort"] = choices.effort
    return params
