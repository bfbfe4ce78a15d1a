"""The controller's thinking and per-chat settings, without widgets: real history, the chat service, the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.auth import KeyStore, SessionKeyStore
from desktop.client import AzureOpenAIClient
from desktop.config import ChatDefaults, Configuration, Deployment, InstructionsPreset, Profile, SettingsStore
from desktop.services import (
    Connections,
    MessageAction,
    MessageChanged,
    Outcome,
    TurnEnded,
    TurnTarget,
)
from desktop.services._turn_settings import NO_INSTRUCTIONS
from desktop.simulator import Simulator
from desktop.storage import HistoryStore
from tests.services.test_chat_window import Harness


class Clock:
    """The chat service's clock: each reading moves it on by `step` seconds."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 1000.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def configuration(tmp_path: Path, sim: Simulator) -> Configuration:
    config = Configuration(SettingsStore(tmp_path / "config"))
    config.load()
    config.put_profile(
        Profile(
            id="a",
            display_name="Contoso",
            endpoint=sim.base_url,
            deployments=(
                Deployment("o4-mini", "o4-mini", "2025-04-16", "responses"),
                Deployment("gpt-4.1", "gpt-4.1"),
                Deployment("Mystery"),
                Deployment("Five", "gpt-5"),
            ),
            default_deployment="o4-mini",
            chat_defaults=ChatDefaults(instructions="Answer in French.", reasoning_effort="minimal"),
        )
    )
    config.update_app(active_profile_id="a")
    return config


@pytest.fixture
def harness(
    store: HistoryStore,
    client: AzureOpenAIClient,
    configuration: Configuration,
    sim: Simulator,
    arun: Any,
    memory_keyring: Any,
) -> Iterator[Harness]:
    """The controller with the app's own target resolution (`Connections.target_for`): model, effort and preset."""
    keys = KeyStore()
    arun(keys.aset("a", sim.api_key))
    connections = Connections(configuration, keys=keys, session_keys=SessionKeyStore())

    async def resolve(conversation_id: int) -> TurnTarget:
        return await connections.target_for(store.get_conversation(conversation_id))

    h = Harness(store, client, configuration, resolve=resolve, clock=Clock(step=0.75))
    h.controller.start()
    yield h
    arun(h.controller.aclose())
    arun(connections.aclose())


def test_the_thinking_shows_open_while_the_model_thinks_then_closes_with_its_time(
    harness: Harness, store: HistoryStore, arun: Any
) -> None:
    ended = arun(harness.turn(lambda: harness.controller.send("Why is the sky blue?")))
    assert ended.outcome is Outcome.COMPLETE
    views = [v for v in harness.views() if v.reasoning]
    thinking = [v for v in views if not v.text]
    assert thinking and all(v.thinking_open and v.outcome is Outcome.STREAMING for v in thinking)
    assert thinking[0].reasoning != thinking[-1].reasoning  # it grew live
    assert thinking[0].thinking_title == "Thinking"
    answering = [v for v in views if v.text]
    assert answering and not any(v.thinking_open for v in answering)  # closed once the words came
    final = harness.controller.messages()[-1]
    assert final.reasoning.startswith("**Planning the answer**") and not final.thinking_open
    saved = store.get_message(final.id)
    assert saved is not None and saved.thinking_ms == final.thinking_ms
    assert final.thinking_ms is not None and final.thinking_ms % 750 == 0  # measured on the service's clock
    assert final.thinking_title == f"Thought for {round(final.thinking_ms / 1000)} s"


def test_thinking_is_opened_and_closed_as_an_action_of_the_answer(harness: Harness, arun: Any) -> None:
    arun(harness.turn(lambda: harness.controller.send("hi")))
    answer = harness.controller.messages()[-1]
    harness.controller.act(answer.id, MessageAction.TOGGLE_THINKING)
    assert harness.controller.messages()[-1].thinking_open
    assert harness.events[-1] == MessageChanged(harness.controller.messages()[-1])
    harness.controller.toggle_thinking(answer.id)
    assert not harness.controller.messages()[-1].thinking_open


