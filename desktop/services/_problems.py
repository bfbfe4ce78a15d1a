"""The classifier: any failure (a client error, a sign-in problem, our own bug) to one Problem, by a table of rules.

`classify` first gathers the facts of an error (`Facts`: what kind, the status, Azure's codes and message, the
headers, whether words had already arrived), then takes the first row of `RULES` that matches and fills the
wording of that row from `desktop.services._words`. It is called once, where the error reaches the services.
"""

from __future__ import annotations

import errno
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from desktop.auth import EntraSignInError, KeyringUnavailableError, SignInAction
from desktop.client import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    BadRequestError,
    RateLimitError,
)
from desktop.services._user_error import ErrorAction, Problem, RateLimitKind, category_words
from desktop.services._words import KEPT, duration_words, say, wording
from desktop.storage import HistoryError

__all__ = ["LONGEST_WAIT", "NEVER_FITS_AFTER", "RULES", "Facts", "Rule", "classify", "rate_limit_kind", "retry_reason"]

LONGEST_WAIT = 60.0
"""Waits up to this many seconds are a countdown that retries by itself; longer ones are an error with the time."""
NEVER_FITS_AFTER = 3600.0
"""A rate-limit wait of an hour or more means the request can never fit the per-minute token limit."""

_TENANT_MISMATCH = re.compile(r"tenant provided in token does not match", re.IGNORECASE)
_MISSING_ROLE = re.compile(r"lacks the required data action|PermissionDenied", re.IGNORECASE)
_CERTIFICATE = re.compile(r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|self[- ]signed", re.IGNORECASE)
_PROXY = re.compile(r"proxy", re.IGNORECASE)
_QUOTA = re.compile(r"insufficient_quota|exceeded your current quota|quota (?:has been |is )?(?:exhausted|exceeded)")
_TOKENS = re.compile(r"token rate limit|tokens per min|tokens_per_minute", re.IGNORECASE)
_REQUESTS = re.compile(r"call rate limit|request rate limit|requests per min|requests_per_minute", re.IGNORECASE)
_RETRY_AFTER_TEXT = re.compile(r"retry after (\d+) second", re.IGNORECASE)
_LOCAL_SERVER = re.compile(
    r"couldn't start an http server|could not start an http server|address already in use|"
    r"only one usage of each socket address|failed to bind|cannot bind|redirect server",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Facts:
    """What is known about a failure, gathered once; the rules only read these."""

    error: BaseException
    kind: str  # status | connect | timeout | reached | stream | reply | sign_in | keyring | history | bug
    status: int | None = None
    code: str | None = None
    inner_code: str | None = None
    message: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    received: bool = False  # words of the answer had arrived before the failure
    html: bool = False  # the reply was a web page (a proxy's), not Azure's JSON
    auth_method: str = "api_key"
    deployment: str | None = None
    retry_after: float | None = None
    rate_limit: RateLimitKind | None = None
    stream_kind: str | None = None

    def text(self) -> str:
        return f"{self.code or ''} {self.inner_code or ''} {self.message}"


@dataclass(frozen=True)
class Rule:
    """A row of the classifier: when `matches`, the failure gets the wording `key`."""

    key: str
    matches: Callable[[Facts], bool]


def _status(*codes: int) -> Callable[[Facts], bool]:
    return lambda f: f.kind == "status" and f.status in codes


def _rate(kind: RateLimitKind | None, waits: Callable[[float | None], bool]) -> Callable[[Facts], bool]:
    return lambda f: f.kind == "status" and f.status == 429 and f.rate_limit is kind and waits(f.retry_after)


def _short(seconds: float | None) -> bool:
    return seconds is not None and seconds <= LONGEST_WAIT


def _long(seconds: float | None) -> bool:
    return seconds is not None and LONGEST_WAIT < seconds < NEVER_FITS_AFTER


def _sign_in_server(f: Facts) -> bool:
    if f.kind != "sign_in":
        return False
    for item in _chain(f.error):
        if isinstance(item, OSError) and item.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            return True
        if _LOCAL_SERVER.search(str(item)):
            return True
    return False


def _stream(*kinds: str, received: bool | None = None) -> Callable[[Facts], bool]:
    return lambda f: (
        f.kind == "stream" and f.stream_kind in kinds and (received is None or f.received is received) and not f.html
    )


RULES: tuple[Rule, ...] = (
    Rule("sign_in_local_server", _sign_in_server),
    Rule("sign_in", lambda f: f.kind == "sign_in"),
    Rule("keyring_unavailable", lambda f: f.kind == "keyring"),
    Rule("history_not_saved", lambda f: f.kind == "history"),
    Rule("bug", lambda f: f.kind == "bug"),
    # An HTML page is a proxy's, whatever its status (Azure answers in JSON).
    Rule("proxy_page", lambda f: f.html and f.kind in ("status", "reply", "stream")),
    Rule(
        "content_filter",
        lambda f: f.kind == "status" and isinstance(f.error, BadRequestError) and f.error.is_content_filter,
    ),
    Rule("tenant_mismatch", lambda f: f.kind == "status" and f.status in (400, 401) and _tenant(f)),
    Rule(
        "context_too_long",
        lambda f: f.status == 400 and (f.code == "context_length_exceeded" or "maximum context length" in f.text()),
    ),
    Rule(
        "unsupported_setting",
        lambda f: (
            f.status == 400
            and (f.code in ("unsupported_parameter", "unsupported_value") or bool(getattr(f.error, "param", None)))
        ),
    ),
    Rule("bad_request", _status(400)),
    Rule("missing_role", lambda f: f.status == 401 and bool(_MISSING_ROLE.search(f.text()))),
    Rule("bad_key", lambda f: f.status == 401 and f.auth_method == "api_key"),
    Rule("sign_in_expired", _status(401)),
    Rule("access_blocked", _status(403)),
    Rule(
        "deployment_not_found",
        lambda f: f.status == 404 and (f.code == "DeploymentNotFound" or "deployment" in f.message.lower()),
    ),
    Rule("address_not_found", _status(404)),
    Rule("rate_quota", lambda f: f.status == 429 and f.rate_limit is RateLimitKind.QUOTA),
    Rule("rate_never_fits", lambda f: f.status == 429 and f.rate_limit is RateLimitKind.NEVER_FITS),
    Rule("rate_requests_wait", _rate(RateLimitKind.REQUESTS, _short)),
    Rule("rate_tokens_wait", _rate(RateLimitKind.TOKENS, _short)),
    Rule("rate_wait", _rate(RateLimitKind.UNKNOWN, _short)),
    Rule("rate_requests_later", _rate(RateLimitKind.REQUESTS, _long)),
    Rule("rate_tokens_later", _rate(RateLimitKind.TOKENS, _long)),
    Rule("rate_later", _rate(RateLimitKind.UNKNOWN, _long)),
    Rule("rate_no_time", _status(429)),
    Rule("conflict", _status(409, 422)),
    Rule("unavailable", _status(503)),
    Rule("gateway_timeout", _status(504)),
    Rule("bad_gateway", _status(502)),
    Rule("server_error", lambda f: f.kind == "status" and (f.status or 0) >= 500),
    Rule("refused", lambda f: f.kind == "status"),
    Rule("certificate", lambda f: f.kind in ("connect", "reached") and bool(_CERTIFICATE.search(f.message))),
    Rule("proxy_refused", lambda f: f.kind == "connect" and bool(_PROXY.search(f.message))),
    Rule(
        "no_answer_in_time",
        lambda f: f.kind == "timeout" and isinstance(f.error, APIConnectionError) and f.error.reached,
    ),
    Rule("cannot_reach", lambda f: f.kind in ("connect", "timeout")),
    Rule("connection_broke", lambda f: f.kind == "reached"),
    Rule("too_large", _stream("too_large")),
    Rule("stopped_by_azure", _stream("error_event")),
    Rule("unreadable", _stream("malformed", received=False)),
    Rule("unreadable_rest", _stream("malformed", received=True)),
    Rule("connection_broke", _stream("connection_lost", received=False)),
    Rule("no_answer_in_time", _stream("timeout", received=False)),
    Rule("ended_early", _stream("incomplete", received=False)),
    Rule("cut_off", _stream("connection_lost", "timeout", "incomplete", received=True)),
    Rule("unreadable", lambda f: f.kind == "reply"),
)


def _tenant(f: Facts) -> bool:
    return bool(_TENANT_MISMATCH.search(f.message) or (f.code and _TENANT_MISMATCH.search(f.code)))


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    item: BaseException | None = error
    while item is not None and item not in seen:
        seen.append(item)
        item = item.__cause__ or item.__context__
    return seen


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


def rate_limit_kind(
    message: str, code: str | None, headers: Mapping[str, str], retry_after: float | None
) -> RateLimitKind:
    """Which limit a 429 hit, from Azure's message and code, the wait it asks for, and the headroom headers."""
    text = f"{code or ''} {message}"
    if _QUOTA.search(text.lower()):
        return RateLimitKind.QUOTA
    if retry_after is not None and retry_after >= NEVER_FITS_AFTER:
        return RateLimitKind.NEVER_FITS
    if _TOKENS.search(text):
        return RateLimitKind.TOKENS
    if _REQUESTS.search(text):
        return RateLimitKind.REQUESTS
    if _int_header(headers, "x-ratelimit-remaining-tokens") == 0:
        return RateLimitKind.TOKENS
    if _int_header(headers, "x-ratelimit-remaining-requests") == 0:
        return RateLimitKind.REQUESTS
    return RateLimitKind.UNKNOWN


def _facts(
    error: BaseException,
    *,
    auth_method: str,
    deployment: str | None,
    received: bool,
    headers: Mapping[str, str] | None,
) -> Facts:
    make = functools.partial(Facts, error, auth_method=auth_method, deployment=deployment, received=received)
    if isinstance(error, EntraSignInError):
        return make("sign_in", code=error.problem.code, message=str(error))
    if isinstance(error, KeyringUnavailableError):
        return make("keyring", message=str(error))
    if isinstance(error, HistoryError):
        return make("history", message=str(error))
    if isinstance(error, APIStatusError):
        kept = error.headers
        retry_after = error.retry_after
        if retry_after is None and (found := _RETRY_AFTER_TEXT.search(error.message)):
            retry_after = float(found.group(1))
        kind = (
            rate_limit_kind(error.message, error.code, kept, retry_after) if isinstance(error, RateLimitError) else None
        )
        html = "html" in kept.get("content-type", "").lower() or (
            isinstance(error.body, str) and error.body.lstrip()[:15].lower().startswith(("<!doctype html", "<html"))
        )
        return make(
            "status",
            status=error.status_code,
            code=error.code,
            inner_code=error.inner_code,
            message=error.message,
            headers=kept,
            html=html,
            retry_after=retry_after,
            rate_limit=kind,
        )
    if isinstance(error, APITimeoutError):
        return make("timeout", message=error.message)
    if isinstance(error, APIConnectionError):
        reached = error.reached and not _CERTIFICATE.search(error.message)
        return make("reached" if reached else "connect", message=error.message)
    if isinstance(error, APIStreamError):
        return make(
            "stream",
            code=error.code,
            message=error.message,
            headers=dict(headers or {}),
            html="html" in (error.content_type or "").lower(),
            stream_kind=error.kind,
        )
    if isinstance(error, APIResponseValidationError):
        return make(
            "reply",
            status=error.status_code,
            message=error.message,
            html="html" in (error.content_type or "").lower(),
        )
    if isinstance(error, APIError):
        return make("reached", message=error.message)
    return make("bug", message=f"{type(error).__name__}: {error}")


_SIGN_IN_ACTIONS = {
    SignInAction.SIGN_IN_AGAIN: ErrorAction.SIGN_IN,
    SignInAction.USE_DEVICE_CODE: ErrorAction.SIGN_IN,
    SignInAction.ALLOW_UNENCRYPTED: ErrorAction.SIGN_IN,
    SignInAction.CHECK_NETWORK: ErrorAction.RETRY,
    SignInAction.CONTACT_ADMIN: ErrorAction.CONTACT_ADMIN,
    SignInAction.NONE: ErrorAction.NONE,
}


def _details(f: Facts, key: str, problem: Problem) -> str:
    lines = [f"Problem: {key} ({problem.category.value})", f"Error: {type(f.error).__name__}"]
    if f.status is not None:
        lines.append(f"HTTP status: {f.status}")
    if f.code:
        lines.append(f"Azure error code: {f.code}")
    if f.inner_code:
        lines.append(f"Inner code: {f.inner_code}")
    if f.stream_kind:
        lines.append(f"Stream problem: {f.stream_kind}")
    if problem.rate_limit is not None:
        lines.append(f"Limit: {problem.rate_limit.value}")
    if f.retry_after is not None:
        lines.append(f"Retry after: {f.retry_after:.0f} s")
    if problem.remaining_requests is not None:
        lines.append(f"Requests left this minute: {problem.remaining_requests}")
    if problem.remaining_tokens is not None:
        lines.append(f"Tokens left this minute: {problem.remaining_tokens}")
    if f.message and f.kind != "bug":
        lines.append(f"Message: {f.message}")
    elif f.kind == "bug":
        lines.append(f"Exception: {f.message}")
    if isinstance(f.error, EntraSignInError) and f.error.problem.link:
        lines.append(f"More: {f.error.problem.link}")
    if problem.deployment:
        lines.append(f"Deployment: {problem.deployment}")
    if problem.region:
        lines.append(f"Region: {problem.region}")
    if problem.request_id:
        lines.append(f"Request id: {problem.request_id}")
    if problem.occurred_at:
        lines.append(f"Time (UTC): {problem.occurred_at}")
    return "\n".join(lines)


def classify(
    error: BaseException,
    *,
    auth_method: str = "api_key",
    deployment: str | None = None,
    received: bool = False,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
    resource: str | None = None,
) -> Problem:
    """The Problem for any failure: the first matching row of RULES, its words filled from the facts.

    `received` says whether words of the answer had arrived; `headers` are those of the stream's response (for
    failures after it opened).
    """
    f = _facts(error, auth_method=auth_method, deployment=deployment, received=received, headers=headers)
    key = next(rule.key for rule in RULES if rule.matches(f))
    row = wording(key)
    when = (now or datetime.now(UTC)).astimezone(UTC)
    categories: tuple[str, ...] = ()
    if isinstance(error, BadRequestError):
        categories = tuple(error.content_filter_categories)
    which = category_words(categories)
    values: dict[str, object] = {
        "message": f.message,
        "status": f.status,
        "deployment_name": f"“{deployment}” " if deployment else "",
        "resource": f"the resource “{resource}”" if resource else "this Azure resource",
        "flagged": f" It was flagged for {which}." if which else "",
        "kept": KEPT if f.received else "",
    }
    if f.retry_after is not None:
        values["wait"] = duration_words(f.retry_after)
        values["until"] = (when + timedelta(seconds=f.retry_after)).strftime("%H:%M")
    action = row.action
    if key == "sign_in" and isinstance(error, EntraSignInError):
        values["title"], values["text"] = error.problem.title, error.problem.explanation
        action = _SIGN_IN_ACTIONS[error.problem.action]
    title, text = say(key, **values)
    all_headers = {**(headers or {}), **f.headers}
    problem = Problem(
        title=title,
        explanation=text,
        action=action,
        retry_after=f.retry_after if action is ErrorAction.WAIT_AND_RETRY else None,
        request_id=error.request_id if isinstance(error, APIError) else None,
        status=f.status,
        code=f.code,
        filter_categories=categories,
        category=row.category,
        rate_limit=f.rate_limit,
        remaining_requests=_int_header(all_headers, "x-ratelimit-remaining-requests"),
        remaining_tokens=_int_header(all_headers, "x-ratelimit-remaining-tokens"),
        deployment=deployment,
        region=all_headers.get("x-ms-region"),
        occurred_at=when.strftime("%Y-%m-%d %H:%M:%S"),
    )
    return replace(problem, details=_details(f, key, problem))


def with_request_id(problem: Problem, request_id: str | None) -> Problem:
    """The problem with the answer's request id when the error itself had none (details included)."""
    if not request_id or problem.request_id:
        return problem
    return replace(problem, request_id=request_id, details=problem.details + f"\nRequest id: {request_id}")


def retry_reason(exc: BaseException) -> str:
    """A few words for the in-place retry notice: 'rate limit', 'server error', ..."""
    if isinstance(exc, RateLimitError):
        return "rate limit"
    if isinstance(exc, APITimeoutError):
        return "no answer in time"
    if isinstance(exc, APIConnectionError):
        return "connection problem"
    if isinstance(exc, APIStatusError) and exc.status_code >= 500:
        return "server error"
    if isinstance(exc, APIStatusError):
        return f"error {exc.status_code}"
    return "temporary problem"
