"""What a turn sends for each model family, and which of the app's choices an Azure refusal names (pure)."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest

from desktop.client._errors import make_status_error
from desktop.services._model_families import CLASSIC, GPT5, GPT51, O_EARLY, PRO, SAFE, ModelFamily, family_for
from desktop.services._request_params import adapted_words, choices_for, refusal_of, request_extras


def azure_400(code: str, param: str | None, message: str) -> Exception:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
    return make_status_error(400, {}, json.dumps(body).encode())


USER: dict[str, Any] = {"temperature": 0.3, "max_output_tokens": 500, "reasoning_effort": "minimal"}


def test_reasoning_family_sends_no_sampling_and_the_modern_limit_name() -> None:
    chat = choices_for(GPT5, (), "chat", **USER)
    assert request_extras(chat, "chat") == {"max_completion_tokens": 500, "reasoning_effort": "minimal"}
    assert chat.instructions_role == "developer" and chat.stream
    responses = choices_for(GPT5, (), "responses", **USER)
    assert request_extras(responses, "responses") == {
        "max_output_tokens": 500,
        "reasoning": {"effort": "minimal", "summary": "auto"},
    }


def test_effort_only_from_the_allowed_values_and_summary_without_effort() -> None:
    # gpt-5.1 says "none" where gpt-5 says "minimal": an effort it does not take is not sent, the summary still is.
    assert request_extras(choices_for(GPT51, (), "responses", **USER), "responses") == {
        "max_output_tokens": 500,
        "reasoning": {"summary": "auto"},
    }
    assert choices_for(GPT51, (), "chat", **{**USER, "reasoning_effort": "none"}).effort == "none"


def test_classic_and_unknown_models_get_sampling_and_no_reasoning() -> None:
    for family in (CLASSIC, SAFE):
        chat = choices_for(family, (), "chat", **USER)
        assert request_extras(chat, "chat") == {"max_completion_tokens": 500, "temperature": 0.3}
        assert chat.instructions_role == "system"
    assert family_for("gpt-35-turbo").chat_max_tokens == "max_tokens"
    assert "max_tokens" in request_extras(choices_for(family_for("gpt-35-turbo"), (), "chat", **USER), "chat")


def test_early_reasoning_models_take_instructions_as_a_user_message() -> None:
    assert choices_for(O_EARLY, (), "chat", **USER).instructions_role == "user"


def test_pro_models_do_not_stream() -> None:
    assert not choices_for(PRO, (), "responses", **USER).stream


def test_what_was_refused_is_not_sent_again() -> None:
    refused = {"temperature", "max_completion_tokens", "developer", "summary", "stream", "effort:minimal"}
    chat = choices_for(GPT5, refused, "chat", **USER)
    assert request_extras(chat, "chat") == {"max_tokens": 500}  # the other name of the limit
    assert chat.instructions_role == "system" and not chat.stream
    assert request_extras(choices_for(SAFE, refused, "chat", **USER), "chat") == {"max_tokens": 500}
    assert request_extras(choices_for(GPT5, refused, "responses", **USER), "responses") == {"max_output_tokens": 500}


@pytest.mark.parametrize(
    ("code", "param", "message", "family", "api", "learned"),
    [
        (
            "unsupported_parameter",
            "temperature",
            "Unsupported parameter: 'temperature' is not supported with this model.",
            SAFE,
            "chat",
            "temperature",
        ),
        (
            "unsupported_value",
            "temperature",
            "Unsupported value: 'temperature' does not support 0.3 with this model. Only the default (1) value is "
            "supported.",
            SAFE,
            "responses",
            "temperature",
        ),
        (
            "unsupported_parameter",
            "max_completion_tokens",
            "Unsupported parameter: 'max_completion_tokens' is not supported with this model.",
            SAFE,
            "chat",
            "max_completion_tokens",
        ),
        (
            "unsupported_value",
            "reasoning_effort",
            "Unsupported value: 'reasoning_effort' does not support 'minimal' with this model. Supported values "
            "are: 'low', 'medium', and 'high'.",
            GPT5,
            "chat",
            "effort:minimal",
        ),
        (
            "unsupported_parameter",
            "reasoning.effort",
            "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
            GPT5,
            "responses",
            "effort",
        ),
        (
            "unsupported_value",
            "messages[0].role",
            "Unsupported value: 'messages[0].role' does not support 'developer' with this model.",
            GPT5,
            "chat",
            "developer",
        ),
        (
            "unsupported_value",
            "stream",
            "Unsupported value: 'stream' does not support true with this model. Supported values are: false.",
            GPT5,
            "responses",
            "stream",
        ),
        ("BadRequest", None, "The request is invalid.", SAFE, "chat", None),
        # A refusal without `param` is read from Azure's words.
        (
            "unsupported_parameter",
            None,
            "Unsupported parameter: 'temperature' is not supported.",
            SAFE,
            "chat",
            "temperature",
        ),
    ],
)
def test_refusal_names_the_apps_own_choice(
    code: str,
    param: str | None,
    message: str,
    family: ModelFamily,
    api: Literal["responses", "chat"],
    learned: str | None,
) -> None:
    sent = choices_for(family, (), api, **USER)
    assert refusal_of(azure_400(code, param, message), sent) == learned


def test_what_the_user_typed_or_the_app_did_not_send_is_never_a_refusal_to_learn() -> None:
    sent = choices_for(GPT5, (), "chat", **USER)  # no temperature sent to gpt-5
    temperature = azure_400("unsupported_parameter", "temperature", "Unsupported parameter: 'temperature' ...")
    assert refusal_of(temperature, sent) is None
    content = azure_400("unsupported_value", "messages[1].content", "Unsupported value: 'messages[1].content' ...")
    assert refusal_of(content, sent) is None
    assert refusal_of(make_status_error(429, {}, b"{}"), sent) is None


def test_details_say_what_was_adapted() -> None:
    assert adapted_words(()) == ""
    words = adapted_words(("temperature", "effort:minimal"))
    assert words.startswith("Adapted to this model")
    assert "temperature" in words and "“minimal”" in words
