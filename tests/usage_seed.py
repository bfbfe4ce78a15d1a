"""A month of answers written into a history file, for the Usage view's tests and its README screenshot.

Each answer is written through HistoryStore (with a clock set to the answer's time), as the chat service does.
Answers fall at local noon, so days are the same in every time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from desktop.storage import HistoryStore, Outcome, Usage


@dataclass(frozen=True)
class SeededAnswer:
    """One answer of the seeded history."""

    day: date  # local
    deployment: str
    model: str
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


def seeded_answers(today: date, days: int = 30) -> list[SeededAnswer]:
    """A working month: gpt-4.1 most days (more on weekdays), gpt-4o-mini some days, o4-mini with reasoning."""
    answers = []
    for ago in range(days - 1, -1, -1):
        day = today - timedelta(days=ago)
        weekday = day.weekday() < 5
        for i in range(3 if weekday else 1):
            size = 900 + 150 * ((ago * 7 + i * 3) % 11)
            answers.append(SeededAnswer(day, "gpt-4.1", "gpt-4.1-2025-04-14", size, size // 3, size // 2, 0))
        if ago % 3 == 0:
            answers.append(SeededAnswer(day, "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 1500, 0, 700, 0))
        if weekday and ago % 4 == 1:
            answers.append(SeededAnswer(day, "o4-mini", "o4-mini-2025-04-16", 1200, 256, 2400, 1600))
    return answers


def seed_history(path: Path, profile_id: str, today: date | None = None, days: int = 30) -> list[SeededAnswer]:
    """Write the seeded answers (one conversation a day) into the history at `path`; returns them."""
    today = today or datetime.now().astimezone().date()
    answers = seeded_answers(today, days)
    clock = [datetime.now(UTC)]
    store = HistoryStore(path, clock=lambda: clock[0])
    store.open()
    try:
        conversations: dict[date, int] = {}
        for answer in answers:
            clock[0] = datetime.combine(answer.day, time(12)).astimezone().astimezone(UTC)
            if answer.day not in conversations:
                title = f"Notes of {answer.day:%d %B}"
                conversations[answer.day] = store.create_conversation(title, profile_id=profile_id).id
            cid = conversations[answer.day]
            store.add_user_message(cid, "Summarise the meeting notes, please.")
            row = store.begin_answer(cid, model=answer.model, deployment=answer.deployment, api="responses")
            usage = Usage(
                input_tokens=answer.input_tokens,
                output_tokens=answer.output_tokens,
                reasoning_tokens=answer.reasoning_tokens,
                total_tokens=answer.total,
                cached_tokens=answer.cached_tokens,
            )
            store.finish_answer(row.id, Outcome.COMPLETE, "Here is the summary.", usage=usage, duration_ms=1200)
    finally:
        store.close()
    return answers
