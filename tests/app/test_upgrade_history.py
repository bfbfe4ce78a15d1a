"""An earlier release's history is updated behind a visible "Updating your history…" window, before the main window."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from desktop.app import upgrade_history_visibly
from desktop.paths import AppPaths
from desktop.storage import SCHEMA_VERSION, HistoryError, OpenReport, OpenStatus
from desktop.ui.upgrade_notice import UpgradeNotice
from tests.conftest import LogFailures
from tests.storage.test_open import build_old_database


def _notices() -> list[UpgradeNotice]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, UpgradeNotice) and w.isVisible()]


def _version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def test_the_notice_shows_while_the_update_runs_and_goes_when_it_is_done(qapp: Any, arun: Any, tmp_path: Path) -> None:
    history = tmp_path / "history.sqlite3"
    build_old_database(history, 2)
    entered, release = threading.Event(), threading.Event()
    seen: list[list[str]] = []

    def slow_open(path: Path) -> OpenReport:
        entered.set()
        release.wait(30)
        from desktop.app import _open_and_close

        return _open_and_close(path)  # type: ignore[no-any-return]

    async def scenario() -> Any:
        task = asyncio.ensure_future(upgrade_history_visibly(history, slow_open))
        await asyncio.to_thread(entered.wait, 30)  # the update is running in its thread
        QApplication.processEvents()
        seen.append([n.title.text() for n in _notices()])
        release.set()
        return await task

    report = arun(scenario())
    assert seen == [["Updating your history…"]]
    assert report.status is OpenStatus.MIGRATED and "upgraded" in report.message
    assert _version(history) == SCHEMA_VERSION
    assert _notices() == []


def test_nothing_shows_for_a_current_or_new_history_and_a_failure_is_left_to_the_window(
    qapp: Any, arun: Any, tmp_path: Path, logfail: LogFailures
) -> None:
    logfail.allow("desktop.app", "updating the history failed: Another program")
    calls: list[Path] = []

    def record(path: Path) -> OpenReport:
        calls.append(path)
        raise HistoryError("Another program is using the chat history.")

    assert arun(upgrade_history_visibly(tmp_path / "none.sqlite3", record)) is None  # a first start
    assert calls == []
    old = tmp_path / "old.sqlite3"
    build_old_database(old, 3)
    assert arun(upgrade_history_visibly(old, record)) is None  # the main window's opening says why
    assert calls == [old] and _notices() == []


def test_the_app_updates_an_old_history_before_its_window(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path)
    build_old_database(paths.history_file, 2)
    out = subprocess.run(
        [sys.executable, "-m", "desktop", "--profile-dir", str(tmp_path), "--smoke-test"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("first paint after ")
    assert _version(paths.history_file) == SCHEMA_VERSION
    log = (tmp_path / "logs" / "azure-openai-chat.log").read_text(encoding="utf-8")
    assert "is an earlier release's: updating it" in log
    assert list((paths.history_file.parent / "backups").iterdir())  # the verified copy of the old history
