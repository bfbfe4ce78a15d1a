"""Every route of the simulator over real loopback sockets with plain httpx: shapes, streams, listing, auth."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from desktop.simulator import DEFAULT_ARM_TOKEN, DEFAULT_TOKEN, DEFAULT_TOKEN_WITHOUT_ROLE, Deployment, SimulatorThread

from .helpers import chat, make_sim, parse_sse, responses

RESPONSES_LIFECYCLE = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]


def _collapse(types: list[str]) -> list[str]:
    """Event types with runs of the same type collapsed to one (deltas)."""
    return [t for i, t in enumerate(types) if i == 0 or types[i - 1] != t]


def test_every_response_carries_azure_request_headers(http: httpx.Client) -> None:
    for response in (http.post("responses", json=responses("hi")), http.get("models"), http.get("nope")):
        assert response.headers["x-request-id"]
        assert response.headers["apim-request-id"]
        assert response.headers["x-ms-region"] == "swedencentral"


def test_responses_non_streamed_returns_scripted_text_and_usage(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_answer("Scripted ✓ answer.")
    body = http.post("responses", json=responses("hi", instructions="Be brief.")).json()
    assert body["object"] == "response"
    assert body["status"] == "completed"
    assert body["instructions"] == "Be brief."
    [message] = body["output"]
    assert message["content"][0] == {
        "type": "output_text",
        "text": "Scripted ✓ answer.",
        "annotations": [],
        "logprobs": [],
    }
    usage = body["usage"]
    assert usage["output_tokens"] == 3
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_responses_stream_has_the_full_lifecycle_with_sequence_numbers(
    sim: SimulatorThread, http: httpx.Client
) -> None:
    sim.push_answer("one two three")
    raw = http.post("responses", json=responses("hi", stream=True))
    assert raw.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(raw.content)
    payloads = [e.json() for e in events]
    assert [e.event for e in events] == [p["type"] for p in payloads]
    assert [p["sequence_number"] for p in payloads] == list(range(len(payloads)))
    assert _collapse([p["type"] for p in payloads]) == RESPONSES_LIFECYCLE
    deltas = [p for p in payloads if p["type"] == "response.output_text.delta"]
    assert "".join(d["delta"] for d in deltas) == "one two three"
    assert {d["item_id"] for d in deltas} == {payloads[2]["item"]["id"]}
    assert payloads[-1]["response"]["output"][0]["content"][0]["text"] == "one two three"
    assert payloads[-1]["response"]["usage"]["output_tokens"] == 3


def test_chat_non_streamed_has_azure_filter_annotations(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_answer("Hello there")
    body = http.post("chat/completions", json=chat("hi")).json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4.1-2025-04-14"
    [choice] = body["choices"]
    assert choice["message"]["content"] == "Hello there"
    assert choice["finish_reason"] == "stop"
    assert choice["content_filter_results"]["hate"] == {"filtered": False, "severity": "safe"}
    assert body["prompt_filter_results"][0]["prompt_index"] == 0
    assert body["usage"]["completion_tokens"] == 2


def test_chat_stream_matches_azure_chunk_order(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_answer("a b c")
    raw = http.post("chat/completions", json=chat("hi", stream=True, stream_options={"include_usage": True}))
    events = parse_sse(raw.content)
    assert events[-1].data == "[DONE]"
    chunks = [e.json() for e in events[:-1]]
    first = chunks[0]
    assert (first["id"], first["model"], first["choices"]) == ("", "", [])
    assert first["prompt_filter_results"][0]["content_filter_results"]["violence"]["filtered"] is False
    assert chunks[1]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0].get("delta", {}).get("content") or "" for c in chunks if c["choices"])
    assert text == "a b c"
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert finishes == ["stop"]
    # Azure's quirk: a choice with filter results and no delta.
    assert any(c["choices"] and "delta" not in c["choices"][0] for c in chunks)
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 3


def test_chat_stream_without_include_usage_has_no_usage_chunk(http: httpx.Client) -> None:
    events = parse_sse(http.post("chat/completions", json=chat("hi", stream=True)).content)
    assert events[-1].data == "[DONE]"
    assert all("usage" not in e.json() for e in events[:-1])


def test_answers_are_deterministic_and_echo_the_question(http: httpx.Client) -> None:
    first = http.post("responses", json=responses("What is the capital of Peru?")).json()
    second = http.post("responses", json=responses("What is the capital of Peru?")).json()
    text = first["output"][0]["content"][0]["text"]
    assert text == second["output"][0]["content"][0]["text"]
    assert text.startswith("You asked: “What is the capital of Peru?”")


def test_rich_answer_exercises_rendering_and_keeps_u2028_raw_on_the_wire(http: httpx.Client) -> None:
    raw = http.post("chat/completions", json=chat("show me markdown", stream=True)).content
    assert "\u2028".encode() in raw  # raw inside a JSON string, as the service sends it
    text = "".join(
        c["choices"][0].get("delta", {}).get("content") or ""
        for c in (e.json() for e in parse_sse(raw)[:-1])
        if c["choices"]
    )
    for needle in ("# ", "| Model |", "```python", "```javascript", "```bash", "- bullet", "日本語", "🎉", "\u2028"):
        assert needle in text
    assert max(len(line) for line in text.splitlines()) > 200


def test_reasoning_deployment_streams_summary_and_counts_reasoning_tokens(http: httpx.Client) -> None:
    events = [e.json() for e in parse_sse(http.post("responses", json=responses("hi", "o4-mini", stream=True)).content)]
    summary = [e["delta"] for e in events if e["type"] == "response.reasoning_summary_text.delta"]
    assert "".join(summary).startswith("**Planning the answer**")
    final = events[-1]["response"]
    assert [item["type"] for item in final["output"]] == ["reasoning", "message"]
    assert final["usage"]["output_tokens_details"]["reasoning_tokens"] > 0


def test_a_paced_summary_streams_the_same_events() -> None:
    paced = make_sim(thinking_per_delta=0.001)  # the demo's pacing: one summary delta at a time
    try:
        with httpx.Client(base_url=paced.base_url, headers={"api-key": paced.api_key}, timeout=10) as client:
            body = client.post("responses", json=responses("hi", "o4-mini", stream=True)).content
    finally:
        paced.stop()
    events = [e.json() for e in parse_sse(body)]
    summary = "".join(e["delta"] for e in events if e["type"] == "response.reasoning_summary_text.delta")
    assert summary.startswith("**Planning the answer**")
    assert events[-1]["type"] == "response.completed"


def test_reasoning_deployment_rejects_max_tokens_on_chat(http: httpx.Client) -> None:
    rejected = http.post("chat/completions", json=chat("hi", "o4-mini", max_tokens=100))
    assert rejected.status_code == 400
    error = rejected.json()["error"]
    assert (error["code"], error["param"]) == ("unsupported_parameter", "max_tokens")
    assert "max_completion_tokens" in error["message"]
    accepted = http.post("chat/completions", json=chat("hi", "o4-mini", max_completion_tokens=1000))
    assert accepted.status_code == 200
    assert accepted.json()["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_chat_only_deployment_rejects_responses_like_azure(http: httpx.Client) -> None:
    rejected = http.post("responses", json=responses("hi", "gpt-4o-mini"))
    assert rejected.status_code == 400
    error = rejected.json()["error"]
    assert error["code"] == "OperationNotSupported"
    assert error["message"].startswith("The responses operation does not work with the specified model, gpt-4o-mini.")
    assert http.post("chat/completions", json=chat("hi", "gpt-4o-mini")).status_code == 200


@pytest.mark.parametrize("path", ["responses", "chat/completions"])
def test_unknown_deployment_is_404_deployment_not_found(http: httpx.Client, path: str) -> None:
    body: dict[str, Any] = responses("hi", "gpt-9") if path == "responses" else chat("hi", "gpt-9")
    response = http.post(path, json=body)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "DeploymentNotFound"
    assert "does not exist" in response.json()["error"]["message"]


def test_max_output_tokens_ends_a_response_incomplete(http: httpx.Client) -> None:
    events = [
        e.json()
        for e in parse_sse(http.post("responses", json=responses("hi", stream=True, max_output_tokens=16)).content)
    ]
    assert sum(e["type"] == "response.output_text.delta" for e in events) == 16
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    body = http.post("responses", json=responses("hi", max_output_tokens=16)).json()
    assert (body["status"], body["incomplete_details"]["reason"]) == ("incomplete", "max_output_tokens")


def test_max_tokens_ends_a_chat_answer_with_length(http: httpx.Client) -> None:
    body = http.post("chat/completions", json=chat("show me markdown", max_tokens=5)).json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 5


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"input": "hi"}, "missing_required_parameter", "model"),
        ({"model": "gpt-4.1"}, "missing_required_parameter", "input"),
        ({"model": "gpt-4.1", "input": "hi", "max_output_tokens": 5}, "integer_below_min_value", "max_output_tokens"),
        ([1, 2], None, None),
    ],
)
def test_bad_requests_get_openai_style_400s(http: httpx.Client, body: Any, code: str | None, param: str | None) -> None:
    response = http.post("responses", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == (code, param)


def test_non_json_body_is_400(http: httpx.Client) -> None:
    response = http.post("chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "could not parse the JSON body" in response.json()["error"]["message"]


def test_answer_length_in_deltas_is_configurable() -> None:
    sim = make_sim(answer_deltas=20_000)
    try:
        with httpx.Client(base_url=sim.base_url, headers={"api-key": sim.api_key}) as http:
            events = parse_sse(http.post("responses", json=responses("hi", stream=True)).content)
            assert sum(e.event == "response.output_text.delta" for e in events) == 20_000
            assert events[-1].json()["response"]["usage"]["output_tokens"] == 20_000
            chat_events = parse_sse(http.post("chat/completions", json=chat("[[deltas:50]]", stream=True)).content)
            assert (
                sum(
                    1
                    for e in chat_events[:-1]
                    if e.json()["choices"] and e.json()["choices"][0].get("delta", {}).get("content")
                )
                == 50
            )
    finally:
        sim.stop()


def test_paced_stream_delivers_the_same_text(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.simulator.config.tokens_per_second = 2000
    sim.simulator.config.first_token_delay = 0.01
    sim.push_answer("paced " * 40)
    events = parse_sse(http.post("responses", json=responses("hi", stream=True)).content)
    assert events[-1].json()["response"]["output"][0]["content"][0]["text"] == "paced " * 40


def test_models_lists_the_catalogue(http: httpx.Client) -> None:
    body = http.get("models").json()
    assert body["object"] == "list"
    assert "gpt-4.1-2025-04-14" in [m["id"] for m in body["data"]]


def test_data_plane_deployments_need_api_version_and_can_be_missing(sim: SimulatorThread) -> None:
    with httpx.Client(base_url=sim.resource_url, headers={"api-key": sim.api_key}) as http:
        listed = http.get("openai/deployments", params={"api-version": "2023-03-15-preview"}).json()
        assert [d["id"] for d in listed["data"]] == ["gpt-4.1", "gpt-4o-mini", "o4-mini"]
        assert http.get("openai/deployments").status_code == 404
        sim.simulator.config.data_plane_deployments = False
        assert http.get("openai/deployments", params={"api-version": "2023-03-15-preview"}).status_code == 404


def test_arm_discovery_chain_leads_back_to_the_simulator() -> None:
    sim = make_sim(deployments=(Deployment("chat", "gpt-4.1", requests_per_minute=30),))
    try:
        with httpx.Client(base_url=sim.arm_url, headers={"authorization": f"Bearer {DEFAULT_ARM_TOKEN}"}) as arm:
            [sub] = arm.get("/subscriptions", params={"api-version": "2022-12-01"}).json()["value"]
            accounts_path = f"/subscriptions/{sub['subscriptionId']}/providers/Microsoft.CognitiveServices/accounts"
            [account] = arm.get(accounts_path, params={"api-version": "2023-05-01"}).json()["value"]
            assert account["kind"] == "OpenAI"
            assert account["properties"]["endpoint"] == sim.resource_url
            [deployment] = arm.get(f"{account['id']}/deployments", params={"api-version": "2023-05-01"}).json()["value"]
            assert deployment["name"] == "chat"
            assert deployment["properties"]["model"] == {"format": "OpenAI", "name": "gpt-4.1", "version": "2025-04-14"}
            assert (
                arm.get(
                    f"/subscriptions/{'f' * 8}/providers/Microsoft.CognitiveServices/accounts",
                    params={"api-version": "2023-05-01"},
                ).status_code
                == 404
            )
            missing = arm.get("/subscriptions")
            assert (missing.status_code, missing.json()["error"]["code"]) == (400, "MissingApiVersionParameter")
    finally:
        sim.stop()


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "AuthenticationFailed"),
        ({"authorization": "Bearer nonsense"}, "InvalidAuthenticationToken"),
        ({"authorization": f"Bearer {DEFAULT_TOKEN}"}, "InvalidAuthenticationTokenAudience"),
    ],
)
def test_arm_rejects_bad_tokens(sim: SimulatorThread, headers: dict[str, str], code: str) -> None:
    response = httpx.get(sim.arm_url + "/subscriptions", params={"api-version": "2022-12-01"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    "headers",
    [{"api-key": "KEY"}, {"authorization": "Bearer KEY"}, {"authorization": f"Bearer {DEFAULT_TOKEN}"}],
)
def test_auth_accepts_key_bearer_key_and_token(sim: SimulatorThread, headers: dict[str, str]) -> None:
    headers = {k: v.replace("KEY", sim.api_key) for k, v in headers.items()}
    assert httpx.post(sim.base_url + "responses", json=responses("hi"), headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"api-key": "wrong"},
            {"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint"},
        ),
        ({}, {"code": "401", "message": "Access denied due to missing subscription key"}),
        (
            {"authorization": f"Bearer {DEFAULT_TOKEN_WITHOUT_ROLE}"},
            {"code": "PermissionDenied", "message": "The principal `"},
        ),
        (
            {"authorization": "Bearer eyJ0eXAi.eyJhdWQi.sig"},
            {"statusCode": 401, "message": "Unauthorized. Access token is missing, invalid, audience is incorrect"},
        ),
    ],
)
def test_auth_failures_use_azure_bodies(
    sim: SimulatorThread, headers: dict[str, str], expected: dict[str, Any]
) -> None:
    response = httpx.post(sim.base_url + "chat/completions", json=chat("hi"), headers=headers)
    assert response.status_code == 401
    body = response.json()
    error = body.get("error", body)
    for key, value in expected.items():
        assert str(error[key]).startswith(str(value))
    if expected.get("code") == "PermissionDenied":
        assert "lacks the required data action" in error["message"]


def test_request_log_records_method_path_headers_body_and_retry_count(sim: SimulatorThread, http: httpx.Client) -> None:
    http.post("responses", json=responses("hi"), headers={"x-stainless-retry-count": "2"})
    http.get("models")
    first, second = sim.requests
    assert (first.method, first.path, first.retry_count) == ("POST", "/openai/v1/responses", 2)
    assert first.json == responses("hi")
    assert first.headers["api-key"] == sim.api_key
    assert (second.method, second.path, second.retry_count, second.json) == ("GET", "/openai/v1/models", None, None)


def test_rate_limit_per_deployment_answers_429_with_retry_headers() -> None:
    sim = make_sim(deployments=(Deployment("limited", "gpt-4.1", requests_per_minute=2), Deployment("free", "gpt-4.1")))
    try:
        with httpx.Client(base_url=sim.base_url, headers={"api-key": sim.api_key}) as http:
            assert [http.post("responses", json=responses("hi", "limited")).status_code for _ in range(2)] == [200, 200]
            limited = http.post("responses", json=responses("hi", "limited"))
            assert limited.status_code == 429
            seconds = int(limited.headers["retry-after"])
            assert 1 <= seconds <= 60
            assert limited.headers["retry-after-ms"] == str(seconds * 1000)
            error = limited.json()["error"]
            assert error["code"] == "429"
            assert f"Please retry after {seconds} seconds" in error["message"]
            assert http.post("responses", json=responses("hi", "free")).status_code == 200
    finally:
        sim.stop()
