"""Composition root: command line, paths, logging, every service, and the Qt + asyncio (qasync) loop."""

# ruff: noqa: E402 (the imports come after the collector's pause, which must come first)
from __future__ import annotations

import gc

# Python's cyclic collector pauses while this module's imports load: they make ~100,000 objects that live as long as
# the process, and it went over them ~30 times (~4 ms of every start). It runs again at the end of this module; `main`
# then keeps it off until the window's GarbageCollector takes over on the GUI thread.
_COLLECTING_BEFORE_IMPORT = gc.isenabled()
gc.disable()

import argparse
import contextlib
import dataclasses
import linecache
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from desktop import __version__
from desktop.code_cache import CodeCache
from desktop.lazy_dataclass import process_next
from desktop.log import LogFileError, configure_logging, redact, start_rotating
from desktop.messages import MessageBridge
from desktop.paths import APP_DISPLAY_NAME, APP_NAME, AppPaths

if TYPE_CHECKING:
    import asyncio

    from PySide6.QtWidgets import QApplication

    from desktop.ui import FirstPaintWatcher, MainWindow, TaskRunner

if _COLLECTING_BEFORE_IMPORT:
    gc.enable()

_log = logging.getLogger("desktop.app")


def process_start_time() -> float:
    """Wall-clock time at which this interpreter started (Linux: the process's start from /proc; elsewhere: this
    module's import). A launcher script that ran commands and then exec'd Python (run-demo.sh) shares our process
    and its start time; its waited-for children (cminflt > 0) give it away, and then this module's import counts."""
    if not sys.platform.startswith("linux"):  # under wine, /proc is Linux's own, and os.sysconf does not exist
        return _IMPORT_TIME
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        if int(fields[8]) > 0:  # field 11 of stat(5): page faults of children waited for, none in a fresh Python
            return _IMPORT_TIME
        start_ticks = int(fields[19])  # field 22 of stat(5), counted after "pid (comm)"
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        ticks = os.sysconf("SC_CLK_TCK")
        return time.time() - uptime + start_ticks / ticks
    except (OSError, ValueError, IndexError):
        return _IMPORT_TIME


_IMPORT_TIME = time.time()


def _display_available() -> bool:
    """Whether Qt can open a window: always on Windows/macOS; on Linux a display or an explicit platform."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog=APP_NAME,
        description=f"{APP_DISPLAY_NAME}: chat with your organisation's Azure OpenAI deployments.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_DISPLAY_NAME} {__version__}")
    parser.add_argument(
        "--profile-dir",
        type=Path,
        metavar="DIR",
        help="keep every file the app writes (settings, history, logs, caches) under DIR",
    )
    parser.add_argument("--demo", action="store_true", help="start against the built-in Azure OpenAI simulator")
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="show the main window, print the time to its first paint, and quit",
    )
    parser.add_argument("--screenshot", type=Path, metavar="FILE.png", help="save the painted main window and quit")
    parser.add_argument("--verbose", action="store_true", help="log details to the console as well")
    parser.add_argument(
        "--log-content",
        action="store_true",
        help="with --verbose, also log prompts, answers and images in full (otherwise only their sizes)",
    )
    return parser


class GarbageCollector:
    """Runs Python's cyclic GC only from the GUI thread (automatic GC off).

    Qt objects freed by a collection in a worker thread crash later ("Timers cannot be stopped from another thread",
    then SIGSEGV; see docs/platform.md). A GUI-thread timer checks the allocation counters and collects the same
    generations the automatic collector would have.
    """

    took_over = False  # set once one was made: automatic collection stays off for the rest of the process

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self._thresholds = gc.get_threshold()
        gc.disable()
        GarbageCollector.took_over = True
        self._timer = QTimer()
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> int:
        """Collect the generation whose counter passed its threshold; returns the generation or -1."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                gc.collect(generation)
                return generation
        return -1

    def stop(self) -> None:
        """Stop the timer and collect once, still in the GUI thread."""
        self._timer.stop()
        gc.collect()


