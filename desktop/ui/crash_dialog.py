"""The readable dialog shown for an unexpected internal error (never a bare traceback)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget


def show_internal_error(details: str, log_path: str, parent: QWidget | None = None) -> None:
    """Tell the user, in plain words, that something inside the app failed; the technical part is under Details."""
    if QApplication.instance() is None:
        return
    tr = QCoreApplication.translate
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(tr("CrashDialog", "Something went wrong"))
    box.setText(tr("CrashDialog", "Azure OpenAI Chat ran into a problem it did not expect."))
    box.setInformativeText(
        tr(
            "CrashDialog",
            "Your conversations are saved. You can keep working; if this happens again, please send the "
            "details below (they contain no keys or passwords) to your IT support. Log file: {0}",
        ).format(log_path)
    )
    box.setDetailedText(details)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAccessibleName(tr("CrashDialog", "Unexpected error"))
    box.open()
