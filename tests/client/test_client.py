"""Request shapes, retries, per-request overrides and errors, over httpx.MockTransport (sleep injected)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from desktop.client import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    AzureOpenAIClient,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    RetryNotice,
)
from tests.client.conftest import FakeAzure, Reply, Sleeps

Run = Callable[..., Any]
Make = Callable[..., AzureOpenAIClient]

RESPONSE = {
    "id": "resp_1",
    "status": "completed",
    "model": "gpt-4o",
    "output": [
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "thought"}]},
        {
            "type": "message",
            "role": "assistant",
            "content": [
                {"type": "output_text", "text": "Hello", "annotations": []},
                {"type": "unknown_part"},
                {"type": "output_text", "text": ", world"},
            ],
        },
        {"type": "web_search_call", "id": "ws"},
        {"type": "message", "content": [{"type": "output_text", "text": "!"}]},
    ],
    "usage": {
        "input_tokens": 5,
        "output_tokens": 7,
        "total_tokens": 12,
        "output_tokens_details": {"reasoning_tokens": 2},
    },
    "incomplete_details": None,
    "future_field": {"x": 1},
}
CHAT = {
    "id": "chatcmpl-1",
    "model": "gpt-4o",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hi"},
            "finish_reason": "stop",
            "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}},
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
}


def test_responses_create_request_shape_and_result(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(json=RESPONSE))
    client = make_client(fake)
    resp = arun(
        client.responses.create(
            model="dep", instructions="Be brief.", input="Hi", store=False, reasoning={"effort": "low"}
        )
    )
    request = fake.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "https://res.openai.azure.com/openai/v1/responses"
    assert request.headers["api-key"] == "KEY"
    assert "authorization" not in request.headers
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["x-stainless-retry-count"] == "0"
    assert fake.sent_json() == {
        "model": "dep",
        "instructions": "Be brief.",
        "input": "Hi",
        "store": False,
        "reasoning": {"effort": "low"},
    }
    assert resp.output_text == "Hello, world!"
    assert resp.reasoning_summary == "thought"
    assert (resp.id, resp.status, resp.model) == ("resp_1", "completed", "gpt-4o")
    assert resp.usage is not None
    assert (resp.usage.output_tokens, resp.usage.reasoning_tokens, resp.usage.total_tokens) == (7, 2, 12)
    assert resp.request_id == "req-1"
    assert resp.incomplete_details is None
    assert resp.refusal is None
    assert resp.raw["future_field"] == {"x": 1}
    assert fake.open_bodies == 0


def test_response_refusal_and_incomplete(arun: Run, make_client: Make) -> None:
    body = {
        "id": "r",
        "status": "incomplete",
        "incomplete_details": {"reason": "content_filter"},
        "output": [{"type": "message", "content": [{"type": "refusal", "refusal": "I can't help with that."}]}],
    }
    client = make_client(FakeAzure(Reply(json=body)))
    resp = arun(client.responses.create(model="d", input="x"))
    assert resp.output_text == ""
    assert resp.refusal == "I can't help with that."
    assert resp.incomplete_details is not None
    assert resp.incomplete_details.reason == "content_filter"
    assert resp.usage is None


def test_chat_completion_request_shape_and_result(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(json=CHAT, headers={"x-request-id": "", "apim-request-id": "apim-9"}))
    client = make_client(fake)
    messages = [{"role": "user", "content": "Hi"}]
    result = arun(client.chat.completions.create(messages=messages, model="dep", max_tokens=100, temperature=0.2))
    assert str(fake.requests[0].url) == "https://res.openai.azure.com/openai/v1/chat/completions"
    assert fake.sent_json() == {"messages": messages, "model": "dep", "max_tokens": 100, "temperature": 0.2}
    choice = result.choices[0]
    assert (choice.message.content, choice.finish_reason) == ("Hi", "stop")
    assert choice.content_filter_results == {"hate": {"filtered": False, "severity": "safe"}}
    assert result.usage is not None
    assert result.usage.total_tokens == 4
    assert result.prompt_filter_results == [{"prompt_index": 0, "content_filter_results": {}}]
    assert result.request_id == "apim-9"


def test_token_provider_is_called_on_every_attempt(arun: Run, make_client: Make, sleeps: Sleeps) -> None:
    tokens = iter(["t1", "t2", "t3"])

    async def provider() -> str:
        return next(tokens)

    fake = FakeAzure(Reply(503), Reply(429), Reply(json=CHAT))
    client = make_client(fake, api_key=provider)
    arun(client.chat.completions.create(messages=[], model="d"))
    assert [r.headers["authorization"] for r in fake.requests] == ["Bearer t1", "Bearer t2", "Bearer t3"]
    assert [r.headers["x-stainless-retry-count"] for r in fake.requests] == ["0", "1", "2"]
    assert all("api-key" not in r.headers for r in fake.requests)
    assert len(sleeps) == 2


def test_sync_token_provider(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(json=CHAT))
    arun(make_client(fake, api_key=lambda: "sync-token").chat.completions.create(messages=[], model="d"))
    assert fake.requests[0].headers["authorization"] == "Bearer sync-token"


def test_retries_back_off_and_notify(arun: Run, make_client: Make, sleeps: Sleeps) -> None:
    notices: list[RetryNotice] = []
    fake = FakeAzure(Reply(500), httpx.ConnectError("refused"), Reply(json=CHAT))
    client = make_client(fake, on_retry=notices.append)
    arun(client.chat.completions.create(messages=[], model="d"))
    assert len(fake.requests) == 3
    assert 0.375 <= sleeps[0] <= 0.5
    assert 0.75 <= sleeps[1] <= 1.0
    assert [(n.attempt, n.max_retries) for n in notices] == [(1, 2), (2, 2)]
    assert [n.delay for n in notices] == list(sleeps)
    assert isinstance(notices[0].cause, InternalServerError)
    assert isinstance(notices[1].cause, APIConnectionError)
    assert fake.open_bodies == 0  # the 500's body was closed before sleeping


def test_server_directed_delay_is_slept_exactly(arun: Run, make_client: Make, sleeps: Sleeps) -> None:
    fake = FakeAzure(
        Reply(429, headers={"retry-after-ms": "1500", "retry-after": "2"}),
        Reply(503, headers={"retry-after": "3"}),
        Reply(json=CHAT),
    )
    arun(make_client(fake).chat.completions.create(messages=[], model="d"))
    assert sleeps == [1.5, 3.0]


def test_long_retry_after_is_raised_not_retried(arun: Run, make_client: Make, sleeps: Sleeps) -> None:
    body = {"error": {"code": "429", "message": "Please retry after 86400 seconds."}}
    fake = FakeAzure(Reply(429, json=body, headers={"retry-after": "86400"}))
    with pytest.raises(RateLimitError) as info:
        arun(make_client(fake).chat.completions.create(messages=[], model="d"))
    assert info.value.retry_after == 86400.0
    assert info.value.code == "429"
    assert info.value.request_id == "req-1"
    assert sleeps == []
    assert fake.open_bodies == 0


def test_retries_exhausted_raise_the_last_error(arun: Run, make_client: Make, sleeps: Sleeps) -> None:
    fake = FakeAzure(Reply(503), Reply(502), Reply(504, body=b"<html><title>Gateway Timeout</title></html>"))
    with pytest.raises(InternalServerError) as info:
        arun(make_client(fake).responses.create(model="d", input="x"))
    assert info.value.status_code == 504
    assert info.value.message == "Gateway Timeout"
    assert len(sleeps) == 2
    assert fake.open_bodies == 0


@pytest.mark.parametrize(("status", "cls"), [(400, BadRequestError), (401, AuthenticationError), (404, NotFoundError)])
def test_client_errors_are_not_retried(arun: Run, make_client: Make, sleeps: Sleeps, status: int, cls: type) -> None:
    fake = FakeAzure(Reply(status, json={"error": {"code": "X", "message": "no"}}))
    with pytest.raises(cls):
        arun(make_client(fake).responses.create(model="d", input="x"))
    assert len(fake.requests) == 1
    assert sleeps == []


def test_x_should_retry_overrides_status(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(400, headers={"x-should-retry": "true"}), Reply(json=CHAT))
    arun(make_client(fake).chat.completions.create(messages=[], model="d"))
    fake = FakeAzure(Reply(503, headers={"x-should-retry": "false"}))
    with pytest.raises(InternalServerError):
        arun(make_client(fake).chat.completions.create(messages=[], model="d"))
    assert len(fake.requests) == 1


def test_timeout_maps_to_api_timeout_error(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError) as info:
        arun(make_client(fake, max_retries=0).chat.completions.create(messages=[], model="d"))
    assert "timed out" in info.value.message
    assert info.value.__cause__ is None  # no httpx objects reachable from our errors


def test_per_request_overrides(arun: Run, make_client: Make, sleeps: Sleeps) -> None:
    seen: list[RetryNotice] = []
    fake = FakeAzure(Reply(503), Reply(503), Reply(503), Reply(503))
    client = make_client(fake)
    with pytest.raises(InternalServerError):
        arun(
            client.responses.create(
                model="d",
                input="x",
                max_retries=3,
                timeout=12.0,
                on_retry=seen.append,
                extra_headers={"x-ms-client-request-id": "abc"},
            )
        )
    assert len(fake.requests) == 4
    assert len(seen) == 3
    assert fake.requests[0].headers["x-ms-client-request-id"] == "abc"
    timeout = fake.requests[0].extensions["timeout"]
    assert timeout["read"] == 12.0
    assert timeout["connect"] == 5.0


def test_default_timeout_is_600_s_with_5_s_connect(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(json=CHAT))
    arun(make_client(fake).chat.completions.create(messages=[], model="d"))
    assert fake.requests[0].extensions["timeout"] == {"connect": 5.0, "read": 600.0, "write": 600.0, "pool": 600.0}


def test_with_options_shares_the_pool(arun: Run, make_client: Make, sleeps: Sleeps) -> None:
    fake = FakeAzure(Reply(503), Reply(json=CHAT))
    client = make_client(fake)
    view = client.with_options(max_retries=0, timeout=30.0)
    assert view._http is client._http
    with pytest.raises(InternalServerError):
        arun(view.chat.completions.create(messages=[], model="d"))
    assert fake.requests[0].extensions["timeout"]["read"] == 30.0
    arun(view.aclose())  # a view never closes the shared pool
    assert not client._http.is_closed
    arun(client.chat.completions.create(messages=[], model="d"))
    assert client.max_retries == 2


def test_client_owning_its_pool_closes_it(arun: Run) -> None:
    async def scenario() -> bool:
        async with AzureOpenAIClient(base_url="https://r.openai.azure.com/openai/v1", api_key="k") as client:
            http = client._http
        return http.is_closed

    assert arun(scenario()) is True


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": "res.openai.azure.com", "api_key": "k"}, r"http\(s\) URL"),
        ({"base_url": "ftp://res/openai/v1", "api_key": "k"}, r"http\(s\) URL"),
        ({"base_url": "https://r.openai.azure.com/openai/v1", "api_key": "  "}, "empty"),
        ({"base_url": "https://r.openai.azure.com/openai/v1", "api_key": "k", "max_retries": -1}, "max_retries"),
    ],
)
def test_bad_construction_is_a_clear_value_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AzureOpenAIClient(**kwargs)


def test_non_json_success_body_is_a_validation_error(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(200, body=b"<html>Sign in to your proxy</html>", headers={"content-type": "text/html"}))
    with pytest.raises(APIResponseValidationError) as info:
        arun(make_client(fake).responses.create(model="d", input="x"))
    assert "text/html" in info.value.message
    assert info.value.status_code == 200
    assert fake.open_bodies == 0


def test_body_lost_while_reading_success_is_a_connection_error(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(chunks=[b'{"id": '], fail=httpx.ReadError("reset")))
    with pytest.raises(APIConnectionError):
        arun(make_client(fake).responses.create(model="d", input="x"))
    assert fake.open_bodies == 0


def test_deployments_list_data_plane(arun: Run, make_client: Make) -> None:
    body = {
        "data": [
            {"id": "chat", "model": "gpt-4o", "status": "succeeded", "object": "deployment"},
            {"id": "mini", "model": "gpt-4o-mini", "model_version": "2024-07-18"},
            {"model": "nameless"},
        ],
        "object": "list",
    }
    fake = FakeAzure(Reply(json=body))
    deployments = arun(make_client(fake).deployments.list())
    assert str(fake.requests[0].url) == (
        "https://res.openai.azure.com/openai/deployments?api-version=2023-03-15-preview"
    )
    assert fake.requests[0].method == "GET"
    assert [(d.name, d.model, d.model_version) for d in deployments] == [
        ("chat", "gpt-4o", None),
        ("mini", "gpt-4o-mini", "2024-07-18"),
    ]
    assert deployments[0].raw["status"] == "succeeded"


def test_deployments_list_arm_shape() -> None:
    from desktop.client._types import parse_deployments

    body = {
        "value": [
            {
                "id": "/subscriptions/x/.../deployments/chat",
                "name": "chat",
                "properties": {"model": {"name": "gpt-4o", "version": "2024-11-20"}},
            }
        ]
    }
    (only,) = parse_deployments(body)
    assert (only.name, only.model, only.model_version) == ("chat", "gpt-4o", "2024-11-20")


def test_one_info_line_per_attempt_and_no_secrets(
    arun: Run, make_client: Make, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeAzure(Reply(503), Reply(json=CHAT))
    with caplog.at_level(logging.DEBUG, logger="desktop.client"):
        arun(make_client(fake, api_key="SECRET-KEY").chat.completions.create(messages=[], model="d"))
    attempts = [r.getMessage() for r in caplog.records if "attempt" in r.getMessage()]
    assert len(attempts) == 2
    assert attempts[0].startswith("POST /openai/v1/chat/completions -> 503 (attempt 1, request id req-1,")
    assert attempts[1].startswith("POST /openai/v1/chat/completions -> 200 (attempt 2, request id req-2,")
    assert all(r.name == "desktop.client" for r in caplog.records)
    assert all(r.levelno == logging.INFO for r in caplog.records if "attempt" in r.getMessage())
    assert not any("SECRET-KEY" in r.getMessage() for r in caplog.records)
