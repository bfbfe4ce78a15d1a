"""On real loopback sockets: the httpx pool holds no busy connection after ends, breaks, errors and cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from desktop.client import AzureOpenAIClient, InternalServerError
from tests.client.conftest import sse

Run = Callable[..., Any]

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nx-request-id: r\r\n\r\n"
DONE_BODY = sse({"choices": [{"index": 0, "delta": {"content": "Hi"}}]}, "[DONE]")
ERROR_503 = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\nretry-after-ms: 1\r\n\r\nbusy"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class Server:
    """A scripted HTTP/1.1 server: each request gets the next reply (`None` = send one event and hang)."""

    def __init__(self, *replies: bytes | None) -> None:
        self.replies = list(replies)
        self.connections = 0
        self.disconnected = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while self.replies:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                await reader.readexactly(length)
                reply = self.replies.pop(0)
                if reply is None:
                    writer.write(HEAD + chunk(DONE_BODY.split(b"\n\n")[0] + b"\n\n"))
                    await writer.drain()
                    await reader.read()  # until the client closes the connection
                    break
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self.disconnected.set()


@asynccontextmanager
async def serve(server: Server) -> AsyncIterator[tuple[AzureOpenAIClient, httpx.AsyncClient]]:
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    http = httpx.AsyncClient(trust_env=False)

    async def no_sleep(delay: float) -> None:
        return None

    client = AzureOpenAIClient(
        base_url=f"http://127.0.0.1:{port}/openai/v1", api_key="k", http_client=http, sleep=no_sleep
    )
    try:
        yield client, http
    finally:
        await http.aclose()
        listener.close()
        await listener.wait_closed()


def busy_connections(http: httpx.AsyncClient) -> int:
    pool = http._transport._pool  # type: ignore[attr-defined]
    return sum(not (c.is_idle() or c.is_closed()) for c in pool.connections) + len(pool._requests)


def test_complete_stream_returns_its_connection_for_reuse(arun: Run) -> None:
    server = Server(HEAD + chunk(DONE_BODY) + b"0\r\n\r\n", HEAD + chunk(DONE_BODY) + b"0\r\n\r\n")

    async def scenario() -> int:
        async with serve(server) as (client, http):
            for _ in range(2):
                stream = await client.chat.completions.create(messages=[], model="d", stream=True)
                assert [c.choices[0].delta.content async for c in stream] == ["Hi"]
                assert busy_connections(http) == 0
        return server.connections

    assert arun(scenario()) == 1  # the second request reused the drained connection


def test_retry_break_and_cancel_leave_no_busy_connection(arun: Run) -> None:
    server = Server(ERROR_503, None, None)

    async def scenario() -> None:
        async with serve(server) as (client, http):
            # A 503 retried, then a stream we break out of.
            async with await client.chat.completions.create(messages=[], model="d", stream=True) as stream:
                async for _ in stream:
                    break
            assert busy_connections(http) == 0
            # A stream cancelled while the server is silent.
            got_first = asyncio.Event()

            async def consume() -> None:
                async for _ in await client.chat.completions.create(messages=[], model="d", stream=True):
                    got_first.set()

            task = asyncio.create_task(consume())
            await got_first.wait()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            assert busy_connections(http) == 0

    arun(scenario())


def test_error_status_without_retries_leaves_no_busy_connection(arun: Run) -> None:
    server = Server(ERROR_503)

    async def scenario() -> None:
        async with serve(server) as (client, http):
            with pytest.raises(InternalServerError, match="busy"):
                await client.chat.completions.create(messages=[], model="d", max_retries=0)
            assert busy_connections(http) == 0

    arun(scenario())


def test_on_sent_is_told_once_per_attempt_when_its_request_is_written(arun: Run) -> None:
    # The window draws a send once its request is on the wire (time to first token); a retry is sent again.
    body = b'{"id":"r","object":"response","status":"completed","output":[]}'
    whole = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    server = Server(ERROR_503, HEAD + chunk(DONE_BODY) + b"0\r\n\r\n", whole)
    seen: list[str] = []

    async def scenario() -> None:
        async with serve(server) as (client, _http):
            stream = await client.chat.completions.create(
                messages=[],
                model="d",
                stream=True,
                on_sent=lambda: seen.append("sent"),
                on_retry=lambda _notice: seen.append("retry"),
            )
            assert [c.choices[0].delta.content async for c in stream] == ["Hi"]
            await client.responses.create(model="d", input="hi", on_sent=lambda: seen.append("sent whole"))

    arun(scenario())
    assert seen == ["sent", "retry", "sent", "sent whole"]
