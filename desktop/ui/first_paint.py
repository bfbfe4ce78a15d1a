"""Detect a widget's first paint, for `--smoke-test`, `--screenshot` and start-up benchmarks."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class FirstPaintWatcher(QObject):
    """Resolves `painted` (an asyncio future) once the watched widget has finished its first paint."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.painted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._widget = widget
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Catch the first Paint event; resolve once it has been handled (next turn of the Qt loop)."""
        if watched is self._widget and event.type() == QEvent.Type.Paint and not self.painted.done():
            self._widget.removeEventFilter(self)
            QTimer.singleShot(0, self._resolve)
        return False

    def _resolve(self) -> None:
        if not self.painted.done():
            self.painted.set_result(None)