class ErrorHooks:
    """`sys.excepthook`, `threading.excepthook` and the loop's exception handler: log, then a readable dialog."""

    def __init__(self, log_file: Path, *, interactive: bool) -> None:
        self.log_file = log_file
        self.interactive = interactive
        self.failures = 0

    def install(self) -> None:
        """Install the process-wide hooks (before the loop starts)."""
        sys.excepthook = self.excepthook
        threading.excepthook = self._thread_hook

    def excepthook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        """Log an uncaught exception and show it in plain words."""
        self.failures += 1
        _log.critical("uncaught exception", exc_info=(exc_type, exc, tb))
        if not self.interactive:
            print(f"error: {exc_type.__name__}: {redact(str(exc))} (details in {self.log_file})", file=sys.stderr)
        else:
            from desktop.ui import show_internal_error

            details = redact("".join(traceback.format_exception(exc_type, exc, tb)))
            show_internal_error(details, str(self.log_file))

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def loop_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """asyncio's exception handler: the same treatment for errors no task awaited."""
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            self.excepthook(type(exc), exc, exc.__traceback__)
        else:
            self.failures += 1
            _log.error("event loop error: %s", context.get("message"))


def main(argv: list[str] | None = None, on_ready: Callable[[MainWindow, TaskRunner], object] | None = None) -> int:
    """Run the app; returns the process exit status. `on_ready` (benchmarks, scripts) gets the shown window."""
    started = process_start_time()
    # No automatic collection while the first frame loads (its imports set off dozens of them); from the
    # QApplication on, GarbageCollector collects in the GUI thread. An early return gives automatic collection back.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(argv, on_ready, started)
    finally:
        CodeCache.uninstall_for_dataclasses()  # (the first paint did already, unless it never came)
        if collecting and not GarbageCollector.took_over:
            gc.enable()


#: How long a busy worker thread (a document being read, imports after the paint) may keep Python's lock before the
#: GUI thread gets it (Python's default is 5 ms). Qt calls into Python many times per event (delegates, slots), and
#: each call waited up to the whole interval: a 50-page PDF being read stalled the window 120-140 ms, 16-18 ms at 1 ms.
GUI_SWITCH_INTERVAL_S = 0.001


