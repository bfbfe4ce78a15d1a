"""Error mapping for every status and every body shape Azure sends (contract section 3)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from desktop.client import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APIStreamError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from desktop.client._errors import make_status_error


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (418, APIStatusError),
        (302, APIStatusError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[APIStatusError]) -> None:
    error = make_status_error(status, {}, b"")
    assert type(error) is cls
    assert error.status_code == status
    assert error.message == f"Error code: {status}"
    assert isinstance(error, APIError)


def test_class_tree() -> None:
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(APIConnectionError, APIError)
    assert issubclass(APIStreamError, APIError)
    assert not issubclass(APIStreamError, APIStatusError)


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


BAD_KEY = body(
    {"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint."}}
)
NO_ROLE = body(
    {"error": {"code": "PermissionDenied", "message": "The principal `abc` lacks the required data action `x`."}}
)
GATEWAY = body({"statusCode": 401, "message": "Unauthorized. Access token is missing, invalid, audience is incorrect."})
NOT_FOUND = body(
    {"error": {"code": "DeploymentNotFound", "message": "The API deployment for this resource does not exist."}}
)
RATE = body({"error": {"code": "429", "message": "Requests have exceeded the limit. Please retry after 7 seconds."}})
FLAT = body({"code": "InvalidPayload", "message": "bad", "param": "input", "type": "invalid_request_error"})
TENANT = body({"error": {"code": "Tenant provided in token does not match resource token", "message": "mismatch"}})
HTML = (
    b"<html><head><title>502 Bad Gateway</title><style>p{x:y}</style></head><body><h1>Bad  Gateway</h1></body></html>"
)


@pytest.mark.parametrize(
    ("status", "content", "expected"),
    [
        (401, BAD_KEY, ("401", "Access denied due to invalid subscription key or wrong API endpoint.", None, None)),
        (401, NO_ROLE, ("PermissionDenied", "The principal `abc` lacks the required data action `x`.", None, None)),
        (401, GATEWAY, ("401", "Unauthorized. Access token is missing, invalid, audience is incorrect.", None, None)),
        (404, NOT_FOUND, ("DeploymentNotFound", "The API deployment for this resource does not exist.", None, None)),
        (429, RATE, ("429", "Requests have exceeded the limit. Please retry after 7 seconds.", None, None)),
        (400, FLAT, ("InvalidPayload", "bad", "input", "invalid_request_error")),
        (400, TENANT, ("Tenant provided in token does not match resource token", "mismatch", None, None)),
        (502, HTML, (None, "502 Bad Gateway Bad Gateway", None, None)),
        (500, b"upstream connect error", (None, "upstream connect error", None, None)),
        (503, b"   ", (None, "Error code: 503", None, None)),
        (500, body({"error": "plain string"}), (None, "plain string", None, None)),
        (500, body(["a", "list"]), (None, '["a", "list"]', None, None)),
        (500, body({"error": {"code": 5001}}), ("5001", "Error code: 500", None, None)),
        (400, b"{not json", (None, "{not json", None, None)),
    ],
)
def test_body_shapes(status: int, content: bytes, expected: tuple[str | None, str, str | None, str | None]) -> None:
    error = make_status_error(status, {"x-request-id": "rid"}, content)
    assert (error.code, error.message, error.param, error.type) == expected
    assert error.request_id == "rid"
    assert "Traceback" not in str(error)


def test_long_text_body_is_bounded() -> None:
    error = make_status_error(502, {}, b"x" * 10_000)
    assert len(error.message) <= 300


def test_request_id_falls_back_to_apim_and_headers_are_plain_subset() -> None:
    headers = {"apim-request-id": "apim-1", "retry-after": "5", "set-cookie": "secret", "x-ms-region": "Sweden"}
    error = make_status_error(429, headers, RATE, retry_after=5.0)
    assert error.request_id == "apim-1"
    assert error.retry_after == 5.0
    assert error.headers == {"apim-request-id": "apim-1", "retry-after": "5", "x-ms-region": "Sweden"}
    assert type(error.headers) is dict
    assert error.body == json.loads(RATE)


def filter_body(results_key: str, inner_key: str = "innererror") -> bytes:
    return body(
        {
            "error": {
                "code": "content_filter",
                "message": "The response was filtered due to the prompt triggering Azure OpenAI's content policy.",
                "param": "prompt",
                "status": 400,
                inner_key: {
                    "code": "ResponsibleAIPolicyViolation",
                    results_key: {
                        "hate": {"filtered": False, "severity": "safe"},
                        "jailbreak": {"filtered": True, "detected": True},
                        "self_harm": {"filtered": False, "severity": "safe"},
                        "sexual": {"filtered": False, "severity": "safe"},
                        "violence": {"filtered": True, "severity": "medium"},
                        "profanity": {"filtered": False, "detected": True},
                    },
                },
            }
        }
    )


@pytest.mark.parametrize("results_key", ["content_filter_result", "content_filter_results"])
@pytest.mark.parametrize("inner_key", ["innererror", "inner_error"])
def test_content_filter_is_detected_in_both_spellings(results_key: str, inner_key: str) -> None:
    error = make_status_error(400, {}, filter_body(results_key, inner_key))
    assert isinstance(error, BadRequestError)
    assert error.is_content_filter
    assert error.inner_code == "ResponsibleAIPolicyViolation"
    assert error.content_filter_categories == ["jailbreak", "violence", "profanity"]


def test_content_filter_recognised_by_inner_code_or_results_alone() -> None:
    by_inner = make_status_error(
        400, {}, body({"error": {"code": "x", "innererror": {"code": "ResponsibleAIPolicyViolation"}}})
    )
    by_results = make_status_error(400, {}, body({"error": {"content_filter_results": {"hate": {"filtered": True}}}}))
    plain = make_status_error(400, {}, FLAT)
    assert isinstance(by_inner, BadRequestError)
    assert isinstance(by_results, BadRequestError)
    assert isinstance(plain, BadRequestError)
    assert by_inner.is_content_filter
    assert by_inner.content_filter_categories == []
    assert by_results.is_content_filter
    assert by_results.content_filter_categories == ["hate"]
    assert not plain.is_content_filter


def test_str_is_readable() -> None:
    assert str(make_status_error(404, {}, NOT_FOUND)) == (
        "Error code: 404 DeploymentNotFound - The API deployment for this resource does not exist."
    )
    assert str(make_status_error(429, {}, RATE)).startswith("Error code: 429 - Requests")
