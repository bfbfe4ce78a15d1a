"""A small non-modal notification shown over a window, with an optional action ("Undo") and a timeout."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop.ui.lazy_qt import PLAIN_TEXT, set_enum_property

__all__ = ["Toast"]

DEFAULT_TIMEOUT_MS = 5000


def _tr(text: str) -> str:
    return QCoreApplication.translate("Toast", text)


class Toast(QFrame):
    """Overlay notification anchored to the bottom centre of its parent; one message at a time."""

    action_triggered = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setAccessibleName(_tr("Notification"))
        self.label = QLabel(self)
        set_enum_property(self.label, "textFormat", PLAIN_TEXT)
        self.label.setWordWrap(True)
        self.action = QPushButton(self)
        self.action.hide()
        self.action.clicked.connect(self._on_action_clicked)
        self.close_button = QPushButton("×", self)
        self.close_button.setAccessibleName(_tr("Dismiss notification"))
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 8, 8)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action)
        layout.addWidget(self.close_button)
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.dismiss)
        parent.installEventFilter(self)
        self.hide()

    def show_message(self, text: str, action_text: str = "", timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        """Show `text` (replacing any current message) with an optional action button, hiding after a timeout."""
        self.label.setText(text)
        self.action.setText(action_text)
        self.action.setAccessibleName(action_text)
        self.action.setVisible(bool(action_text))
        self.setAccessibleDescription(text)
        self._place()
        self.show()
        self.raise_()
        # Imported here: QAccessible's enums (its roles alone are ~100) cost time before the first paint.
        from PySide6.QtGui import QAccessible, QAccessibleEvent

        QAccessible.updateAccessibility(QAccessibleEvent(self, QAccessible.Event.Alert))
        if timeout_ms > 0:
            self._timer.start(timeout_ms)
        else:
            self._timer.stop()

    def dismiss(self) -> None:
        """Hide the notification now."""
        self._timer.stop()
        if self.isVisible():
            self.hide()
            self.dismissed.emit()

    def _on_action_clicked(self) -> None:
        self.action_triggered.emit()
        self.dismiss()

    def _place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        self.setMaximumWidth(max(200, min(560, parent.width() - 32)))
        self.adjustSize()
        self.move((parent.width() - self.width()) // 2, parent.height() - self.height() - 80)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False
