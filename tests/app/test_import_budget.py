"""Import-time budget: before the main window's first paint, nothing is imported that the first frame does not need.

The app is run as `python -X importtime` in a subprocess (offscreen, a temporary profile) through a small driver that
records `sys.modules` when the window first paints; the import-time report names what each late module costs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop.app import PRE_QT_MODULES, remember_system_dark
from desktop.paths import AppPaths
from tests.app._first_paint_modules import DATACLASS_MARKER, EXIT_MARKER, MARKER, QT_MARKER, STDERR_MARKER

ROOT = Path(__file__).resolve().parents[2]

# Packages (and every module below them) that must wait until after the first paint.
NOT_BEFORE_FIRST_PAINT = (
    "desktop.client",
    "desktop.auth",
    "desktop.simulator",
    "desktop.ui.settings_dialog",
    "desktop.ui.first_run",
    "desktop.ui.sign_in",
    "desktop.ui.about_dialog",
    "desktop.ui.usage_view",
    "desktop.services._usage",
    # The first frame shows the sidebar, the header, a new chat and the composer: the message view, its Markdown
    # rendering, the message editor and the crash dialog are built after the paint (or when something fails).
    "desktop.ui.chat_view",
    "desktop.ui.markdown",
    "desktop.ui.edit_dialog",
    "desktop.ui.crash_dialog",
    # The window is painted with Qt's own event loop: asyncio (with ssl, subprocess) and qasync load after the paint.
    "asyncio",
    "qasync",
    "ssl",
    # The log file rotates from right after the paint: logging.handlers loads socket, pickle and queue.
    "logging.handlers",
    "socket",
    "pickle",
    # Used later, where they are needed: search snippets (html), attachments' digests (hashlib).
    "html",
    "hashlib",
    "httpx",
    "keyring",
    "azure",
    "msal",
    "pygments",
    "aiohttp",
)
# The document libraries load when a file is attached (desktop/services/_documents.py), never at start-up.
DOCUMENT_LIBRARIES = ("pypdf", "docx", "openpyxl", "pptx", "lxml", "PIL", "xlsxwriter", "et_xmlfile")
# Once PySide6 is loaded it reads the source of every module imported after it (for its `__feature__` switches): the
# window's Qt-free modules are imported before it (desktop.app's PRE_QT_MODULES), so only these come after it.
AFTER_QT = ("desktop.ui", "PySide6", "shiboken6", "shibokensupport", "qasync")
# Qt classes the first frame does not show: PySide6 makes a class's Python type, with a Python enum type for each of its
# enums, when the class is first used (on Python 3.11 ~0.3 ms per enum type; QStyle's alone have ~400 members).
NOT_IN_THE_FIRST_FRAME = (
    # The Qt namespace: its 93 enum types (~14 ms) are made at the first `Qt.` after the paint (desktop/ui/lazy_qt.py).
    # A start that knows the system's colour scheme from the last start asks Qt for it after the paint.
    "Qt",
    "QStyle",  # the app starts in Fusion through QApplication's arguments, not setStyle (which returns a QStyle)
    "QMessageBox",
    "QFileDialog",
    "QDialogButtonBox",
    "QAccessible",  # a toast tells screen readers about itself when it shows
    "QImage",
    "QImageReader",
    "QBuffer",
    "QUrl",
    "QDesktopServices",
    "QAction",  # the menus' actions are built right after the paint
    "QKeySequence",
)
# Dataclasses the first frame does not use: desktop.lazy_dataclass processes a class at its first use (~0.8 ms each on
# Python 3.11), so these must not be used before the paint (the messages, a turn, its events, its errors).
# (The history's classes are standard dataclasses, processed at import: its worker threads use them.)
NOT_PROCESSED_BEFORE_FIRST_PAINT = (
    "desktop.services._views.MessageView",
    "desktop.services._window_events.MessageAdded",
    "desktop.services._window_events.AnswerGrew",
    "desktop.services._window_events.TurnChanged",
    "desktop.services._window_events.TurnEnded",
    "desktop.services._user_error.Problem",
    "desktop.services._chat_window._Turn",
)
_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|\s*(\S+)\s*$")


@dataclass(frozen=True)
class FirstPaint:
    """One run of the app to its first paint."""

    lines: list[str]  # its standard output
    modules: list[str]  # sys.modules at the first paint
    cumulative: dict[str, int]  # cumulative import time of each module, in µs (-X importtime)
    order: list[str]  # the modules imported before the first paint, in the order their imports finished
    qt_classes: list[str]  # the Qt classes PySide6 had made Python types for at the first paint
    dataclasses: dict[str, list[str]]  # the app's lazy dataclasses, "processed" at the first paint and "deferred"


def _run_to_first_paint(profile: Path) -> FirstPaint:
    """Run the app once to its first paint under `-X importtime`."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONIMPORTTIME", None)
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tests.app._first_paint_modules",
         "--profile-dir", str(profile), "--smoke-test"],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    modules = next((json.loads(line[len(MARKER) :]) for line in lines if line.startswith(MARKER)), None)
    assert modules is not None, f"the driver saw no paint of the main window: {out.stdout!r}"
    qt_classes = next(json.loads(line[len(QT_MARKER) :]) for line in lines if line.startswith(QT_MARKER))
    dataclasses = next(json.loads(line[len(DATACLASS_MARKER) :]) for line in lines if line.startswith(DATACLASS_MARKER))
    cumulative: dict[str, int] = {}
    order: list[str] = []
    before_paint = True
    for line in out.stderr.splitlines():
        before_paint = before_paint and line != STDERR_MARKER
        if match := _IMPORTTIME.match(line):
            cumulative.setdefault(match.group(3), int(match.group(2)))
            if before_paint:
                order.append(match.group(3))
    assert not before_paint, "the driver marked no first paint on stderr"
    return FirstPaint(lines, modules, cumulative, order, qt_classes, dataclasses)


