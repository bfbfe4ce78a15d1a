"""A small runner for long async work (a streaming answer, a sign-in): named, cancellable, never lost.

It keeps strong references (asyncio only keeps weak ones), logs and reports every exception, and can cancel one
task or all of them at shutdown.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

_log = logging.getLogger(__name__)

ErrorReporter = Callable[[str, BaseException], None]


class TaskRunner:
    """Holds the app's named background tasks."""

    def __init__(self, report_error: ErrorReporter | None = None) -> None:
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._report_error = report_error

    def start(self, name: str, coro: Coroutine[Any, Any, Any], *, replace: bool = False) -> asyncio.Task[Any]:
        """Run `coro` as task `name`; with `replace`, a running task of that name is cancelled first."""
        old = self._tasks.get(name)
        if old is not None and not old.done():
            if not replace:
                coro.close()
                raise RuntimeError(f"task {name!r} is already running")
            old.cancel()
        import asyncio  # not at the top: the runner is made before the window's first paint, asyncio after it

        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks[name] = task
        task.add_done_callback(functools.partial(self._finished, name))
        return task

    def _finished(self, name: str, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(name) is task:
            del self._tasks[name]
        if task.cancelled():
            _log.debug("task %s cancelled", name)
            return
        error = task.exception()
        if error is not None:
            _log.error("task %s failed", name, exc_info=error)
            if self._report_error is not None:
                self._report_error(name, error)

    def is_running(self, name: str) -> bool:
        """Whether task `name` is still running."""
        task = self._tasks.get(name)
        return task is not None and not task.done()

    def names(self) -> list[str]:
        """Names of the running tasks."""
        return [n for n, t in self._tasks.items() if not t.done()]

    def cancel(self, name: str) -> bool:
        """Cancel task `name`; False when no such task runs."""
        task = self._tasks.get(name)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    async def cancel_all(self, timeout: float = 5.0) -> None:
        """Cancel every task and wait (up to `timeout` s) until they have finished their clean-up."""
        await self.cancel_all_except(None, timeout)

    async def cancel_all_except(self, keep: str | None, timeout: float = 5.0) -> None:
        """Cancel every task but `keep` (the caller itself, typically) and wait for their clean-up."""
        tasks = [t for n, t in self._tasks.items() if not t.done() and n != keep]
        for task in tasks:
            task.cancel()
        if tasks:
            import asyncio

            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                _log.warning("task %s did not stop within %.1f s", task.get_name(), timeout)
