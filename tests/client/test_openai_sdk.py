"""The official openai SDK against the simulator: same text, same error classes. This proves the simulator faithful."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from desktop.simulator import Fault, FaultKind, SimulatorThread
from tests.simulator.helpers import make_sim

SCRIPTED = "Scripted answer: **bold**, 日本語, emoji 🎉, a line\u2028separator.\n\n```python\nprint('hi')\n```\n"


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    """A default simulator on loopback."""
    server = make_sim()
    yield server
    server.stop()


@pytest.fixture
def sdk(sim: SimulatorThread) -> Iterator[openai.OpenAI]:
    """The official client on the simulator, without retries so every fault surfaces."""
    with openai.OpenAI(base_url=sim.base_url, api_key=sim.api_key, max_retries=0) as client:
        yield client


def test_responses_create_returns_the_scripted_text(sim: SimulatorThread, sdk: openai.OpenAI) -> None:
    sim.push_answer(SCRIPTED)
    response = sdk.responses.create(model="gpt-4.1", instructions="Talk like a pirate.", input="Hi?")
    assert response.output_text == SCRIPTED
    assert response.usage is not None
    assert response.usage.output_tokens > 0
    assert sim.requests[0].json["instructions"] == "Talk like a pirate."


def test_responses_stream_yields_the_scripted_deltas(sim: SimulatorThread, sdk: openai.OpenAI) -> None:
    sim.push_answer(SCRIPTED)
    deltas = []
    types = []
    for event in sdk.responses.create(model="o4-mini", input="Hi?", stream=True):
        types.append(event.type)
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
    assert "".join(deltas) == SCRIPTED
    assert "response.reasoning_summary_text.delta" in types
    assert types[-1] == "response.completed"


def test_chat_completions_create_returns_the_scripted_text(sim: SimulatorThread, sdk: openai.OpenAI) -> None:
    sim.push_answer(SCRIPTED)
    completion = sdk.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi?"}], max_tokens=100
    )
    assert completion.choices[0].message.content == SCRIPTED
    assert completion.choices[0].finish_reason == "stop"


def test_chat_stream_with_usage_yields_the_scripted_text(sim: SimulatorThread, sdk: openai.OpenAI) -> None:
    sim.push_answer(SCRIPTED)
    text = []
    usage = None
    for chunk in sdk.chat.completions.create(
        model="gpt-4.1",
        messages=[{"role": "user", "content": "Hi?"}],
        stream=True,
        stream_options={"include_usage": True},
    ):
        if chunk.choices and chunk.choices[0].delta is not None and chunk.choices[0].delta.content:
            text.append(chunk.choices[0].delta.content)
        usage = chunk.usage or usage
    assert "".join(text) == SCRIPTED
    assert usage is not None
    assert usage.completion_tokens > 0


def test_async_sdk_reads_the_same_stream(sim: SimulatorThread, arun: Callable[..., Any]) -> None:
    sim.push_answer(SCRIPTED)

    async def read() -> str:
        async with openai.AsyncOpenAI(base_url=sim.base_url, api_key=sim.api_key, max_retries=0) as client:
            stream = await client.responses.create(model="gpt-4.1", input="Hi?", stream=True)
            return "".join([e.delta async for e in stream if e.type == "response.output_text.delta"])

    assert arun(read()) == SCRIPTED


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (403, openai.PermissionDeniedError),
        (404, openai.NotFoundError),
        (409, openai.ConflictError),
        (422, openai.UnprocessableEntityError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
        (504, openai.InternalServerError),
    ],
)
def test_each_status_raises_the_sdk_class(
    sim: SimulatorThread, sdk: openai.OpenAI, status: int, error_class: type[openai.APIStatusError]
) -> None:
    sim.push_fault(Fault(status=status))
    with pytest.raises(error_class) as caught:
        sdk.responses.create(model="gpt-4.1", input="Hi?")
    assert caught.value.status_code == status
    assert caught.value.request_id == sim.requests[0].request_id


def test_real_azure_errors_reach_the_sdk_with_their_codes(sim: SimulatorThread, sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.responses.create(model="no-such-deployment", input="Hi?")
    assert missing.value.code == "DeploymentNotFound"
    with pytest.raises(openai.BadRequestError) as filtered:
        sdk.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "[[fault:filter]]"}])
    assert filtered.value.code == "content_filter"
    with pytest.raises(openai.BadRequestError) as unsupported:
        sdk.chat.completions.create(model="o4-mini", messages=[{"role": "user", "content": "Hi"}], max_tokens=100)
    assert unsupported.value.code == "unsupported_parameter"
    with (
        openai.OpenAI(base_url=sim.base_url, api_key="wrong", max_retries=0) as wrong,
        pytest.raises(openai.AuthenticationError),
    ):
        wrong.models.list()


def test_connection_drop_raises_connection_error(sim: SimulatorThread, sdk: openai.OpenAI) -> None:
    sim.push_fault(Fault(FaultKind.DROP))
    with pytest.raises(openai.APIConnectionError) as caught:
        sdk.responses.create(model="gpt-4.1", input="Hi?")
    assert not isinstance(caught.value, openai.APITimeoutError)


def test_stall_raises_timeout_error(sim: SimulatorThread) -> None:
    sim.push_fault(Fault(FaultKind.STALL))
    with (
        openai.OpenAI(base_url=sim.base_url, api_key=sim.api_key, max_retries=0, timeout=0.3) as client,
        pytest.raises(openai.APITimeoutError),
    ):
        client.responses.create(model="gpt-4.1", input="Hi?")


def test_sdk_retries_follow_retry_after_ms_and_send_retry_counts(sim: SimulatorThread) -> None:
    sim.push_fault(Fault(status=429, headers={"retry-after-ms": "10"}), times=2)
    sim.push_answer("third time lucky")
    with openai.OpenAI(base_url=sim.base_url, api_key=sim.api_key, max_retries=2) as client:
        assert client.responses.create(model="gpt-4.1", input="Hi?").output_text == "third time lucky"
    assert [r.retry_count for r in sim.requests] == [0, 1, 2]