def _main(argv: list[str] | None, on_ready: Callable[[MainWindow, TaskRunner], object] | None, started: float) -> int:
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
    args = build_parser().parse_args(argv)
    paths = AppPaths.under(args.profile_dir) if args.profile_dir else AppPaths.platform_default()
    try:
        paths.ensure()
    except OSError as exc:
        print(
            f"{APP_DISPLAY_NAME} cannot create its folders ({exc}). Choose another --profile-dir.",
            file=sys.stderr,
        )
        return 2
    _set_up_logging(paths.log_file, args)
    _log.info("%s %s starting (pid %d)", APP_DISPLAY_NAME, __version__, os.getpid())
    # From here to the first paint, what the last start compiled (PySide6's support modules, the dataclasses'
    # methods) is not compiled again.
    code_cache = CodeCache(paths.cache_dir / CODE_CACHE_FILE)
    code_cache.load()
    code_cache.install_for_dataclasses()
    from desktop.storage import check_history_early

    check_history_early(paths.history_file, HISTORY_BUSY_MS)  # in a worker thread, while Qt loads
    # The window's Qt-free modules load before PySide6: once loaded, PySide6 reads the source of every module
    # imported after it (looking for its `__feature__` switches), time spent before the first paint for nothing.
    for name in PRE_QT_MODULES:
        __import__(name)  # (not importlib.import_module, which `-X importtime` does not report)

    with code_cache.compiling():  # PySide6 compiles its support modules from their source at every import
        from PySide6.QtWidgets import QApplication

    skip_pyside_source_scan()
    from desktop.ui import route_qt_messages
    from desktop.ui.theme import fusion_arguments

    route_qt_messages()
    headless_run = bool(args.smoke_test or args.screenshot)
    if not _display_available():
        if not headless_run:
            print(
                f"{APP_DISPLAY_NAME} needs a graphical desktop, and none was found (DISPLAY is not set).",
                file=sys.stderr,
            )
            return 2
        # A smoke test or screenshot on a machine with no screen still renders, off screen.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    hooks = ErrorHooks(paths.log_file, interactive=not headless_run)
    hooks.install()
    paint_on_one_thread()
    app = QApplication([*sys.argv[:1], *fusion_arguments()])
    app.setApplicationName(APP_DISPLAY_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_DISPLAY_NAME)
    app.setDesktopFileName(APP_NAME)
    collector = GarbageCollector()
    try:
        # The window is painted with Qt's own loop; asyncio and its event loop load after the paint.
        first = paint_first_frame(app, args, paths, started)
        if isinstance(first, str):
            _tell_and_wait(first)
            status = 1
        else:
            import asyncio

            import qasync

            def loop_factory() -> asyncio.AbstractEventLoop:
                loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
                loop.set_exception_handler(hooks.loop_handler)
                return loop

            with asyncio.Runner(loop_factory=loop_factory) as runner:
                status = runner.run(
                    run_app(app, args, paths, started, on_ready=on_ready, first=first, code_cache=code_cache)
                )
    finally:
        collector.stop()
    if headless_run and hooks.failures:
        _log.error("%d unexpected error(s) during a headless run", hooks.failures)
        return 1
    _log.info("exited with status %d", status)
    return status


def skip_pyside_source_scan() -> None:
    """Tell PySide6 at once what its import hook would read every module's source to learn (~4 ms before the paint).

    Once loaded, PySide6 reads the source of each module that an import statement names for the first time after it,
    looking for "PySide6" in it, to know which modules its `from __feature__ import ...` switches apply to: the
    window's modules (2,000 lines and more), and typing, datetime, logging... when the window's modules import them.
    The answer only matters to a module that imports `__feature__`, and none does: the window's modules are marked as
    using PySide6 (0), every module already loaded as one to ignore (-1). Nothing is done if PySide6 keeps its table
    elsewhere.
    """
    table = getattr(sys.modules.get("__feature__"), "pyside_feature_dict", None)
    if not isinstance(table, dict):
        return
    for name in list(sys.modules):
        table.setdefault(name, -1)
    ui = Path(__file__).resolve().parent / "ui"
    try:
        names = [entry.name.partition(".")[0] for entry in os.scandir(ui) if entry.name.endswith((".py", ".pyc"))]
    except OSError:
        return
    table.setdefault("desktop.ui", 0)
    for name in names:  # (a bundle has .pyc files only: PySide6 would find no source, and that takes a while too)
        table.setdefault(f"desktop.ui.{name}", 0)


def paint_on_one_thread() -> None:
    """Before QApplication: Qt's raster engine paints on the GUI thread alone, unless the user chose otherwise.

    Qt hands every fill of 96 or more spans to a pool of threads and waits for them. The window's fills are small
    (a scroll bar's groove, a row's background): waking the pool and waiting on it cost more than filling. While a
    4,000-token answer streams, the scroll bar's paints spent most of their time there, and with the pool off the
    window's paints took half the samples and the app's CPU fell 3-5% (py-spy --native, tests/benchmarks/ui.py).
    """
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")


def _set_up_logging(log_file: Path, args: argparse.Namespace) -> None:
    """Log to the file (and the console with --verbose); a read-only or full log location costs the log, not the app.

    The file starts rotating after the first paint (`_warm_up`): rotation loads logging.handlers, socket and pickle.
    """
    try:
        configure_logging(log_file, verbose=args.verbose, log_content=args.log_content, rotate_now=False)
    except LogFileError as exc:
        configure_logging(None, verbose=args.verbose, log_content=args.log_content)
        print(f"{APP_DISPLAY_NAME}: {exc}", file=sys.stderr)