def _late(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in NOT_BEFORE_FIRST_PAINT)]


@pytest.fixture(scope="module")
def first_paint(tmp_path_factory: pytest.TempPathFactory) -> FirstPaint:
    """A start after an earlier one: the earlier start kept the system's colour scheme for this one's first frame."""
    profile = tmp_path_factory.mktemp("profile")
    paths = AppPaths.under(profile)
    paths.ensure()
    remember_system_dark(paths, dark=False)
    return _run_to_first_paint(profile)


@pytest.mark.slow
def test_the_driver_snapshots_the_first_paint_of_the_real_app(
    first_paint: FirstPaint,
) -> None:
    lines, modules, cumulative = first_paint.lines, first_paint.modules, first_paint.cumulative
    # The snapshot comes before the app's own first-paint line, so it is the first paint, not a later one.
    marker = next(i for i, line in enumerate(lines) if line.startswith(MARKER))
    painted = next(i for i, line in enumerate(lines) if line.startswith("first paint after "))
    assert marker < painted
    assert {"desktop.app", "PySide6.QtWidgets", "desktop.ui.main_window"} <= set(modules)
    assert _late(["httpx", "httpx._client", "desktop.clients", "desktop.auth._keys"]) == [
        "httpx",
        "httpx._client",
        "desktop.auth._keys",
    ]
    assert cumulative["desktop.app"] > 0


@pytest.mark.slow
def test_nothing_heavy_is_imported_before_the_first_paint(
    first_paint: FirstPaint,
) -> None:
    modules, cumulative = first_paint.modules, first_paint.cumulative
    late = _late(modules)
    # Name the top of each late package with what its import cost, heaviest first.
    tops = sorted({m for m in late if m.rpartition(".")[0] not in late}, key=lambda m: -cumulative.get(m, 0))
    assert not late, "imported before the first paint: " + ", ".join(
        f"{m} ({cumulative.get(m, 0) / 1000:.0f} ms)" for m in tops
    )


@pytest.mark.slow
def test_no_document_library_is_imported_by_a_whole_start_up(
    first_paint: FirstPaint,
) -> None:
    lines = first_paint.lines
    at_exit = next((json.loads(line[len(EXIT_MARKER) :]) for line in lines if line.startswith(EXIT_MARKER)), None)
    assert at_exit is not None, "the driver printed no modules when the app quit"
    assert "desktop.services._chat" in at_exit  # the run went past the first paint to the chat's services
    loaded = [m for m in at_exit if any(m == p or m.startswith(p + ".") for p in DOCUMENT_LIBRARIES)]
    assert not loaded, "document libraries imported without any attachment: " + ", ".join(loaded[:10])


@pytest.mark.slow
def test_only_the_window_s_qt_modules_are_imported_after_pyside6(first_paint: FirstPaint) -> None:
    order = first_paint.order
    assert set(PRE_QT_MODULES) <= set(order[: order.index("PySide6.QtCore")])
    after = order[order.index("PySide6.QtCore") + 1 :]
    assert "desktop.ui.main_window" in after
    late = [m for m in after if not any(m == p or m.startswith(p + ".") for p in AFTER_QT)]
    assert not late, "imported after PySide6 before the first paint (add them to PRE_QT_MODULES): " + ", ".join(late)


@pytest.mark.slow
def test_the_first_frame_makes_no_python_type_for_qt_classes_it_does_not_show(first_paint: FirstPaint) -> None:
    assert {"QMainWindow", "QSplitter", "QLineEdit", "QMenuBar"} <= set(first_paint.qt_classes)  # the frame's own
    made = [name for name in NOT_IN_THE_FIRST_FRAME if name in first_paint.qt_classes]
    assert not made, (
        "Qt classes used before the first paint (import them where they are used; for Qt, see desktop/ui/lazy_qt.py): "
        + ", ".join(made)
    )


@pytest.mark.slow
def test_the_first_frame_processes_no_dataclass_it_does_not_use(first_paint: FirstPaint) -> None:
    processed, deferred = first_paint.dataclasses["processed"], first_paint.dataclasses["deferred"]
    assert "desktop.services._window_events.ConversationShown" in processed  # the start's own events
    assert set(NOT_PROCESSED_BEFORE_FIRST_PAINT) <= set(processed) | set(deferred)  # (names still right)
    early = [name for name in NOT_PROCESSED_BEFORE_FIRST_PAINT if name in processed]
    assert not early, "dataclasses used before the first paint: " + ", ".join(early)
