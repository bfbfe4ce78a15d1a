"""Our client against the simulator on real loopback sockets: doc samples, retries, drops, timeouts, cancellation.

Every test runs the client on its own httpx pool and ends by proving no connection is left checked out.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import openai
import pytest

from desktop.client import (
    APIConnectionError,
    APIStreamError,
    APITimeoutError,
    AzureOpenAIClient,
    ChatCompletionChunk,
    InternalServerError,
    RateLimitError,
)
from desktop.simulator import DEFAULT_TOKEN, Fault, FaultKind, RequestRecord, SimulatorThread
from tests.simulator.helpers import make_sim

ANSWER = "Arr, **matey**: 日本語 🎉 and a line\u2028separator.\n\n```python\nprint('ahoy')\n```\n"


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    """A default simulator on loopback, in its own thread."""
    server = make_sim()
    yield server
    server.stop()


class Sleeps:
    """An injected sleep that records the delays the client chose and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def _active_connections(http: httpx.AsyncClient) -> list[Any]:
    pool = http._transport._pool  # type: ignore[attr-defined]  # httpcore's pool: the only view of checked-out connections
    return [c for c in pool.connections if not (c.is_idle() or c.is_closed())]


@asynccontextmanager
async def client_on(
    sim: SimulatorThread, api_key: Any = None, **options: Any
) -> AsyncIterator[tuple[AzureOpenAIClient, Sleeps]]:
    """Our client on a pool we own; asserts afterwards that no connection was leaked."""
    sleeps = Sleeps()
    async with httpx.AsyncClient(timeout=10) as http:
        client = AzureOpenAIClient(
            base_url=sim.base_url, api_key=api_key or sim.api_key, http_client=http, sleep=sleeps, **options
        )
        async with client:
            yield client, sleeps
        assert _active_connections(http) == []


async def _collect(stream: Any, texts: list[str]) -> None:
    """Read a Responses or Chat stream to its end, appending the answer's text deltas."""
    async with stream:
        async for event in stream:
            if isinstance(event, ChatCompletionChunk):
                texts.extend(c.delta.content for c in event.choices if c.delta.content)
            elif event.type == "response.output_text.delta" and event.delta:
                texts.append(event.delta)


def _retry_counts(sim: SimulatorThread) -> list[int | None]:
    return [r.retry_count for r in sim.requests]


def _sync_token() -> str:
    return DEFAULT_TOKEN


async def _async_token() -> str:
    return DEFAULT_TOKEN


@pytest.mark.parametrize("auth", ["key", "sync token", "async token"])
def test_doc_samples_with_key_and_token_provider(sim: SimulatorThread, arun: Callable[..., Any], auth: str) -> None:
    provider = {"key": None, "sync token": _sync_token, "async token": _async_token}[auth]

    async def samples() -> tuple[str, str, str | None]:
        async with client_on(sim, provider) as (client, _):
            sim.push_answer(ANSWER)
            response = await client.responses.create(
                model="gpt-4.1", instructions="Talk like a pirate.", input="Are semicolons optional in JavaScript?"
            )
            sim.push_answer(ANSWER)
            streamed = []
            async with await client.responses.create(model="gpt-4.1", input="Say hi", stream=True) as stream:
                async for event in stream:
                    if event.type == "response.output_text.delta":
                        streamed.append(event.delta or "")
            sim.push_answer(ANSWER)
            completion = await client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}], max_tokens=100
            )
            return response.output_text, "".join(streamed), completion.choices[0].message.content

    assert arun(samples()) == (ANSWER, ANSWER, ANSWER)
    headers = sim.requests[0].headers
    if auth == "key":
        assert headers["api-key"] == sim.api_key
    else:
        assert headers["authorization"] == f"Bearer {DEFAULT_TOKEN}"


def test_token_provider_is_asked_on_every_attempt(sim: SimulatorThread, arun: Callable[..., Any]) -> None:
    calls = []

    def provider() -> str:
        calls.append(1)
        return DEFAULT_TOKEN

    async def call() -> str:
        async with client_on(sim, provider) as (client, _):
            return (await client.responses.create(model="gpt-4.1", input="hi")).output_text

    sim.push_fault(Fault(status=500))
    sim.push_answer("ok")
    assert arun(call()) == "ok"
    assert len(calls) == 2


