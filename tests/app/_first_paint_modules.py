"""Start the app exactly as `python -m desktop` does and print the modules imported when its window first paints.

Usage: python -X importtime -m tests.app._first_paint_modules --profile-dir DIR --smoke-test
Prints one line `MODULES-AT-FIRST-PAINT ["module", ...]` when the main window receives its first Paint event (before
that paint is drawn, so nothing scheduled after the paint can be counted), then the app's own smoke-test line.
Deliberately imports nothing of the app but `desktop.app`, so the list is what the app itself loaded.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from desktop.app import main

MARKER = "MODULES-AT-FIRST-PAINT "


def _snapshot_at_first_paint(window: Any, _tasks: object) -> None:
    from PySide6.QtCore import QEvent, QObject

    class Snapshot(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if watched is window and event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                print(MARKER + json.dumps(sorted(sys.modules)), flush=True)
            return False

    window.installEventFilter(Snapshot(window))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], on_ready=_snapshot_at_first_paint))