async def learn_stored_keys(keys: Any, configuration: Any) -> int:
    """After the first paint, read every stored API key once so the log filter knows it; returns how many.

    Not before the window: the keyring import and D-Bus round trips would delay the first paint. Nothing logs a key
    before this: no request is sent before the window shows, and every read through the key store registers the key
    with the log filter before returning it.
    """
    learned = 0
    for profile in configuration.settings.profiles:
        if profile.auth_method != "api_key" or profile.is_demo:
            continue
        try:
            if await keys.aget(profile.id):
                learned += 1
        except Exception as exc:  # a locked or missing keyring must not disturb the start; requests will say so
            _log.info("stored key of %s not read yet (%s)", profile.id, type(exc).__name__)
    return learned


# What the first frame needs that does not need Qt: settings, the history, the window's state and its events.
PRE_QT_MODULES = ("desktop.config", "desktop.services._chat_window", "desktop.services._window_events")
DEMO_PROFILE_ID = "demo"
PAINT_WAIT_S = 3.0
CODE_CACHE_FILE = "compiled-code"  # in the cache folder (desktop/code_cache.py)
HISTORY_BUSY_MS = 750  # a lock held longer than this ends the action with a sentence, the window never freezes


class DemoServer:
    """The demo's connection and the built-in simulator behind it, started only when a turn needs it.

    The demo never touches the user's own set-up: its connection is chosen for new chats for this session only (the
    saved "active" connection stays the user's), so a start without --demo shows the guided start or the user's chats.
    """

    def __init__(self, configuration: Any, bridge: MessageBridge, config: Any = None) -> None:
        self._configuration = configuration
        self.session_keys: Any = None  # the session's key store, given once it is built (after the first paint)
        self._bridge = bridge
        self._config = config
        self._thread: Any = None
        self._lock: asyncio.Lock | None = None  # made in the loop that first needs it

    def add_profile(self) -> bool:
        """Make sure the demo connection exists (its address is set when the simulator starts); False if forbidden."""
        settings = self._configuration.settings
        if not settings.demo_allowed:
            self._bridge.warning("Your organisation has turned off the demo mode.")
            return False
        if settings.profile(DEMO_PROFILE_ID) is None:
            from desktop.config import ChatDefaults, Deployment, Profile

            self._configuration.put_profile(
                Profile(
                    id=DEMO_PROFILE_ID,
                    display_name="Demo (built-in simulator)",
                    endpoint="http://127.0.0.1/openai/v1/",
                    auth_method="api_key",
                    deployments=(
                        Deployment("gpt-4.1", "gpt-4.1", "2025-04-14", "responses"),
                        Deployment("gpt-4o-mini", "gpt-4o-mini", "2024-07-18", "chat"),
                        Deployment("o4-mini", "o4-mini", "2025-04-16", "responses"),
                    ),
                    # A reasoning model that streams its thinking: the demo shows a thinking answer.
                    default_deployment="o4-mini",
                    chat_defaults=ChatDefaults(instructions="You are a helpful assistant."),
                    is_demo=True,
                )
            )
        return True

    async def ensure_running(self) -> None:
        """Start the simulator (once) and point the demo connection at it."""
        import asyncio

        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if self._thread is not None or not self.add_profile():
                return
            # Imported only here: the simulator (aiohttp) costs start-up time that real connections do not need.
            from desktop.simulator import SimulatorConfig, SimulatorThread

            # Paced like a real deployment, so the demo shows streaming as people will see it.
            config = self._config or SimulatorConfig(
                first_token_delay=0.35, tokens_per_second=90.0, thinking_per_delta=0.12
            )
            thread = SimulatorThread(config)
            await asyncio.to_thread(thread.start)
            self._thread = thread
            profile = self._configuration.settings.profile(DEMO_PROFILE_ID)
            self._configuration.put_profile(dataclasses.replace(profile, endpoint=thread.base_url, is_demo=True))
            self.session_keys.set(DEMO_PROFILE_ID, thread.api_key)

    @property
    def simulator(self) -> Any:
        """The running simulator thread, or None."""
        return self._thread

    async def stop(self) -> None:
        """Stop the simulator if it runs."""
        import asyncio

        if self._thread is not None:
            await asyncio.to_thread(self._thread.stop)
            self._thread = None


