"""Pure retry decisions, table-driven (contract section 2)."""

from __future__ import annotations

import math
from email.utils import formatdate

import pytest

from desktop.client._retry import MAX_RETRY_AFTER, backoff_delay, parse_retry_after, retry_delay, should_retry

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (400, {}, False),
        (401, {}, False),
        (403, {}, False),
        (404, {}, False),
        (418, {}, False),
        (422, {}, False),
        (408, {}, True),
        (409, {}, True),
        (429, {}, True),
        (500, {}, True),
        (502, {}, True),
        (503, {}, True),
        (504, {}, True),
        (599, {}, True),
        (400, {"x-should-retry": "true"}, True),
        (429, {"x-should-retry": "false"}, False),
        (503, {"x-should-retry": "false"}, False),
        (503, {"x-should-retry": "maybe"}, True),
    ],
)
def test_should_retry(status: int, headers: dict[str, str], expected: bool) -> None:
    assert should_retry(status, headers) is expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "20.5"}, 0.0205),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after-ms": "soon", "retry-after": "9"}, 9.0),
        ({"retry-after-ms": "-5", "retry-after": "9"}, 9.0),
        ({"retry-after-ms": "nan"}, None),
        ({"retry-after-ms": "inf"}, None),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after": "86400"}, 86400.0),
        ({"retry-after": "0"}, None),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "NaN"}, None),
        ({"retry-after": "garbage"}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"retry-after": formatdate(NOW + 120, usegmt=True)}, 120.0),
        ({"retry-after": formatdate(NOW + 7)}, 7.0),  # "-0000" zone: still GMT
        ({"retry-after": formatdate(NOW - 30, usegmt=True)}, None),
        ({"retry-after": "Wed, 99 Foo 2015 07:28:00 GMT"}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    found = parse_retry_after(headers, NOW)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert math.isclose(found, expected)


@pytest.mark.parametrize(
    ("retries_taken", "jitter", "expected"),
    [
        (0, 1.0, 0.5),
        (1, 1.0, 1.0),
        (2, 1.0, 2.0),
        (3, 1.0, 4.0),
        (4, 1.0, 8.0),
        (5, 1.0, 8.0),
        (100, 1.0, 8.0),
        (0, 0.75, 0.375),
        (4, 0.75, 6.0),
    ],
)
def test_backoff_delay(retries_taken: int, jitter: float, expected: float) -> None:
    assert backoff_delay(retries_taken, jitter) == expected


@pytest.mark.parametrize(
    ("retries_taken", "retry_after", "expected"),
    [
        (0, None, 0.5),
        (2, None, 2.0),
        (0, 0.02, 0.02),
        (1, 7.0, 7.0),
        (0, MAX_RETRY_AFTER, MAX_RETRY_AFTER),
        (0, MAX_RETRY_AFTER + 0.001, None),
        (0, 3600.0, None),
    ],
)
def test_retry_delay_prefers_the_server_up_to_a_minute(
    retries_taken: int, retry_after: float | None, expected: float | None
) -> None:
    assert retry_delay(retries_taken, retry_after, 1.0) == expected
