"""Builds a large history quickly (5,000 conversations, one with 2,000 messages) for plan tests and benchmarks."""

from __future__ import annotations

from desktop.storage import HistoryStore

T0 = 1_767_323_045_678


def populate(store: HistoryStore, conversations: int = 5000, messages: int = 2000) -> int:
    """Fill through SQL for speed (the public API is exercised elsewhere); returns the id of the big conversation."""
    db = store._db
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO conversations (uuid, title, pinned, archived, params, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, '{}', ?, ?)",
        [
            (f"u{i}", f"Conversation {i}", int(i % 97 == 0), int(i % 13 == 0), T0 + i, T0 + i)
            for i in range(conversations)
        ],
    )
    big = conversations  # the last one inserted
    rows = []
    for c in range(1, conversations + 1):
        count = messages if c == big else 4
        rows += [
            (c, p, "user" if p % 2 else "assistant", f"message {p} of conversation {c} lorem ipsum", T0 + p)
            for p in range(1, count + 1)
        ]
    db.executemany(
        "INSERT INTO messages (conversation_id, position, role, text, outcome, usage, created_at)"
        " VALUES (?, ?, ?, ?, 'complete', '{\"total_tokens\": 5}', ?)",
        rows,
    )
    db.execute("COMMIT")
    return big