@dataclasses.dataclass
class Composition:
    """Everything the app is made of. `compose_window` builds what the first paint needs; `complete` the rest."""

    window: MainWindow
    controller: Any
    store: Any
    configuration: Any
    tasks: TaskRunner
    demo: DemoServer
    bridge: MessageBridge
    paths: AppPaths
    dialogs: Any = None
    connections: Any = None
    keys: Any = None

    def complete(self) -> None:
        """Build what the first paint does not need: keys, connections, the chat service, the dialogs.

        A message sent before this ran waits for it (the controller's turns wait for their chat service).
        """
        self.window.finish_building()
        self.window.services.theme.check_system_scheme()  # the first frame used the scheme of the last start
        from desktop.auth import KeyStore, SessionKeyStore
        from desktop.services import ChatService, Connections, TurnTarget
        from desktop.ui.dialogs import Dialogs

        store, configuration, demo = self.store, self.configuration, self.demo
        session_keys = SessionKeyStore()
        keys = KeyStore()
        demo.session_keys = session_keys
        connections = Connections(configuration, keys=keys, session_keys=session_keys)

        async def resolve(conversation_id: int) -> TurnTarget:
            conversation = store.get_conversation(conversation_id)
            profile = configuration.settings.profile(conversation.profile_id) if conversation else None
            if profile is not None and profile.is_demo:
                await demo.ensure_running()
            return await connections.target_for(conversation)

        def start_demo() -> bool:
            if not demo.add_profile():
                return False
            self.controller.use_for_session(DEMO_PROFILE_ID)
            self.tasks.start("demo", demo.ensure_running(), replace=True)
            return True

        self.connections = connections
        self.keys = keys
        self.controller.attach_chat(ChatService(store, resolve))
        self.dialogs = Dialogs(self.window, connections, self.paths, start_demo=start_demo)
        self.controller.load_whole_sidebar()

    async def aclose(self) -> None:
        """Shut down in order: turns, other tasks, dialogs' work, connections, the history, the simulator."""
        await self.controller.aclose()
        await self.tasks.cancel_all(timeout=5.0)
        if self.dialogs is not None:
            await self.dialogs.aclose()
        if self.connections is not None:
            await self.connections.aclose()
        self.store.close()
        await self.demo.stop()


