"""The small window shown while an earlier release's history is brought to this version's format (before the main
window, which needs the history open)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from desktop.paths import APP_DISPLAY_NAME


def _tr(text: str) -> str:
    return QCoreApplication.translate("UpgradeNotice", text)


class UpgradeNotice(QWidget):
    """ "Updating your history…" with a busy bar; the app closes it when the history is open."""

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.Dialog)
        self.setWindowTitle(APP_DISPLAY_NAME)
        self.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)  # the main window follows: closing this is no quit
        self.setAccessibleName(_tr("Updating your history"))
        self.title = QLabel(_tr("Updating your history…"), self)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.text = QLabel(
            _tr(
                "This version keeps conversations in a new format. Your history is copied first, then updated; "
                "this happens once and can take a minute for a long history. Please keep the app open."
            ),
            self,
        )
        self.text.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)  # busy: SQLite does not say how far along a migration is
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName(_tr("Updating"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(10)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addWidget(self.bar)
        self.setFixedWidth(460)
