"""Why a budget is still missed: written into RESULTS.md under every row that a run judges MISSED or not measured.

Each note names where the time goes and the profile that shows it, so the next change starts from evidence. They were
written from the profiles named in them (2026-12-05, 2 shared cores); a row that is met prints no note.
"""

from __future__ import annotations

PROFILES = """How to profile (each on its own):
- start-up: `python -X importtime -m tests.app._first_paint_modules --profile-dir P --smoke-test` (import cost of
  every module loaded before the first paint), and cProfile stopped in `FirstPaintWatcher._resolve`;
- streaming and time to first token: `python -m cProfile -o out.prof -m tests.benchmarks.ui_child JSON` with the
  JSON the parent (ui.py) passes, against `python -m desktop.simulator --tokens-per-second 300`;
- stalls: a watchdog thread that samples the GUI thread's stack (`sys._current_frames()`) whenever the lateness
  probe has not ticked for 60 ms;
- Qt's own time (layout, paint, its thread pool): `py-spy record --native -f raw` around the same ui_child command
  (py-spy is not a project dependency: install it in a separate virtual environment)."""

WHY = {
    "startup_paint": (
        "The first frame is painted with Qt's own event loop: asyncio and qasync (with ssl, socket and subprocess) "
        "load after the paint, and so do the menus' actions, the message view, message boxes, file dialogs, images, "
        "QAccessible and QUrl; the app starts in Fusion through QApplication's arguments, so PySide6 builds no "
        "Python QStyle (~400 enum members); the first frame makes no Qt namespace (desktop/ui/lazy_qt.py) and "
        "PySide6 is told which modules use it instead of reading each one's source. Since the last results: what "
        "Python compiles from the same source at every start is kept in the cache folder (desktop/code_cache.py): "
        "PySide6's 14 support modules, which it keeps as source inside shiboken6 (~15 ms, the bare window pays it "
        "too), and the first frame's dataclass methods (~11 ms); the history's quick check runs when the app "
        "closes, not beside the loading of Qt's libraries, which it slowed by ~8 ms from the other core; the "
        "collector pauses during desktop.app's imports (~3 ms). 160-175 ms before (x1.60-1.71), 136-149 ms since "
        "(x1.36-1.49, bare window 100-103 ms). Where the time goes now (source run, 1,000 conversations, "
        "offscreen, timestamps in the process, medians of 15; bare window 101 ms: interpreter 10, PySide6 79, "
        "QApplication 2, window and paint 10): interpreter and desktop.app ~37 ms; command line, log, code cache "
        "~5 ms; the history, settings and window-controller modules ~15 ms; PySide6 ~40 ms (the standard library "
        "it needs is loaded by then, its support modules come from the cache); the window's modules ~15 ms (most "
        "of it the Python enums of the ~50 Qt classes the bare window does not use); QApplication 2 ms; settings, "
        "history and theme ~3 ms; building the window ~21 ms, of which ~6 ms is Qt loading the fonts (the bare "
        "window pays that at its paint) and ~4.5 ms the sidebar's first 60 conversations; painting ~9 ms "
        "(laying out and rasterising the rows' text). Next: the paperclip drawn without QIcon (~1 ms), fewer Qt "
        "classes in the first frame, or Python 3.12+ (faster enums and dataclasses)."
    ),
    "startup_rss": (
        "Met with margin now (x1.26-1.38: 69-75 MB against 54 MB): asyncio, ssl, socket and the classes the first "
        "frame does not use load after the paint (was x1.50, 81.8 MB). PySide6's `__feature__` check no longer "
        "reads the window's modules (desktop.app.skip_pyside_source_scan), and linecache is cleared before the "
        "window shows of what it read of others."
    ),
    "deb_paint": (
        "The Linux package runs the bundle's modules on a copy of the build machine's statically linked "
        "/usr/bin/python3.11 (packaging/linux/native-python.sh, native_boot.py), not on PyInstaller's bootloader: a "
        "bootloader can only load the shared libpython3.11.so.1.0, which Debian builds without the static "
        "interpreter's optimisations (its libpython3.11.a and libpython3.11-pic.a cannot give a faster shared "
        "library: one is not PIC, the other is the same build as the .so), so the same imports took x1.22 as long "
        "and a bytecode loop x1.4; the bundle painted x1.22-1.26 later than the source run. The bundle's own "
        "run-time hooks (Qt's plugin path without PySide6.QtCore, no zipfile/pkgutil, Python's own FileFinder for "
        "the .pyc files, no source scan of .pyc-only modules) run the same way on both starts. If this row misses, "
        "check that the build machine's Python was a static one (native-python.sh says which it used)."
    ),
    "stream_cpu": (
        "Showing text is one Qt layout pass per flush over the unfinished tail (the edits of an update run in one "
        "edit block; there were 9-15 passes), a paint draws only what is on screen, and the words of one network "
        "read reach the window as one update (the controller published one event per word, ~300 a second, and "
        "copied the answer each time: 12,000 -> ~1,800 events per 3 x 4,000 tokens). CPU per update stays flat "
        "over a 16,000-token answer. What is left (py-spy): about half is showing text, per flush ~7-8 ms of "
        "Markdown tail render and layout and per paint ~5-7 ms, almost all in drawing the document; about a "
        "quarter is the HTTP stack, because every server-sent event is its own HTTP chunk through h11, httpcore "
        "and httpx. The flushes are spaced by their wall-clock cost, so on a quiet machine they come closer and "
        "the share rises. Reading the network 10 instead of 20 times a second was tried: the window then showed "
        "new words ~4 times a second, for a gain inside the noise, so it was not kept. A hand-written httpcore "
        "backend (client 0.037 -> 0.032 of a core, ~600 lines of socket/TLS code, Windows untested) was not merged "
        "either. Since then (py-spy --native): a streamed update repaints only the answer's unfinished tail, the "
        "scroll bar only when its handle moves, and Qt paints without its thread pool (the scroll bar's paints were "
        "mostly thread wake-ups): 0.23 -> 0.12 of a core. If this row misses, profile the Qt time the same way."
    ),
    "stream_p99": (
        "The p99 stall is a flush of the live answer (re-rendering its unfinished tail: a long table or code block "
        "is re-rendered as a whole until it ends) followed by its paint; on a loaded machine other processes' time "
        "adds to it. An interleaved A/B at load ~1.2 (4,000 tokens, 3 runs each, twice): with this run's batched "
        "reads and spaced flushes p99 7.6-10.9 ms, longest 21-68 ms, CPU 0.19-0.22 of a core; without them p99 "
        "6.0-8.4 ms, longest 12-25 ms, CPU 0.40-0.47. Batching halves the CPU and makes each flush a little longer."
    ),
    "stream_longest": (
        "Fixed by bounding each flush to one layout pass over the answer's tail and drawing only the rows' visible "
        "part (an answer taller than 32,767 px was drawn whole at every paint: 40-55 ms per paint at 16,000 "
        "tokens). On a loaded machine another process's time adds to a ~10 ms flush and its paint; a run under load "
        "5-10 can still show 40-100 ms."
    ),
    "stream_growth": (
        "What grows with the answer is Qt's layout and drawing of the one live document (see the longest stall); "
        "the app's own work per token (controller, chat view buffer, SSE parsing) is constant."
    ),
    "ttft": (
        "A send's request now goes out before the window draws the send: the controller holds its events from the "
        "send until the client says the request is written (httpx's trace extension), the turn ends, or 0.1 s "
        "passed, so the sidebar, composer and new rows are painted while Azure works. Sidebar rows are Qt items "
        "(no Python call per row in a re-layout). What is left on the path: the user's message committed to the "
        "history before the request (an occasional WAL checkpoint adds ~8 ms), the client's own ~7-10 ms, then the "
        "answer's row, one flush and one paint after the first words; and the machine's load."
    ),
    "scroll": (
        "Row heights are kept in a C++ model (a 2,000-row layout no longer calls into Python per row: ~1 ms instead "
        "of 30-50 ms), rows up to two screens above the view are measured in ~12 ms slices after each paint, older "
        "messages are asked for three screens before the top and shown 50 rows at a time. The worst frame left is a "
        "paint plus laying out one long Markdown answer (8-20 ms); on a loaded machine it can exceed 33 ms."
    ),
    "attach": (
        "While a document is read in its worker thread (pypdf is pure Python), every call Qt makes into Python on the "
        "GUI thread waits for Python's lock, up to the switch interval each time: at Python's default of 5 ms one "
        "repaint stalled the window 120-140 ms. The app sets 1 ms (`desktop.app.GUI_SWITCH_INTERVAL_S`): 16-18 ms "
        "in a sampled run. Reading in a separate process would remove the contention altogether."
    ),
}

