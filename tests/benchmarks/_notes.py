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
  probe has not ticked for 60 ms."""

WHY = {
    "startup_paint": (
        "Before its first paint the app loads what a bare window does not. From `-X importtime` and cProfile to the "
        "paint (1,000 conversations): asyncio and qasync (~50 ms; the event loop the app runs on); PySide6 setting up "
        "the ~60 Qt classes the window uses (the self time of desktop.ui.chat_view, crash_dialog and main_window, "
        "mostly enum and type creation on first use); the app's config, storage and services modules (dataclass "
        "and enum creation, ~60 ms); building the window (~40 ms); opening the history (schema check, interrupted "
        "answers, the first sidebar page). This run moved the history's quick check (~0.1 s at 50,000 messages) into "
        "a worker thread that runs while Qt loads, stopped --smoke-test from counting the post-paint build (it "
        "printed its time after building keys, client and dialogs), and measures with compiled bytecode as installs "
        "have it. Closing the rest needs a first frame without the chat view's classes (show the frame, then build "
        "the conversation area), which the main window's structure does not allow yet."
    ),
    "startup_rss": (
        "The same loads as the first paint: QtGui/QtWidgets types and the app's modules before the window shows "
        "(asyncio, ssl and socket come with the event loop). It was x1.9 while the smoke test printed its line "
        "after the post-paint build (client, keyring, dialogs); now it is read at the paint."
    ),
    "deb_paint": (
        "Measured against the PyInstaller bundle built from this tree (packaging/pyinstaller spec: the files the "
        ".deb installs under /opt), started round-robin with the source run: x1.28 at load ~1.3, x1.42 in an "
        "earlier run under load (single starts outside the suite once gave the opposite). Not profiled yet: the "
        "bundle's bootloader ignores PYTHONPROFILEIMPORTTIME and -X options, so the import profile used for the "
        "source run cannot be taken inside it; cProfile through a patched entry point is the next step. The "
        "candidates are the bootloader's own work before Python's first line (loading libpython and the bundled Qt "
        "libraries from _internal) and imports from the bundle's own files. The staged start-up is the same code in "
        "the bundle (what comes after the paint is imported inside functions, bundled like any import; the "
        "history-check and warm-up threads are plain Python threads on Linux, Windows and macOS)."
    ),
    "stream_cpu": (
        "cProfile of 2 x 4,000 tokens: about half is Qt laying out and drawing the live answer "
        "(QAbstractTextDocumentLayout.draw in the chat view's paint, insertFragment/setMarkdown of the unfinished "
        "tail in markdown.LiveDocument), the rest is the HTTP stack per socket read (httpcore, h11, anyio, and "
        "qasync creating a QSocketNotifier per read because anyio pauses and resumes reading at every receive). "
        "This run reads the stream at most every 1/20 s once words flow (9x fewer socket reads) and spaces flushes "
        "by what the last flush and paint cost (about 10% of a core for showing text, at most 200 ms apart). "
        "What is left per word (h11 event, SSE and JSON parsing, the turn's async generators, the controller's "
        "event) is constant; reads without anyio's pause/resume (an httpcore network backend on asyncio streams) "
        "would be the next step."
    ),
    "stream_p99": (
        "The p99 stall is a flush of the live answer (re-rendering its unfinished tail: a long table or code block "
        "is re-rendered as a whole until it ends) followed by its paint; on a loaded machine other processes' time "
        "adds to it. An interleaved A/B at load ~1.2 (4,000 tokens, 3 runs each, twice): with this run's batched "
        "reads and spaced flushes p99 7.6-10.9 ms, longest 21-68 ms, CPU 0.19-0.22 of a core; without them p99 "
        "6.0-8.4 ms, longest 12-25 ms, CPU 0.40-0.47. Batching halves the CPU and makes each flush a little longer."
    ),
    "stream_longest": (
        "Sampling the GUI thread whenever the loop was over 60 ms late (2 runs of 16,000 tokens) found 160 samples "
        "inside QApplication.exec with no Python frame (Qt's own layout of the ~90 KB live document), 85 in "
        "QAbstractTextDocumentLayout.draw from the chat view's paint, and ~30 in the markdown tail's insertFragment "
        "and markContentsDirty. The first turn's imports (httpcore, anyio, h11, the OS trust store) now load in a "
        "worker thread after the first paint. Splitting a long answer into several documents (one per finished "
        "section) would bound both the layout and the draw. At 4,000 tokens an interleaved A/B at load ~1 (3 runs "
        "each, twice) gave the longest stall 15-146 ms with this run's batched reads and spaced flushes, 46-161 ms "
        "with batched reads alone and 12-25 ms with neither: a batched read hands the loop ~15 events at once, "
        "which makes an occasional long turn likelier; this run did not resolve that trade against the halved CPU."
    ),
    "stream_growth": (
        "What grows with the answer is Qt's layout and drawing of the one live document (see the longest stall); "
        "the app's own work per token (controller, chat view buffer, SSE parsing) is constant."
    ),
    "ttft": (
        "cProfile of 6 turns with 1,000 conversations: each send puts the new conversation into the sidebar and "
        "selects it; QListView lays out every row again after an insertion (~3,300 sizeHint and ~7,000 rowCount "
        "calls into Python per send) and scrolls to the selection. Before this run each send also regrouped and "
        "reset the whole list two or three times (~40 ms each with styled row sizing); rows are now sized once per "
        "kind and changed in place. The rest is the turn's own path (history writes, request set-up), and the "
        "machine's load (the bare client's own time varies 7-40 ms between runs)."
    ),
    "scroll": (
        "Not changed in this run. Each Page Up that reaches older messages loads a page and renders each row's "
        "Markdown into its own QTextDocument at once (the longest frame is the one that loads and lays out a page), "
        "and up to 400 documents stay cached (~35 KB each for the rich answers: most of the memory added). Rendering "
        "a row only when it first shows, with a cheaper height estimate before that, would fix both."
    ),
}
