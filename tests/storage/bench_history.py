"""Timings of the store on a large history (run: .venv/bin/python -m tests.storage.bench_history); not a test."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from desktop.storage import HistoryStore
from tests.storage.bigdb import populate


def timed(label: str, fn: Callable[[], object], repeat: int = 20) -> None:
    """Print the median and worst time of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    print(f"{label:<55} median {statistics.median(samples):8.2f} ms   max {max(samples):8.2f} ms")


def main() -> None:
    """Build a large history in a temporary folder and time the common operations."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.sqlite3"
        store = HistoryStore(path)
        store.open()
        big = populate(store)
        store.close()
        print(f"database: {path.stat().st_size / 1e6:.1f} MB, 5,000 conversations, 21,996 messages")

        def reopen() -> None:
            s = HistoryStore(path)
            s.open()
            s.close()

        timed("open() incl. quick_check + recovery", reopen, 10)
        store = HistoryStore(path)
        store.open()
        timed("list_conversations(limit=100)", lambda: store.list_conversations(limit=100))
        timed(
            "list_conversations(limit=100, offset=4900, archived)",
            lambda: store.list_conversations(100, 4900, include_archived=True),
        )
        timed("count_conversations()", store.count_conversations)
        timed("load_messages(2,000-message conv, limit=200)", lambda: store.load_messages(big, 200))
        answer = store.begin_answer(big)
        text = "word " * 2000
        timed("checkpoint_answer (10 KB text, FTS reindex)", lambda: store.checkpoint_answer(answer.id, text), 50)
        timed("add_user_message", lambda: store.add_user_message(big, "hello there"), 50)
        timed("search('lorem 1999')", lambda: store.search("lorem 1999"))
        timed("export_markdown(2,000 messages)", lambda: store.export_markdown(big), 5)
        timed("export_archive(everything)", lambda: store.export_archive(Path(tmp) / "all.json"), 3)
        store.close()


if __name__ == "__main__":
    main()
