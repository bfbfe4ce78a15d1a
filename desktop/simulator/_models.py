"""What a deployment's model refuses, in Azure's words: the 400s a request gets for parameters its model does not take.

Azure passes OpenAI's error shape through: `{"error": {"code": "unsupported_parameter" | "unsupported_value",
"param": ..., "message": "Unsupported parameter: 'temperature' is not supported with this model.", "type":
"invalid_request_error"}}`. Reasoning models refuse temperature, top_p and max_tokens (Azure's "Not supported" list).
"""

from __future__ import annotations

from typing import Any

from . import _azure as azure
from ._config import Deployment

_REASONING_REFUSES = ("temperature", "top_p", "max_tokens")


def _unsupported_parameter(param: str) -> dict[str, Any]:
    if param == "max_tokens":
        return azure.unsupported_parameter_body("max_tokens", "max_completion_tokens")
    return azure.error_body(
        "unsupported_parameter",
        f"Unsupported parameter: '{param}' is not supported with this model.",
        param=param,
        type_="invalid_request_error",
    )


def _unsupported_value(param: str, value: str, supported: str = "") -> dict[str, Any]:
    return azure.error_body(
        "unsupported_value",
        f"Unsupported value: '{param}' does not support {value} with this model.{supported}",
        param=param,
        type_="invalid_request_error",
    )


def _listed(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) > 1:
        quoted[-1] = "and " + quoted[-1]
    return " Supported values are: " + ", ".join(quoted) + "."


def refusal(deployment: Deployment, body: dict[str, Any], api: str) -> dict[str, Any] | None:
    """The 400 body Azure sends for this request to this deployment's model, or None when the model takes it."""
    if body.get("stream") is True and not deployment.streams:
        return _unsupported_value("stream", "true", " Supported values are: false.")
    refuses = set(deployment.refuses) | (set(_REASONING_REFUSES) if deployment.reasoning else set())
    for param in (*_REASONING_REFUSES, *deployment.refuses):
        if param in body and param in refuses:
            return _unsupported_parameter(param)
    reasoning = body.get("reasoning") if api == "responses" else None
    reasoning = reasoning if isinstance(reasoning, dict) else {}
    if api == "responses" and "summary" in reasoning and not deployment.reasoning:
        return _unsupported_parameter("reasoning.summary")
    name = "reasoning.effort" if api == "responses" else "reasoning_effort"
    effort = reasoning.get("effort") if api == "responses" else body.get("reasoning_effort")
    if effort is not None:
        if not deployment.reasoning or deployment.efforts == ():
            return _unsupported_parameter(name)
        if deployment.efforts is not None and effort not in deployment.efforts:
            return _unsupported_value(name, f"'{effort}'", _listed(deployment.efforts))
    if api == "chat":
        for index, message in enumerate(body.get("messages") or []):
            role = message.get("role") if isinstance(message, dict) else None
            if role in ("system", "developer") and role not in deployment.roles:
                return _unsupported_value(f"messages[{index}].role", f"'{role}'")
    return None
