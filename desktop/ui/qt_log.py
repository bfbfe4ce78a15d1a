"""Route Qt's own messages into Python logging, so they reach the log file and the tests' log checks."""

from __future__ import annotations

import logging

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

_log = logging.getLogger("qt")

# Messages Qt prints that say nothing about our app (platform plugin limitations), logged at DEBUG only.
_HARMLESS = ("This plugin does not support propagateSizeHints()", "This plugin does not support raise()")

_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    level = _LEVELS.get(mode, logging.WARNING)
    if any(message.startswith(h) for h in _HARMLESS):
        level = logging.DEBUG
    _log.log(level, "%s", message)


def route_qt_messages() -> None:
    """Install the handler (once, before the QApplication exists)."""
    qInstallMessageHandler(_handler)
