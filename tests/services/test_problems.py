"""The classifier's table: one row per Azure body shape and status, each 429 kind, the network and the stream.

Each row gives the exact title, sentence and action the user sees.
"""

from __future__ import annotations

import errno
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from desktop.auth import EntraSignInError, KeyringUnavailableError
from desktop.auth._entra_problems import describe_sign_in_problem
from desktop.client import (
    APIConnectionError,
    APIResponseValidationError,
    APIStreamError,
    APITimeoutError,
    AzureOpenAIClient,
)
from desktop.client._errors import make_status_error
from desktop.services._problems import RULES, classify
from desktop.services._user_error import Category, ErrorAction, Problem, RateLimitKind
from desktop.services._words import WORDS
from desktop.simulator import Fault, FaultKind, Simulator

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
AZURE_429 = (
    "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded {what} "
    "rate limit of your current OpenAI S0 pricing tier. Please retry after {n} seconds. Please go here: "
    "https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."
)


def status(code: int, body: Any, headers: dict[str, str] | None = None, retry_after: float | None = None) -> Any:
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return make_status_error(code, {"x-request-id": "req-1", **(headers or {})}, content, retry_after=retry_after)


def err(code: str | None, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def rate(what: str, seconds: int, **headers: str) -> Any:
    return status(
        429, err("429", AZURE_429.format(what=what, n=seconds)), {"retry-after": str(seconds), **headers}, seconds
    )


FILTER_BODY = err(
    "content_filter",
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
    param="prompt",
    status=400,
    innererror={
        "code": "ResponsibleAIPolicyViolation",
        "content_filter_result": {"violence": {"filtered": True, "severity": "medium"}, "hate": {"filtered": False}},
    },
)
PROXY_PAGE = "<!DOCTYPE html><html><head><title>Access denied</title></head><body>Blocked by policy</body></html>"

ROWS: list[tuple[str, BaseException, dict[str, Any], str, str, ErrorAction]] = [
    (
        "content filter (400, inner ResponsibleAIPolicyViolation)",
        status(400, FILTER_BODY),
        {},
        "Blocked by the content filter",
        "Your organisation's Azure content filter did not let this message through. It was flagged for violence. "
        "Rephrase it, or continue the conversation without it.",
        ErrorAction.LEAVE_OUT,
    ),
    (
        "context too long (400 context_length_exceeded)",
        status(400, err("context_length_exceeded", "This model's maximum context length is 128000 tokens.")),
        {},
        "This conversation is too long",
        "The conversation no longer fits into what the model can read at once. Start a new chat, or delete or "
        "shorten earlier messages.",
        ErrorAction.SHORTEN,
    ),
    (
        "unsupported parameter (400 with param)",
        status(
            400,
            err(
                "unsupported_parameter",
                "Unsupported parameter: 'temperature' is not supported with this model.",
                param="temperature",
                type="invalid_request_error",
            ),
        ),
        {},
        "This deployment does not accept these settings",
        "Azure refused a setting for this deployment (Unsupported parameter: 'temperature' is not supported with "
        "this model.). Change the chat settings for this deployment, or pick another deployment.",
        ErrorAction.OPEN_SETTINGS,
    ),
    (
        "other 400 (flat body)",
        status(400, {"code": "BadRequest", "message": "Invalid input."}),
        {},
        "Azure could not accept this request",
        "Azure said: Invalid input.",
        ErrorAction.CONTACT_ADMIN,
    ),
    (
        "tenant mismatch (401)",
        status(401, err("401", "The tenant provided in token does not match the resource's tenant.")),
        {"auth_method": "entra"},
        "Signed in to a different organisation",
        "Your sign-in belongs to another organisation (tenant) than this Azure resource. In Settings, enter the "
        "resource's tenant under Advanced and sign in again.",
        ErrorAction.OPEN_SETTINGS,
    ),
    (
        "missing role (401 PermissionDenied)",
        status(
            401,
            err(
                "PermissionDenied",
                "The principal `abc` lacks the required data action "
                "`Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action`.",
            ),
        ),
        {"auth_method": "entra"},
        "Your account has no access to this resource yet",
        "You are signed in, but your account lacks the role “Cognitive Services OpenAI User” on this Azure resource. "
        "Ask your administrator to assign it; a new role can take up to 5 minutes to apply.",
        ErrorAction.CONTACT_ADMIN,
    ),
    (
        "bad key (401, statusCode body)",
        status(401, {"statusCode": 401, "message": "Access denied due to invalid subscription key."}),
        {},
        "The API key was not accepted",
        "Azure did not accept the key for this address. Check that the key and the address come from the same Azure "
        "resource, and paste the key again in Settings.",
        ErrorAction.OPEN_SETTINGS,
    ),
    (
        "expired token (401 on Entra)",
        status(401, err("401", "Unauthorized. Access token is missing, invalid, audience is incorrect.")),
        {"auth_method": "entra"},
        "Please sign in again",
        "Your sign-in has expired or is not valid for this Azure resource. Sign in again to continue.",
        ErrorAction.SIGN_IN,
    ),
    (
        "firewall (403 JSON)",
        status(403, err("403", "Access denied due to Virtual Network/Firewall rules.")),
        {},
        "Access to this resource is blocked",
        "Azure refused access, often because the resource only accepts connections from your organisation's "
        "network. Connect to your company network or VPN, or ask your administrator.",
        ErrorAction.CONTACT_ADMIN,
    ),
    (
        "deployment not found (404)",
        status(404, err("DeploymentNotFound", "The API deployment for this resource does not exist.")),
        {"deployment": "gpt-5"},
        "This deployment does not exist",
        "The deployment “gpt-5” was not found on this Azure resource. It may have been renamed or removed. Pick "
        "another deployment in Settings.",
        ErrorAction.OPEN_SETTINGS,
    ),
    (
        "other 404",
        status(404, {"error": {"code": "404", "message": "Resource not found"}}),
        {},
        "This address does not lead to Azure OpenAI",
        "Azure answered that the address was not found. Check the resource address in Settings.",
        ErrorAction.OPEN_SETTINGS,
    ),
    (
        "429 requests per minute, 20 s",
        rate("call", 20, **{"x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "9000"}),
        {},
        "Too many requests this minute",
        "This deployment accepts a limited number of requests per minute, and that many were just sent. Wait 20 "
        "seconds, then try again.",
        ErrorAction.WAIT_AND_RETRY,
    ),
    (
        "429 tokens per minute, 45 s",
        rate("token", 45, **{"x-ratelimit-remaining-requests": "12", "x-ratelimit-remaining-tokens": "0"}),
        {},
        "Too much text this minute",
        "This deployment accepts a limited number of tokens (pieces of words) per minute, and this request would go "
        "over it. Wait 45 seconds, then try again.",
        ErrorAction.WAIT_AND_RETRY,
    ),
    (
        "429 tokens per minute, 5 minutes",
        rate("token", 300),
        {},
        "Too much text for now",
        "This deployment has reached its limit of tokens per minute and asks for a wait of 5 minutes. Try again "
        "after 12:05 UTC, or pick another deployment.",
        ErrorAction.RETRY,
    ),
    (
        "429 requests per minute, 90 s",
        rate("call", 90),
        {},
        "Too many requests for now",
        "This deployment has reached its limit of requests per minute and asks for a wait of 90 seconds. Try again "
        "after 12:01 UTC, or pick another deployment.",
        ErrorAction.RETRY,
    ),
    (
        "429 that can never fit (a day)",
        rate("token", 86400, **{"x-ratelimit-remaining-tokens": "1000"}),
        {},
        "This request is larger than the deployment allows",
        "This request alone needs more tokens than the deployment accepts per minute, so waiting will not help "
        "(Azure asked for a wait of 1 day). The answer limit counts toward it: shorten the answer limit, or pick "
        "another deployment of this connection.",
        ErrorAction.SHORTEN_ANSWER_LIMIT,
    ),
    (
        "429 quota exhausted",
        status(429, err("insufficient_quota", "You exceeded your current quota, please check your plan.")),
        {},
        "The usage quota is used up",
        "Your organisation's Azure quota for this deployment is used up. Ask your administrator to raise the quota, "
        "or pick another deployment.",
        ErrorAction.CONTACT_ADMIN,
    ),
    (
        "429 with no wait",
        status(429, err("429", "Too Many Requests")),
        {},
        "Azure is busy (rate limit)",
        "This deployment has reached its usage limit for the moment. Wait a little and try again.",
        ErrorAction.RETRY,
    ),
    (
        "429 unknown kind, 10 s",
        status(429, err("429", "Rate limit is exceeded."), {"retry-after": "10"}, 10),
        {},
        "Azure is busy (rate limit)",
        "This deployment has reached its usage limit for the moment. Wait 10 seconds, then try again.",
        ErrorAction.WAIT_AND_RETRY,
    ),
    (
        "409",
        status(409, err("Conflict", "The request conflicts with the current state.")),
        {},
        "Azure could not process this request",
        "Azure said: The request conflicts with the current state. Try again; if it keeps happening, contact your "
        "administrator.",
        ErrorAction.RETRY,
    ),
    (
        "500",
        status(500, err("InternalServerError", "The server had an error.")),
        {},
        "Azure had a problem",
        "The service failed while handling this request. Try again in a moment.",
        ErrorAction.RETRY,
    ),
    (
        "502 JSON",
        status(502, err("BadGateway", "Bad gateway.")),
        {},
        "A gateway in front of Azure failed",
        "The request did not reach the model. Try again in a moment.",
        ErrorAction.RETRY,
    ),
    (
        "503",
        status(503, err("ServiceUnavailable", "The service is temporarily unable to process your request.")),
        {},
        "Azure is temporarily unavailable",
        "The service is overloaded or under maintenance. Try again in a moment.",
        ErrorAction.RETRY,
    ),
    (
        "504",
        status(504, err("GatewayTimeout", "The operation was timeout.")),
        {},
        "Azure took too long to answer",
        "A gateway gave up waiting for the model. Try again in a moment.",
        ErrorAction.RETRY,
    ),
]

PROXY = (
    "A proxy or firewall answered instead of Azure",
    "Something on your network (often a company proxy or firewall) sent its own web page instead of Azure's answer. "
    "Check the proxy in Settings, or ask IT to let the app reach Azure.",
    ErrorAction.OPEN_SETTINGS,
)
CUT_OFF = (
    "The answer was cut off",
    "The connection broke while the answer was arriving. The part received is kept; try again for a full answer.",
    ErrorAction.RETRY,
)
BROKE = (
    "The connection broke",
    "Azure was reached, but the connection broke before the answer began. Try again; if it keeps happening, "
    "something on your network may be cutting connections.",
    ErrorAction.RETRY,
)
UNREADABLE = (
    "Azure sent an answer the app could not read",
    "Nothing readable arrived. Try again; if it keeps happening, contact your administrator with the details.",
    ErrorAction.RETRY,
)


def _bound() -> OSError:
    return OSError(errno.EADDRINUSE, "Address already in use")


def _sign_in_server_error() -> EntraSignInError:
    try:
        try:
            raise _bound()
        except OSError as exc:
            raise EntraSignInError(describe_sign_in_problem("Couldn't start an HTTP server on localhost")) from exc
    except EntraSignInError as error:
        return error


OTHER_ROWS: list[tuple[str, BaseException, dict[str, Any], tuple[str, str, ErrorAction]]] = [
    ("proxy HTML page as a 403", status(403, PROXY_PAGE, {"content-type": "text/html"}), {}, PROXY),
    ("proxy HTML page as a 502", status(502, PROXY_PAGE, {"content-type": "text/html; charset=utf-8"}), {}, PROXY),
    (
        "proxy HTML page as a 200 reply",
        APIResponseValidationError("not JSON (text/html)", status_code=200, content_type="text/html"),
        {},
        PROXY,
    ),
    (
        "proxy HTML page as a 200 stream",
        APIStreamError("ended without its end marker", kind="incomplete", content_type="text/html"),
        {},
        PROXY,
    ),
    (
        "no connection at all",
        APIConnectionError("Could not connect: [Errno -2] Name or service not known"),
        {},
        (
            "Cannot reach Azure",
            "The app could not connect to your Azure resource. Check your internet connection or VPN, and the "
            "address in Settings.",
            ErrorAction.RETRY,
        ),
    ),
    ("connection made, broken before the status", APIConnectionError("Server disconnected", reached=True), {}, BROKE),
    (
        "stream broken before the first words",
        APIStreamError("lost", kind="connection_lost"),
        {"received": False},
        BROKE,
    ),
    ("stream broken mid-answer", APIStreamError("lost", kind="connection_lost"), {"received": True}, CUT_OFF),
    ("stream ended early mid-answer", APIStreamError("no end", kind="incomplete"), {"received": True}, CUT_OFF),
    (
        "stream ended before the first words",
        APIStreamError("no end", kind="incomplete"),
        {"received": False},
        (
            "Azure ended the answer before it began",
            "Azure closed the answer before any words arrived. Try again.",
            ErrorAction.RETRY,
        ),
    ),
    ("malformed JSON before the first delta", APIStreamError("bad", kind="malformed"), {"received": False}, UNREADABLE),
    (
        "malformed JSON after the first delta",
        APIStreamError("bad", kind="malformed"),
        {"received": True},
        (
            "The rest of the answer could not be read",
            "Part of the answer arrived, then Azure sent something the app could not read. The part received is "
            "kept; try again for a full answer.",
            ErrorAction.RETRY,
        ),
    ),
    (
        "a non-JSON 200 reply",
        APIResponseValidationError("not JSON (application/octet-stream)", status_code=200),
        {},
        UNREADABLE,
    ),
    (
        "no answer in time after connecting",
        APITimeoutError("ReadTimeout", reached=True),
        {},
        (
            "No answer in time",
            "Azure was reached but did not answer in time. Try again; you can raise the time limit in Settings.",
            ErrorAction.RETRY,
        ),
    ),
    (
        "certificate replaced by a proxy",
        APIConnectionError("Could not connect: [SSL: CERTIFICATE_VERIFY_FAILED] self-signed certificate"),
        {},
        (
            "Your network's security certificate is not trusted",
            "A device on your network (often a company proxy) replaced Azure's certificate with one this computer "
            "does not trust. Ask IT to install your organisation's certificate.",
            ErrorAction.CONTACT_ADMIN,
        ),
    ),
    (
        "the local sign-in server cannot start",
        _sign_in_server_error(),
        {"auth_method": "entra"},
        (
            "The sign-in could not start on this computer",
            "The app could not start the small helper on this computer that receives the sign-in from your browser "
            "(another program may be using it, or security software blocks it). Sign in with a code instead.",
            ErrorAction.SIGN_IN,
        ),
    ),
    (
        "the password store is missing",
        KeyringUnavailableError("No password store was found."),
        {},
        (
            "The password store is not available",
            "No password store was found. You can keep the key for this session only (Settings → Connection).",
            ErrorAction.OPEN_SETTINGS,
        ),
    ),
    (
        "our own bug",
        KeyError("deltas"),
        {},
        (
            "Something went wrong inside the app",
            "This is a fault in the app itself, not in your network or at Azure. Your conversation is saved. Copy "
            "the details and send them to your IT support.",
            ErrorAction.COPY_DETAILS,
        ),
    ),
]


@pytest.mark.parametrize(
    ("error", "context", "title", "text", "action"),
    [pytest.param(e, c, t, x, a, id=name) for name, e, c, t, x, a in ROWS]
    + [pytest.param(e, c, *words, id=name) for name, e, c, words in OTHER_ROWS],
)
def test_each_failure_gets_its_exact_words_and_action(
    error: BaseException, context: dict[str, Any], title: str, text: str, action: ErrorAction
) -> None:
    problem = classify(error, now=NOW, **context)
    assert (problem.title, problem.explanation, problem.action) == (title, text, action)


def test_rate_limit_kinds_and_headroom_are_kept_for_details() -> None:
    error = rate("token", 30, **{"x-ratelimit-remaining-requests": "7", "x-ratelimit-remaining-tokens": "0"})
    problem = classify(error, deployment="gpt-4.1", now=NOW)
    assert problem.rate_limit is RateLimitKind.TOKENS
    assert (problem.remaining_requests, problem.remaining_tokens, problem.retry_after) == (7, 0, 30.0)
    assert "Requests left this minute: 7" in problem.details
    assert "Tokens left this minute: 0" in problem.details
    assert "Deployment: gpt-4.1" in problem.details
    assert "Request id: req-1" in problem.details
    assert "Time (UTC): 2025-03-01 12:00:00" in problem.details
    assert classify(rate("call", 86400), now=NOW).rate_limit is RateLimitKind.NEVER_FITS
    assert classify(rate("call", 86400), now=NOW).retry_after is None  # no countdown


def test_a_rate_limit_kind_comes_from_the_headers_when_the_message_does_not_say() -> None:
    headers = {"retry-after": "5", "x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "5000"}
    error = status(429, err("429", "Rate limit is exceeded."), headers, 5)
    assert classify(error, now=NOW).title == "Too many requests this minute"


def test_environment_problems_and_our_bugs_are_kept_apart() -> None:
    bug = classify(ZeroDivisionError("division by zero"), now=NOW)
    assert bug.category is Category.BUG and bug.is_bug
    assert "Exception: ZeroDivisionError: division by zero" in bug.details
    assert "Traceback" not in bug.details  # the traceback goes to the log only
    for _name, error, context, *_ in ROWS:
        assert not classify(error, now=NOW, **context).is_bug


def test_a_problem_survives_its_json() -> None:
    problem = classify(rate("token", 30, **{"x-ms-region": "swedencentral"}), deployment="d", now=NOW)
    assert Problem.from_json(json.loads(json.dumps(problem.to_json()))) == problem
    assert problem.region == "swedencentral"


def test_every_rule_names_a_wording_and_every_wording_has_a_trigger() -> None:
    assert {rule.key for rule in RULES} <= set(WORDS)
    assert all(row.trigger and row.title for row in WORDS.values())


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (FaultKind.RATE_REQUESTS, RateLimitKind.REQUESTS),
        (FaultKind.RATE_TOKENS, RateLimitKind.TOKENS),
        (FaultKind.RATE_QUOTA, RateLimitKind.QUOTA),
        (FaultKind.RATE_NEVER_FITS, RateLimitKind.NEVER_FITS),
    ],
)
def test_the_simulators_429_kinds_are_told_apart(
    sim: Simulator, client: AzureOpenAIClient, arun: Any, kind: FaultKind, expected: RateLimitKind
) -> None:
    sim.push_fault(Fault(kind))

    async def fail() -> BaseException:
        try:
            await client.chat.completions.create(
                model="gpt-4.1", messages=[{"role": "user", "content": "hi"}], max_retries=0
            )
        except Exception as exc:
            return exc
        raise AssertionError("the 429 did not arrive")

    problem = classify(arun(fail()), now=NOW)
    assert problem.rate_limit is expected
    assert problem.remaining_requests is not None and problem.remaining_tokens is not None
