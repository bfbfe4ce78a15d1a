"""The Qt-free layers must stay Qt-free, whatever they import."""

from __future__ import annotations

import subprocess
import sys

QT_FREE = ["desktop.client", "desktop.services", "desktop.storage", "desktop.config", "desktop.auth"]


def test_qt_free_layers_do_not_import_pyside6() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in QT_FREE)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'qasync', 'shiboken6'))\n"
        + "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == ""


def test_client_imports_only_httpx_and_stdlib() -> None:
    code = (
        "import sys\nbefore = set(sys.modules)\nimport desktop.client\n"
        "third = {m.split('.')[0] for m in set(sys.modules) - before} - set(sys.stdlib_module_names)\n"
        "print(','.join(sorted(third)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    allowed = {
        "desktop",
        "httpx",
        "httpcore",
        "h11",
        "anyio",
        "sniffio",
        "certifi",
        "idna",
        "_cffi_backend",
        "h2",
    }
    # httpx imports its own command-line extras when they happen to be installed (import-linter brings them here).
    allowed |= {"click", "rich", "pygments", "markdown_it", "mdurl"}
    imported = {m for m in result.stdout.strip().split(",") if m}
    assert imported <= allowed, imported - allowed
