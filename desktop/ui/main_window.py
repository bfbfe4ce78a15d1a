"""The main window."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QWidget


class MainWindow(QMainWindow):
    """The application's main window; emits `closed` when the user closes it."""

    closed = Signal()

    def __init__(self, *, demo: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Azure OpenAI Chat") + (self.tr(" (demo)") if demo else ""))
        self.resize(1100, 760)
        self.setCentralWidget(QLabel(self.tr("Azure OpenAI Chat"), self))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Tell the app to shut down once the window is closed."""
        super().closeEvent(event)
        if event.isAccepted():
            self.closed.emit()
