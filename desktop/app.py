"""Composition root: command line, paths, logging, every service, and the Qt + asyncio (qasync) loop."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
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
from desktop.log import configure_logging, redact
from desktop.messages import MessageBridge
from desktop.paths import APP_DISPLAY_NAME, APP_NAME, AppPaths

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from desktop.ui import MainWindow, TaskRunner

_log = logging.getLogger("desktop.app")


def process_start_time() -> float:
    """Wall-clock time at which this interpreter started (Linux: the process's start from /proc; elsewhere: this
    module's import). A launcher script that ran commands and then exec'd Python (run-demo.sh) shares our process
    and its start time; its waited-for children (cminflt > 0) give it away, and then this module's import counts."""
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
    return parser


class GarbageCollector:
    """Runs Python's cyclic GC only from the GUI thread (automatic GC off).

    Qt objects freed by a collection in a worker thread crash later ("Timers cannot be stopped from another thread",
    then SIGSEGV; see platform-notes.md). A GUI-thread timer checks the allocation counters and collects the same
    generations the automatic collector would have.
    """

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self._thresholds = gc.get_threshold()
        gc.disable()
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
    configure_logging(paths.log_file, verbose=args.verbose)
    _log.info("%s %s starting (pid %d)", APP_DISPLAY_NAME, __version__, os.getpid())

    from PySide6.QtWidgets import QApplication

    from desktop.ui import route_qt_messages

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
    app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_DISPLAY_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_DISPLAY_NAME)
    app.setDesktopFileName(APP_NAME)
    collector = GarbageCollector()

    import qasync

    def loop_factory() -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
        loop.set_exception_handler(hooks.loop_handler)
        return loop

    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            status = runner.run(run_app(app, args, paths, started, on_ready=on_ready))
    finally:
        collector.stop()
    if headless_run and hooks.failures:
        _log.error("%d unexpected error(s) during a headless run", hooks.failures)
        return 1
    _log.info("exited with status %d", status)
    return status


DEMO_PROFILE_ID = "demo"


