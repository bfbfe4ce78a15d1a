"""One UI benchmark inside the real app: `python -m tests.benchmarks.ui_child JSON` prints `RESULT {json}`.

The parent (ui.py) prepares the profile (history, simulator URL) and runs one fresh process per case, so memory
figures are not polluted by earlier cases. The app is started through `desktop.app.main`, as users start it; the
connection is an ordinary API-key profile pointing at the simulator process. Its key is in the system keyring when a
Secret Service answers (run the suite through with_keyring.sh), otherwise in an in-memory keyring, and the result
says which. Every interaction with the window goes through _drive.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

os.environ["QT_QPA_PLATFORM"] = "offscreen"

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QWidget

from desktop.app import main as app_main
from desktop.auth import KeyringUnavailableError, KeyStore
from desktop.client import AzureOpenAIClient
from desktop.config import Configuration, Deployment, Profile, SettingsStore
from desktop.paths import AppPaths
from tests.benchmarks import _drive
from tests.benchmarks._drive import Window
from tests.benchmarks._report import p99

PROFILE_ID = "00000000-0000-0000-0000-0000000be4c4"
DEPLOYMENT = "gpt-4.1"
PROBE_MS = 10  # the lateness probe's period


def _memory_keyring() -> KeyringBackend:
    """A keyring in this process's memory, for machines without a Secret Service (no D-Bus, no files).

    The class is made only when needed: keyring picks among every KeyringBackend subclass it has seen, so a class
    defined at import would shadow the real Secret Service.
    """

    class MemoryKeyring(KeyringBackend):
        priority = 1

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.store: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.store.pop((service, username), None)

    return MemoryKeyring()


def rss_mb() -> float:
    """Resident memory of this process now (VmRSS), in MB."""
    with open("/proc/self/status", encoding="ascii") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kib / 1024


def store_key(api_key: str) -> str:
    """Put the key where the app reads it: the system keyring if one works, else an in-memory one; returns which."""
    try:
        store = KeyStore()
        store.set(PROFILE_ID, api_key)
        return store.backend_name()  # the backend it resolved to and wrote through
    except (KeyringUnavailableError, keyring.errors.KeyringError):
        keyring.set_keyring(_memory_keyring())
        KeyStore().set(PROFILE_ID, api_key)
        return "in-memory (no Secret Service)"


def configure(paths: AppPaths, base_url: str, api_key: str) -> str:
    """Save a profile pointing at the simulator and store its key; returns the keyring used."""
    configuration = Configuration(SettingsStore(paths.config_dir))
    configuration.load()
    configuration.put_profile(
        Profile(
            id=PROFILE_ID,
            display_name="Benchmark simulator",
            endpoint=base_url,
            deployments=(Deployment(DEPLOYMENT, DEPLOYMENT, api="responses"),),
            default_deployment=DEPLOYMENT,
        )
    )
    configuration.update_app(active_profile_id=PROFILE_ID)
    return store_key(api_key)


class LatenessProbe:
    """A precise Qt timer that records how late each tick fires: the event loop's stalls, in ms."""

    def __init__(self) -> None:
        self.late_ms: list[float] = []
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(PROBE_MS)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0

    def start(self) -> None:
        """Start recording (clears earlier ticks)."""
        self.late_ms.clear()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> list[float]:
        """Stop and return the lateness of every tick."""
        self._timer.stop()
        return list(self.late_ms)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.late_ms.append(max(0.0, (now - self._last) * 1000 - PROBE_MS))
        self._last = now


