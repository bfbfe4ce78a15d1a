"""Guard against a PySide6 build that leaks references to None/True (it aborts the app with 'none_dealloc')."""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget


class _Emitter(QObject):
    fired = Signal(bool)


def test_void_qt_calls_and_emits_keep_none_and_true_alive(qapp: Any) -> None:
    widget = QWidget()
    emitter = _Emitter()
    received = [0]

    def count(_value: bool) -> None:
        received[0] += 1

    emitter.fired.connect(count)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(1000):
        widget.update()
        emitter.fired.emit(True)
    # A correct binding leaves both counts where they were (a few references may come and go elsewhere).
    assert abs(sys.getrefcount(None) - none_before) < 50
    assert abs(sys.getrefcount(True) - true_before) < 50
    assert received[0] == 1000