async def run_app(
    app: QApplication,
    args: argparse.Namespace,
    paths: AppPaths,
    started: float,
    on_ready: Callable[[MainWindow, TaskRunner], object] | None = None,
) -> int:
    """Build the services and the window, run until the window closes, then shut everything down in order."""
    from desktop.auth import KeyStore, SessionKeyStore
    from desktop.config import Configuration, SettingsStore, load_policy
    from desktop.services import ChatService, Connections, TurnTarget
    from desktop.storage import HistoryError, HistoryStore
    from desktop.ui import Dialogs, FirstPaintWatcher, MainWindow, TaskRunner, WindowServices
    from desktop.ui.theme import SchemeChoice, ThemeManager

    # Shutdown is ours: the loop must keep running after the last window closes, to cancel tasks and close resources.
    app.setQuitOnLastWindowClosed(False)
    bridge = MessageBridge()
    tasks = TaskRunner(report_error=lambda name, exc: bridge.error(f"Something went wrong ({name}).", str(exc)))

    policy = load_policy()
    for notice in policy.notices:
        bridge.warning(notice)
    configuration = Configuration(SettingsStore(paths.config_dir), policy.policy)
    for notice in configuration.load():
        bridge.warning(notice)

    store = HistoryStore(paths.history_file)
    try:
        report = store.open()
    except HistoryError as exc:
        _log.error("history unavailable: %s", exc)
        _tell_and_wait(str(exc))
        return 1
    if report.message:
        bridge.warning(report.message, open_path=str(report.moved_to.parent) if report.moved_to else "")

    session_keys = SessionKeyStore()
    simulator = _start_demo(args, configuration, session_keys, bridge)
    keys = KeyStore()
    connections = Connections(configuration, keys=keys, session_keys=session_keys)

    async def resolve(conversation_id: int) -> TurnTarget:
        return await connections.target_for(store.get_conversation(conversation_id))

    chat = ChatService(store, resolve)
    settings = configuration.settings
    theme = ThemeManager(app, SchemeChoice(settings.app.theme), settings.app.font_size)
    services = WindowServices(
        store=store,
        chat=chat,
        configuration=configuration,
        bridge=bridge,
        paths=paths,
        tasks=tasks,
        theme=theme,
        demo=simulator is not None,
    )
    window = MainWindow(services)
    demo_sims: list[Any] = [simulator] if simulator is not None else []

    def start_demo() -> bool:
        demo_args = argparse.Namespace(**{**vars(args), "demo": True})
        started_sim = _start_demo(demo_args, configuration, session_keys, bridge)
        if started_sim is not None:
            demo_sims.append(started_sim)
        return started_sim is not None

    dialogs = Dialogs(window, connections, keys, session_keys, paths, start_demo=start_demo)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    app.aboutToQuit.connect(closed.set)
    _install_signal_handlers(window.close)

    watcher = FirstPaintWatcher(window)
    window.show()
    if not (args.smoke_test or args.screenshot):
        dialogs.maybe_first_run()
    if on_ready is not None:
        on_ready(window, tasks)
    status = 0
    if args.smoke_test or args.screenshot:
        try:
            await asyncio.wait_for(watcher.painted, timeout=60)
        except TimeoutError:
            print("error: the main window was not painted within 60 s", file=sys.stderr)
            status = 1
        else:
            elapsed_ms = (time.time() - started) * 1000
            if args.screenshot and not window.grab().save(str(args.screenshot), "PNG"):
                print(f"error: could not write {args.screenshot}", file=sys.stderr)
                status = 1
            if args.smoke_test:
                print(f"first paint after {elapsed_ms:.0f} ms", flush=True)
        window.close()
    await closed.wait()
    await tasks.cancel_all(timeout=5.0)
    await dialogs.aclose()
    await connections.aclose()
    store.close()
    for sim in demo_sims:
        await asyncio.to_thread(sim.stop)
    return status


def _start_demo(args: argparse.Namespace, configuration: Any, session_keys: Any, bridge: MessageBridge) -> Any:
    """With --demo (or a demo connection in use), run the built-in simulator and point the demo connection at it."""
    settings = configuration.settings
    active = settings.active_profile
    if not args.demo and not (active is not None and active.is_demo):
        return None
    if not settings.demo_allowed:
        bridge.warning("Your organisation has turned off the demo mode.")
        return None
    # Imported only here: the simulator (aiohttp) costs ~140 ms of start-up that real connections do not need.
    from desktop.config import ChatDefaults, Deployment, Profile
    from desktop.simulator import SimulatorConfig, SimulatorThread

    # Paced like a real deployment, so the demo shows streaming as people will see it.
    simulator = SimulatorThread(SimulatorConfig(first_token_delay=0.35, tokens_per_second=90.0))
    simulator.start()
    profile = Profile(
        id=DEMO_PROFILE_ID,
        display_name="Demo (built-in simulator)",
        endpoint=simulator.base_url,
        auth_method="api_key",
        deployments=(
            Deployment("gpt-4.1", "gpt-4.1", "2025-04-14", "responses"),
            Deployment("gpt-4o-mini", "gpt-4o-mini", "2024-07-18", "chat"),
            Deployment("o4-mini", "o4-mini", "2025-04-16", "responses"),
        ),
        default_deployment="gpt-4.1",
        chat_defaults=ChatDefaults(instructions="You are a helpful assistant."),
        is_demo=True,
    )
    existing = settings.profile(DEMO_PROFILE_ID)
    if existing is not None:
        profile = dataclasses.replace(existing, endpoint=simulator.base_url, is_demo=True)
    configuration.put_profile(profile)
    configuration.update_app(active_profile_id=DEMO_PROFILE_ID)
    session_keys.set(DEMO_PROFILE_ID, simulator.api_key)
    return simulator


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
