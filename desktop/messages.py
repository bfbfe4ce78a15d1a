"""A message bridge any layer can use to tell the user something, without knowing about the UI.

Services and storage call `messages.warning(...)`; the UI subscribes once and shows them (a toast or a dialog).
Messages sent before the UI subscribes are kept and delivered when it does.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Level", "MessageBridge", "UserMessage"]

_log = logging.getLogger(__name__)


class Level(enum.Enum):
    """How much the message matters to the user."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class UserMessage:
    """Something the user should read: a short text, optional details to copy, optional folder to open."""

    level: Level
    text: str
    details: str = ""
    open_path: str = ""


Listener = Callable[[UserMessage], None]


class MessageBridge:
    """Thread-safe fan-out of user messages; listeners must be cheap (the UI hops to its own thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._pending: list[UserMessage] = []

    def subscribe(self, listener: Listener) -> None:
        """Start receiving messages, first those that were waiting."""
        with self._lock:
            self._listeners.append(listener)
            pending, self._pending = self._pending, []
        for message in pending:
            listener(message)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop receiving messages."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def send(self, message: UserMessage) -> None:
        """Deliver a message to every listener (or keep it until one subscribes)."""
        log_level = {Level.INFO: logging.INFO, Level.WARNING: logging.WARNING, Level.ERROR: logging.ERROR}
        _log.log(log_level[message.level], "user message: %s", message.text)
        with self._lock:
            listeners = list(self._listeners)
            if not listeners:
                self._pending.append(message)
        for listener in listeners:
            listener(message)

    def info(self, text: str, details: str = "", open_path: str = "") -> None:
        """Tell the user something neutral."""
        self.send(UserMessage(Level.INFO, text, details, open_path))

    def warning(self, text: str, details: str = "", open_path: str = "") -> None:
        """Tell the user something went wrong but was handled."""
        self.send(UserMessage(Level.WARNING, text, details, open_path))

    def error(self, text: str, details: str = "", open_path: str = "") -> None:
        """Tell the user something failed."""
        self.send(UserMessage(Level.ERROR, text, details, open_path))
