"""An error as the user sees it, and the words for content-filter categories (light: no client, no auth).

The window's state (desktop.services._chat_window) needs these before the first paint; the mapping from client and
sign-in errors to them (desktop.services._errors) loads with the chat service, after it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ["LENGTH_CODE", "TOO_LONG_CODE", "ErrorAction", "UserError", "category_words"]

LENGTH_CODE = "length"  # the answer reached the deployment's length limit: Continue gets the rest
TOO_LONG_CODE = "too_long"  # the answer reached the longest the app keeps and was stopped there (kept, marked)


class ErrorAction(enum.Enum):
    """What the UI offers next to an error."""

    OPEN_SETTINGS = "open_settings"
    SIGN_IN = "sign_in"
    WAIT_AND_RETRY = "wait_and_retry"
    RETRY = "retry"
    SHORTEN = "shorten"
    REPHRASE = "rephrase"
    CONTACT_ADMIN = "contact_admin"
    NONE = "none"


@dataclass(frozen=True)
class UserError:
    """An error as the user sees it."""

    title: str
    explanation: str
    action: ErrorAction
    retry_after: float | None = None
    request_id: str | None = None
    status: int | None = None
    code: str | None = None
    filter_categories: tuple[str, ...] = field(default=())
    details: str = ""

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
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> UserError:
        """Rebuild from `to_json` output; unknown or missing fields get safe defaults."""

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        try:
            action = ErrorAction(data.get("action"))
        except ValueError:
            action = ErrorAction.NONE
        retry_after = data.get("retry_after")
        status = data.get("status")
        categories = data.get("filter_categories")
        return cls(
            title=text("title") or "Something went wrong",
            explanation=text("explanation") or "",
            action=action,
            retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
            request_id=text("request_id"),
            status=status if isinstance(status, int) else None,
            code=text("code"),
            filter_categories=tuple(c for c in categories if isinstance(c, str))
            if isinstance(categories, list)
            else (),
            details=text("details") or "",
        )


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
