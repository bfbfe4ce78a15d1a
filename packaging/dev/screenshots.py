"""Make the README's screenshots with the real app in demo mode: light and dark main window, an error, settings, and
the Usage window over a seeded month of answers (with example prices).

Run under a display (packaging/dev/screenshots.sh starts Xvfb): `.venv/bin/python packaging/dev/screenshots.py OUT`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtWidgets import QApplication, QWidget

from desktop.app import DEMO_PROFILE_ID, build_parser, run_app
from desktop.config import ChatDefaults, Configuration, Deployment, Profile, SettingsStore
from desktop.paths import AppPaths
from desktop.ui import Dialogs

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for its test helpers
from tests.usage_seed import seed_history

QUESTION = "Compare Python and Rust for a small command-line tool, with a table and an example."


async def _turn(window: Any, text: str) -> None:
    finished = asyncio.Event()
    window.turn_finished.connect(lambda *_: finished.set())
    window.send(text)
    await finished.wait()
    window.chat_view.flush()


async def _settle() -> None:
    # Let the loop run pending Qt events (layouts, style polish) once; never processEvents() inside a task, which
    # re-enters qasync ("Cannot enter into task ... while another task is being executed"). grab() paints itself.
    for _ in range(3):
        await asyncio.sleep(0)


def _grab(widget: QWidget, path: Path) -> None:
    if not widget.grab().save(str(path), "PNG"):
        raise SystemExit(f"could not write {path}")
    print(path)


def shoot(out: Path, theme: str) -> None:
    """One app run: a conversation, then (light only) an error state and the settings dialog."""
    profile = Path(tempfile.mkdtemp(prefix="aoc-shots-"))
    paths = AppPaths.under(profile)
    paths.ensure()
    configuration = Configuration(SettingsStore(paths.config_dir))
    configuration.load()
    # No "answer finished" notices: Xvfb has no window manager, so the window never counts as active.
    configuration.update_app(theme=theme, first_run_done=True, notify_when_background=False)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    args = build_parser().parse_args(["--profile-dir", str(profile), "--demo"])

    def on_ready(window: Any, tasks: Any) -> None:
        async def script() -> None:
            window.resize(1200, 820)
            await _turn(window, QUESTION)
            await _settle()
            _grab(window, out / f"main-{theme}.png")
            if theme == "light":
                window.new_chat()
                window.send("Summarise our travel policy [[fault:429:30]]")
                await window.controller.settled(lambda: window.controller.wait() is not None)  # the countdown
                window.chat_view.flush()
                await _settle()
                _grab(window, out / "error-rate-limit.png")
                window.stop_current()
                dialogs = window.findChild(Dialogs)  # the app's dialog opener is a child of the window
                if dialogs is not None:
                    dialog = dialogs.open_settings()
                    await _settle()
                    _grab(dialog, out / "settings.png")
                    dialog.close()
            window.close()

        tasks.start("screenshots", script())

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(run_app(app, args, paths, 0.0, on_ready=on_ready))


# Example prices per million tokens (roughly Azure's global list prices in 2025), so the window shows its estimates.
EXAMPLE_PRICED = (
    Deployment(
        "gpt-4.1", "gpt-4.1", "2025-04-14", "responses", input_price=2.0, cached_input_price=0.5, output_price=8.0
    ),
    Deployment(
        "gpt-4o-mini", "gpt-4o-mini", "2024-07-18", "chat", input_price=0.15, cached_input_price=0.075, output_price=0.6
    ),
    Deployment(
        "o4-mini", "o4-mini", "2025-04-16", "responses", input_price=1.1, cached_input_price=0.275, output_price=4.4
    ),
)


def shoot_usage(out: Path) -> None:
    """A separate run on a history seeded with a month of answers: the Usage window, light."""
    profile = Path(tempfile.mkdtemp(prefix="aoc-shots-usage-"))
    paths = AppPaths.under(profile)
    paths.ensure()
    configuration = Configuration(SettingsStore(paths.config_dir))
    configuration.load()
    configuration.update_app(theme="light", first_run_done=True, notify_when_background=False)
    configuration.put_profile(
        Profile(
            id=DEMO_PROFILE_ID,
            display_name="Demo (built-in simulator)",
            endpoint="http://127.0.0.1/openai/v1/",
            deployments=EXAMPLE_PRICED,
            default_deployment="gpt-4.1",
            chat_defaults=ChatDefaults(instructions="You are a helpful assistant."),
            is_demo=True,
        )
    )
    seed_history(paths.history_file, DEMO_PROFILE_ID)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    args = build_parser().parse_args(["--profile-dir", str(profile), "--demo"])

    def on_ready(window: Any, tasks: Any) -> None:
        async def script() -> None:
            window.show_usage()
            dialog = window.usage_dialog
            dialog.resize(860, 700)
            await _settle()
            _grab(dialog, out / "usage.png")
            dialog.close()
            window.close()

        tasks.start("screenshots", script())

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(run_app(app, args, paths, 0.0, on_ready=on_ready))


def main() -> int:
    """Write every screenshot into the folder given on the command line."""
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    only = sys.argv[2:]  # e.g. "usage": re-make that one only
    for theme in ("light", "dark"):
        if not only or theme in only:
            shoot(out, theme)
    if not only or "usage" in only:
        shoot_usage(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
