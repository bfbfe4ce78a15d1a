"""Large histories for the start-up and open-conversation benchmarks, written through the app's own HistoryStore."""

from __future__ import annotations

from pathlib import Path

from desktop.simulator._answers import CODE_ANSWER, RICH_ANSWER, SHORT_ANSWER
from desktop.storage import HistoryStore, Outcome

_ANSWERS = (SHORT_ANSWER, RICH_ANSWER, CODE_ANSWER)


def write_history(path: Path, conversations: int, messages_each: int) -> int:
    """Create `conversations` conversations of `messages_each` alternating question/answer messages; returns the ids."""
    path.parent.mkdir(parents=True, exist_ok=True)
    store = HistoryStore(path)
    store.open()
    first_id = 0
    try:
        for c in range(conversations):
            conversation = store.create_conversation(f"Benchmark conversation {c + 1}", deployment="gpt-4.1")
            first_id = first_id or conversation.id
            for m in range(0, messages_each, 2):
                store.add_user_message(
                    conversation.id, f"Question {m // 2 + 1} of conversation {c + 1}: show me markdown"
                )
                if m + 1 < messages_each:
                    answer = store.begin_answer(conversation.id, deployment="gpt-4.1", api="responses")
                    store.finish_answer(answer.id, Outcome.COMPLETE, _ANSWERS[(c + m) % len(_ANSWERS)])
    finally:
        store.close()
    return first_id