BUNDLES = """## Start-up of the installed bundles

The staged start-up is the same code on every platform: the Qt-free modules load before PySide6, the first frame is
built without dialogs, client, sign-in, keyring or simulator and painted with Qt's own event loop, and asyncio, qasync
and the rest load after the paint. The code Python would compile again at every start (PySide6's support modules, the
first frame's dataclass methods) comes from the profile's cache folder, and the history's quick check runs when the app
closes: plain Python and SQLite on every platform. None of it depends on Linux. Inside a PyInstaller bundle the spec's
run-time hooks (packaging/pyinstaller/rthook_*.py) keep the bundle from adding work before the app's first line: Qt's
plugin path is set without importing PySide6.QtCore, zipfile and pkgutil are not loaded, Python's own FileFinder loads
the .pyc files, and PySide6's per-import source scan is told at once that a .pyc-only module has no source.

- Linux (.deb and .tar.gz, measured here as "installed .deb"): the bundle's modules run on a copy of the build
  machine's static /usr/bin/python3.11 with a ._pth file, started by a shell launcher
  (packaging/linux/native-python.sh). PyInstaller's bootloader could only load Debian's shared libpython3.11.so,
  which runs Python 1.2-1.4x slower than the static interpreter: the bundle painted 1.22-1.26x later than a source
  run before.
- Windows (installer built and tested under wine in CI, where timings mean nothing) and macOS (not built here): the
  bundle keeps PyInstaller's bootloader on python.org's python311 library, which is the interpreter a source run
  uses there, so the bundle has no interpreter of its own to fall behind.
"""
