"""Run-time hook of the frozen app, in place of PyInstaller's PySide6 hook (pyi_rth_pyside6).

It sets what that hook sets (where Qt finds its plugins; on Windows and in a bare macOS build, where QtNetwork finds
OpenSSL) but does not import PySide6.QtCore. PyInstaller's hook imports it only to embed a qt.conf, which the
PySide6 wheels embed themselves; importing it here, before the app's first line, made PySide6 inspect every module
the app imported after it (it looks for `from __feature__ import ...` in each one), which the app avoids by loading
its Qt-free modules first (desktop/app.py, PRE_QT_MODULES).
"""

import os
import sys


def _set_qt_paths() -> None:
    base = sys._MEIPASS  # type: ignore[attr-defined]  # set by PyInstaller's bootloader
    qt_dir = os.path.join(base, "PySide6") if sys.platform.startswith("win") else os.path.join(base, "PySide6", "Qt")
    os.environ["QT_PLUGIN_PATH"] = os.path.join(qt_dir, "plugins")
    frameworks = os.path.basename(base) == "Frameworks" and sys.platform == "darwin"  # inside an .app bundle
    if sys.platform.startswith("win"):
        os.environ["PATH"] = os.pathsep.join(p for p in (base, os.environ.get("PATH")) if p)
    elif sys.platform == "darwin" and not frameworks:
        os.environ["DYLD_LIBRARY_PATH"] = os.pathsep.join(p for p in (base, os.environ.get("DYLD_LIBRARY_PATH")) if p)


_set_qt_paths()
del _set_qt_paths