def _http_date(seconds_ahead: float) -> str:
    return email.utils.formatdate(time.time() + seconds_ahead, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        ({"retry-after": "2"}, 2.0, 2.0),
        ({"retry-after": "0.25"}, 0.25, 0.25),
        ({"retry-after-ms": "150"}, 0.15, 0.15),
        ({"retry-after-ms": "150", "retry-after": "7"}, 0.15, 0.15),
        ({"retry-after": "DATE"}, 0.0, 6.0),
    ],
)
def test_429_honours_each_retry_after_form(
    sim: SimulatorThread, arun: Callable[..., Any], headers: dict[str, str], low: float, high: float
) -> None:
    headers = {k: _http_date(5) if v == "DATE" else v for k, v in headers.items()}
    sim.push_fault(Fault(status=429, headers=headers))
    sim.push_answer("after the wait")

    async def call() -> tuple[str, list[float]]:
        async with client_on(sim) as (client, sleeps):
            text = (await client.responses.create(model="gpt-4.1", input="hi")).output_text
            return text, sleeps.delays

    text, delays = arun(call())
    assert text == "after the wait"
    assert len(delays) == 1
    assert low <= delays[0] <= high
    assert _retry_counts(sim) == [0, 1]


def test_429_beyond_a_minute_is_raised_with_retry_after(sim: SimulatorThread, arun: Callable[..., Any]) -> None:
    sim.push_fault(Fault(status=429, headers={"retry-after": "90"}))

    async def call() -> RateLimitError:
        async with client_on(sim) as (client, sleeps):
            with pytest.raises(RateLimitError) as caught:
                await client.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "hi"}])
            assert sleeps.delays == []
            return caught.value

    error = arun(call())
    assert error.retry_after == 90
    assert error.code == "429"
    assert error.request_id == sim.requests[0].request_id
    assert len(sim.requests) == 1


def test_5xx_then_success(sim: SimulatorThread, arun: Callable[..., Any]) -> None:
    sim.push_fault(Fault(status=500))
    sim.push_fault(Fault(status=503))
    sim.push_answer(ANSWER)

    async def call() -> str:
        async with client_on(sim) as (client, _):
            return (await client.responses.create(model="gpt-4.1", input="hi")).output_text

    assert arun(call()) == ANSWER
    assert _retry_counts(sim) == [0, 1, 2]


def test_5xx_exhausts_retries(sim: SimulatorThread, arun: Callable[..., Any]) -> None:
    sim.push_fault(Fault(status=504), times=3)

    async def call() -> None:
        async with client_on(sim) as (client, _):
            with pytest.raises(InternalServerError) as caught:
                await client.responses.create(model="gpt-4.1", input="hi")
            assert caught.value.status_code == 504

    arun(call())
    assert _retry_counts(sim) == [0, 1, 2]


def test_x_should_retry_false_stops_a_5xx_retry(sim: SimulatorThread, arun: Callable[..., Any]) -> None:
    sim.push_fault(Fault(status=500, headers={"x-should-retry": "false"}))

    async def call() -> None:
        async with client_on(sim) as (client, _):
            with pytest.raises(InternalServerError):
                await client.responses.create(model="gpt-4.1", input="hi")

    arun(call())
    assert len(sim.requests) == 1


def test_x_should_retry_true_retries_a_400(sim: SimulatorThread, arun: Callable[..., Any]) -> None:
    sim.push_fault(Fault(status=400, headers={"x-should-retry": "true"}))
    sim.push_answer("second try")

    async def call() -> str:
        async with client_on(sim) as (client, _):
            return (await client.responses.create(model="gpt-4.1", input="hi")).output_text

    assert arun(call()) == "second try"
    assert _retry_counts(sim) == [0, 1]


def test_drop_before_headers_is_retried_then_raised(sim: SimulatorThread, arun: Callable[..., Any]) -> None:
    sim.push_fault(Fault(FaultKind.DROP))
    sim.push_answer("reconnected")

    async def call() -> str:
        async with client_on(sim) as (client, _):
            text = (await client.responses.create(model="gpt-4.1", input="hi")).output_text
            sim.push_fault(Fault(FaultKind.DROP))
            with pytest.raises(APIConnectionError) as caught:
                await client.responses.create(model="gpt-4.1", input="hi", max_retries=0)
            assert not isinstance(caught.value, APITimeoutError)
            return text

    assert arun(call()) == "reconnected"
    assert _retry_counts(sim) == [0, 1, 0]


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_drop_mid_stream_raises_a_stream_error_without_replay(
    sim: SimulatorThread, arun: Callable[..., Any], api: str
) -> None:
    sim.push_fault(Fault(FaultKind.DROP_MID_STREAM, after_deltas=3))

    async def call() -> tuple[list[str], APIStreamError]:
        got: list[str] = []
        async with client_on(sim) as (client, _):
            if api == "responses":
                stream: Any = await client.responses.create(model="gpt-4.1", input="hello", stream=True)
            else:
                stream = await client.chat.completions.create(
                    model="gpt-4.1", messages=[{"role": "user", "content": "hello"}], stream=True
                )
            with pytest.raises(APIStreamError) as caught:
                await _collect(stream, got)
            return got, caught.value

    got, error = arun(call())
    assert "".join(got) == "Hello! I am "
    assert error.kind == "connection_lost"
    assert len(sim.requests) == 1


