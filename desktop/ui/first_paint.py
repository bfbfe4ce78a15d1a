"""Detect a widget's first paint, for `--smoke-test`, `--screenshot` and start-up benchmarks.

Qt only (no asyncio): the app shows its window and waits for this paint before it loads asyncio and the event loop.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget


class FirstPaintWatcher(QObject):
    """Emits `painted` (once, and sets `done`) when the watched widget has finished its first paint."""

    painted = Signal()

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.done = False
        self._widget = widget
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Catch the first Paint event; resolve once it has been handled (next turn of the Qt loop)."""
        if watched is self._widget and event.type() == QEvent.Type.Paint and not self.done:
            self._widget.removeEventFilter(self)
            QTimer.singleShot(0, self._resolve)
        return False

    def _resolve(self) -> None:
        if not self.done:
            self.done = True
            self.painted.emit()

    def wait(self, timeout_s: float) -> bool:
        """Run Qt's own event loop until the first paint or `timeout_s`; returns whether it was painted.

        Only where no other event loop runs yet (before the app starts asyncio's).
        """
        if not self.done:
            loop = QEventLoop()
            timer = QTimer()
            timer.setSingleShot(True)
            timer.timeout.connect(loop.quit)
            self.painted.connect(loop.quit)
            timer.start(round(timeout_s * 1000))
            loop.exec()
            timer.stop()
            self.painted.disconnect(loop.quit)
        return self.done