def test_stopped_while_thinking_keeps_the_thinking(
    harness: Harness, sim: Simulator, store: HistoryStore, arun: Any
) -> None:
    sim.config.first_token_delay = 60.0  # the summary comes, then nothing until Stop

    async def go() -> TurnEnded:
        harness.controller.send("think hard")
        await harness.controller.settled(lambda: any(v.reasoning.endswith("clearly.") for v in harness.views()))
        harness.controller.stop()
        await harness.controller.settled(lambda: any(isinstance(e, TurnEnded) for e in harness.events))
        return next(e for e in harness.events if isinstance(e, TurnEnded))

    assert arun(go()).outcome is Outcome.STOPPED
    saved = store.load_messages(harness.controller.current_id or 0)[-1]
    assert saved.outcome is Outcome.STOPPED and saved.text == ""
    assert saved.reasoning.endswith("answer clearly.") and saved.thinking_ms is not None
    assert harness.controller.messages()[-1].reasoning == saved.reasoning


def test_the_efforts_offered_follow_the_model(harness: Harness) -> None:
    c = harness.controller
    header = c.header()
    assert (header.deployment, header.efforts.values, header.efforts.default) == (
        "o4-mini",
        ("low", "medium", "high"),
        None,
    )
    c.set_deployment("Five")
    assert c.header().efforts.values == ("minimal", "low", "medium", "high")
    assert c.header().efforts.default == "minimal"  # the connection's default, which gpt-5 accepts
    c.set_effort("minimal")
    assert c.header().effort == "minimal"
    c.set_deployment("o4-mini")  # o4-mini refuses "minimal": the choice is dropped, never sent
    assert c.header().effort is None
    c.set_effort("minimal")
    assert c.header().effort is None
    c.set_deployment("gpt-4.1")
    assert (
        c.header().efforts.values == () and c.header().efforts.why_none == "gpt-4.1 does not take a reasoning effort."
    )
    c.set_deployment("Mystery")
    assert c.header().efforts.values == () and "not known" in c.header().efforts.why_none


def test_effort_and_preset_change_mid_conversation_and_go_with_the_next_turn(
    harness: Harness, sim: Simulator, store: HistoryStore, arun: Any
) -> None:
    c = harness.controller
    assert c.header().preset == "Connection default"
    arun(harness.turn(lambda: c.send("first")))
    first = store.get_message(c.messages()[-1].id)
    assert first is not None and (first.reasoning_effort, first.preset) == (None, "Connection default")
    assert sim.requests[-1].json["reasoning"] == {"summary": "auto"}  # the thinking is asked for, no effort
    c.set_effort("high")
    c.set_preset("Concise")
    conv = store.get_conversation(c.current_id or 0)
    assert conv is not None and conv.params == {"reasoning_effort": "high", "preset": "Concise"}
    assert conv.instructions.startswith("Answer briefly")
    arun(harness.turn(lambda: c.send("second")))
    body = sim.requests[-1].json
    assert body["reasoning"]["effort"] == "high" and body["instructions"].startswith("Answer briefly")
    details = c.details(c.messages()[-1].id)
    assert "Reasoning effort: high" in details and "Instructions: Concise" in details
    assert "Thought for: " in details
    c.set_instructions("Talk like a pirate.")
    assert c.header().preset == "Custom"
    c.set_preset(NO_INSTRUCTIONS)
    assert (c.header().preset, c.header().instructions) == (NO_INSTRUCTIONS, "")


def test_a_new_chat_keeps_its_choices_until_it_is_created(harness: Harness, store: HistoryStore, arun: Any) -> None:
    c = harness.controller
    c.set_effort("low")
    c.set_preset("Translator")
    assert (c.header().effort, c.header().preset) == ("low", "Translator")
    arun(harness.turn(lambda: c.send("bonjour")))
    conv = store.get_conversation(c.current_id or 0)
    assert conv is not None and conv.params == {"reasoning_effort": "low", "preset": "Translator"}
    c.new_chat()
    assert (c.header().effort, c.header().preset) == (None, "Connection default")


def test_presets_saved_in_settings_are_offered_after_the_built_in_ones(
    harness: Harness, configuration: Configuration, sim: Simulator, store: HistoryStore, arun: Any
) -> None:
    c = harness.controller
    assert c.header().presets[:3] == (NO_INSTRUCTIONS, "Connection default", "Default assistant")
    configuration.update_app(instruction_presets=(InstructionsPreset("Legal review", "Check the contract's risks."),))
    c.settings_changed()
    assert c.header().presets[-1] == "Legal review"
    c.set_preset("Legal review")
    arun(harness.turn(lambda: c.send("Is clause 4 fair?")))
    assert sim.requests[-1].json["instructions"] == "Check the contract's risks."
    answer = store.get_message(c.messages()[-1].id)
    assert answer is not None and answer.preset == "Legal review"
