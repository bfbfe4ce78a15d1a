"""The model table: each deployment's real model name decides its family, never the deployment's alias."""

from __future__ import annotations

import pytest

from desktop.services._model_families import (
    CLASSIC,
    CLASSIC_CHAT_ONLY,
    CODEX,
    GPT5,
    GPT51,
    O1,
    O3_PRO,
    O_EARLY,
    O_MINI,
    O_SUMMARY,
    PRO,
    SAFE,
    family_for,
    normalise_model,
    split_model,
)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gpt-4o", CLASSIC),
        ("gpt-4o-mini", CLASSIC),
        ("gpt-4o-2024-11-20", CLASSIC),
        ("gpt-4.1", CLASSIC),
        ("gpt-4.1-nano", CLASSIC),
        ("gpt-4", CLASSIC_CHAT_ONLY),
        ("gpt-4-32k", CLASSIC_CHAT_ONLY),
        ("gpt-35-turbo", CLASSIC_CHAT_ONLY),
        ("gpt-5", GPT5),
        ("gpt-5-mini", GPT5),
        ("gpt-5-nano-2025-08-07", GPT5),
        ("gpt-5-chat", CLASSIC),
        ("gpt-5.1-chat", CLASSIC),
        ("gpt-5.1", GPT51),
        ("gpt-5.2", GPT51),
        ("gpt-5-pro", PRO),
        ("gpt-5-codex", CODEX),
        ("gpt-5.1-codex-mini", CODEX),
        ("codex-mini", CODEX),
        ("o1", O1),
        ("o1-mini", O_EARLY),
        ("o1-preview", O_EARLY),
        ("o3-mini", O_MINI),
        ("o3", O_SUMMARY),
        ("o4-mini", O_SUMMARY),
        ("o4-mini-2025-04-16", O_SUMMARY),
        ("O4-Mini", O_SUMMARY),
        ("o3-pro", O3_PRO),
        ("Phi-4", SAFE),
        ("o5", SAFE),
        ("gpt-40", SAFE),
        ("", SAFE),
        (None, SAFE),
    ],
)
def test_family_by_real_model_name(model: str | None, family: object) -> None:
    assert family_for(model) is family


def test_version_suffix_is_dropped() -> None:
    assert normalise_model(" GPT-4.1-2025-04-14 ") == "gpt-4.1"


def test_effort_values_per_family() -> None:
    assert GPT5.effort("minimal") == "minimal"
    assert GPT51.effort("minimal") is None  # gpt-5.1 says "none" where gpt-5 says "minimal"
    assert GPT51.effort("none") == "none"
    assert GPT5.effort("none") is None
    assert CLASSIC.effort("low") is None  # gpt-5-chat and gpt-4o take no effort at all
    assert PRO.efforts == ("high",)
    assert not CLASSIC.reasoning and GPT5.reasoning


def test_reasoning_families_refuse_sampling_and_take_developer_role() -> None:
    for family in (O1, O_MINI, O_SUMMARY, GPT5, GPT51, CODEX, PRO, O3_PRO):
        assert not family.sampling
        assert family.chat_max_tokens == "max_completion_tokens"
        assert family.instructions_role == "developer"


def test_responses_only_and_chat_only_models() -> None:
    assert PRO.apis == CODEX.apis == O3_PRO.apis == ("responses",)
    assert CLASSIC_CHAT_ONLY.apis == ("chat",)
    assert PRO.long_thinking and not GPT5.long_thinking


def test_safe_family_sends_only_modern_names_and_no_reasoning() -> None:
    assert SAFE.apis == ("responses", "chat")
    assert SAFE.chat_max_tokens == "max_completion_tokens"
    assert SAFE.efforts == () and not SAFE.summaries


def test_models_azure_does_not_stream_get_their_answer_whole() -> None:
    # Azure's reasoning page: "Streaming: -" for o1, o3-pro and gpt-5-pro.
    assert not (O1.streams or PRO.streams or O3_PRO.streams)
    assert GPT5.streams and O_SUMMARY.streams and SAFE.streams
    assert not O3_PRO.summaries and PRO.summaries  # o3-pro has no reasoning summary
    assert CODEX.reads_files


def test_an_answers_model_name_splits_into_name_and_version() -> None:
    assert split_model("gpt-4.1-2025-04-14") == ("gpt-4.1", "2025-04-14")
    assert split_model("Phi-4-mini-flash") == ("Phi-4-mini-flash", None)
    assert split_model(None) == ("", None)


@pytest.mark.parametrize(
    "model", ["gpt-4o-audio-preview", "gpt-4o-realtime-preview", "gpt-4o-mini-tts", "gpt-realtime"]
)
def test_audio_and_realtime_models_read_no_files(model: str) -> None:
    assert family_for(model) is CLASSIC_CHAT_ONLY and not CLASSIC_CHAT_ONLY.reads_files
