"""kill -9 while an answer streams: the database stays sound and holds the last committed checkpoint."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest

from desktop.storage import HistoryStore, Outcome

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from desktop.storage import HistoryStore

    store = HistoryStore(Path(sys.argv[1]))
    store.open()
    conv = store.create_conversation("crash")
    store.add_user_message(conv.id, "tell me a long story")
    answer = store.begin_answer(conv.id)
    i = 0
    while True:
        i += 1
        store.checkpoint_answer(answer.id, f"chunk {i} " + "word " * (i % 50))
        print(i, flush=True)  # only after the commit returned
    """
)


@pytest.mark.slow
def test_sigkill_mid_stream_keeps_last_checkpoint(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert proc.stdout is not None
    last = 0
    for line in proc.stdout:
        last = int(line)
        if last >= 300:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert last >= 300

    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = HistoryStore(db_path)
    report = store.open()
    assert report.interrupted_answers == 1
    [conv] = store.list_conversations()
    question, answer = store.load_messages(conv.id)
    assert question.text == "tell me a long story"
    assert answer.outcome is Outcome.INTERRUPTED
    saved = int(answer.text.split()[1])
    assert saved >= last  # a checkpoint printed as done was committed; one more may have landed
    assert len(store.search(f"chunk {saved}")) == 1  # the search index followed the checkpoints
    store.close()
