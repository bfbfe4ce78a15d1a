"""The app shell: command line, headless runs, clean shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from desktop import __version__
from desktop.app import SYSTEM_SCHEME_FILE, build_parser, remember_system_dark, remembered_system_dark, run_app
from desktop.paths import AppPaths

APP = [sys.executable, "-m", "desktop"]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


def test_version_and_help() -> None:
    out = subprocess.run([*APP, "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == f"Azure OpenAI Chat {__version__}"
    out = subprocess.run([*APP, "--help"], capture_output=True, text=True, timeout=60, check=True)
    for option in ("--profile-dir", "--demo", "--smoke-test", "--screenshot", "--version"):
        assert option in out.stdout


def test_smoke_test_prints_first_paint_and_exits_zero(tmp_path: Path) -> None:
    out = subprocess.run(
        [*APP, "--profile-dir", str(tmp_path), "--smoke-test"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(QT_QPA_PLATFORM="offscreen"),
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("first paint after ")
    assert "Task was destroyed" not in out.stderr
    assert out.stderr == ""
    # Every file it wrote is under the profile folder.
    assert (tmp_path / "logs" / "azure-openai-chat.log").is_file()
    # The system's colour scheme, asked after the paint, is kept for the next start's first frame (offscreen: light).
    assert (tmp_path / "cache" / SYSTEM_SCHEME_FILE).read_text(encoding="ascii") == "light\n"


def test_the_system_scheme_is_kept_and_a_bad_cache_is_ignored(tmp_path: Path, caplog: Any) -> None:
    paths = AppPaths.under(tmp_path)
    paths.ensure()
    assert remembered_system_dark(paths) is None  # a first start: the theme asks the system before the paint
    remember_system_dark(paths, True)
    assert remembered_system_dark(paths) is True
    remember_system_dark(paths, False)
    assert remembered_system_dark(paths) is False
    for damaged in (b"purple\n", b"\xff\xfe", b""):
        (paths.cache_dir / SYSTEM_SCHEME_FILE).write_bytes(damaged)
        assert remembered_system_dark(paths) is None
    (paths.cache_dir / SYSTEM_SCHEME_FILE).unlink()
    (paths.cache_dir / SYSTEM_SCHEME_FILE).mkdir()  # unreadable and unwritable: a start without the cache
    assert remembered_system_dark(paths) is None
    caplog.set_level(logging.INFO, logger="desktop.app")
    remember_system_dark(paths, True)
    assert "could not keep the system's colour scheme" in caplog.text


_SOURCE_READ = """
import linecache, sys
import desktop.app
import PySide6.QtWidgets
if sys.argv[1] == "told":
    desktop.app.skip_pyside_source_scan()
