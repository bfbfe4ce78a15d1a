"""Shared test fixtures: GC discipline, log failures, a qasync loop, and an in-memory keyring."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from tests.skips import pytest_sessionfinish, pytest_terminal_summary  # noqa: F401 (hooks)

if TYPE_CHECKING:
    from desktop.simulator import Simulator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    # Python's cyclic GC runs in whichever thread allocates; if it frees a QObject from a server or executor thread Qt
    # crashes later (docs/platform.md). Collect only from the main thread, between tests.
    gc.disable()


@pytest.fixture(autouse=True)
def _collect_garbage_in_main_thread() -> Iterator[None]:
    yield
    gc.collect()


class LogFailures(logging.Handler):
    """Records WARNING and above so a test fails on any log it did not expect."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.allowed: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def allow(self, logger_prefix: str, message_part: str = "") -> None:
        """Accept WARNING+ records from a logger (prefix) whose message contains `message_part`."""
        self.allowed.append((logger_prefix, message_part))

    def unexpected(self) -> list[logging.LogRecord]:
        return [
            r for r in self.records if not any(r.name.startswith(p) and m in r.getMessage() for p, m in self.allowed)
        ]


@pytest.fixture(autouse=True)
def logfail(request: pytest.FixtureRequest) -> Iterator[LogFailures]:
    """Fail the test on any unexpected WARNING/ERROR log record (call `logfail.allow(...)` to expect one)."""
    handler = LogFailures()
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING if root.level == logging.NOTSET else root.level)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    bad = handler.unexpected()
    if bad and not request.node.get_closest_marker("no_logfail"):
        lines = "\n".join(f"{r.levelname} {r.name}: {r.getMessage()}" for r in bad)
        pytest.fail(f"unexpected log records:\n{lines}", pytrace=False)


@pytest.fixture(scope="session")
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """One qasync event loop for the whole session (pytest-qt has none). Never stopped from outside."""
    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def arun(qloop: asyncio.AbstractEventLoop) -> Iterator[Callable[..., Any]]:
    """Run a coroutine to completion on the qasync loop (Qt events are processed meanwhile)."""

    def run(coro: Awaitable[T], timeout: float = 30.0) -> T:
        return qloop.run_until_complete(asyncio.wait_for(coro, timeout))

    yield run

    async def settle() -> None:
        # Collect while the loop runs, as the app's GUI-thread collector does: async generators left suspended
        # (httpcore's byte streams under a closed response) are then finalised on this loop, not synchronously.
        gc.collect()
        for _ in range(3):
            await asyncio.sleep(0)

    qloop.run_until_complete(settle())
    stray = [t for t in asyncio.all_tasks(qloop) if not t.done()]
    for task in stray:
        task.cancel()
    if stray:
        qloop.run_until_complete(asyncio.gather(*stray, return_exceptions=True))


@pytest.fixture
def sim(arun: Callable[..., Any]) -> Iterator[Simulator]:
    """The Azure OpenAI simulator on loopback with its default deployments, served by the test's event loop."""
    from desktop.simulator import Simulator

    simulator = Simulator()
    arun(simulator.start())
    yield simulator
    arun(simulator.stop())


@pytest.fixture
def memory_keyring() -> Iterator[Any]:
    """An in-memory keyring backend installed for the test (the real Secret Service is used by keyring_real tests)."""
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.store: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            from keyring.errors import PasswordDeleteError

            if (service, username) not in self.store:
                raise PasswordDeleteError(username)
            del self.store[(service, username)]

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def real_keyring_required() -> bool:
    """CI sets AOC_REQUIRE_KEYRING=1: a missing Secret Service then fails tests instead of skipping them."""
    return os.environ.get("AOC_REQUIRE_KEYRING") == "1"
