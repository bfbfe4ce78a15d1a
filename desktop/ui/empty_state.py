"""What a new chat shows before its first message: where it will go, and a few prompts to start from."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.services import Header
from desktop.ui.lazy_qt import ALIGN_CENTER, set_enum_property


def _tr(text: str) -> str:
    return QCoreApplication.translate("EmptyState", text)


EXAMPLE_PROMPTS = (
    "Summarise this text in three bullet points:",
    "Write a polite email declining a meeting and suggesting next week instead.",
    "Explain what a REST API is to someone new to programming, with an example.",
)


class EmptyState(QWidget):
    """A new chat's page: the connection and model it will use, and example prompts (a click fills the box)."""

    prompt_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel(_tr("Start a new chat"), self)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.heading.setFont(font)
        self.target = QLabel(self)
        self.target.setObjectName("newChatTarget")
        self.target.setWordWrap(True)
        self.target.setAccessibleName(_tr("Where this chat goes"))
        set_enum_property(self.heading, "alignment", ALIGN_CENTER)
        set_enum_property(self.target, "alignment", ALIGN_CENTER)
        column = QWidget(self)
        column.setFixedWidth(560)  # a wrapped label needs a known width to get its height right
        inner = QVBoxLayout(column)
        inner.addWidget(self.heading)
        inner.addWidget(self.target)
        inner.addSpacing(16)
        self.prompts: list[QPushButton] = []
        for prompt in (_tr(p) for p in EXAMPLE_PROMPTS):
            button = QPushButton(prompt, column)
            button.setAccessibleName(_tr("Example: %1").replace("%1", prompt))
            button.setToolTip(_tr("Put this in the message box"))
            button.clicked.connect(lambda _checked=False, p=prompt: self.prompt_chosen.emit(p))
            inner.addWidget(button)
            self.prompts.append(button)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        row = QHBoxLayout()  # the column centred (as Qt.AlignmentFlag.AlignHCenter would: see desktop/ui/lazy_qt.py)
        row.addStretch(1)
        row.addWidget(column)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)

    def show_header(self, header: Header) -> None:
        """Say which connection and model the next message goes to (or what is missing)."""
        if header.connection_id is None:
            text = _tr("No connection is set up yet. Open Settings (Ctrl+,) to add one.")
        else:
            model = next((c.label for c in header.deployments if c.name == header.deployment), header.deployment)
            text = _tr("Your message goes to “%1”, model %2.").replace("%1", header.connection_name)
            text = text.replace("%2", model or _tr("(none chosen: pick one below)"))
        self.target.setText(text)
