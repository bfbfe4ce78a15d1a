"""The app's side of the crash test: one turn streamed into a history file, progress reported line by line on stdout.

Run as `python -m tests.services.crash_driver DB BASE_URL USER_TEXT` with the API key in `AOC_CRASH_API_KEY`; the
test kills it with SIGKILL mid-answer. Lines written (each flushed at once, so the reader sees them as they happen):
`conversation ID`, `user ID`, `answer ID`, `delta N` after the N-th text delta, `finished OUTCOME`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from desktop.client import AzureOpenAIClient
from desktop.services import AnswerStarted, ChatService, Finished, TextDelta, TurnStarted, TurnTarget
from desktop.storage import HistoryStore


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def run_turn(db: Path, base_url: str, api_key: str, text: str) -> None:
    """Open the history, start a conversation and stream one answer into it as the app does."""
    store = HistoryStore(db)
    store.open()
    client = AzureOpenAIClient(base_url=base_url, api_key=api_key, max_retries=0)
    target = TurnTarget(client=client, deployment="gpt-4.1", api="responses")

    async def resolve(conversation_id: int) -> TurnTarget:
        return target

    try:
        conversation = store.create_conversation()
        _say(f"conversation {conversation.id}")
        deltas = 0
        async for event in ChatService(store, resolve).send(conversation.id, text):
            if isinstance(event, TurnStarted) and event.user_message is not None:
                _say(f"user {event.user_message.id}")
            elif isinstance(event, AnswerStarted):
                _say(f"answer {event.message_id}")
            elif isinstance(event, TextDelta):
                deltas += 1
                _say(f"delta {deltas}")
            elif isinstance(event, Finished):
                _say(f"finished {event.outcome.value}")
    finally:
        await client.aclose()
        store.close()


def main() -> None:
    """Entry point: arguments DB BASE_URL USER_TEXT."""
    db, base_url, text = sys.argv[1:4]
    asyncio.run(run_turn(Path(db), base_url, os.environ["AOC_CRASH_API_KEY"], text))


if __name__ == "__main__":
    main()