@pytest.mark.parametrize(
    ("kind", "expected"), [(FaultKind.MALFORMED_SSE, "malformed"), (FaultKind.NO_TERMINAL, "incomplete")]
)
def test_broken_streams_raise_stream_errors(
    sim: SimulatorThread, arun: Callable[..., Any], kind: FaultKind, expected: str
) -> None:
    sim.push_fault(Fault(kind, after_deltas=2))

    async def call() -> APIStreamError:
        async with client_on(sim) as (client, _):
            stream = await client.responses.create(model="gpt-4.1", input="hello", stream=True)
            with pytest.raises(APIStreamError) as caught:
                await _collect(stream, [])
            return caught.value

    assert arun(call()).kind == expected


def test_stall_times_out_and_is_retried(sim: SimulatorThread, arun: Callable[..., Any]) -> None:
    sim.push_fault(Fault(FaultKind.STALL))
    sim.push_answer("after a timeout")

    async def call() -> str:
        async with client_on(sim, timeout=0.3) as (client, _):
            text = (await client.responses.create(model="gpt-4.1", input="hi")).output_text
            sim.push_fault(Fault(FaultKind.STALL))
            with pytest.raises(APITimeoutError):
                await client.responses.create(model="gpt-4.1", input="hi", max_retries=0)
            return text

    assert arun(call()) == "after a timeout"
    assert _retry_counts(sim) == [0, 1, 0]


def test_cancellation_mid_stream_closes_at_once_and_never_retries(
    sim: SimulatorThread, arun: Callable[..., Any]
) -> None:
    sim.simulator.config.tokens_per_second = 5.0  # slow enough that the stream is surely still open
    sim.simulator.config.answer_deltas = 500
    first_delta = asyncio.Event()

    async def read(client: AzureOpenAIClient) -> None:
        async with await client.responses.create(model="gpt-4.1", input="hi", stream=True) as stream:
            async for event in stream:
                if event.type == "response.output_text.delta":
                    first_delta.set()

    async def call() -> bool:
        async with client_on(sim) as (client, _):
            task = asyncio.ensure_future(read(client))
            await first_delta.wait()
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                return True
        return False

    assert arun(call()) is True
    assert len(sim.requests) == 1


def test_same_text_as_the_official_sdk(sim: SimulatorThread, arun: Callable[..., Any]) -> None:
    prompts = ["show me markdown", "code please", "What is Azure?"]

    async def ours() -> list[str]:
        texts = []
        async with client_on(sim) as (client, _):
            for prompt in prompts:
                texts.append((await client.responses.create(model="gpt-4.1", input=prompt)).output_text)
                async with await client.chat.completions.create(
                    model="gpt-4.1", messages=[{"role": "user", "content": prompt}], stream=True
                ) as stream:
                    parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
                texts.append("".join(parts))
        return texts

    mine = arun(ours())
    theirs = []
    with openai.OpenAI(base_url=sim.base_url, api_key=sim.api_key, max_retries=0) as sdk:
        for prompt in prompts:
            theirs.append(sdk.responses.create(model="gpt-4.1", input=prompt).output_text)
            chunks = sdk.chat.completions.create(
                model="gpt-4.1", messages=[{"role": "user", "content": prompt}], stream=True
            )
            theirs.append("".join(c.choices[0].delta.content or "" for c in chunks if c.choices and c.choices[0].delta))
    assert mine == theirs
    assert all(mine)


def test_request_log_sees_the_client_headers(sim: SimulatorThread, arun: Callable[..., Any]) -> None:
    async def call() -> None:
        async with client_on(sim) as (client, _):
            await client.responses.create(model="gpt-4.1", input="hi", store=False)

    arun(call())
    record: RequestRecord = sim.requests[0]
    assert record.retry_count == 0
    assert record.json == {"model": "gpt-4.1", "input": "hi", "store": False}
