"""Fixtures for client tests: a scripted fake Azure behind httpx.MockTransport that tracks every body it opens."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from desktop.client import AzureOpenAIClient

BASE_URL = "https://res.openai.azure.com/openai/v1/"

# Hypothesis writes a cache while pytest collects; a `.hypothesis` dir at the repo root then trips a warning that
# pytest's `norecursedirs` setting turns into a collection error (warnings are errors). Keep it in the temp dir.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "azure-openai-chat-hypothesis")


@dataclass
class Reply:
    """One scripted answer: a status, headers and a body given whole (`json`/`body`) or in `chunks`."""

    status: int = 200
    json: Any = None
    body: bytes = b""
    chunks: list[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    fail: Exception | None = None  # raised after the chunks: the connection drops mid-body
    hang: bool = False  # after the chunks, wait forever (until closed or cancelled)


class TrackedBody(httpx.AsyncByteStream):
    """A response body that records whether it was closed, so tests can prove no connection leaks."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.closed = False
        self.started = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        reply = self.reply
        if reply.chunks is not None:
            parts = reply.chunks
        elif reply.json is not None:
            parts = [json.dumps(reply.json).encode()]
        else:
            parts = [reply.body]
        for part in parts:
            yield part
            self.started.set()
        self.started.set()
        if reply.hang:
            await asyncio.Event().wait()
        if reply.fail is not None:
            raise reply.fail

    async def aclose(self) -> None:
        self.closed = True


class FakeAzure:
    """Answers requests from a script of Replies (or exceptions raised as transport errors), recording both."""

    def __init__(self, *script: Reply | Exception) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []
        self.bodies: list[TrackedBody] = []
        self.transport = httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        body = TrackedBody(step)
        self.bodies.append(body)
        headers = {"x-request-id": f"req-{len(self.requests)}", **step.headers}
        return httpx.Response(step.status, headers=headers, stream=body)

    @property
    def open_bodies(self) -> int:
        """Bodies handed out but never closed: each would be a leaked pooled connection."""
        return sum(not b.closed for b in self.bodies)

    def sent_json(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


class Sleeps(list[float]):
    """An injected sleep that records the delays instead of waiting."""

    async def __call__(self, delay: float) -> None:
        self.append(delay)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(sleeps: Sleeps, qloop: asyncio.AbstractEventLoop) -> Iterator[Callable[..., AzureOpenAIClient]]:
    """Build clients on a FakeAzure; their httpx pools are closed after the test."""
    pools: list[httpx.AsyncClient] = []

    def make(fake: FakeAzure, **options: Any) -> AzureOpenAIClient:
        http = httpx.AsyncClient(transport=fake.transport)
        pools.append(http)
        options.setdefault("api_key", "KEY")
        options.setdefault("sleep", sleeps)
        return AzureOpenAIClient(base_url=BASE_URL, http_client=http, **options)

    yield make
    for pool in pools:
        qloop.run_until_complete(pool.aclose())


def sse(*events: str | dict[str, Any], event_names: bool = False) -> bytes:
    """Encode events as an SSE body: dicts become `data: JSON` (with `event: TYPE` if asked), strings raw data."""
    out = []
    for item in events:
        if isinstance(item, dict):
            head = f"event: {item['type']}\n" if event_names and "type" in item else ""
            out.append(f"{head}data: {json.dumps(item)}\n\n")
        else:
            out.append(f"data: {item}\n\n")
    return "".join(out).encode()
