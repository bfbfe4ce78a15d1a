"""Errors raised by the Azure OpenAI client, with plain fields only (never httpx objects).

```
APIError
 ├── APIStatusError                 the service answered with a non-2xx status
 │    ├── BadRequestError           400 (content filter: `is_content_filter`, `content_filter_categories`)
 │    ├── AuthenticationError       401
 │    ├── PermissionDeniedError     403
 │    ├── NotFoundError             404 (Azure `DeploymentNotFound`)
 │    ├── ConflictError             409
 │    ├── UnprocessableEntityError  422
 │    ├── RateLimitError            429
 │    └── InternalServerError       >= 500
 ├── APIConnectionError             no response: DNS, TCP, TLS, proxy, reset
 │    └── APITimeoutError           no response in time
 ├── APIResponseValidationError     a 2xx answer whose body is not the JSON we expect
 └── APIStreamError                 a stream went wrong after it started (`kind` says how)
```
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final, Literal

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "StreamErrorKind",
    "UnprocessableEntityError",
    "make_status_error",
    "request_id_of",
    "triggered_filter_categories",
]

# Headers worth keeping on an error for support and for the UI (rate limits, region, ids).
KEPT_HEADERS: Final = (
    "x-request-id",
    "apim-request-id",
    "x-ms-region",
    "retry-after",
    "retry-after-ms",
    "x-should-retry",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "content-type",
)
_MAX_TEXT_MESSAGE = 300
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")

StreamErrorKind = Literal["error_event", "malformed", "connection_lost", "timeout", "incomplete", "too_large"]


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """Return the request id Azure support asks for (`x-request-id`, else `apim-request-id`)."""
    return headers.get("x-request-id") or headers.get("apim-request-id") or None


class APIError(Exception):
    """Base of every error this client raises."""

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id


class APIConnectionError(APIError):
    """No response arrived: the network, DNS, TLS or a proxy failed.

    `reached` is True when a connection to the server was made and then broke (the server was reached), False when
    no connection could be made at all.
    """

    def __init__(
        self, message: str = "Connection error.", *, request_id: str | None = None, reached: bool = False
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.reached = reached


class APITimeoutError(APIConnectionError):
    """No response arrived within the timeout."""

    def __init__(
        self, message: str = "Request timed out.", *, request_id: str | None = None, reached: bool = False
    ) -> None:
        super().__init__(message, request_id=request_id, reached=reached)


class APIResponseValidationError(APIError):
    """A successful status came with a body that is not the expected JSON (e.g. a proxy's HTML page)."""

    def __init__(
        self, message: str, *, status_code: int, request_id: str | None = None, content_type: str | None = None
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.status_code = status_code
        self.content_type = content_type


class APIStreamError(APIError):
    """A stream failed after its status arrived: an error event, bad JSON, a dropped connection or a cut end."""

    def __init__(
        self,
        message: str,
        *,
        kind: StreamErrorKind,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        content_type: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.kind: StreamErrorKind = kind
        self.code = code
        self.param = param
        self.body = body
        self.content_type = content_type  # of the stream's response: text/html means a proxy's page, not Azure


class APIStatusError(APIError):
    """The service answered with an error status; fields are parsed from every body shape Azure sends."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        param: str | None = None,
        type: str | None = None,  # the wire field name, as in the openai SDK
        inner_code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.status_code = status_code
        self.code = code
        self.param = param
        self.type = type
        self.inner_code = inner_code
        self.retry_after = retry_after
        self.body = body
        self.headers: dict[str, str] = dict(headers or {})

    def __str__(self) -> str:
        code = f" {self.code}" if self.code and self.code != str(self.status_code) else ""
        return f"Error code: {self.status_code}{code} - {self.message}"


class BadRequestError(APIStatusError):
    """400: the request was refused, for example by the Azure content filter."""

    @property
    def content_filter_categories(self) -> list[str]:
        """Names of the content filter categories that were filtered or detected (empty if none)."""
        return triggered_filter_categories(_find_filter_results(self.body))

    @property
    def is_content_filter(self) -> bool:
        """True when Azure's content filter refused the prompt."""
        return (
            self.code == "content_filter"
            or self.inner_code == "ResponsibleAIPolicyViolation"
            or bool(self.content_filter_categories)
        )


class AuthenticationError(APIStatusError):
    """401: the key or token is wrong, expired, for another audience, or (Azure) the role is missing."""


class PermissionDeniedError(APIStatusError):
    """403: the identity may not do this."""


class NotFoundError(APIStatusError):
    """404: usually a deployment name that does not exist on the resource."""


class ConflictError(APIStatusError):
    """409: a conflicting request is in progress."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was understood but cannot be processed."""


class RateLimitError(APIStatusError):
    """429: too many requests or tokens; `retry_after` says when to try again."""


class InternalServerError(APIStatusError):
    """>= 500: the service (or a gateway in front of it) failed."""


_CLASS_BY_STATUS: Final[dict[int, type[APIStatusError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def triggered_filter_categories(results: Any) -> list[str]:
    """Names of the categories in Azure content filter results that were filtered or detected."""
    if not isinstance(results, dict):
        return []
    return [
        name
        for name, value in results.items()
        if isinstance(value, dict) and (value.get("filtered") is True or value.get("detected") is True)
    ]


def _find_filter_results(body: Any) -> dict[str, Any]:
    """Find content filter results at any of the places (and spellings) Azure puts them."""
    candidates: list[Any] = []
    if isinstance(body, dict):
        error = body.get("error")
        for holder in (error, body):
            if isinstance(holder, dict):
                candidates.append(holder)
                candidates.append(holder.get("innererror"))
                candidates.append(holder.get("inner_error"))
    for holder in candidates:
        if not isinstance(holder, dict):
            continue
        for key in ("content_filter_result", "content_filter_results"):
            value = holder.get(key)
            if isinstance(value, dict):
                return value
    return {}


def _text(value: Any) -> str | None:
    """Return a wire value as text (Azure sends some codes as numbers), or None when absent."""
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _message_from_text(content: bytes, status_code: int) -> str:
    """Turn a non-JSON body (an HTML page from a proxy, plain text) into a short readable message."""
    text = content.decode("utf-8", errors="replace")
    if "<" in text:
        text = _TAG.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    if not text:
        return f"Error code: {status_code}"
    if len(text) > _MAX_TEXT_MESSAGE:
        text = text[: _MAX_TEXT_MESSAGE - 1] + "…"
    return text


def make_status_error(
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    retry_after: float | None = None,
) -> APIStatusError:
    """Build the right APIStatusError subclass from a status, the response headers and the raw body."""
    kept = {name: headers[name] for name in KEPT_HEADERS if name in headers}
    body: Any
    try:
        body = json.loads(content) if content else None
    except ValueError:
        body = None
    code = param = type_ = inner_code = None
    message: str | None = None
    if isinstance(body, dict):
        error = body.get("error")
        fields = error if isinstance(error, dict) else body
        code = _text(fields.get("code"))
        message = _text(fields.get("message"))
        param = _text(fields.get("param"))
        type_ = _text(fields.get("type"))
        inner = fields.get("innererror") or fields.get("inner_error")
        if isinstance(inner, dict):
            inner_code = _text(inner.get("code"))
        if message is None and isinstance(error, str):
            message = error
        if message is None:
            message = _text(body.get("message"))
        if code is None and "statusCode" in body:
            code = _text(body.get("statusCode"))
    else:
        if body is None and content:
            body = content.decode("utf-8", errors="replace")
        message = _message_from_text(content, status_code) if content else None
    cls = _CLASS_BY_STATUS.get(status_code) or (InternalServerError if status_code >= 500 else APIStatusError)
    return cls(
        message or f"Error code: {status_code}",
        status_code=status_code,
        code=code,
        param=param,
        type=type_,
        inner_code=inner_code,
        request_id=request_id_of(headers),
        retry_after=retry_after,
        body=body,
        headers=kept,
    )
