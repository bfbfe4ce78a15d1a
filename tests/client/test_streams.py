"""Streams of both APIs over httpx.MockTransport: events, ends, errors, and that every body gets closed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from desktop.client import (
    APIStreamError,
    AzureOpenAIClient,
    ChatCompletionChunk,
    InternalServerError,
    ResponseStreamEvent,
)
from tests.client.conftest import FakeAzure, Reply, Sleeps, sse

Run = Callable[..., Any]
Make = Callable[..., AzureOpenAIClient]

FINAL = {
    "id": "r1",
    "status": "completed",
    "output": [{"type": "message", "content": [{"type": "output_text", "text": "Hello"}]}],
    "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
}


def responses_body(*, terminal: str | None = "response.completed", event_names: bool = True) -> bytes:
    events: list[str | dict[str, Any]] = [
        {"type": "response.created", "sequence_number": 0, "response": {"id": "r1", "status": "in_progress"}},
        {
            "type": "response.output_text.delta",
            "sequence_number": 1,
            "item_id": "m1",
            "output_index": 0,
            "content_index": 0,
            "delta": "Hel",
        },
        {"type": "response.some_future_event", "sequence_number": 2},
        {"type": "response.output_text.delta", "sequence_number": 3, "item_id": "m1", "delta": "lo\u2028"},
    ]
    if terminal:
        events.append({"type": terminal, "sequence_number": 4, "response": FINAL})
    return sse(*events, event_names=event_names)


async def collect(stream: Any) -> list[Any]:
    return [item async for item in stream]


def test_responses_stream(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(
        Reply(
            chunks=[responses_body()[i : i + 7] for i in range(0, 2000, 7)], headers={"x-ms-region": "Sweden Central"}
        )
    )
    client = make_client(fake)

    async def scenario() -> tuple[Any, list[ResponseStreamEvent]]:
        stream = await client.responses.create(model="d", input="x", stream=True)
        return stream, await collect(stream)

    stream, events = arun(scenario())
    assert fake.sent_json()["stream"] is True
    assert fake.requests[0].headers["accept"] == "text/event-stream"
    assert [e.type for e in events] == [
        "response.created",
        "response.output_text.delta",
        "response.some_future_event",
        "response.output_text.delta",
        "response.completed",
    ]
    assert "".join(e.delta or "" for e in events) == "Hello\u2028"
    assert events[1].item_id == "m1"
    assert events[1].sequence_number == 1
    assert events[0].response is not None
    assert events[0].response.status == "in_progress"
    final = events[-1].response
    assert final is not None
    assert final.output_text == "Hello"
    assert final.usage is not None
    assert final.usage.total_tokens == 3
    assert stream.final_response is final
    assert (stream.request_id, stream.region) == ("req-1", "Sweden Central")
    assert fake.open_bodies == 0


@pytest.mark.parametrize("terminal", ["response.incomplete", "response.failed"])
def test_responses_stream_other_terminal_events_end_without_raising(
    arun: Run, make_client: Make, terminal: str
) -> None:
    fake = FakeAzure(Reply(body=responses_body(terminal=terminal, event_names=False) + b"data: ignored\n\n"))
    events = arun(collect(arun(make_client(fake).responses.create(model="d", input="x", stream=True))))
    assert events[-1].type == terminal
    assert fake.open_bodies == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(responses_body(terminal=None), ("incomplete", None, "ended before"), id="no-terminal"),
        pytest.param(
            responses_body(terminal=None) + b'data: {"type": "respo',
            ("incomplete", None, "cut off"),
            id="cut-mid-event",
        ),
        pytest.param(b"data: {not json\n\n", ("malformed", None, "malformed"), id="bad-json"),
        pytest.param(b"data: [1, 2]\n\n", ("malformed", None, "unexpected"), id="not-an-object"),
        pytest.param(
            sse({"type": "error", "code": "server_error", "message": "boom", "sequence_number": 1}),
            ("error_event", "server_error", "boom"),
            id="error-event",
        ),
        pytest.param(
            b'event: error\ndata: {"message": "named"}\n\n', ("error_event", None, "named"), id="error-event-name"
        ),
        pytest.param(
            sse({"error": {"code": "content_filter", "message": "filtered"}}),
            ("error_event", "content_filter", "filtered"),
            id="top-level-error",
        ),
    ],
)
def test_responses_stream_errors(
    arun: Run, make_client: Make, body: bytes, expected: tuple[str, str | None, str]
) -> None:
    kind, code, message = expected
    fake = FakeAzure(Reply(body=body))
    stream = arun(make_client(fake).responses.create(model="d", input="x", stream=True))
    with pytest.raises(APIStreamError) as info:
        arun(collect(stream))
    assert (info.value.kind, info.value.code) == (kind, code)
    assert message in info.value.message
    assert info.value.request_id == "req-1"
    assert fake.open_bodies == 0


def test_connection_lost_mid_stream(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(chunks=[responses_body(terminal=None)], fail=httpx.RemoteProtocolError("peer closed")))
    stream = arun(make_client(fake).responses.create(model="d", input="x", stream=True))
    seen: list[ResponseStreamEvent] = []

    async def consume() -> None:
        async for event in stream:
            seen.append(event)

    with pytest.raises(APIStreamError) as info:
        arun(consume())
    assert info.value.kind == "connection_lost"
    assert len(seen) == 4  # everything that arrived was delivered before the error
    assert fake.open_bodies == 0


AZURE_CHAT: list[dict[str, Any]] = [
    {
        "id": "",
        "model": "",
        "choices": [],
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
    },
    {
        "id": "c1",
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
    },
    {"id": "c1", "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]},
    {"id": "c1", "choices": [{"index": 0, "content_filter_results": {"hate": {"filtered": False}}}]},
    {"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {"id": "c1", "choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}},
]


def test_chat_stream_with_azure_quirks(arun: Run, make_client: Make) -> None:
    body = sse(*AZURE_CHAT, "[DONE]")
    fake = FakeAzure(Reply(chunks=[body[i : i + 5] for i in range(0, len(body), 5)]))
    client = make_client(fake)

    async def scenario() -> list[ChatCompletionChunk]:
        async with await client.chat.completions.create(
            messages=[{"role": "user", "content": "x"}], model="d", stream=True, stream_options={"include_usage": True}
        ) as stream:
            return await collect(stream)

    chunks = arun(scenario())
    assert fake.sent_json()["stream_options"] == {"include_usage": True}
    assert len(chunks) == 6
    assert chunks[0].choices == []
    assert chunks[0].prompt_filter_results == [{"prompt_index": 0, "content_filter_results": {}}]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hi"
    assert chunks[3].choices[0].delta.content is None
    assert chunks[3].choices[0].content_filter_results == {"hate": {"filtered": False}}
    assert chunks[4].choices[0].finish_reason == "stop"
    assert chunks[5].usage is not None
    assert chunks[5].usage.total_tokens == 3
    assert fake.open_bodies == 0


def test_chat_stream_without_done_is_an_error(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(body=sse(*AZURE_CHAT)))
    stream = arun(make_client(fake).chat.completions.create(messages=[], model="d", stream=True))
    with pytest.raises(APIStreamError) as info:
        arun(collect(stream))
    assert info.value.kind == "incomplete"
    assert fake.open_bodies == 0


def test_chat_stream_error_payload(arun: Run, make_client: Make) -> None:
    body = sse(AZURE_CHAT[2], {"error": {"code": "server_error", "message": "The server had an error."}})
    fake = FakeAzure(Reply(body=body))
    stream = arun(make_client(fake).chat.completions.create(messages=[], model="d", stream=True))
    with pytest.raises(APIStreamError) as info:
        arun(collect(stream))
    assert (info.value.kind, info.value.code, info.value.message) == (
        "error_event",
        "server_error",
        "The server had an error.",
    )


def test_stream_error_status_is_retried_before_the_stream_starts(arun: Run, make_client: Make, sleeps: Sleeps) -> None:
    fake = FakeAzure(Reply(503), Reply(body=sse(*AZURE_CHAT, "[DONE]")))
    stream = arun(make_client(fake).chat.completions.create(messages=[], model="d", stream=True))
    assert len(arun(collect(stream))) == 6
    assert len(sleeps) == 1
    assert fake.open_bodies == 0


def test_stream_error_status_raises_status_error(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(500, json={"error": {"message": "down"}}))
    with pytest.raises(InternalServerError):
        arun(make_client(fake, max_retries=0).chat.completions.create(messages=[], model="d", stream=True))
    assert fake.open_bodies == 0


def test_breaking_out_inside_async_with_closes(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(chunks=[responses_body(terminal=None)], hang=True))
    client = make_client(fake)

    async def scenario() -> str:
        async with await client.responses.create(model="d", input="x", stream=True) as stream:
            async for event in stream:
                if event.delta:
                    return event.delta
        raise AssertionError("no delta")

    assert arun(scenario()) == "Hel"
    assert fake.open_bodies == 0


def test_close_is_idempotent_and_iteration_after_close_stops(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(chunks=[responses_body(terminal=None)], hang=True))
    stream = arun(make_client(fake).responses.create(model="d", input="x", stream=True))

    async def scenario() -> list[Any]:
        await stream.__anext__()
        await stream.close()
        await stream.close()
        return await collect(stream)

    assert arun(scenario()) == []
    assert fake.open_bodies == 0


def test_cancellation_mid_stream_closes_at_once(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(chunks=[responses_body(terminal=None)], hang=True))
    client = make_client(fake)
    seen: list[ResponseStreamEvent] = []
    all_sent_delivered = asyncio.Event()

    async def consume() -> None:
        async for event in await client.responses.create(model="d", input="x", stream=True):
            seen.append(event)
            if len(seen) == 4:  # the body now hangs, like a slow model
                all_sent_delivered.set()

    async def scenario() -> None:
        task = asyncio.create_task(consume())
        await all_sent_delivered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    arun(scenario())
    assert fake.open_bodies == 0


def test_cancellation_during_retry_sleep_does_not_retry(arun: Run, make_client: Make) -> None:
    started = asyncio.Event()

    async def never_wake(delay: float) -> None:
        started.set()
        await asyncio.Event().wait()

    fake = FakeAzure(Reply(503), Reply(json={}))
    client = make_client(fake, sleep=never_wake)

    async def scenario() -> None:
        task = asyncio.create_task(client.chat.completions.create(messages=[], model="d", stream=True))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    arun(scenario())
    assert len(fake.requests) == 1
    assert fake.open_bodies == 0


class _Body(httpx.AsyncByteStream):
    """Pieces of a body; a piece marked `waits` comes from the network after `clock` advanced, the others were
    already received (they come at once)."""

    def __init__(self, pieces: list[tuple[bytes, bool]], clock: list[float]) -> None:
        self._pieces, self._clock = pieces, clock

    async def __aiter__(self) -> Any:
        for piece, waits in self._pieces:
            if waits:
                self._clock[0] += 0.01
            yield piece


@pytest.mark.parametrize("interval", [0.0, 0.05])
def test_a_paced_stream_reads_the_network_at_most_once_per_interval(
    arun: Run, monkeypatch: pytest.MonkeyPatch, interval: float
) -> None:
    from desktop.client import _streaming

    clock = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        clock[0] += seconds

    monkeypatch.setattr(_streaming, "_clock", lambda: clock[0])
    monkeypatch.setattr(_streaming, "_sleep", sleep)

    def chunk(text: str) -> bytes:
        return sse({"id": "c", "choices": [{"index": 0, "delta": {"content": text}}]}, event_names=False)

    pieces = [(chunk("a"), True), (chunk("b"), False), (chunk("c"), False), (chunk("d"), True), (chunk("e"), True)]
    body = _Body([*pieces, (b"data: [DONE]\n\n", False)], clock)

    async def run() -> list[str]:
        response = httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)
        stream = _streaming.ChatCompletionStream(response)
        stream.min_read_interval = interval
        return [c.choices[0].delta.content async for c in stream]

    assert arun(run()) == ["a", "b", "c", "d", "e"]
    # Unpaced: never waits. Paced: a read that follows one which waited for the network (a, d, e) waits for the rest
    # of the interval; pieces already received (c after b, d after c) are read at once.
    assert slept == ([] if not interval else [0.05, 0.05, 0.05])
