"""Opening the history file: health checks, moving bad files aside, verified backups and migrations."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from desktop.storage._models import (
    HistoryBackupError,
    HistoryError,
    HistoryLockedError,
    HistoryTooNewError,
    HistoryUnavailableError,
    OpenReport,
    OpenStatus,
)
from desktop.storage._schema import CURRENT_VERSION, MIGRATIONS

log = logging.getLogger(__name__)

BACKUPS_KEPT = 3
BACKUP_DIR = "backups"
_SIDE_FILES = ("-wal", "-shm", "-journal")
#: Beside the history: what the file was (device, inode, size, modification time) when it was last closed after a
#: quick check found it healthy. An open that finds it unchanged skips the quick check (see `close_checked`).
CHECKED_SUFFIX = "-checked"


def make_private(path: Path) -> None:
    """Create the database file readable by its owner only, and tighten it and its side files if they exist.

    SQLite creates the -wal and -shm files with the permissions of the database file, so 0600 here carries over.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for candidate in (path, *(path.with_name(path.name + s) for s in _SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            if candidate.stat().st_mode & 0o077:
                candidate.chmod(0o600)


def connect(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """Open a connection in autocommit mode (transactions are explicit) with the timeout as busy_timeout."""
    conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of a file's bytes, in hex: the key it is stored under (once, however often it is attached)."""
    import hashlib  # not before the first paint (OpenSSL's digests): attachments come later

    return hashlib.sha256(data).hexdigest()


def configure(conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """Apply the per-connection settings every store connection runs with."""
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA foreign_keys = ON")
    # Attached files are stored once by content: the v5 migration and the store key them by this digest.
    conn.create_function("sha256", 1, sha256_hex, deterministic=True)
    # WAL: readers never block the writer and a checkpoint write is one small append.
    conn.execute("PRAGMA journal_mode = WAL")
    # NORMAL in WAL mode syncs only at checkpoints: a killed app loses nothing that was committed (the WAL is in
    # the OS cache) and the file cannot corrupt; only a power cut may drop the last few commits. FULL would fsync
    # every streaming checkpoint, which costs far more than it saves for a chat history.
    conn.execute("PRAGMA synchronous = NORMAL")


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run a write transaction that takes the write lock up front (no deadlock upgrading a read lock)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def is_locked(exc: sqlite3.Error) -> bool:
    """Tell "another process holds the file" apart from real damage."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def stamp(now: datetime) -> str:
    """A file-name-safe UTC timestamp that sorts chronologically."""
    return now.strftime("%Y%m%dT%H%M%S%fZ")


def locked_error(path: Path) -> HistoryLockedError:
    """The message shown when another process holds the file."""
    return HistoryLockedError(
        f"The chat history at {path} is in use by another program (perhaps another copy of this app). "
        "Close it and start again; the history was not changed."
    )


@dataclass(frozen=True)
class _Problem:
    tag: str  # goes into the moved-aside file name
    text: str  # completes "The history file ..."


def is_damage(exc: sqlite3.Error) -> bool:
    """Whether SQLite says the file itself is bad (corrupt, or not a database), as opposed to "cannot open it now"."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def unavailable_error(path: Path, exc: BaseException) -> HistoryUnavailableError:
    """The message shown when the file is fine but cannot be opened now: disk full, read-only folder, I/O error."""
    return HistoryUnavailableError(
        f"The chat history at {path} cannot be opened right now ({exc}). The disk may be full, or the folder "
        f"{path.parent} may be read-only. The history was not changed: free some space or fix the folder's "
        "permissions, then start the app again."
    )


def too_new_error(path: Path, version: int) -> HistoryTooNewError:
    """The message shown when a newer version of the app wrote the history."""
    return HistoryTooNewError(
        f"The chat history at {path} was saved by a newer version of this app (format {version}; this version "
        f"reads up to {CURRENT_VERSION}). Update the app to open it. The history was left exactly as it was."
    )


def quick_check(conn: sqlite3.Connection) -> list[str]:
    """SQLite's quick check of the whole file: ["ok"], or what is wrong (~35 ms for 50,000 messages)."""
    return [str(r[0]) for r in conn.execute("PRAGMA quick_check")]


def _diagnose(conn: sqlite3.Connection, path: Path, *, quick: bool = True) -> _Problem | None:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > CURRENT_VERSION:
        raise too_new_error(path, version)
    if quick and (rows := quick_check(conn)) != ["ok"]:
        return _Problem("damaged", "is damaged (" + "; ".join(rows[:3]) + ")")
    if version == 0 and conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is not None:
        return _Problem("unknown", "is a database this app did not create")
    return None


def _diagnose_file(path: Path, busy_timeout_ms: int, *, quick: bool = True) -> _Problem | None:
    """Check the file through a read-only connection: unlike a writable one, closing it never checkpoints the
    file or deletes a WAL that may hold the last commits of a damaged or newer database. `quick=False` leaves out
    the quick check (the file is as a clean close found it healthy), not the version checks.

    Only SQLite saying the content is bad (corrupt, not a database, a failed quick check) counts as damage. Any other
    failure (disk full, read-only folder, I/O error, lock) leaves the file where it is and raises.
    """
    try:
        conn = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True, timeout=busy_timeout_ms / 1000)
    except sqlite3.Error as exc:
        if is_damage(exc):
            return _Problem("unreadable", f"could not be opened ({exc})")
        if is_locked(exc):
            raise locked_error(path) from exc
        raise unavailable_error(path, exc) from exc
    try:
        return _diagnose(conn, path, quick=quick)
    except sqlite3.DatabaseError as exc:
        if is_damage(exc):
            return _Problem("unreadable", f"could not be read as a database ({exc})")
        if is_locked(exc):
            raise locked_error(path) from exc
        raise unavailable_error(path, exc) from exc
    finally:
        conn.close()


def _move_aside(path: Path, tag: str, now: datetime) -> Path:
    """Rename the file (and its WAL/journal so SQLite still pairs them) beside itself; never delete it."""
    base = f"{path.name}.{tag}-{stamp(now)}"
    target = path.with_name(base)
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{base}-{n}")
    os.replace(path, target)
    for suffix in _SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target


def moved_aside_files(path: Path) -> list[Path]:
    """Files that earlier opens moved aside for this database."""
    return sorted(p for p in path.parent.glob(f"{path.name}.*-*") if p.is_file())


def backup_dir(path: Path) -> Path:
    """Where pre-migration backups of `path` live."""
    return path.parent / BACKUP_DIR


def list_backups(path: Path) -> list[Path]:
    """Backups of `path`, oldest first (the names start with a sortable timestamp)."""
    folder = backup_dir(path)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{path.stem}-*-from-v*{path.suffix}"))


def make_backup(conn: sqlite3.Connection, path: Path, version: int, now: datetime) -> Path:
    """Copy the live database with the backup API, verify the copy, keep the newest BACKUPS_KEPT."""
    folder = backup_dir(path)
    target = folder / f"{path.stem}-{stamp(now)}-from-v{version}{path.suffix}"
    partial = target.with_name(target.name + ".partial")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        copy = sqlite3.connect(partial)
        try:
            conn.backup(copy)
            verdict = [str(r[0]) for r in copy.execute("PRAGMA integrity_check")]
        finally:
            copy.close()
        if verdict != ["ok"]:
            raise sqlite3.DatabaseError("; ".join(verdict[:3]))
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise HistoryBackupError(
            f"Could not make a safe copy of the chat history before upgrading it ({exc}). "
            f"Nothing was changed. Check free disk space and that {folder} is writable."
        ) from exc
    for old in list_backups(path)[:-BACKUPS_KEPT]:
        old.unlink(missing_ok=True)
    return target


def _migrate(conn: sqlite3.Connection, path: Path, start: int) -> None:
    for version in range(start, CURRENT_VERSION):
        try:
            # executescript commits any open transaction first, so BEGIN/COMMIT live inside the script.
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{MIGRATIONS[version]}\nPRAGMA user_version = {version + 1};\nCOMMIT;"
            )
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if is_locked(exc):
                raise locked_error(path) from exc
            raise HistoryError(f"Could not upgrade the chat history at {path} ({exc}). It was left as it was.") from exc


_early_checks: dict[Path, Future[_Problem | None]] = {}


def _file_state(path: Path) -> str | None:
    """The history file as a clean close leaves it (device, inode, size, modification time in ns); None when it
    cannot be read, or when a non-empty WAL or rollback journal holds changes a clean close would have written in."""
    try:
        stat = path.stat()
        for suffix in ("-wal", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                if path.with_name(path.name + suffix).stat().st_size > 0:
                    return None
    except OSError:
        return None
    return f"{stat.st_dev} {stat.st_ino} {stat.st_size} {stat.st_mtime_ns}"


def checked_unchanged(path: Path) -> bool:
    """Whether the file is exactly as it was when a clean close last found it healthy: opening it need not run the
    quick check again (nothing, this app or another program, has written to it since).

    File systems keep modification times in ticks of a coarse clock (1-10 ms on Linux, 2 s on FAT): a write in the
    tick of the note could leave the time the note recorded. So the note only counts when it is newer than the file's
    last change (the close leaves the quick check between the two; a small file is then simply checked again).
    """
    marker = path.with_name(path.name + CHECKED_SUFFIX)
    try:
        recorded = marker.read_text(encoding="ascii").strip()
        if marker.stat().st_mtime_ns <= path.stat().st_mtime_ns:
            return False
    except (OSError, ValueError):
        return False
    return bool(recorded) and recorded == _file_state(path)


def close_checked(conn: sqlite3.Connection, path: Path) -> None:
    """Close the history's connection after a quick check; when it found the file healthy, note the file's state
    beside it, so the next start need not check the unchanged file again.

    The check runs when the app closes (after its window), instead of during the next start: there it ran beside the
    loading of Qt's libraries, which it slowed by ~8 ms on a 2-core machine, even from the other core. A start after
    a crash or a change by anything else (the state differs, or a WAL is left) checks the file as before.
    """
    marker = path.with_name(path.name + CHECKED_SUFFIX)
    try:
        # The WAL's commits go into the file first: the file's last change comes before the check, not after it.
        # (PASSIVE never waits: with another app's reader, what it could not copy stays in the WAL, so no note.)
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        rows = quick_check(conn)
    except sqlite3.Error as exc:
        rows = [str(exc)]
    with contextlib.suppress(sqlite3.Error):
        conn.close()
    state = _file_state(path) if rows == ["ok"] else None
    if rows != ["ok"]:
        log.warning("history file %s failed its quick check at close: %s", path, "; ".join(rows[:3]))
    try:
        if state is None:
            marker.unlink(missing_ok=True)
        else:
            marker.write_text(state + "\n", encoding="ascii")
    except OSError as exc:  # the next start checks the file again, that is all
        log.info("could not note the history's check beside it: %s", exc)


def check_early(path: Path, busy_timeout_ms: int) -> None:
    """Start the check that opening `path` begins with (SQLite's quick check reads the whole file: about 0.1 s for
    50,000 messages) in a worker thread, so it runs while the app loads its window; the next `open_database` of
    `path` waits for it and uses its finding. Portable threads; SQLite lets other threads run while it reads.
    Nothing is started when the file is as a clean close found it healthy (`checked_unchanged`)."""
    try:
        if not path.exists() or path.stat().st_size == 0 or checked_unchanged(path):
            return
    except OSError:
        return  # open_database will say what is wrong
    future: Future[_Problem | None] = Future()

    def run() -> None:
        try:
            future.set_result(_diagnose_file(path, busy_timeout_ms))
        except BaseException as exc:  # raised where the history is opened, as if checked there
            future.set_exception(exc)

    _early_checks[path] = future
    threading.Thread(target=run, name="history check", daemon=True).start()


def needs_upgrade(path: Path) -> bool:
    """Whether opening `path` will migrate it (an earlier release's history): read-only, a millisecond, never raises
    (whatever is wrong with the file, opening it says so)."""
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return False
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=0.2)) as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except (OSError, ValueError, sqlite3.Error):
        return False
    return 0 < version < CURRENT_VERSION


def open_database(path: Path, busy_timeout_ms: int, now: datetime) -> tuple[sqlite3.Connection, OpenReport]:
    """Open (creating, recovering or migrating) the history; raise HistoryLockedError if another process holds it."""
    early = _early_checks.pop(path, None)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_private(path)
    if early is not None and path.exists():
        problem = early.result()
    elif path.exists() and path.stat().st_size > 0:
        problem = _diagnose_file(path, busy_timeout_ms, quick=not checked_unchanged(path))
    else:
        problem = None
    moved_to: Path | None = None
    if problem is not None:
        moved_to = _move_aside(path, problem.tag, now)
        log.warning("history file %s %s; moved to %s", path, problem.text, moved_to)
        make_private(path)
    conn = connect(path, busy_timeout_ms)
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        backup = make_backup(conn, path, version, now) if 0 < version < CURRENT_VERSION else None
        configure(conn, busy_timeout_ms)
        _migrate(conn, path, version)
    except sqlite3.Error as exc:
        conn.close()
        if is_locked(exc):
            raise locked_error(path) from exc
        if is_damage(exc):
            raise HistoryError(f"Could not open the chat history at {path} ({exc}).") from exc
        raise unavailable_error(path, exc) from exc
    except BaseException:
        conn.close()
        raise

    if problem is not None:
        status, text = (
            OpenStatus.RECOVERED,
            f"Your chat history file {problem.text}. It was moved to {moved_to} and a new, empty history started.",
        )
    elif version == 0:
        status, text = OpenStatus.CREATED, ""
    elif backup is not None:
        status, text = (
            OpenStatus.MIGRATED,
            f"Your chat history was upgraded to format {CURRENT_VERSION}; a copy of the old one is in {backup}.",
        )
    else:
        status, text = OpenStatus.OK, ""
    report = OpenReport(
        status=status,
        path=path,
        schema_version=CURRENT_VERSION,
        message=text,
        moved_to=moved_to,
        backup=backup,
        from_version=version if backup is not None else None,
    )
    return conn, report