def compose_window(
    app: QApplication, args: argparse.Namespace, paths: AppPaths, bridge: MessageBridge, *, demo_config: Any = None
) -> Composition | str:
    """Build what the first paint needs: settings, the history, the window and its controller (no client, no
    keyring, no sign-in, no dialogs). Returns a sentence instead when the history cannot be opened."""
    from desktop.config import Configuration, SettingsStore, load_policy
    from desktop.services import ChatWindowController
    from desktop.storage import HistoryError, HistoryStore
    from desktop.ui import MainWindow, TaskRunner, WindowServices
    from desktop.ui.theme import SchemeChoice, ThemeManager

    tasks = TaskRunner(report_error=lambda name, exc: bridge.error(f"Something went wrong ({name}).", str(exc)))
    policy = load_policy()
    for notice in policy.notices:
        bridge.warning(notice)
    configuration = Configuration(SettingsStore(paths.config_dir), policy.policy)
    for notice in configuration.load():
        bridge.warning(notice)
    _leave_the_demo(configuration)

    # The history is written from the event loop's thread: waiting 5 s for another program's lock froze the window.
    store = HistoryStore(paths.history_file, busy_timeout_ms=HISTORY_BUSY_MS)
    try:
        report = store.open()
    except HistoryError as exc:
        _log.error("history unavailable: %s", exc)
        return str(exc)
    if report.message:
        bridge.warning(report.message, open_path=str(report.moved_to.parent) if report.moved_to else "")

    demo = DemoServer(configuration, bridge, demo_config)
    controller = ChatWindowController(store, configuration)
    settings = configuration.settings
    theme = ThemeManager(
        app, SchemeChoice(settings.app.theme), settings.app.font_size, system_dark=remembered_system_dark(paths)
    )
    theme.system_scheme_seen.connect(lambda dark: remember_system_dark(paths, dark))
    services = WindowServices(
        controller=controller, configuration=configuration, bridge=bridge, paths=paths, tasks=tasks, theme=theme
    )
    if args.demo and demo.add_profile():
        controller.use_for_session(DEMO_PROFILE_ID)
    window = MainWindow(services)
    return Composition(window, controller, store, configuration, tasks, demo, bridge, paths)


#: Whether the system's colour scheme was dark when the app last asked ("dark" or "light"), in the cache folder.
SYSTEM_SCHEME_FILE = "system-scheme"


def remembered_system_dark(paths: AppPaths) -> bool | None:
    """Whether the system's scheme was dark at the last start; None when it was never asked (or the file is unreadable).

    The first frame is painted in that scheme: asking Qt now would make its Qt namespace before the first paint
    (~14 ms, see desktop/ui/lazy_qt.py). The theme asks right after the paint and follows a change.
    """
    try:
        text = (paths.cache_dir / SYSTEM_SCHEME_FILE).read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        return None
    return {"dark": True, "light": False}.get(text)


def remember_system_dark(paths: AppPaths, dark: bool) -> None:
    """Keep the system's scheme for the next start's first frame (a cache: a failed write only costs that start)."""
    if remembered_system_dark(paths) is not dark:
        try:
            (paths.cache_dir / SYSTEM_SCHEME_FILE).write_text("dark\n" if dark else "light\n", encoding="ascii")
        except OSError as exc:
            _log.info("could not keep the system's colour scheme: %s", exc)


def compose(
    app: QApplication, args: argparse.Namespace, paths: AppPaths, bridge: MessageBridge, *, demo_config: Any = None
) -> Composition | str:
    """Build the whole app at once (tests and scripts; the app itself paints its window in between)."""
    built = compose_window(app, args, paths, bridge, demo_config=demo_config)
    if isinstance(built, Composition):
        built.complete()
    return built


def _leave_the_demo(configuration: Any) -> None:
    """Earlier versions made the demo the saved active connection: give that choice back to the user's own."""
    settings = configuration.settings
    active = settings.active_profile
    if active is not None and active.is_demo and "active_profile_id" not in settings.locked:
        own = next((p.id for p in settings.profiles if not p.is_demo), None)
        with contextlib.suppress(ValueError, OSError):
            configuration.update_app(active_profile_id=own)


@dataclasses.dataclass
class FirstFrame:
    """The window shown (and painted, unless it took longer than PAINT_WAIT_S) before asyncio was loaded."""

    built: Composition
    watcher: FirstPaintWatcher
    painted_ms: float | None


def paint_first_frame(
    app: QApplication, args: argparse.Namespace, paths: AppPaths, started: float
) -> FirstFrame | str | None:
    """Build the window's first frame and wait for its paint in Qt's own loop, before asyncio and qasync load.

    None when the history is an earlier release's: it is updated first, behind a notice, in asyncio's loop (run_app).
    A sentence instead when the history cannot be opened.
    """
    from desktop.storage import history_needs_upgrade

    if history_needs_upgrade(paths.history_file):
        return None
    built = compose_window(app, args, paths, MessageBridge())
    if isinstance(built, str):
        return built
    watcher = _show(built.window)
    return FirstFrame(built, watcher, _painted_at(watcher.wait(PAINT_WAIT_S), args, started))


