"""The README's "When Azure says no" table is the words table, and every row is reachable."""

from __future__ import annotations

from pathlib import Path

from desktop.services._problems import RULES
from desktop.services._words import README_END, README_START, WORDS, readme_section, say

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_section_is_generated_from_the_words_table() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    assert text[start:end] == readme_section(), "run: python -m desktop.services._words (and paste into README.md)"


def test_every_wording_is_used_by_a_rule_or_by_the_chat() -> None:
    used_elsewhere = {
        "answer_filtered",
        "answer_interrupted",
        "answer_stopped",
        "answer_stopped_empty",
        "answer_length",
        "answer_too_long",
        "response_failed",
        "left_out_question",
        "left_out_answer",
        "nothing_to_answer",
        "nothing_to_send",
        "message_gone",
        "long_thinking",
    }
    attaching = {key for key in WORDS if key.startswith("attach_")}  # desktop/services/_documents.py
    assert set(WORDS) == {rule.key for rule in RULES} | used_elsewhere | attaching


def test_placeholders_are_filled_and_missing_ones_leave_no_braces() -> None:
    _title, text = say("rate_requests_wait", wait="20 seconds")
    assert text.endswith("Wait 20 seconds, then try again.")
    assert "{" not in say("deployment_not_found")[1]


def test_stopped_and_interrupted_answers_take_their_words_from_the_table() -> None:
    from datetime import UTC, datetime

    from desktop.services._views import message_view
    from desktop.storage import Message, Outcome, Role

    def answer(outcome: Outcome, text: str) -> Message:
        return Message(1, 1, 1, Role.ASSISTANT, text, outcome, datetime(2026, 1, 1, tzinfo=UTC))

    assert message_view(answer(Outcome.STOPPED, "half")).error_text == say("answer_stopped")[1]
    assert message_view(answer(Outcome.STOPPED, "")).error_text == say("answer_stopped_empty")[1]
    interrupted = message_view(answer(Outcome.INTERRUPTED, "half"))
    assert interrupted.error_text == say("answer_interrupted")[1]
    assert interrupted.action is not None
