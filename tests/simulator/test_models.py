"""The simulator's model deployments refuse what Azure refuses for their models, in Azure's words."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from desktop.simulator import MODEL_DEPLOYMENTS

from .helpers import make_sim

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def models() -> Iterator[httpx.Client]:
    server = make_sim(deployments=MODEL_DEPLOYMENTS, time_scale=0.01)
    with httpx.Client(base_url=server.base_url, headers={"api-key": server.api_key}, timeout=10) as client:
        yield client
    server.stop()


def error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()["error"]
    return body


def test_a_reasoning_model_refuses_temperature_and_max_tokens(models: httpx.Client) -> None:
    sent = {"model": "thinker", "messages": HELLO}
    refused = error(models.post("chat/completions", json={**sent, "temperature": 0.3}))
    assert (refused["code"], refused["param"]) == ("unsupported_parameter", "temperature")
    assert refused["message"] == "Unsupported parameter: 'temperature' is not supported with this model."
    refused = error(models.post("chat/completions", json={**sent, "max_tokens": 50}))
    assert refused["message"].endswith("Use 'max_completion_tokens' instead.")
    assert models.post("chat/completions", json={**sent, "max_completion_tokens": 50}).status_code == 200


def test_effort_values_and_roles_each_model_takes(models: httpx.Client) -> None:
    minimal = error(
        models.post("responses", json={"model": "thinker", "input": "hi", "reasoning": {"effort": "minimal"}})
    )
    assert (minimal["code"], minimal["param"]) == ("unsupported_value", "reasoning.effort")
    assert "Supported values are: 'low', 'medium', and 'high'." in minimal["message"]
    classic = error(
        models.post("chat/completions", json={"model": "Sales-GPT", "messages": HELLO, "reasoning_effort": "low"})
    )
    assert (classic["code"], classic["param"]) == ("unsupported_parameter", "reasoning_effort")
    early = [{"role": "developer", "content": "Be brief."}, *HELLO]
    role = error(models.post("chat/completions", json={"model": "early-o1", "messages": early}))
    assert (role["code"], role["param"]) == ("unsupported_value", "messages[0].role")


def test_a_responses_only_model_refuses_chat_and_pro_models_do_not_stream(models: httpx.Client) -> None:
    chat = error(models.post("chat/completions", json={"model": "deep-thinker", "messages": HELLO}))
    assert chat["code"] == "OperationNotSupported"
    streamed = error(models.post("responses", json={"model": "deep-thinker", "input": "hi", "stream": True}))
    assert (streamed["code"], streamed["param"]) == ("unsupported_value", "stream")
    whole = models.post("responses", json={"model": "deep-thinker", "input": "hi"})
    assert whole.status_code == 200 and whole.json()["model"] == "gpt-5-pro-2025-10-06"


def test_an_unknown_model_refuses_temperature_and_names_itself(models: httpx.Client) -> None:
    sent = {"model": "house-model", "messages": HELLO}
    assert error(models.post("chat/completions", json={**sent, "temperature": 0.3}))["param"] == "temperature"
    answer = models.post("chat/completions", json=sent).json()
    assert answer["model"] == "Phi-4-mini-flash"  # not an OpenAI model: no version suffix


def test_summaries_stream_for_o4_mini_when_asked(models: httpx.Client) -> None:
    body = {"model": "thinker", "input": "hi", "stream": True, "reasoning": {"effort": "low", "summary": "auto"}}
    raw = models.post("responses", json=body).text
    assert "response.reasoning_summary_text.delta" in raw


def test_a_slow_thinker_sends_keep_alive_comments_before_its_first_word(models: httpx.Client) -> None:
    raw = models.post("responses", json={"model": "slow-thinker", "input": "hi", "stream": True}).content
    before_first_word = raw[: raw.index(b"response.output_text.delta")]
    assert before_first_word.count(b": keep-alive\n\n") == 11  # every 15 s of 180 s, the last interval ends in words


def test_the_standalone_simulator_serves_the_model_deployments_on_request() -> None:
    from desktop.simulator.__main__ import _parse

    names = [d.name for d in _parse(["--models"]).deployments]
    assert "Sales-GPT" in names and "gpt-4.1" in names
    assert [d.name for d in _parse([]).deployments] == ["gpt-4.1", "gpt-4o-mini", "o4-mini"]
