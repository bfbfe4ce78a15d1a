"""Opening: creation, migrations from every earlier schema with verified backups, and recovery of bad files."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desktop.storage import (
    SCHEMA_VERSION,
    HistoryBackupError,
    HistoryError,
    HistoryLockedError,
    HistoryStore,
    HistoryTooNewError,
    HistoryUnavailableError,
    OpenStatus,
    Outcome,
    history_needs_upgrade,
)
from desktop.storage._schema import MIGRATIONS
from tests.conftest import LogFailures
from tests.storage.conftest import StepClock

T0 = 1_767_323_045_678  # 2026-01-02T03:04:05.678Z in ms


def build_old_database(path: Path, version: int) -> None:
    """A database as schema `version` of an earlier release wrote it, with a little data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as conn:
        for step in MIGRATIONS[:version]:
            conn.executescript(step)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute(
            "INSERT INTO conversations (id, uuid, title, deployment, api, params, pinned, created_at, updated_at)"
            " VALUES (1, 'u-1', 'Old chat', 'gpt-4o', 'chat', '{\"temperature\": 0.5}', 1, ?, ?)",
            (T0, T0 + 5),
        )
        conn.executemany(
            "INSERT INTO messages (conversation_id, position, role, text, outcome, usage, created_at, finished_at)"
            " VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
            [
                (1, "user", "What is a kumquat?", "complete", None, T0 + 1, None),
                (2, "assistant", "A small citrus fruit.", "complete", '{"total_tokens": 9}', T0 + 2, T0 + 3),
                (3, "assistant", "Half an answ", "streaming", None, T0 + 4, None),
            ],
        )
        conn.commit()


def files_beside(path: Path) -> list[str]:
    """Names of the files in the database's folder."""
    return sorted(p.name for p in path.parent.iterdir())


def test_new_database_is_created_at_current_version(db_path: Path, clock: StepClock) -> None:
    store = HistoryStore(db_path, clock=clock)
    report = store.open()
    store.close()
    assert (report.status, report.schema_version, report.message) == (OpenStatus.CREATED, SCHEMA_VERSION, "")
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    report = HistoryStore(db_path, clock=clock).open()
    assert report.status is OpenStatus.OK
    assert not (db_path.parent / "backups").exists()


def test_pragmas_of_the_live_connection(store: HistoryStore) -> None:
    db = store._db
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