def _show(window: MainWindow) -> FirstPaintWatcher:
    """Show the main window, watching for its first paint."""
    from desktop.ui import FirstPaintWatcher

    _install_signal_handlers(window.close)
    # PySide6 read the source of each module it saw imported after it (looking for its `__feature__` switches), and
    # linecache kept every line: ~2.5 MB that nothing needs (a traceback reads its file again).
    linecache.clearcache()
    watcher = FirstPaintWatcher(window)
    window.show()
    return watcher


def _painted_at(painted: bool, args: argparse.Namespace, started: float) -> float | None:
    """Milliseconds from the process's start to the first paint (None if not painted yet), said with --smoke-test."""
    painted_ms = (time.time() - started) * 1000 if painted else None
    if args.smoke_test and painted_ms is not None:
        # Said at the paint: what is built after it is not part of the first paint (nor of the memory read then).
        print(f"first paint after {painted_ms:.0f} ms", flush=True)
    return painted_ms


async def _painted(watcher: FirstPaintWatcher, timeout_s: float) -> bool:
    """Wait (in asyncio's loop) until the watched window has been painted, at most `timeout_s`."""
    import asyncio

    if watcher.done:
        return True
    future = asyncio.get_running_loop().create_future()

    def resolve() -> None:
        if not future.done():
            future.set_result(None)

    watcher.painted.connect(resolve)
    try:
        await asyncio.wait_for(future, timeout_s)
    except TimeoutError:
        pass
    finally:
        watcher.painted.disconnect(resolve)
    return watcher.done


async def run_app(
    app: QApplication,
    args: argparse.Namespace,
    paths: AppPaths,
    started: float,
    *,
    on_ready: Callable[[MainWindow, TaskRunner], object] | None = None,
    first: FirstFrame | None = None,
    code_cache: CodeCache | None = None,
) -> int:
    """Build the services and the window (unless `first` was painted already), run until the window closes, then
    shut everything down in order."""
    import asyncio

    # Shutdown is ours: the loop must keep running after the last window closes, to cancel tasks and close resources.
    app.setQuitOnLastWindowClosed(False)
    if first is None:
        bridge = MessageBridge()
        upgraded = await upgrade_history_visibly(paths.history_file)
        if upgraded is not None and upgraded.message:
            bridge.warning(upgraded.message, open_path=str(upgraded.moved_to.parent) if upgraded.moved_to else "")
        composed = compose_window(app, args, paths, bridge)
        if isinstance(composed, str):
            _tell_and_wait(composed)
            return 1
        watcher = _show(composed.window)
        # Paint first, then build the rest (keys, client, sign-in, dialogs); a window that is never painted
        # (minimised, no compositor) must not hold that back for long.
        first = FirstFrame(composed, watcher, _painted_at(await _painted(watcher, PAINT_WAIT_S), args, started))
    built, watcher, painted_ms = first.built, first.watcher, first.painted_ms
    window = built.window
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    app.aboutToQuit.connect(closed.set)
    if not window.isVisible():  # closed while its first paint was awaited
        closed.set()
    CodeCache.uninstall_for_dataclasses()  # the first frame is up: the code it compiled is kept for the next start
    if code_cache is not None:
        _log.info(
            "code before the paint: %d compiled, %d kept from the last start",
            code_cache.compiled,
            code_cache.reused,
        )
    built.complete()
    threading.Thread(target=_warm_up, args=(code_cache,), name="warm-up", daemon=True).start()
    built.tasks.start("process dataclasses", process_dataclasses())
    built.tasks.start("learn stored keys", learn_stored_keys(built.keys, built.configuration))
    headless = bool(args.smoke_test or args.screenshot)
    if not headless and not args.demo:  # asked for the demo: no guided start over it
        built.dialogs.maybe_first_run()
    if args.demo and not headless:
        built.tasks.start("demo", built.demo.ensure_running(), replace=True)
    if on_ready is not None:
        on_ready(window, built.tasks)
    status = 0
    if headless:
        if not await _painted(watcher, 60):
            print("error: the main window was not painted within 60 s", file=sys.stderr)
            status = 1
        else:
            if args.screenshot and not window.grab().save(str(args.screenshot), "PNG"):
                print(f"error: could not write {args.screenshot}", file=sys.stderr)
                status = 1
            if args.smoke_test and painted_ms is None:  # painted later than PAINT_WAIT_S
                print(f"first paint after {(time.time() - started) * 1000:.0f} ms", flush=True)
        window.close()
    await closed.wait()
    await built.aclose()
    return status