class PaintWaiter(QObject):
    """Resolves a future at the end of the first paint of `widget` for which `ready()` holds."""

    def __init__(self, widget: QWidget, ready: Callable[[], bool]) -> None:
        super().__init__(widget)
        self.done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._widget, self._ready = widget, ready
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """On a qualifying Paint, note the time once Qt has handled it (next turn of the loop)."""
        if watched is self._widget and event.type() == QEvent.Type.Paint and self._ready():
            self._widget.removeEventFilter(self)
            QTimer.singleShot(0, self._resolve)
        return False

    def _resolve(self) -> None:
        if not self.done.done():
            self.done.set_result(time.perf_counter())

    def cancel(self) -> None:
        """Stop watching (the action it waited for painted nothing)."""
        self._widget.removeEventFilter(self)
        self.done.cancel()


async def smoothness(window: Window, params: dict[str, Any]) -> dict[str, Any]:
    """Stalls and CPU while a Markdown answer streams at the simulator's pace, against the same probe idling."""
    probe = LatenessProbe()
    idle_seconds = float(params["idle_seconds"])
    probe.start()
    await asyncio.sleep(idle_seconds)  # a measurement window, not a wait for something to happen
    idle = probe.stop()
    runs = []
    for _ in range(int(params["runs"])):
        _drive.new_chat(window)
        cpu, wall = time.process_time(), time.perf_counter()
        probe.start()
        await _drive.send_and_wait(window, f"Show me markdown with a table [[deltas:{params['tokens']}]]", 900)
        late = probe.stop()
        runs.append({
            "max": max(late), "p99": p99(late), "cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
        })  # fmt: skip
    return {"idle_max": max(idle), "idle_p99": p99(idle), "runs": runs}


async def open_conversation(window: Window, params: dict[str, Any]) -> dict[str, Any]:
    """Time from open to the first paint of a conversation's end (warm: after one untimed open of each)."""
    results: dict[str, list[float]] = {}

    async def open_once(conversation_id: int) -> float:
        _drive.new_chat(window)
        waiter = PaintWaiter(_drive.chat_viewport(window), lambda: True)
        start = time.perf_counter()
        _drive.open_conversation(window, conversation_id)
        return (await asyncio.wait_for(waiter.done, 60) - start) * 1000

    for conversation_id in params["conversations"].values():
        await open_once(int(conversation_id))
    for _ in range(int(params["runs"])):
        for label, conversation_id in params["conversations"].items():
            results.setdefault(label, []).append(await open_once(int(conversation_id)))
    return results


async def scroll_pass(window: Window) -> list[float]:
    """Page Up from wherever the view is until the top of the conversation; the time of every frame, in ms.

    A frame is one Page Up (including any older messages it loads) up to the end of the paint that shows it.
    """
    frames = []
    viewport = _drive.chat_viewport(window)
    while True:
        waiter = PaintWaiter(viewport, lambda: True)
        start = time.perf_counter()
        if not await _drive.page_up(window):
            waiter.cancel()
            return frames
        frames.append((await asyncio.wait_for(waiter.done, 60) - start) * 1000)


async def scroll(window: Window, params: dict[str, Any]) -> dict[str, Any]:
    """Open a conversation and scroll from its end to its top, loading every message; then the same again, warm.

    Memory added is this process's RSS after reaching the top minus before the open (this process did nothing else).
    """
    viewport = _drive.chat_viewport(window)
    before_rss = rss_mb()
    waiter = PaintWaiter(viewport, lambda: True)
    start = time.perf_counter()
    _drive.open_conversation(window, int(params["conversation"]))
    opened = (await asyncio.wait_for(waiter.done, 60) - start) * 1000
    first = await scroll_pass(window)
    total = (time.perf_counter() - start) * 1000
    added = rss_mb() - before_rss
    loaded = _drive.messages_loaded(window)
    _drive.scroll_to_end(window)
    warm = await scroll_pass(window)
    return {"open_ms": opened, "frames": first, "total_ms": total, "rss_added": added, "loaded": loaded,
            "warm_frames": warm}  # fmt: skip


