"""The task runner keeps, cancels and reports long-running work."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from desktop.ui import TaskRunner


def test_cancel_all_waits_for_cleanup(arun: Any) -> None:
    cleaned: list[str] = []

    async def work(name: str) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(name)

    async def scenario() -> None:
        runner = TaskRunner()
        runner.start("a", work("a"))
        runner.start("b", work("b"))
        await asyncio.sleep(0)
        assert sorted(runner.names()) == ["a", "b"]
        await runner.cancel_all(timeout=5)
        assert runner.names() == []

    arun(scenario())
    assert sorted(cleaned) == ["a", "b"]


def test_failure_is_reported_and_logged(arun: Any, logfail: Any) -> None:
    logfail.allow("desktop.ui.tasks", "task boom failed")
    reported: list[tuple[str, str]] = []

    async def boom() -> None:
        raise RuntimeError("kaput")

    async def scenario() -> None:
        runner = TaskRunner(report_error=lambda name, exc: reported.append((name, str(exc))))
        task = runner.start("boom", boom())
        await asyncio.wait([task])
        await asyncio.sleep(0)

    arun(scenario())
    assert reported == [("boom", "kaput")]


def test_duplicate_name_is_refused_or_replaced(arun: Any) -> None:
    async def scenario() -> None:
        runner = TaskRunner()
        first = runner.start("turn", asyncio.Event().wait())
        with pytest.raises(RuntimeError, match="already running"):
            runner.start("turn", asyncio.Event().wait())
        second = runner.start("turn", asyncio.Event().wait(), replace=True)
        await asyncio.sleep(0)
        assert first.cancelled()
        assert runner.is_running("turn")
        assert runner.cancel("turn")
        await asyncio.wait([second])
        assert not runner.cancel("turn")

    arun(scenario())
