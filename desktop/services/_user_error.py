"""A problem as the user sees it, and the words for content-filter categories (light: no client, no auth).

The window's state (desktop.services._chat_window) needs these before the first paint; the classifier that builds a
Problem from client and sign-in errors (desktop.services._problems) loads with the chat service, after it.
"""

from __future__ import annotations

import enum
from dataclasses import field

from desktop.lazy_dataclass import dataclass

__all__ = [
    "LENGTH_CODE",
    "TOO_LONG_CODE",
    "Category",
    "ErrorAction",
    "Problem",
    "RateLimitKind",
    "UserError",
    "category_words",
]

LENGTH_CODE = "length"  # the answer reached the deployment's length limit: Continue gets the rest
TOO_LONG_CODE = "too_long"  # the answer reached the longest the app keeps and was stopped there (kept, marked)


class ErrorAction(enum.Enum):
    """What the UI offers next to a problem."""

    OPEN_SETTINGS = "open_settings"
    SIGN_IN = "sign_in"
    WAIT_AND_RETRY = "wait_and_retry"  # a wait of at most a minute: countdown, "Retry now", Stop
    RETRY = "retry"
    SHORTEN = "shorten"  # the conversation is too long: start a new chat
    SHORTEN_ANSWER_LIMIT = "shorten_answer_limit"  # the request can never fit the per-minute token limit
    REPHRASE = "rephrase"
    LEAVE_OUT = "leave_out"  # the content filter: continue without the flagged message
    CONTACT_ADMIN = "contact_admin"
    COPY_DETAILS = "copy_details"  # our own bug: copy the details for support
    NONE = "none"


class Category(enum.Enum):
    """Whose problem it is: the environment's (Azure said no, the network, the disk, sign-in) or our own bug."""

    SETUP = "setup"  # nothing to send with yet: no connection, no key
    SIGN_IN = "sign_in"
    ACCESS = "access"  # Azure refused who we are or where we come from
    NOT_FOUND = "not_found"
    REQUEST = "request"  # Azure refused what we asked (settings, length)
    CONTENT_FILTER = "content_filter"
    RATE_LIMIT = "rate_limit"
    SERVICE = "service"  # Azure (or a gateway) failed
    NETWORK = "network"
    PROXY = "proxy"  # something between us and Azure answered instead of Azure
    ANSWER = "answer"  # the answer itself broke (cut off, unreadable)
    LOCAL = "local"  # this computer: password store, disk, sign-in helper
    BUG = "bug"  # an exception we did not expect: the app's own fault


class RateLimitKind(enum.Enum):
    """Which of Azure's limits a 429 hit."""

    REQUESTS = "requests"  # requests per minute
    TOKENS = "tokens"  # tokens per minute
    QUOTA = "quota"  # the subscription's quota is used up
    NEVER_FITS = "never_fits"  # the request alone is larger than the per-minute token limit
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Problem:
    """A failure in plain words, built once at the boundary and stored with the failed message.

    `title` and `explanation` are what the user reads; `action` is the one button; `category` keeps the
    environment's problems apart from our own bugs. The rest is for an administrator (Details / Copy details).
    """

    title: str
    explanation: str
    action: ErrorAction
    retry_after: float | None = None
    request_id: str | None = None
    status: int | None = None
    code: str | None = None
    filter_categories: tuple[str, ...] = field(default=())
    details: str = ""
    category: Category = Category.SERVICE
    rate_limit: RateLimitKind | None = None
    remaining_requests: int | None = None
    remaining_tokens: int | None = None
    deployment: str | None = None
    region: str | None = None
    occurred_at: str | None = None  # ISO 8601, UTC

    @property
    def is_bug(self) -> bool:
        """True for an exception the app did not expect (its own fault, not the environment's)."""
        return self.category is Category.BUG

    def to_json(self) -> dict[str, object]:
        """A plain dict for storage (the answer's error column) and export."""
        return {
            "title": self.title,
            "explanation": self.explanation,
            "action": self.action.value,
            "retry_after": self.retry_after,
            "request_id": self.request_id,
            "status": self.status,
            "code": self.code,
            "filter_categories": list(self.filter_categories),
            "details": self.details,
            "category": self.category.value,
            "rate_limit": self.rate_limit.value if self.rate_limit else None,
            "remaining_requests": self.remaining_requests,
            "remaining_tokens": self.remaining_tokens,
            "deployment": self.deployment,
            "region": self.region,
            "occurred_at": self.occurred_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Problem:
        """Rebuild from `to_json` output; unknown or missing fields get safe defaults."""

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        def number(key: str) -> int | None:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        try:
            action = ErrorAction(data.get("action"))
        except ValueError:
            action = ErrorAction.NONE
        try:
            category = Category(data.get("category"))
        except ValueError:
            category = Category.SERVICE
        try:
            rate_limit: RateLimitKind | None = RateLimitKind(data.get("rate_limit"))
        except ValueError:
            rate_limit = None
        retry_after = data.get("retry_after")
        categories = data.get("filter_categories")
        return cls(
            title=text("title") or "Something went wrong",
            explanation=text("explanation") or "",
            action=action,
            retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
            request_id=text("request_id"),
            status=number("status"),
            code=text("code"),
            filter_categories=tuple(c for c in categories if isinstance(c, str))
            if isinstance(categories, list)
            else (),
            details=text("details") or "",
            category=category,
            rate_limit=rate_limit,
            remaining_requests=number("remaining_requests"),
            remaining_tokens=number("remaining_tokens"),
            deployment=text("deployment"),
            region=text("region"),
            occurred_at=text("occurred_at"),
        )


UserError = Problem
"""The former name of Problem, kept for callers that still use it."""


_CATEGORY_WORDS = {
    "hate": "hate",
    "sexual": "sexual content",
    "violence": "violence",
    "self_harm": "self-harm",
    "jailbreak": "an attempt to bypass the rules",
    "indirect_attack": "an attempt to bypass the rules",
    "profanity": "profanity",
    "protected_material_text": "protected text",
    "protected_material_code": "protected code",
}


def category_words(categories: tuple[str, ...] | list[str]) -> str:
    """Human words for content filter categories: 'violence and hate'."""
    words = list(dict.fromkeys(_CATEGORY_WORDS.get(c, c.replace("_", " ")) for c in categories))
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