async def client_first_delta(client: AzureOpenAIClient) -> float:
    """Seconds from request to the first text delta through our bare client (the baseline)."""
    start = time.perf_counter()
    async with await client.responses.create(model=DEPLOYMENT, input="hello [[deltas:20]]", stream=True) as stream:
        async for event in stream:
            if event.type == "response.output_text.delta":
                break
    return time.perf_counter() - start


async def app_first_delta(window: Window) -> float:
    """Seconds from Send to the end of the first paint showing streamed text, in a new chat."""
    _drive.new_chat(window)
    waiter = PaintWaiter(_drive.chat_viewport(window), lambda: _drive.answer_text_shown(window))
    start = time.perf_counter()
    await _drive.send_and_wait(window, "hello [[deltas:20]]", 60)
    return (await asyncio.wait_for(waiter.done, 1)) - start


async def first_token(window: Window, params: dict[str, Any]) -> dict[str, Any]:
    """Send -> first delta painted, and our bare client's time to its first delta, both minus the sim's delay."""
    delay = float(params["first_token_delay"])
    app, bare = [], []
    async with AzureOpenAIClient(base_url=params["base_url"], api_key=params["api_key"], max_retries=0) as client:
        await client_first_delta(client)  # warm-up of both: connections and first-use costs
        await app_first_delta(window)
        for _ in range(int(params["runs"])):
            bare.append(await client_first_delta(client))
            app.append(await app_first_delta(window))
    return {"app_ms": [(s - delay) * 1000 for s in app], "client_ms": [(s - delay) * 1000 for s in bare]}


async def attach(window: Window, params: dict[str, Any]) -> dict[str, Any]:
    """Stalls while a PDF of `pages` full pages is attached and read (in the composer's worker thread), against the
    same probe idling; and how long the reading took."""
    probe = LatenessProbe()
    probe.start()
    await asyncio.sleep(float(params["idle_seconds"]))  # a measurement window, not a wait for something to happen
    idle = probe.stop()
    runs = []
    for _ in range(int(params["runs"])):
        done = asyncio.Event()
        wall = time.perf_counter()
        probe.start()
        _drive.attach_file(window, Path(params["pdf"]), done.set)
        await asyncio.wait_for(done.wait(), 120)
        late = probe.stop()
        runs.append({"max": max(late, default=0.0), "p99": p99(late), "wall": time.perf_counter() - wall})
        _drive.clear_attachments(window)
    return {"idle_max": max(idle), "idle_p99": p99(idle), "runs": runs}


CASES: dict[str, Callable[[Window, dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]]] = {
    "attach": attach,
    "smoothness": smoothness,
    "open": open_conversation,
    "scroll": scroll,
    "first_token": first_token,
}


def main() -> None:
    """Start the app on the prepared profile, run one case once the window is up, print its result, quit."""
    parser = argparse.ArgumentParser()
    parser.add_argument("params", help="JSON: case, profile, base_url, api_key and the case's parameters")
    params = json.loads(parser.parse_args().params)
    paths = AppPaths.under(Path(params["profile"]))
    paths.ensure()
    outcome: dict[str, Any] = {"keyring": configure(paths, params["base_url"], params["api_key"])}

    async def measure(window: Window) -> None:
        try:
            await asyncio.wait_for(FirstPaint(window).done, 60)
            outcome.update(await CASES[params["case"]](window, params))
        except Exception as exc:  # reported to the parent as the case's failure, with its type
            outcome["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            window.close()

    def on_ready(window: Window, tasks: Any) -> None:
        tasks.start("benchmark", measure(window))

    # The real entry point, so the benchmark runs exactly what users run (GC discipline, hooks, shutdown).
    status = app_main(["--profile-dir", params["profile"]], on_ready=on_ready)
    print("RESULT " + json.dumps(outcome), flush=True)
    sys.exit(1 if status or "error" in outcome or len(outcome) < 2 else 0)


class FirstPaint(PaintWaiter):
    """The window's first paint (any paint of the window counts)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window, lambda: True)


if __name__ == "__main__":
    main()
