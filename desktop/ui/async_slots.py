"""Run coroutines from Qt slots on the app's qasync loop, keeping strong references and reporting failures."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import shiboken6
from PySide6.QtCore import QObject

_log = logging.getLogger(__name__)

ErrorHandler = Callable[[BaseException], None]


class AsyncWork:
    """Holds the tasks a widget started from its slots; asyncio keeps only weak references to running tasks.

    The tasks end with their `owner`: when it is destroyed they are cancelled, and whatever they raise afterwards
    (typically touching a deleted widget) is no longer reported.
    """

    def __init__(self, owner: QObject, on_error: ErrorHandler | None = None) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._owner = owner
        self._on_error = on_error
        owner.destroyed.connect(self.cancel_all)

    def start(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        """Schedule `coro` on the running loop (the slot returns at once; the window never freezes).

        After `close()` (the app is shutting down) nothing new starts: widgets torn down later still emit signals
        whose slots would otherwise create tasks on a loop that is about to close.
        """
        if self._closed:
            coro.close()
            return None
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            return
        if not shiboken6.isValid(self._owner):
            _log.debug("work of a closed window ended: %r", error)
            return
        # The dialogs turn every expected failure into words themselves; reaching here is a bug, shown plainly.
        _log.error("background work failed", exc_info=error)
        if self._on_error is not None:
            self._on_error(error)

    @property
    def busy(self) -> bool:
        """Whether any task is still running."""
        return any(not t.done() for t in self._tasks)

    async def wait(self) -> None:
        """Wait until every task started so far has finished (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancel everything, wait for it to end, and start nothing more (shutdown)."""
        self._closed = True
        self.cancel_all()
        await self.wait()

    def cancel_all(self) -> None:
        """Cancel every running task (the dialog is closing)."""
        for task in list(self._tasks):
            task.cancel()
