"""End to end: the installed entry point, started with --demo on a real X display (Xvfb), driven with the keyboard.

xdotool types into the real window; the app's own log lines (--verbose, on stderr) say when an answer starts and
ends, and the history file is read afterwards to check what was kept.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ENTRY_POINT = Path(sys.executable).with_name("azure-openai-chat")
TIMEOUT = 60.0

pytestmark = pytest.mark.slow


def _tools_or_skip() -> None:
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        reason = f"end-to-end tests need {', '.join(missing)} (apt-get install xvfb xdotool)"
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

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(f"file:{self.history}?mode=ro", uri=True) as db:
            return db.execute(sql).fetchall()


@pytest.fixture
def app(display: str, tmp_path: Path) -> Iterator[RunningApp]:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=display, HOME=str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
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

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
        lines.put("")  # end of output

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    running = RunningApp(process, lines, profile / "data" / "history.sqlite3", env)
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