def _open_and_close(path: Path) -> Any:
    """Open the history (migrating it, after a verified backup) and close it again; returns the opening's report."""
    from desktop.storage import HistoryStore

    store = HistoryStore(path, busy_timeout_ms=HISTORY_BUSY_MS)
    try:
        return store.open()
    finally:
        store.close()


async def upgrade_history_visibly(path: Path, open_history: Callable[[Path], Any] = _open_and_close) -> Any | None:
    """When the history is an earlier release's, update it in a worker thread behind an "Updating your history…"
    window, before the main window opens it. Returns that opening's report; None when nothing needed updating or
    opening failed (the main window's own opening then says why, in its words)."""
    import asyncio

    from desktop.storage import HistoryError, history_needs_upgrade

    if not history_needs_upgrade(path):
        return None
    from desktop.ui.upgrade_notice import UpgradeNotice

    _log.info("history %s is an earlier release's: updating it", path)
    notice = UpgradeNotice()
    notice.show()
    try:
        return await asyncio.to_thread(open_history, path)  # SQLite's connection stays in that thread
    except HistoryError as exc:
        _log.warning("updating the history failed: %s", exc)
        return None
    finally:
        notice.close()
        notice.deleteLater()


async def process_dataclasses() -> None:
    """After the first paint, on the GUI thread: process the dataclasses the paint did not need (a turn's events,
    messages, errors; ~0.8 ms each), one per turn of the event loop, so neither the window nor a first message
    waits for them (desktop/lazy_dataclass.py says why not in a worker thread)."""
    import asyncio

    # Not a wait for something: the loop gets a turn between two classes.
    while process_next():  # noqa: ASYNC110
        await asyncio.sleep(0)


def _warm_up(code_cache: CodeCache | None = None) -> None:
    """In a worker thread after the first paint: keep the code compiled before it for the next start, rotate the log
    from now on, load what the first request needs (see warm_up_network)."""
    from desktop.services import warm_up_network

    if code_cache is not None:
        try:
            code_cache.save()
        except Exception as exc:  # a cache: the next start compiles again, that is all
            _log.info("the code cache was not written: %s: %s", type(exc).__name__, exc)
    try:
        start_rotating()
    except OSError as exc:  # the file stays as it is, still written to
        _log.warning("the log file will not rotate: %s", exc)
    try:
        warm_up_network()
    except Exception as exc:  # only a head start: the first request loads it again and reports any problem
        _log.info("warm-up skipped: %s: %s", type(exc).__name__, exc)


def _tell_and_wait(text: str) -> None:
    """A start-up failure the user must read before the app closes."""
    from PySide6.QtWidgets import QMessageBox

    print(f"error: {text}", file=sys.stderr)
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        QMessageBox.critical(None, APP_DISPLAY_NAME, text)


def _install_signal_handlers(close: Callable[[], Any]) -> None:
    """SIGINT/SIGTERM close the window like the user would (the GC timer gives Python a chance to run them)."""

    def handler(signum: int, frame: object) -> None:
        _log.info("signal %d: closing", signum)
        close()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
