"""Pure retry decisions (contract section 2): which answers to retry, and how long to wait first."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

__all__ = [
    "MAX_RETRY_AFTER",
    "RetryNotice",
    "backoff_delay",
    "parse_retry_after",
    "retry_delay",
    "should_retry",
]

# A server asking for a longer wait is not retried automatically: the UI shows a countdown and "Retry now".
MAX_RETRY_AFTER = 60.0
_INITIAL_DELAY = 0.5
_MAX_DELAY = 8.0


@dataclass(frozen=True)
class RetryNotice:
    """Told to `on_retry` before each retry: which retry is next, how long we wait, and why."""

    attempt: int
    max_retries: int
    delay: float
    cause: Exception


def should_retry(status_code: int, headers: Mapping[str, str]) -> bool:
    """Return whether an error status is worth retrying; `x-should-retry` overrides the status rule."""
    override = headers.get("x-should-retry")
    if override == "true":
        return True
    if override == "false":
        return False
    return status_code in (408, 409, 429) or status_code >= 500


def _positive(value: float) -> float | None:
    return value if math.isfinite(value) and value > 0 else None


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Return the server-directed wait in seconds (`retry-after-ms`, `retry-after` seconds or HTTP date).

    `now` is the current POSIX time, used for the date form. Garbage, zero, negative and non-finite values give None.
    """
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            found = _positive(float(ms) / 1000)
        except ValueError:
            found = None
        if found is not None:
            return found
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return _positive(float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT even when the zone is missing or written "-0000"
        when = when.replace(tzinfo=UTC)
    return _positive(when.timestamp() - now)


def backoff_delay(retries_taken: int, jitter: float) -> float:
    """Return the exponential backoff before retry `retries_taken + 1`; `jitter` is a factor in [0.75, 1.0]."""
    return min(_INITIAL_DELAY * 2.0 ** min(retries_taken, 32), _MAX_DELAY) * jitter


def retry_delay(retries_taken: int, retry_after: float | None, jitter: float) -> float | None:
    """Return how long to wait before the next retry, or None when the server asks for more than a minute."""
    if retry_after is None:
        return backoff_delay(retries_taken, jitter)
    if retry_after <= MAX_RETRY_AFTER:
        return retry_after
    return None