def test_empty_file_is_treated_as_new(db_path: Path, clock: StepClock) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")
    report = HistoryStore(db_path, clock=clock).open()
    assert report.status is OpenStatus.CREATED
    assert report.moved_to is None


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_migration_keeps_data_and_leaves_a_verified_backup(db_path: Path, clock: StepClock, version: int) -> None:
    build_old_database(db_path, version)
    original = db_path.read_bytes()
    store = HistoryStore(db_path, clock=clock)
    report = store.open()

    assert report.status is OpenStatus.MIGRATED
    assert report.from_version == version
    assert report.interrupted_answers == 1
    assert report.backup is not None
    assert report.backup.parent == db_path.parent / "backups"
    assert f"from-v{version}" in report.backup.name
    assert str(report.backup) in report.message
    with closing(sqlite3.connect(report.backup)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA user_version").fetchone()[0] == version
        assert copy.execute("SELECT count(*) FROM messages").fetchone()[0] == 3
    assert len(original) > 0

    [conv] = store.list_conversations()
    assert (conv.uuid, conv.title, conv.deployment, conv.api, conv.pinned) == (
        "u-1",
        "Old chat",
        "gpt-4o",
        "chat",
        True,
    )
    assert conv.params == {"temperature": 0.5}
    messages = store.load_messages(conv.id)
    assert [m.text for m in messages] == ["What is a kumquat?", "A small citrus fruit.", "Half an answ"]
    assert messages[1].usage is not None
    assert messages[1].usage.total_tokens == 9
    assert messages[2].outcome is Outcome.INTERRUPTED
    # The usage log's step filled it from the answers already stored (the one with usage, at the time it finished);
    # a database that had the log already was written by a release that logged each answer itself.
    usage_step = next(i for i, step in enumerate(MIGRATIONS) if "CREATE TABLE usage_log" in step)
    finished = datetime.fromtimestamp((T0 + 3) / 1000, UTC)
    logged = store.usage_per_period([finished, finished + timedelta(milliseconds=1)])
    if version <= usage_step:
        assert [(row.when, row.deployment, row.answers) for row in logged] == [(finished, None, 1)]
    else:
        assert logged == []
    assert store.usage_per_period([finished + timedelta(milliseconds=1), finished + timedelta(days=1)]) == []
    assert [h.message_id for h in store.search("kumquat")] == [messages[0].id]  # FTS built from old rows
    store.add_user_message(conv.id, "new after migration")
    assert store.message_count(conv.id) == 4
    store.close()


def test_only_the_last_three_backups_are_kept(db_path: Path, clock: StepClock) -> None:
    made = []
    for _ in range(5):
        for p in db_path.parent.glob("history.sqlite3*"):
            p.unlink()
        build_old_database(db_path, 1)
        store = HistoryStore(db_path, clock=clock)
        report = store.open()
        store.close()
        assert report.backup is not None
        made.append(report.backup.name)
    assert sorted(p.name for p in (db_path.parent / "backups").iterdir()) == made[-3:]


def test_failed_backup_stops_the_migration(db_path: Path, clock: StepClock) -> None:
    build_old_database(db_path, 1)
    (db_path.parent / "backups").write_text("a file where the folder should be")
    with pytest.raises(HistoryBackupError, match="Nothing was changed"):
        HistoryStore(db_path, clock=clock).open()
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert conn.execute("SELECT outcome FROM messages WHERE position = 3").fetchone()[0] == "streaming"


def test_streaming_answers_become_interrupted_at_open(db_path: Path, clock: StepClock) -> None:
    store = HistoryStore(db_path, clock=clock)
    store.open()
    conv = store.create_conversation()
    ans = store.begin_answer(conv.id)
    store.checkpoint_answer(ans.id, "so far")
    store.close()  # as if the app died mid-stream

    store = HistoryStore(db_path, clock=clock)
    report = store.open()
    assert report.interrupted_answers == 1
    assert "cut off" in report.message
    msg = store.get_message(ans.id)
    assert msg is not None
    assert (msg.outcome, msg.text) == (Outcome.INTERRUPTED, "so far")
    assert msg.finished_at is not None
    assert msg.duration_ms is not None
    store.close()


def test_soft_deleted_conversations_are_purged_at_open(db_path: Path, clock: StepClock) -> None:
    store = HistoryStore(db_path, clock=clock)
    store.open()
    store.delete_conversation(store.create_conversation().id)
    store.close()
    store = HistoryStore(db_path, clock=clock)
    assert store.open().purged_conversations == 1
    store.close()


def _valid_database(db_path: Path, clock: StepClock) -> None:
    """A healthy history of several pages, closed cleanly."""
    store = HistoryStore(db_path, clock=clock)
    store.open()
    conv = store.create_conversation()
    for i in range(300):
        store.add_user_message(conv.id, f"message number {i} " * 20)
    store.close()


def _scribble(data: bytes) -> bytes:
    """Overwrite every page but the first two and the last with a byte pattern (a damaged disk)."""
    page = 4096
    return data[: 2 * page] + bytes(range(256)) * ((len(data) - 3 * page) // 256) + data[-page:]


@pytest.mark.parametrize(
    ("damage", "tag"),
    [
        (lambda data: b"this is not a database at all\n" * 500, "unreadable"),
        (lambda data: data[: len(data) // 2], ""),
        (_scribble, ""),
        (lambda data: b"SQLite format 3\x00" + b"\xff" * 200, ""),
    ],
    ids=["garbage", "truncated", "corrupt", "broken-header"],
)
def test_unusable_file_is_moved_aside_and_a_fresh_one_created(
    db_path: Path, clock: StepClock, damage: object, tag: str, logfail: LogFailures
) -> None:
    _valid_database(db_path, clock)
    bad = damage(db_path.read_bytes())  # type: ignore[operator]
    db_path.write_bytes(bad)
    logfail.allow("desktop.storage", "moved to")

    store = HistoryStore(db_path, clock=clock)
    report = store.open()
    assert report.status is OpenStatus.RECOVERED
    assert report.moved_to is not None
    assert report.moved_to.parent == db_path.parent
    assert report.moved_to.read_bytes() == bad  # never deleted, never changed
    assert tag in report.moved_to.name
    assert str(report.moved_to) in report.message
    assert store.list_conversations() == []
    store.create_conversation("works again")
    store.close()


def test_newer_schema_is_left_in_place_and_the_app_says_to_update(db_path: Path, clock: StepClock) -> None:
    _valid_database(db_path, clock)
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 7}")
    before = db_path.read_bytes()

    with pytest.raises(HistoryTooNewError, match="Update the app") as caught:
        HistoryStore(db_path, clock=clock).open()
    assert "newer version" in str(caught.value)
    # Never moved aside, never replaced by an empty history that the newer version would then find.
    assert [p for p in files_beside(db_path) if not p.startswith("history.sqlite3")] == []
    assert [p for p in files_beside(db_path) if "newer" in p] == []
    assert db_path.read_bytes() == before


_FULL_DISK_CHILD = """
import resource, signal, sys
from pathlib import Path
from desktop.storage import HistoryError, HistoryStore
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # every write that grows a file fails, as on a full disk
try:
    HistoryStore(Path(sys.argv[1])).open()
except HistoryError as exc:
    print(type(exc).__name__, exc)
else:
    print("opened")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_full_disk_at_start_keeps_the_history(db_path: Path, clock: StepClock) -> None:
    _valid_database(db_path, clock)  # closed cleanly: no -wal/-shm, so opening must create the -shm
    before = db_path.read_bytes()
    names = files_beside(db_path)

    child = subprocess.run(
        [sys.executable, "-c", _FULL_DISK_CHILD, str(db_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.startswith("HistoryUnavailableError"), child.stdout
    assert "disk may be full" in child.stdout
    assert [n for n in files_beside(db_path) if "unreadable" in n or "damaged" in n] == []
    assert db_path.read_bytes() == before
    assert set(names) <= set(files_beside(db_path))
    store = HistoryStore(db_path, clock=clock)  # space freed: everything is still there
    assert store.open().status is OpenStatus.OK
    assert store.count_conversations() == 1
    store.close()


def test_unopenable_side_file_is_not_damage(db_path: Path, clock: StepClock) -> None:
    _valid_database(db_path, clock)
    db_path.with_name(db_path.name + "-shm").mkdir()  # SQLite cannot create its shared-memory file
    before = db_path.read_bytes()
    with pytest.raises(HistoryUnavailableError, match="was not changed"):
        HistoryStore(db_path, clock=clock).open()
    assert db_path.read_bytes() == before
    assert [p for p in files_beside(db_path) if not p.startswith("history.sqlite3")] == []
    assert [p for p in files_beside(db_path) if "." in p.removeprefix("history.sqlite3")] == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_history_files_are_private_and_tightened(db_path: Path, clock: StepClock) -> None:
    store = HistoryStore(db_path, clock=clock)
    store.open()
    store.create_conversation("x")
    for name in ("history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm"):
        assert stat.S_IMODE((db_path.parent / name).stat().st_mode) == 0o600, name
    store.close()
    db_path.chmod(0o644)
    store = HistoryStore(db_path, clock=clock)
    store.open()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    store.close()


def test_foreign_database_is_moved_aside(db_path: Path, clock: StepClock, logfail: LogFailures) -> None:
    db_path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER)")
    logfail.allow("desktop.storage", "did not create")
    report = HistoryStore(db_path, clock=clock).open()
    assert report.status is OpenStatus.RECOVERED
    assert report.moved_to is not None
    assert "unknown" in report.moved_to.name


def test_side_files_move_with_their_database(db_path: Path, clock: StepClock, logfail: LogFailures) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"garbage" * 1000)
    wal = db_path.with_name(db_path.name + "-wal")
    wal.write_bytes(b"whatever was in the log")
    logfail.allow("desktop.storage", "moved to")
    report = HistoryStore(db_path, clock=clock).open()
    assert report.moved_to is not None
    moved_wal = report.moved_to.with_name(report.moved_to.name + "-wal")
    assert moved_wal.read_bytes() == b"whatever was in the log"


def test_locked_database_is_reported_and_untouched(db_path: Path, clock: StepClock) -> None:
    _valid_database(db_path, clock)
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        before = files_beside(db_path)
        with pytest.raises(HistoryLockedError, match="in use by another program"):
            HistoryStore(db_path, busy_timeout_ms=20, clock=clock).open()
        assert files_beside(db_path) == before
    finally:
        holder.close()
    store = HistoryStore(db_path, clock=clock)
    assert store.open().status is OpenStatus.OK
    store.close()


def test_unwritable_location_gives_a_clear_error(tmp_path: Path, clock: StepClock) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(HistoryError, match="Could not open the chat history"):
        HistoryStore(blocker / "history.sqlite3", clock=clock).open()


def test_v4_records_the_button_each_old_failure_showed_and_nothing_is_left_out(db_path: Path) -> None:
    build_old_database(db_path, 3)
    with closing(sqlite3.connect(db_path)) as conn:
        rows = [
            (10, '{"title": "Please sign in again", "message": "m", "status": 401}'),
            (11, '{"title": "Azure had a problem", "message": "m", "status": 500}'),
            (12, '{"title": "The answer reached its length limit", "message": "m", "code": "length"}'),
        ]
        for position, error in rows:
            conn.execute(
                "INSERT INTO messages (conversation_id, position, role, text, outcome, error, created_at)"
                " VALUES (1, ?, 'assistant', '', 'failed', ?, ?)",
                (position, error, T0),
            )
        conn.commit()
    store = HistoryStore(db_path)
    report = store.open()
    try:
        assert report.status is OpenStatus.MIGRATED and report.backup is not None
        messages = {m.position: m for m in store.load_messages(1)}
        assert messages[10].error is not None and messages[10].error.action == "open_settings"
        assert messages[11].error is not None and messages[11].error.action == "retry"
        assert messages[12].error is not None and messages[12].error.action is None  # Continue comes from its code
        assert not any(m.left_out for m in messages.values())
    finally:
        store.close()


@pytest.mark.parametrize("damaged", [False, True], ids=["healthy", "corrupt"])
def test_a_check_started_early_gives_the_open_the_same_finding(
    db_path: Path, clock: StepClock, damaged: bool, logfail: LogFailures
) -> None:
    # The app checks the file in a worker thread while Qt loads; the open then waits for that finding.
    from desktop.storage import check_history_early

    _valid_database(db_path, clock)
    if damaged:
        db_path.write_bytes(_scribble(db_path.read_bytes()))
        logfail.allow("desktop.storage", "moved to")
    check_history_early(db_path, 750)
    store = HistoryStore(db_path, clock=clock)
    report = store.open()
    assert report.status is (OpenStatus.RECOVERED if damaged else OpenStatus.OK)
    assert (report.moved_to is not None) is damaged
    assert (store.list_conversations() == []) is damaged
    store.close()


def test_a_check_started_early_raises_at_the_open(db_path: Path, clock: StepClock) -> None:
    from desktop.storage import check_history_early

    _valid_database(db_path, clock)
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 7}")
    check_history_early(db_path, 750)
    with pytest.raises(HistoryTooNewError):
        HistoryStore(db_path, clock=clock).open()


def test_needs_upgrade_says_whether_opening_will_migrate(db_path: Path) -> None:
    """The app shows "Updating your history…" exactly when opening will migrate an earlier release's history."""
    assert not history_needs_upgrade(db_path)  # no file yet: a new history, nothing to update
    build_old_database(db_path, 2)
    before = db_path.read_bytes()
    assert history_needs_upgrade(db_path)
    assert db_path.read_bytes() == before  # looking is read-only
    store = HistoryStore(db_path)
    assert store.open().status is OpenStatus.MIGRATED
    store.close()
    assert not history_needs_upgrade(db_path)
    db_path.write_bytes(b"not a database at all" * 100)
    assert not history_needs_upgrade(db_path)  # opening says what is wrong with it, not this check


class _QuickChecks:
    """Counts SQLite quick checks (opening's and closing's)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, result: list[str] | None = None) -> None:
        from desktop.storage import _opening

        self.count = 0
        real = _opening.quick_check

        def counted(conn: sqlite3.Connection) -> list[str]:
            self.count += 1
            return result if result is not None else real(conn)

        monkeypatch.setattr(_opening, "quick_check", counted)


def _note_after_the_last_change(db_path: Path) -> Path:
    """The close's note of a healthy file, made a tick of the file system's clock after the file's last change (a
    large history's quick check takes that long between the two; a small one's may not)."""
    note = db_path.with_name(db_path.name + "-checked")
    changed = db_path.stat().st_mtime_ns
    os.utime(note, ns=(changed + 10_000_000, changed + 10_000_000))
    return note


def test_a_healthy_file_closed_cleanly_is_not_checked_again_at_the_next_open(
    db_path: Path, clock: StepClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The quick check reads the whole file: run beside the loading of Qt's libraries it slowed the first paint. The
    # close checks instead, and the next start trusts an unchanged file.
    from desktop.storage import check_history_early
    from desktop.storage._opening import _early_checks

    _valid_database(db_path, clock)
    _note_after_the_last_change(db_path)
    checks = _QuickChecks(monkeypatch)
    check_history_early(db_path, 750)
    assert db_path not in _early_checks  # no worker thread to check it
    store = HistoryStore(db_path, clock=clock)
    assert store.open().status is OpenStatus.OK
    assert checks.count == 0
    assert store.load_messages(store.list_conversations()[0].id)[-1].text.startswith("message number 299 ")
    store.close()
    assert checks.count == 1  # the close checked it again


@pytest.mark.parametrize(
    "change",
    ["a commit by another program", "a commit left in the WAL", "the same size rewritten", "a note older than it"],
)
def test_a_file_changed_since_its_clean_close_is_checked_again(
    db_path: Path, clock: StepClock, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    _valid_database(db_path, clock)
    note = _note_after_the_last_change(db_path)
    held: list[sqlite3.Connection] = []
    if change == "a commit by another program":
        with closing(sqlite3.connect(db_path)) as conn:
            conn.execute("UPDATE conversations SET title = 'renamed elsewhere'")
            conn.commit()
    elif change == "a commit left in the WAL":  # a session killed before its close: its commits are in the WAL only
        conn = sqlite3.connect(db_path)
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("UPDATE conversations SET title = 'not checkpointed'")
        conn.commit()
        held.append(conn)
    elif change == "the same size rewritten":  # even in the same tick of the clock as the note: the note is older
        data = db_path.read_bytes()
        db_path.write_bytes(data)
        os.utime(db_path, ns=(note.stat().st_mtime_ns, note.stat().st_mtime_ns))
    else:
        os.utime(note, ns=(db_path.stat().st_mtime_ns, db_path.stat().st_mtime_ns))
    checks = _QuickChecks(monkeypatch)
    store = HistoryStore(db_path, clock=clock)
    store.open()
    assert checks.count == 1
    store.close()
    for conn in held:
        conn.close()


def test_a_file_that_fails_the_check_at_close_is_checked_at_the_next_open(
    db_path: Path, clock: StepClock, monkeypatch: pytest.MonkeyPatch, logfail: LogFailures
) -> None:
    _valid_database(db_path, clock)
    note = _note_after_the_last_change(db_path)
    store = HistoryStore(db_path, clock=clock)
    store.open()
    _QuickChecks(monkeypatch, ["*** in database main ***", "Page 7: btreeInitPage() returns error code 11"])
    logfail.allow("desktop.storage", "failed its quick check at close")
    store.close()
    assert not note.exists()
    monkeypatch.undo()
    checks = _QuickChecks(monkeypatch)
    store.open()
    assert checks.count == 1
    store.close()


def test_a_note_that_cannot_be_written_costs_only_the_next_check(db_path: Path, clock: StepClock) -> None:
    note = db_path.with_name(db_path.name + "-checked")
    note.parent.mkdir(parents=True)
    note.mkdir()  # (permissions would not stop root, who runs CI)
    _valid_database(db_path, clock)  # closes without raising
    store = HistoryStore(db_path, clock=clock)
    assert store.open().status is OpenStatus.OK
    store.close()