import desktop.ui.toast
import typing
print(sorted(name.rsplit("/", 1)[-1] for name in linecache.cache if name.endswith(("toast.py", "typing.py"))))
"""


@pytest.mark.parametrize(("how", "read"), [("told", "[]"), ("not told", "['toast.py', 'typing.py']")])
def test_pyside6_reads_no_module_s_source_once_told(how: str, read: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _SOURCE_READ, how],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(QT_QPA_PLATFORM="offscreen"),
        check=True,
    )
    assert out.stdout.strip() == read  # PySide6's scan reads a module through linecache: its lines stay there


_PRINT_POOL_SETTING = (
    "import os, sys; from desktop.app import main; "
    "main(['--smoke-test', '--profile-dir', sys.argv[1]], "
    "on_ready=lambda window, tasks: print('POOL', os.environ.get('QT_NO_GUI_THREADPOOL')))"
)


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("", "")])
def test_the_app_paints_on_the_gui_thread_alone_unless_the_user_chose(
    tmp_path: Path, given: str | None, expected: str
) -> None:
    """Qt's raster engine hands big fills to a thread pool and waits (see paint_on_one_thread); the app turns it off
    before its QApplication, and keeps a value the user set."""
    env = _env(QT_QPA_PLATFORM="offscreen")
    env.pop("QT_NO_GUI_THREADPOOL", None)
    if given is not None:
        env["QT_NO_GUI_THREADPOOL"] = given
    out = subprocess.run(
        [sys.executable, "-c", _PRINT_POOL_SETTING, str(tmp_path)],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert f"POOL {expected}\n" in out.stdout


def test_screenshot_writes_a_png(tmp_path: Path) -> None:
    shot = tmp_path / "window.png"
    out = subprocess.run(
        [*APP, "--profile-dir", str(tmp_path / "p"), "--screenshot", str(shot)],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(QT_QPA_PLATFORM="offscreen"),
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_display_gives_a_sentence_not_a_crash(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run(
        [*APP, "--profile-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert out.returncode == 2
    assert "needs a graphical desktop" in out.stderr
    assert "Traceback" not in out.stderr


def test_unwritable_profile_dir_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = subprocess.run(
        [*APP, "--profile-dir", str(blocker / "sub"), "--smoke-test"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(QT_QPA_PLATFORM="offscreen"),
        check=False,
    )
    assert out.returncode == 2
    assert "cannot create its folders" in out.stderr
    assert "Traceback" not in out.stderr


def test_closing_the_window_mid_task_cancels_and_returns_zero(qapp: Any, arun: Any, tmp_path: Path) -> None:
    args = build_parser().parse_args(["--profile-dir", str(tmp_path)])
    paths = AppPaths.under(tmp_path)
    paths.ensure()
    events: list[str] = []

    async def long_work() -> None:
        events.append("started")
        try:
            await asyncio.Event().wait()
        finally:
            events.append("cleaned up")

    def on_ready(window: Any, tasks: Any) -> None:
        tasks.start("long", long_work())
        asyncio.get_running_loop().call_soon(window.close)

    status = arun(run_app(qapp, args, paths, 0.0, on_ready=on_ready))
    assert status == 0
    assert events == ["started", "cleaned up"]


@pytest.mark.parametrize("flag", ["--smoke-test", "--screenshot"])
def test_headless_flags_parse(flag: str) -> None:
    argv = [flag] if flag == "--smoke-test" else [flag, "x.png"]
    args = build_parser().parse_args(argv)
    assert args.smoke_test or args.screenshot


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_profile_folders_are_private_even_when_they_already_exist_open(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path / "profile")
    paths.data_dir.mkdir(parents=True)
    paths.data_dir.chmod(0o777)
    paths.ensure()
    for folder in (paths.config_dir, paths.data_dir, paths.log_dir, paths.cache_dir):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_unwritable_log_location_runs_without_a_log_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "logs" / "azure-openai-chat.log").mkdir(parents=True)  # the log file cannot be opened
    out = subprocess.run(
        [*APP, "--profile-dir", str(tmp_path), "--smoke-test"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(QT_QPA_PLATFORM="offscreen"),
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert "runs without a log" in out.stderr
    assert out.stdout.startswith("first paint after ")


def test_a_verbose_demo_run_leaves_its_key_nowhere(tmp_path: Path) -> None:
    out = subprocess.run(
        [*APP, "--profile-dir", str(tmp_path), "--demo", "--verbose", "--smoke-test"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(QT_QPA_PLATFORM="offscreen"),
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "DEBUG" in out.stderr  # it really was verbose
    key_shape = re.compile(r"sim-[A-Za-z0-9_-]{32}")  # the simulator's per-run key (random_api_key)
    assert not key_shape.search(out.stderr + out.stdout)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert not key_shape.search(path.read_bytes().decode("utf-8", "replace")), path


def test_the_gui_thread_waits_at_most_a_millisecond_for_python_s_lock(tmp_path: Path) -> None:
    """A worker thread busy in Python (a PDF being read) hands the lock over within 1 ms, not Python's 5 ms: Qt's
    many calls into Python per event each waited that long (tests/benchmarks' attach case: 130 ms -> ~17 ms)."""
    code = (
        "import sys; from desktop.app import main, GUI_SWITCH_INTERVAL_S as s; "
        f"status = main(['--profile-dir', {str(tmp_path)!r}, '--smoke-test']); "
        "print(status, sys.getswitchinterval() == s == 0.001)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(QT_QPA_PLATFORM="offscreen"),
        check=False,
    )
    assert out.stdout.splitlines()[-1] == "0 True", out.stderr
