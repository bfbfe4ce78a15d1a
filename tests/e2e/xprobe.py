"""Look at the X display as a person would, from outside the app: `xprobe.py screenshot OUT.png` or `clipboard`.

A separate Qt client on the same display: the screenshot is the root window (what Xvfb shows), scaled up 2x so OCR
reads small UI text reliably; the clipboard is read through the X selection the app owns.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QClipboard, QGuiApplication


def main(argv: list[str]) -> int:
    """Run one probe; exit status 0 on success."""
    app = QGuiApplication(argv[:1])
    if argv[1] == "screenshot":
        screen = app.primaryScreen()
        image = screen.grabWindow(0).toImage()
        image = image.scaled(image.width() * 2, image.height() * 2, mode=Qt.TransformationMode.SmoothTransformation)
        return 0 if image.save(argv[2], "PNG") else 1
    if argv[1] == "clipboard":
        sys.stdout.write(app.clipboard().text(QClipboard.Mode.Clipboard))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
