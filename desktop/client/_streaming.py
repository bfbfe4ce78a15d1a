"""Streams of both APIs: async iterators and async context managers that always close their response."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Final, Generic, TypeVar

import httpx

from desktop.client._body import UnsupportedEncodingError, decoded_chunks
from desktop.client._errors import APIStreamError, StreamErrorKind, request_id_of
from desktop.client._sse import ServerSentEvent, SSEDecoder, SSELineTooLongError
from desktop.client._types import ChatCompletionChunk, Response, ResponseStreamEvent

__all__ = ["ChatCompletionStream", "ResponseStream"]

T = TypeVar("T")

RESPONSE_TERMINAL_EVENTS: Final = frozenset({"response.completed", "response.incomplete", "response.failed"})
# After the terminal event we read the rest of the body so the connection can be reused, but a server that keeps
# the body open must not hold the caller: past this many seconds the connection is simply closed.
_DRAIN_GRACE = 1.0
# A read of the body that returns within this many seconds found its bytes already received (see min_read_interval).
_BUFFERED_READ = 0.002
_clock = time.monotonic  # module-level, so tests can drive the spacing of reads with their own clock
_sleep = asyncio.sleep


class _Stream(ABC, Generic[T]):
    """Shared machinery: byte chunks -> SSE decoder -> converted items, closing the response on every exit."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._chunks: AsyncIterator[bytes] = decoded_chunks(response)  # decompressed in bounded steps
        self._decoder = SSEDecoder()
        self._pending: deque[ServerSentEvent] = deque()
        # Seconds to let pass between two reads of the body (0: read as soon as the last events are used up). While
        # an answer streams word by word, each read returns one or two small events, and the read itself (socket
        # readiness, HTTP parsing) costs far more than its events; reading at most every few display frames lets the
        # events that arrived meanwhile come in one read. A consumer that shows text sets it once the text flows.
        self.min_read_interval = 0.0
        self._last_read = 0.0
        self._waited = False
        self._finished = False
        self._closed = False
        headers = response.headers
        self.request_id: str | None = request_id_of(headers)
        self.region: str | None = headers.get("x-ms-region")
        self.headers: dict[str, str] = dict(headers)

    @abstractmethod
    def _convert(self, sse: ServerSentEvent) -> T | None:
        """Turn one SSE into an item, None to skip it; may set `_finished` or raise APIStreamError."""

    @abstractmethod
    def _incomplete_message(self) -> str:
        """Say what is missing when the body ends before the stream's end marker."""

    def __aiter__(self) -> _Stream[T]:
        return self

    async def __anext__(self) -> T:
        try:
            while True:
                if self._finished or self._closed:
                    await self._drain_and_close()
                    raise StopAsyncIteration
                if self._pending:
                    item = self._convert(self._pending.popleft())
                    if item is not None:
                        return item
                    continue
                try:
                    if self.min_read_interval > 0 and self._waited:
                        wait = self._last_read + self.min_read_interval - _clock()
                        if wait > 0:
                            await _sleep(wait)
                    started = _clock()
                    chunk = await self._chunks.__anext__()
                    self._last_read = _clock()
                    # Pieces already received come at once; only a read that waited for the network is spaced.
                    self._waited = self._last_read - started > _BUFFERED_READ
                except StopAsyncIteration:
                    clean = self._decoder.end()
                    raise self._error(
                        self._incomplete_message() + ("" if clean else " (the last event was cut off)"),
                        "incomplete",
                    ) from None
                except httpx.TimeoutException as exc:
                    # The read timeout runs between two bytes (keep-alive comments count): nothing came for that long.
                    raise self._error(
                        f"Nothing more arrived within the time limit while the answer was streaming "
                        f"({type(exc).__name__}).",
                        "timeout",
                    ) from None
                except httpx.HTTPError as exc:
                    raise self._error(
                        f"The connection was lost while the answer was streaming ({type(exc).__name__}).",
                        "connection_lost",
                    ) from None
                except UnsupportedEncodingError as exc:
                    raise self._error(
                        f"The service compressed the answer in a way this app cannot read ({exc}).", "malformed"
                    ) from None
                try:
                    self._pending.extend(self._decoder.feed(chunk))
                except SSELineTooLongError as exc:
                    raise self._error(
                        f"The service sent more than this app accepts in one piece ({exc}); the answer was stopped.",
                        "too_large",
                    ) from None
        except BaseException:
            # Normal end, errors, and cancellation (Stop button) all release the connection at once.
            await self.close()
            raise

    def _error(self, message: str, kind: StreamErrorKind, payload: Any = None) -> APIStreamError:
        code = param = None
        if isinstance(payload, dict):
            error = payload.get("error")
            fields = error if isinstance(error, dict) else payload
            message = str(fields.get("message") or message)
            code = None if fields.get("code") is None else str(fields.get("code"))
            param = None if fields.get("param") is None else str(fields.get("param"))
        return APIStreamError(
            message,
            kind=kind,
            code=code,
            param=param,
            request_id=self.request_id,
            body=payload,
            content_type=self.headers.get("content-type"),
        )

    def _load(self, sse: ServerSentEvent) -> dict[str, Any]:
        """Parse an event's JSON; an error payload or event raises APIStreamError."""
        try:
            payload = json.loads(sse.data)
        except ValueError:
            raise self._error("The service sent a malformed event.", "malformed", sse.data) from None
        if type(payload) is not dict:
            raise self._error("The service sent an unexpected event.", "malformed", payload)
        if payload.get("error") is not None or payload.get("type") == "error" or sse.event == "error":
            raise self._error("The service reported an error while streaming.", "error_event", payload)
        return payload

    async def _drain_and_close(self) -> None:
        if not self._closed and self._finished:
            try:
                async with asyncio.timeout(_DRAIN_GRACE):
                    async for _ in self._chunks:
                        pass
            except (TimeoutError, httpx.HTTPError):
                pass  # the answer is complete; only connection reuse is lost
        await self.close()

    async def close(self) -> None:
        """Close the response now (safe to call more than once)."""
        if self._closed:
            return
        self._closed = True
        self._pending.clear()
        # The response first: closing the byte-iterator chain first would run httpcore's clean-up from inside a
        # GeneratorExit, which anyio rejects ("exit cancel scope in a different task") when an error was raised
        # between chunks.
        try:
            await self._response.aclose()
        finally:
            aclose = getattr(self._chunks, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(RuntimeError):  # "already running": another task iterates it
                    await aclose()

    async def __aenter__(self) -> _Stream[T]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class ResponseStream(_Stream[ResponseStreamEvent]):
    """A Responses API stream; it ends after `response.completed`, `response.incomplete` or `response.failed`."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response)
        self.final_response: Response | None = None

    def _convert(self, sse: ServerSentEvent) -> ResponseStreamEvent | None:
        if sse.data == "[DONE]":
            return None
        payload = self._load(sse)
        event_type = payload.get("type") or sse.event or ""
        event = ResponseStreamEvent(payload, event_type, self.request_id)
        if event_type in RESPONSE_TERMINAL_EVENTS:
            self._finished = True
            self.final_response = event.response
        return event

    def _incomplete_message(self) -> str:
        return "The answer stream ended before the response was complete."

    async def __aenter__(self) -> ResponseStream:
        return self


class ChatCompletionStream(_Stream[ChatCompletionChunk]):
    """A Chat Completions stream; it ends at `data: [DONE]`."""

    def _convert(self, sse: ServerSentEvent) -> ChatCompletionChunk | None:
        if sse.data.startswith("[DONE]"):
            self._finished = True
            return None
        return ChatCompletionChunk(self._load(sse))

    def _incomplete_message(self) -> str:
        return "The answer stream ended without its end marker."

    async def __aenter__(self) -> ChatCompletionStream:
        return self
