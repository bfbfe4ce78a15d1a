"""Turning what a user typed into a safe FTS5 query."""

from __future__ import annotations

MARK_START = "\x02"
MARK_END = "\x03"


def fts_query(text: str) -> str | None:
    """Quote every word so FTS5 syntax (quotes, AND, NEAR, *, column filters) is matched literally.

    Words are ANDed and each is a prefix, so results narrow as the user types. Returns None when nothing
    searchable is left (empty input, only punctuation).
    """
    words = [w for w in text.split() if any(ch.isalnum() for ch in w)]
    if not words:
        return None
    return " ".join('"' + w.replace('"', '""') + '"*' for w in words)
