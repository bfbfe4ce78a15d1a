"""Fixtures for the history store: a temporary database file per test and a deterministic clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desktop.storage import HistoryStore


class StepClock:
    """Advances one second on every reading, so ordering by time is deterministic."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's history database lives (the app passes <data dir>/history.sqlite3)."""
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def clock() -> StepClock:
    """The store's clock."""
    return StepClock()


@pytest.fixture
def store(db_path: Path, clock: StepClock) -> Iterator[HistoryStore]:
    """An opened, empty store."""
    s = HistoryStore(db_path, clock=clock)
    s.open()
    yield s
    s.close()
