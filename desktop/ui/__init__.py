"""The user interface: the only package that imports PySide6 and qasync.

`Dialogs` (settings, sign-in, the guided start, About) loads on first use, after the main window is painted; the
crash dialog loads when something fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desktop.ui.first_paint import FirstPaintWatcher
from desktop.ui.main_window import MainWindow, WindowServices
from desktop.ui.qt_log import route_qt_messages
from desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from desktop.ui.crash_dialog import show_internal_error
    from desktop.ui.dialogs import Dialogs


def __getattr__(name: str) -> Any:
    if name == "Dialogs":
        from desktop.ui.dialogs import Dialogs

        return Dialogs
    if name == "show_internal_error":
        from desktop.ui.crash_dialog import show_internal_error

        return show_internal_error
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Dialogs",
    "FirstPaintWatcher",
    "MainWindow",
    "TaskRunner",
    "WindowServices",
    "route_qt_messages",
    "show_internal_error",
]
