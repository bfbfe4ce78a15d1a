"""The user interface: the only package that imports PySide6 and qasync."""

from desktop.ui.crash_dialog import show_internal_error
from desktop.ui.dialogs import Dialogs
from desktop.ui.first_paint import FirstPaintWatcher
from desktop.ui.main_window import MainWindow, WindowServices
from desktop.ui.qt_log import route_qt_messages
from desktop.ui.tasks import TaskRunner

__all__ = [
    "Dialogs",
    "FirstPaintWatcher",
    "MainWindow",
    "TaskRunner",
    "WindowServices",
    "route_qt_messages",
    "show_internal_error",
]
