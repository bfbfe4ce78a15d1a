"""Edit & resend: a real editor for one of the user's messages (it wraps; Enter sends, Esc cancels)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget


def _tr(text: str) -> str:
    return QCoreApplication.translate("EditMessageDialog", text)


class _Editor(QPlainTextEdit):
    submit = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.submit.emit()
            return
        super().keyPressEvent(event)


class EditMessageDialog(QDialog):
    """Change a message before it is sent again; `accepted` carries the new text in `text()`."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_tr("Edit and resend"))
        self.setModal(True)
        self.resize(620, 300)
        note = QLabel(
            _tr("Enter sends, Shift+Enter starts a new line, Esc cancels. The answers after it are replaced.")
        )
        note.setWordWrap(True)
        self.editor = _Editor(self)
        self.editor.setAccessibleName(_tr("Your message"))
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.editor.setTabChangesFocus(True)
        self.editor.setPlainText(text)
        self.editor.moveCursor(self.editor.textCursor().MoveOperation.End)
        self.editor.submit.connect(self._on_editor_submit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.send_button = buttons.addButton(_tr("Send"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self._on_editor_submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.editor, 1)
        layout.addWidget(buttons)
        self.editor.setFocus()

    def text(self) -> str:
        """The edited message."""
        return self.editor.toPlainText().strip()

    def _on_editor_submit(self) -> None:
        if self.text():
            self.accept()
