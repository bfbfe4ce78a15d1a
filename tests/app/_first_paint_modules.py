"""Start the app exactly as `python -m desktop` does and print the modules imported when its window first paints.

Usage: python -X importtime -m tests.app._first_paint_modules --profile-dir DIR --smoke-test
Prints one line `MODULES-AT-FIRST-PAINT ["module", ...]` when the main window receives its first Paint event (before
that paint is drawn, so nothing scheduled after the paint can be counted), then the app's own smoke-test line, and
when the app has quit, `MODULES-AT-EXIT [...]`: everything its start-up loaded.
It imports nothing the app would not load before its window anyway (`desktop.app`, and `desktop.ui.first_paint`, whose
watcher the app itself puts on the window before showing it): the list is what the app itself loaded.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from desktop.app import main

MARKER = "MODULES-AT-FIRST-PAINT "
EXIT_MARKER = "MODULES-AT-EXIT "


def _snapshot_at_first_paint() -> None:
    """Print the modules loaded when the app's own first-paint watcher sees the window's first Paint event."""
    from desktop.ui import first_paint

    original = first_paint.FirstPaintWatcher.eventFilter
    printed: list[bool] = []

    def event_filter(self: Any, watched: Any, event: Any) -> bool:
        from PySide6.QtCore import QEvent

        if not printed and event.type() == QEvent.Type.Paint:
            printed.append(True)
            print(MARKER + json.dumps(sorted(sys.modules)), flush=True)
        return original(self, watched, event)

    first_paint.FirstPaintWatcher.eventFilter = event_filter  # type: ignore[method-assign]


if __name__ == "__main__":
    _snapshot_at_first_paint()
    code = main(sys.argv[1:])
    print(EXIT_MARKER + json.dumps(sorted(sys.modules)), flush=True)
    sys.exit(code)
