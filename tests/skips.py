"""pytest hooks (registered by tests/conftest.py): list every skip with its reason at the end of the run, and under
CI=true fail the run if anything was skipped, since a check CI relies on must not be skipped silently."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"true", "1"}


def _skipped(config: pytest.Config) -> list[Any]:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    return list(reporter.stats.get("skipped", [])) if reporter is not None else []


def _reason(report: Any) -> str:
    longrepr = report.longrepr
    text = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _in_ci() and exitstatus == pytest.ExitCode.OK and _skipped(session.config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    skipped = _skipped(config)
    if not skipped:
        return
    verdict = "they fail the run (CI=true)" if _in_ci() else "under CI=true they would fail the run"
    terminalreporter.section(f"{len(skipped)} skipped: {verdict}", sep="=", red=_in_ci(), yellow=not _in_ci())
    for reason, count in sorted(Counter(_reason(report) for report in skipped).items()):
        terminalreporter.line(f"{count} x {reason}")
