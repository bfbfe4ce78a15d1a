"""Measure the reliability figures of docs/reliability.md: `python -m tests.reliability_figures` (about a minute).

Each memory figure runs in a fresh child process, which reports its own peak RSS (ru_maxrss) before and after the
hostile reply, so figures do not bleed into each other. Everything runs on this machine: mock transports, and the
loopback simulator for the kill -9 figure.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_BOMB_CHILD = r"""
import asyncio, json, resource, sys, zlib
import httpx
from desktop.client import AzureOpenAIClient, APIError

kind = sys.argv[1]
packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
block = b" " * (1024 * 1024)
parts = [packer.compress(b"data: " if kind == "stream" else b'{"pad": "')]
parts += [packer.compress(block) for _ in range(1024)]  # 1 GiB once inflated
parts.append(packer.flush())
bomb = b"".join(parts)
del parts


class Body(httpx.AsyncByteStream):
    async def __aiter__(self):
        for i in range(0, len(bomb), 65536):
            yield bomb[i : i + 65536]


def handler(request):
    status = 500 if kind == "error" else 200
    return httpx.Response(status, headers={"content-encoding": "gzip"}, stream=Body())


async def main():
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = AzureOpenAIClient(base_url="https://r.openai.azure.com/openai/v1", api_key="k" * 32, http_client=http,
                               max_retries=0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        if kind == "stream":
            stream = await client.chat.completions.create(messages=[], model="m", stream=True)
            async for _ in stream:
                pass
        else:
            await client.responses.create(model="m", input="hi")
        outcome = "accepted"
    except APIError as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    await http.aclose()
    print(json.dumps({"compressed": len(bomb), "before_kb": before, "after_kb": after, "outcome": outcome}))


asyncio.run(main())
"""


def gzip_bombs() -> list[str]:
    rows = []
    for kind in ("error", "json", "stream"):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _BOMB_CHILD, kind], capture_output=True, text=True, cwd=ROOT, check=True, timeout=600
        )
        seconds = time.perf_counter() - started
        r = json.loads(out.stdout)
        growth = (r["after_kb"] - r["before_kb"]) / 1024
        rows.append(
            f"gzip bomb ({r['compressed'] / 1e6:.1f} MB -> 1 GiB) as {kind:6} body: peak RSS +{growth:.0f} MB "
            f"(peak {r['after_kb'] / 1024:.0f} MB), {seconds:.1f} s incl. building the bomb; {r['outcome'][:90]}"
        )
    return rows


def long_lines() -> list[str]:
    from desktop.client._sse import SSEDecoder, SSELineTooLongError

    rows = []
    chunk = b"x" * 65536
    for megabytes, capped in ((10, False), (100, False), (100, True)):
        decoder = SSEDecoder() if capped else SSEDecoder(max_line=1 << 40)
        started = time.perf_counter()
        refused = False
        try:
            decoder.feed(b"data: ")
            for _ in range(megabytes * 16):
                decoder.feed(chunk)
            decoder.feed(b"\n\n")
        except SSELineTooLongError:
            refused = True
        seconds = time.perf_counter() - started
        what = "refused at the 16 MB cap" if refused else "accepted (cap lifted to time the decoder)"
        rows.append(f"one {megabytes} MB SSE line in 64 KB chunks: {what} in {seconds * 1000:.0f} ms")
    return rows


def kill_during_pause() -> list[str]:
    from desktop.simulator import SimulatorConfig
    from tests.services.test_crash import PAUSE_AFTER, _Loopback, pause_then_kill

    loopback = _Loopback(SimulatorConfig(tokens_per_second=300.0, first_token_delay=0.0))
    loopback.start()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(3):
                with open(os.path.join(tmp, f"stderr-{n}"), "w+b") as stderr:
                    ms, saved, sent = pause_then_kill(loopback, Path(tmp) / f"history-{n}.sqlite3", stderr)
                rows.append(
                    f"kill -9 during a pause (run {n + 1}): {sent} deltas sent, {saved} kept, "
                    f"{sent - saved} lost; on disk {ms:.0f} ms after the pause began (bound 1000 ms)"
                )
    finally:
        loopback.stop()
    assert PAUSE_AFTER
    return rows


def checkpoints() -> list[str]:
    from desktop.storage import HistoryStore

    with tempfile.TemporaryDirectory() as tmp:
        store = HistoryStore(Path(tmp) / "history.sqlite3")
        store.open()
        conv = store.create_conversation()
        answer = store.begin_answer(conv.id)
        text = "lorem ipsum dolor sit amet " * 160_000  # about 4.3 MB
        store.append_answer(answer.id, text)
        second = "one more second of words " * 20
        started = time.perf_counter()
        for _ in range(10):
            store.append_answer(answer.id, second)
        append_ms = (time.perf_counter() - started) * 100
        started = time.perf_counter()
        for _ in range(3):
            store.checkpoint_answer(answer.id, text)
        rewrite_ms = (time.perf_counter() - started) * 1000 / 3
        store.close()
    return [
        f"checkpoint of a {len(text) / 1e6:.1f} MB answer: append {append_ms:.2f} ms "
        f"(the old full rewrite and re-index: {rewrite_ms:.0f} ms)"
    ]


def paste() -> list[str]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QMimeData
    from PySide6.QtWidgets import QApplication

    from desktop.ui.composer import Composer

    app = QApplication.instance() or QApplication([])
    composer = Composer()
    mime = QMimeData()
    mime.setText("x" * (20 * 1024 * 1024))
    started = time.perf_counter()
    composer.input.insertFromMimeData(mime)
    ms = (time.perf_counter() - started) * 1000
    refused = composer.text() == "" and bool(composer.message.text())
    composer.deleteLater()
    app.processEvents()
    return [f"20 MB paste: {'refused' if refused else 'ACCEPTED'} in {ms:.1f} ms (bound 200 ms)"]


def huge_settings() -> list[str]:
    from desktop.config import SettingsStore

    with tempfile.TemporaryDirectory() as tmp:
        store = SettingsStore(Path(tmp))
        with store.path.open("w") as fh:
            fh.write('{"schema_version": 2, "padding": "')
            fh.write("x" * (110 * 1024 * 1024))
            fh.write('"}')
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        result = store.load()
        ms = (time.perf_counter() - started) * 1000
        growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return [f"110 MB settings.json: set aside in {ms:.1f} ms, peak RSS +{growth:.0f} MB, {len(result.notices)} notice"]


def main() -> None:
    """Print every figure, one line each."""
    for section in (gzip_bombs, long_lines, kill_during_pause, checkpoints, paste, huge_settings):
        for row in section():
            print(row, flush=True)


if __name__ == "__main__":
    main()
