"""Fault injection: queued faults and magic words, each observed by plain httpx on real sockets."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest

from desktop.simulator import Fault, FaultKind, RequestRecord, SimulatorThread

from .helpers import chat, parse_sse, responses


def _chat_text(raw: bytes) -> str:
    return "".join(
        c["choices"][0].get("delta", {}).get("content") or ""
        for c in (e.json() for e in parse_sse(raw) if e.data != "[DONE]")
        if c["choices"]
    )


def _stream_until_error(
    http: httpx.Client, path: str, body: dict[str, Any], timeout: httpx.Timeout | None = None
) -> tuple[bytes, Exception | None]:
    received = b""
    try:
        with http.stream("POST", path, json=body, timeout=timeout or http.timeout) as response:
            for chunk in response.iter_raw():
                received += chunk
    except httpx.HTTPError as exc:
        return received, exc
    return received, None


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "BadRequest"),
        (401, "401"),
        (403, "403"),
        (404, "DeploymentNotFound"),
        (409, "Conflict"),
        (422, "UnprocessableEntity"),
        (429, "429"),
        (500, "InternalServerError"),
        (503, "ServiceUnavailable"),
        (504, "GatewayTimeout"),
    ],
)
def test_status_fault_sends_azure_body(sim: SimulatorThread, http: httpx.Client, status: int, code: str) -> None:
    sim.push_fault(Fault(status=status))
    response = http.post("chat/completions", json=chat("hi"))
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.headers["x-request-id"]
    assert http.post("chat/completions", json=chat("hi")).status_code == 200  # one fault, one request


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "2"},
        {"retry-after-ms": "150"},
        {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"},
        {"x-should-retry": "false"},
    ],
)
def test_status_fault_sends_custom_headers(sim: SimulatorThread, http: httpx.Client, headers: dict[str, str]) -> None:
    sim.push_fault(Fault(status=429, headers=headers))
    response = http.post("responses", json=responses("hi"))
    assert response.status_code == 429
    for name, value in headers.items():
        assert response.headers[name] == value
    assert "Please retry after" in response.json()["error"]["message"]


def test_fault_body_override_and_times_and_path_filter(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_fault(Fault(status=400, body={"code": "flat", "message": "flat form"}, path="/chat/completions"), times=2)
    assert http.post("responses", json=responses("hi")).status_code == 200
    for _ in range(2):
        response = http.post("chat/completions", json=chat("hi"))
        assert (response.status_code, response.json()) == (400, {"code": "flat", "message": "flat form"})
    assert http.post("chat/completions", json=chat("hi")).status_code == 200


def test_drop_before_headers(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_fault(Fault(FaultKind.DROP))
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("responses", json=responses("hi"))


@pytest.mark.parametrize("path", ["responses", "chat/completions"])
def test_drop_after_n_deltas(sim: SimulatorThread, http: httpx.Client, path: str) -> None:
    sim.push_fault(Fault(FaultKind.DROP_MID_STREAM, after_deltas=4))
    body = responses("markdown", stream=True) if path == "responses" else chat("markdown", stream=True)
    received, error = _stream_until_error(http, path, body)
    assert isinstance(error, httpx.RemoteProtocolError)
    complete = received[: received.rfind(b"\n\n") + 2]
    deltas = [
        e
        for e in parse_sse(complete)
        if e.event == "response.output_text.delta"
        or (e.event is None and (e.json()["choices"] or [{}])[0].get("delta", {}).get("content"))
    ]
    assert len(deltas) == 4


def test_drop_mid_body_of_non_streamed_answer(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_fault(Fault(FaultKind.DROP_MID_STREAM))
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("responses", json=responses("hi"))


def test_stall_times_out_the_client(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_fault(Fault(FaultKind.STALL))
    with pytest.raises(httpx.ReadTimeout):
        http.post("responses", json=responses("hi"), timeout=httpx.Timeout(5, read=0.2))


def test_stall_mid_stream_times_out_after_the_deltas(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_fault(Fault(FaultKind.STALL_MID_STREAM, after_deltas=2))
    received, error = _stream_until_error(
        http, "chat/completions", chat("hello", stream=True), timeout=httpx.Timeout(5, read=0.3)
    )
    assert isinstance(error, httpx.ReadTimeout)
    assert _chat_text(received) == "Hello! I "


def test_stall_ends_when_the_server_stops(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_fault(Fault(FaultKind.STALL))
    arrived = threading.Event()

    def seen(record: RequestRecord) -> None:
        arrived.set()

    sim.simulator.on_request = seen
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            http.post("responses", json=responses("hi"), timeout=None)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    assert arrived.wait(10)
    sim.stop()
    caller.join(10)
    assert not caller.is_alive()
    assert isinstance(outcome[0], httpx.RemoteProtocolError)


def test_slow_first_byte_then_a_normal_answer(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_fault(Fault(FaultKind.SLOW_FIRST_BYTE, seconds=0.05))
    sim.push_answer("eventually")
    assert http.post("chat/completions", json=chat("hi")).json()["choices"][0]["message"]["content"] == "eventually"


@pytest.mark.parametrize("path", ["responses", "chat/completions"])
def test_malformed_sse(sim: SimulatorThread, http: httpx.Client, path: str) -> None:
    sim.push_fault(Fault(FaultKind.MALFORMED_SSE, after_deltas=1))
    body = responses("hi", stream=True) if path == "responses" else chat("hi", stream=True)
    raw = http.post(path, json=body).content
    assert raw.endswith(b"\n\n")
    last = raw[:-2].rsplit(b"\n\n", 1)[1]
    assert last.startswith(b"data: ")
    with pytest.raises(ValueError, match="Unterminated string"):
        json.loads(last.removeprefix(b"data: "))


def test_missing_terminal_event_and_done(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_fault(Fault(FaultKind.NO_TERMINAL), times=2)
    events = parse_sse(http.post("responses", json=responses("hi", stream=True)).content)
    assert events[-1].event == "response.output_item.done"
    chat_events = parse_sse(http.post("chat/completions", json=chat("hi", stream=True)).content)
    assert chat_events[-1].data != "[DONE]"


def test_gateway_html_page(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_fault(Fault(FaultKind.GATEWAY_HTML, status=502))
    response = http.post("responses", json=responses("hi"))
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in response.text


def test_prompt_blocked_by_content_filter(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_fault(Fault(FaultKind.PROMPT_FILTERED))
    response = http.post("chat/completions", json=chat("hi"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("content_filter", "prompt")
    assert error["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert error["innererror"]["content_filter_result"]["violence"] == {"filtered": True, "severity": "medium"}


def test_answer_cut_by_filter_in_chat_stream(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_fault(Fault(FaultKind.FILTER_CUT, after_deltas=2))
    events = parse_sse(http.post("chat/completions", json=chat("hello", stream=True)).content)
    assert events[-1].data == "[DONE]"
    chunks = [e.json() for e in events[:-1]]
    assert _chat_text(b"".join(f"data: {e.data}\n\n".encode() for e in events)) == "Hello! I "
    finishes = [
        c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0].get("finish_reason")
    ]
    assert finishes == ["content_filter"]


def test_answer_cut_by_filter_in_responses(sim: SimulatorThread, http: httpx.Client) -> None:
    sim.push_fault(Fault(FaultKind.FILTER_CUT, after_deltas=2), times=2)
    events = [e.json() for e in parse_sse(http.post("responses", json=responses("hello", stream=True)).content)]
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "content_filter"}
    body = http.post("responses", json=responses("hello")).json()
    assert (body["status"], body["output"][0]["content"][0]["text"]) == ("incomplete", "Hello! I ")


@pytest.mark.parametrize(
    ("word", "status"),
    [("[[fault:429]]", 429), ("[[fault:503]]", 503), ("[[fault:gateway]]", 502), ("[[fault:filter]]", 400)],
)
def test_magic_words_select_faults(http: httpx.Client, word: str, status: int) -> None:
    assert http.post("chat/completions", json=chat(f"please {word}")).status_code == status


def test_magic_word_retry_after_and_drop(http: httpx.Client) -> None:
    assert http.post("responses", json=responses("[[fault:429:90]]")).headers["retry-after"] == "90"
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("responses", json=responses("[[fault:drop]]"))
    _, error = _stream_until_error(http, "responses", responses("[[fault:drop-mid-stream:2]]", stream=True))
    assert isinstance(error, httpx.RemoteProtocolError)


@pytest.mark.parametrize(
    ("kind", "retry_after", "remaining", "words"),
    [
        (FaultKind.RATE_REQUESTS, "6", ("0", "1180"), "exceeded call rate limit"),
        (FaultKind.RATE_TOKENS, "6", ("57", "0"), "exceeded token rate limit"),
        (FaultKind.RATE_NEVER_FITS, "86400", ("57", "1180"), "Please retry after 86400 seconds"),
        (FaultKind.RATE_QUOTA, None, ("0", "0"), "exceeded your current quota"),
    ],
)
def test_each_kind_of_429_has_azures_body_and_headers(
    sim: SimulatorThread,
    http: httpx.Client,
    kind: FaultKind,
    retry_after: str | None,
    remaining: tuple[str, str],
    words: str,
) -> None:
    sim.push_fault(Fault(kind))
    reply = http.post("chat/completions", json=chat("hi"))
    assert reply.status_code == 429
    assert reply.headers.get("retry-after") == retry_after
    requests_left, tokens_left = remaining
    assert reply.headers["x-ratelimit-remaining-requests"] == requests_left
    assert reply.headers["x-ratelimit-remaining-tokens"] == tokens_left
    assert words in reply.json()["error"]["message"]


def test_magic_words_ask_for_a_429_kind_and_its_wait(sim: SimulatorThread, http: httpx.Client) -> None:
    reply = http.post("chat/completions", json=chat("hi [[fault:429-tokens:42]]"))
    assert (reply.status_code, reply.headers["retry-after"], reply.headers["retry-after-ms"]) == (429, "42", "42000")
    reply = http.post("chat/completions", json=chat("hi [[fault:429-never-fits]]"))
    assert (reply.status_code, reply.headers["retry-after"]) == (429, "86400")
