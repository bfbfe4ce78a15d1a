"""The start-up baseline: a bare PySide6 main window, timed from process start to first paint like `--smoke-test`.

Run as a script (`python tests/benchmarks/bare_window.py`); it imports nothing of the app, so it is the floor.
"""

from __future__ import annotations

import os
import sys
import time


def process_start_time() -> float:
    """Wall-clock start of this process from /proc (the same method as `desktop.app.process_start_time`)."""
    # Deliberately not imported from desktop.app: the baseline must not pay for importing the app.
    with open("/proc/self/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    with open("/proc/uptime", encoding="ascii") as f:
        uptime = float(f.read().split()[0])
    return time.time() - uptime + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    """Show a QMainWindow the size of the app's, print the time to its first paint, and quit."""
    started = process_start_time()
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("Bare window")
    window.resize(1100, 760)
    window.setCentralWidget(QLabel("Bare window", window))

    def report() -> None:
        print(f"first paint after {(time.time() - started) * 1000:.0f} ms", flush=True)
        # Stay a moment, as the app does while it shuts down, so the parent can read this process's VmRSS.
        QTimer.singleShot(200, app.quit)

    class Watcher(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            # As FirstPaintWatcher: the paint is done once the Qt loop turns after the Paint event.
            if watched is window and event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                QTimer.singleShot(0, report)
            return False

    watcher = Watcher()
    window.installEventFilter(watcher)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
