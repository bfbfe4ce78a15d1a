"""End to end: the installed entry point, started with --demo on a real X display (Xvfb), driven with the keyboard.

xdotool types into the real window; the app's own log lines (--verbose, on stderr) say when an answer starts and
ends; what a person sees is read from the screen (a screenshot of the display, read by tesseract's OCR) and from the
clipboard; the history file is read afterwards to check what was kept.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ENTRY_POINT = Path(sys.executable).with_name("azure-openai-chat")
PROBE = Path(__file__).with_name("xprobe.py")
TIMEOUT = 60.0

pytestmark = pytest.mark.slow


def _tools_or_skip() -> None:
    missing = [tool for tool in ("Xvfb", "xdotool", "tesseract") if shutil.which(tool) is None]
    if missing:
        reason = f"end-to-end tests need {', '.join(missing)} (apt-get install xvfb xdotool tesseract-ocr)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def display() -> Iterator[str]:
    """A private Xvfb display; its number comes from -displayfd, so we wait for readiness, not for time."""
    _tools_or_skip()
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as ready:
        number = ready.readline().strip()
    assert number, "Xvfb did not start"
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


@dataclass
class RunningApp:
    """The app process, its stderr lines as they come, and its history file."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str]
    history: Path
    env: dict[str, str]
    log: list[str]
    reader: threading.Thread | None = None

    def whole_log(self) -> list[str]:
        """Every stderr line of the app, once it has exited."""
        assert self.reader is not None
        self.process.wait(timeout=TIMEOUT)
        self.reader.join(timeout=TIMEOUT)
        return list(self.log)

    def wait_for(self, text: str) -> str:
        """Block until a stderr line contains `text` (or fail after TIMEOUT s, or if the app exits)."""
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT)
            except queue.Empty:
                pytest.fail(f"the app never logged {text!r}")
            if line == "":
                pytest.fail(f"the app exited before logging {text!r}")
            if text in line:
                return line

    def xdotool(self, *args: str) -> str:
        out = subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    def probe(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, str(PROBE), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    def screen_text(self) -> str:
        """The words on the screen now, as OCR reads them (whitespace collapsed)."""
        shot = self.history.parent.parent / "screen.png"
        self.probe("screenshot", str(shot))
        out = subprocess.run(
            ["tesseract", str(shot), "stdout", "--psm", "11"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        return " ".join(out.stdout.split())

    def until_screen(self, condition: Callable[[str], bool], what: str) -> str:
        """Read the screen until `condition` holds for its text (each reading takes an OCR pass)."""
        deadline = time.monotonic() + TIMEOUT
        text = ""
        while time.monotonic() < deadline:
            text = self.screen_text()
            if condition(text):
                return text
        pytest.fail(f"the screen never showed {what}; last read: {text!r}")

    def until_clipboard(self, expected: str) -> None:
        """Read the clipboard until it holds `expected`."""
        deadline = time.monotonic() + TIMEOUT
        text = ""
        while time.monotonic() < deadline:
            text = self.probe("clipboard")
            if text == expected:
                return
        pytest.fail(f"the clipboard never held {expected!r}; it held {text!r}")

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(f"file:{self.history}?mode=ro", uri=True) as db:
            return db.execute(sql).fetchall()


@pytest.fixture
def app(display: str, tmp_path: Path) -> Iterator[RunningApp]:
    yield from _launch(display, tmp_path)


def _launch(display: str, tmp_path: Path) -> Iterator[RunningApp]:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=display, HOME=str(tmp_path / "home"))
    (tmp_path / "home").mkdir(exist_ok=True)
    profile = tmp_path / "profile"
    process = subprocess.Popen(
        [str(ENTRY_POINT), "--profile-dir", str(profile), "--demo", "--verbose"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    log: list[str] = []

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            log.append(line)
            lines.put(line)
        lines.put("")  # end of output

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    running = RunningApp(process, lines, profile / "data" / "history.sqlite3", env, log, reader)
    window = running.xdotool("search", "--sync", "--onlyvisible", "--name", "Azure OpenAI Chat")
    running.xdotool("windowfocus", "--sync", window.splitlines()[0])
    yield running
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=TIMEOUT)
    reader.join(timeout=TIMEOUT)
    assert process.stderr is not None
    process.stderr.close()


def _quit(app: RunningApp) -> int:
    app.xdotool("key", "ctrl+q")
    return app.process.wait(timeout=TIMEOUT)


def test_type_send_receive_and_quit(app: RunningApp) -> None:
    app.xdotool("type", "--delay", "5", "Hello from the keyboard")
    app.xdotool("key", "Return")
    assert app.wait_for("answer in conversation 1 finished: ").rstrip().endswith("complete")
    assert _quit(app) == 0
    rows = app.rows("SELECT role, text, outcome FROM messages ORDER BY position")
    assert rows[0] == ("user", "Hello from the keyboard", "complete")
    assert rows[1][0] == "assistant"
    assert rows[1][2] == "complete"
    assert "simulator" in str(rows[1][1])  # the demo answered, not an error
    assert app.rows("SELECT title FROM conversations") == [("Hello from the keyboard",)]


def test_escape_stops_and_keeps_the_partial_answer(app: RunningApp) -> None:
    app.xdotool("type", "--delay", "5", "A long one please [[deltas:3000]]")
    app.xdotool("key", "Return")
    app.wait_for("answer in conversation 1 started")
    app.xdotool("key", "Escape")
    assert app.wait_for("answer in conversation 1 finished: ").rstrip().endswith("stopped")
    assert _quit(app) == 0
    role, text, outcome = app.rows("SELECT role, text, outcome FROM messages ORDER BY position")[-1]
    assert (role, outcome) == ("assistant", "stopped")
    assert text


def test_an_azure_error_is_kept_in_plain_words(app: RunningApp) -> None:
    app.xdotool("type", "--delay", "5", "Please fail [[fault:401]]")
    app.xdotool("key", "Return")
    assert app.wait_for("answer in conversation 1 finished: ").rstrip().endswith("failed")
    assert _quit(app) == 0
    outcome, error = app.rows("SELECT outcome, error FROM messages WHERE role = 'assistant'")[0]
    assert outcome == "failed"
    assert "The API key was not accepted" in str(error)


def _send(app: RunningApp, text: str) -> str:
    app.xdotool("type", "--delay", "5", text)
    app.xdotool("key", "Return")
    return app.wait_for(" finished: ").rstrip().rsplit(" ", 1)[-1]


def test_a_one_line_answer_is_on_the_screen(app: RunningApp) -> None:
    assert _send(app, "hello") == "complete"
    app.until_screen(lambda text: "Ask me anything" in text, "the one-line answer")
    assert _quit(app) == 0


def test_clearing_the_search_brings_the_list_back(app: RunningApp) -> None:
    assert _send(app, "hello") == "complete"
    app.until_screen(lambda text: "Today" in text, "the conversation list")
    app.xdotool("key", "ctrl+k")
    app.xdotool("type", "--delay", "5", "simulator")
    app.until_screen(lambda text: "Today" not in text, "the search results instead of the list")
    app.xdotool("key", "Escape")
    text = app.until_screen(lambda text: "Today" in text, "the list again after Esc")
    assert "No chats match" not in text
    assert _quit(app) == 0


def test_adjacent_code_blocks_copy_separately_after_a_reopen(app: RunningApp) -> None:
    assert _send(app, "show me some code") == "complete"
    app.xdotool("key", "ctrl+n")
    app.xdotool("key", "ctrl+Next")  # reopen it from the sidebar: a full render of the stored answer
    app.xdotool("key", "ctrl+j", "Return", "2")  # the last message's actions: "Copy code block 2 (rust)"
    app.until_clipboard("fn add(a: i32, b: i32) -> i32 {\n    a + b\n}")
    app.xdotool("key", "ctrl+j", "Return", "3")
    app.until_clipboard("SELECT name, COUNT(*) AS turns FROM messages GROUP BY name ORDER BY turns DESC;")
    assert _quit(app) == 0


def test_escape_during_a_rate_limit_wait_stops_it(app: RunningApp) -> None:
    # Azure asks for 30 s: the app counts down before trying again (up to max_retries); Esc must end that wait.
    app.xdotool("type", "--delay", "5", "Please wait [[fault:429:30]]")
    app.xdotool("key", "Return")
    app.wait_for("retrying POST")
    app.until_screen(lambda text: "retrying in" in text, "the countdown")
    app.xdotool("key", "Escape")
    assert app.wait_for(" finished: ").rstrip().endswith("stopped")
    text = app.until_screen(lambda text: "retrying in" not in text, "the countdown gone")
    assert "Stopped" in text
    assert _quit(app) == 0
    attempts = [line for line in app.whole_log() if "/responses -> " in line]
    assert len(attempts) == 1, attempts  # the simulator got the first request only: no retry after Esc
    assert app.rows("SELECT outcome FROM messages WHERE role = 'assistant'") == [("stopped",)]


def test_the_demo_notice_goes_when_another_connection_is_used(display: str, tmp_path: Path) -> None:
    from desktop.config import Configuration, Deployment, Profile, SettingsStore

    configuration = Configuration(SettingsStore(tmp_path / "profile" / "config"))
    configuration.load()
    configuration.put_profile(
        Profile(
            id="work",
            display_name="Contoso Work",
            endpoint="https://contoso.openai.azure.com/",
            deployments=(Deployment("gpt-4o"),),
            default_deployment="gpt-4o",
        )
    )
    configuration.update_app(active_profile_id="work", first_run_done=True)
    for app in _launch(display, tmp_path):
        app.until_screen(lambda text: "Demo mode" in text, "the demo notice")
        app.xdotool("key", "ctrl+comma")  # Settings opens on the saved active connection, "Contoso Work"
        app.wait_for("settings opened")
        settings = app.xdotool("search", "--sync", "--onlyvisible", "--name", "^Settings$").splitlines()[0]
        app.xdotool("windowfocus", "--sync", settings)  # no window manager here: focus the new window by hand
        app.xdotool("key", "alt+u")  # Use for chats
        app.wait_for("new chats use connection work")
        app.xdotool("key", "Escape")  # close Settings
        main = app.xdotool("search", "--sync", "--onlyvisible", "--name", "^Azure OpenAI Chat").splitlines()[0]
        app.xdotool("windowfocus", "--sync", main)
        text = app.until_screen(lambda text: "Demo mode" not in text, "the window without the demo notice")
        assert "Contoso Work" in text
        assert _quit(app) == 0
