"""Render the chat widgets with sample data, light and dark, into one PNG: `python tests/ui/gallery.py out.png`."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QHBoxLayout, QSplitter, QVBoxLayout, QWidget

from desktop.services import ConversationRow, DeploymentChoice, MessageAction, MessageView, Outcome, RetryWait, Role
from desktop.ui.chat_view import ChatView
from desktop.ui.composer import Composer
from desktop.ui.conversation_list import ConversationList
from desktop.ui.theme import SchemeChoice, ThemeManager
from desktop.ui.toast import Toast

ANSWER = """Here is a comparison of the two options:

| Option | Cost | Speed |
|--------|-----:|-------|
| Standard | $1 | fast |
| Premium | $5 | fastest |

```python
def greet(name: str) -> str:
    # Say hello politely
    return f"Hello, {name}!"
```

1. Pick the **Standard** tier first.
2. Measure, then upgrade.

> Tip: `<script>` tags stay literal text.
"""

NOW = datetime(2026, 11, 27, 15, 0)


def sample_messages() -> list[MessageView]:
    """Return a short conversation covering the interesting states."""
    return [
        MessageView(1, Role.USER, "Which tier should I choose for our team chat bot?"),
        MessageView(2, Role.ASSISTANT, ANSWER, deployment="gpt-4o"),
        MessageView(3, Role.USER, "And the price for 1M tokens?"),
        MessageView(
            4,
            Role.ASSISTANT,
            "",
            Outcome.FAILED,
            error_title="Your key was refused",
            error_text="Azure said the API key is not valid for this resource. Paste a new key in Settings.",
            action=MessageAction.OPEN_SETTINGS,
        ),
        MessageView(5, Role.USER, "Summarise the pricing page, please."),
        MessageView(6, Role.ASSISTANT, "The pricing page lists **three** tiers. The first", Outcome.STREAMING),
    ]


def build(app: QApplication, theme: ThemeManager) -> QWidget:
    """Build a window-like widget with sidebar, chat view, composer and a toast."""
    root = QWidget()
    root.resize(1100, 760)
    split = QSplitter(root)
    sidebar = ConversationList(now=lambda: NOW)
    sidebar.set_items(
        [
            ConversationRow(1, "Team bot pricing", NOW - timedelta(hours=1), streaming=True),
            ConversationRow(2, "Quarterly report draft", NOW - timedelta(days=1)),
            ConversationRow(3, "Python decorators", NOW - timedelta(days=3), pinned=True),
            ConversationRow(4, "Holiday plan", NOW - timedelta(days=20)),
            ConversationRow(5, "Old notes", NOW - timedelta(days=90)),
        ]
    )
    sidebar.set_current(1)
    right = QWidget()
    col = QVBoxLayout(right)
    col.setContentsMargins(0, 0, 0, 0)
    view = ChatView()
    view.set_colors(theme.colors())
    view.set_messages(sample_messages())
    view.show_retry(RetryWait(6, 3, 3, 1, 2, "rate limit", automatic=False))
    composer = Composer()
    composer.set_deployments(
        [DeploymentChoice("gpt-4o", "gpt-4o", "gpt-4o"), DeploymentChoice("mini", "mini · gpt-4o-mini", "mini")],
        "gpt-4o",
    )
    composer.set_text("Can you also compare the latency?")
    col.addWidget(view, 1)
    col.addWidget(composer)
    split.addWidget(sidebar)
    split.addWidget(right)
    split.setSizes([260, 840])
    lay = QHBoxLayout(root)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(split)
    root.show()
    toast = Toast(root)
    toast.show_message("Chat deleted.", "Undo", timeout_ms=0)
    for _ in range(5):
        app.processEvents()
    view.scroll_to_latest()
    app.processEvents()
    return root


def main(out: str) -> None:
    """Render light and dark side by side into `out`."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    theme = ThemeManager(app, SchemeChoice.LIGHT)
    shots = []
    for choice in (SchemeChoice.LIGHT, SchemeChoice.DARK):
        theme.set_choice(choice)
        widget = build(app, theme)
        shots.append(widget.grab().toImage())
        widget.close()
    out_img = QImage(shots[0].width(), sum(s.height() for s in shots), QImage.Format.Format_ARGB32)
    out_img.fill(QColor("black"))
    painter = QPainter(out_img)
    y = 0
    for shot in shots:
        painter.drawImage(0, y, shot)
        y += shot.height()
    painter.end()
    out_img.save(out)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "gallery.png")
