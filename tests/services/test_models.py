"""Each deployment's real model decides its requests: against the simulator, through Connections and the chat service.

The simulator's MODEL_DEPLOYMENTS have alias names unrelated to their models ("Sales-GPT" is gpt-4.1) and refuse what
Azure refuses for their model, so a request built from a guess (or with a parameter the model does not take) fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from desktop.client import AzureOpenAIClient
from desktop.config import ChatDefaults, Configuration, Deployment, SettingsStore
from desktop.services import ChatService, Finished, TurnTarget
from desktop.services._chat_window import ChatWindowController
from desktop.services._connections import Connections
from desktop.services._model_families import LONG_THINKING_TIMEOUT, SAFE, family_for
from desktop.services._window_events import Notice
from desktop.simulator import DEFAULT_DEPLOYMENTS, MODEL_DEPLOYMENTS, Fault, Simulator, SimulatorConfig
from desktop.storage import HistoryStore, Outcome
from tests.services.conftest import collect
from tests.services.test_connections_fixtures import World, key_world, world

__all__ = ["key_world", "world"]  # fixtures used here

INFERENCE = ("/openai/v1/responses", "/openai/v1/chat/completions")
# Every setting a user may choose: each family must send only what its model takes ("high" is an effort all take).
DEFAULTS = ChatDefaults(instructions="Be brief.", temperature=0.3, max_output_tokens=500, reasoning_effort="high")
MATRIX = [
    (d.name, api)
    for d in MODEL_DEPLOYMENTS
    if d.first_token_delay is None and family_for(d.model) is not SAFE
    for api in family_for(d.model).apis
]


@pytest.fixture
def sim(arun: Any) -> Iterator[Simulator]:
    simulator = Simulator(SimulatorConfig(deployments=DEFAULT_DEPLOYMENTS + MODEL_DEPLOYMENTS, time_scale=0.01))
    arun(simulator.start())
    yield simulator
    arun(simulator.stop())


def model_of(name: str) -> Any:
    return next(d for d in MODEL_DEPLOYMENTS if d.name == name)


def use(world: World, *deployments: Deployment, defaults: ChatDefaults = DEFAULTS) -> None:
    profile = world.configuration.settings.profile("p1")
    assert profile is not None
    world.configuration.put_profile(
        replace(profile, deployments=deployments, default_deployment=deployments[0].name, chat_defaults=defaults)
    )


def chat_for(world: World, store: HistoryStore, configuration: Configuration | None = None) -> ChatService:
    connections = world.connections
    return ChatService(store, lambda cid: connections.target_for(store.get_conversation(cid)))


def inference(sim: Simulator) -> list[Any]:
    return [r for r in sim.requests if r.path in INFERENCE]


@pytest.mark.parametrize(("name", "api"), MATRIX)
def test_each_family_on_each_api_it_answers_gets_a_200_at_once(
    key_world: World, sim: Simulator, store: HistoryStore, arun: Any, name: str, api: str
) -> None:
    d = model_of(name)
    use(key_world, Deployment(name, d.model, d.version, api))  # type: ignore[arg-type]
    conv = store.create_conversation(profile_id="p1")
    events = arun(collect(chat_for(key_world, store).send(conv.id, "hello")))
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert finished.outcome is Outcome.COMPLETE, finished.error
    sent = inference(sim)
    assert [r.path.rsplit("/", 1)[-1] for r in sent] == ["responses" if api == "responses" else "completions"]
    body = sent[0].json
    family = family_for(d.model)
    assert ("temperature" in body) == family.sampling
    assert body["stream"] is family.streams if "stream" in body else not family.streams
    if api == "responses":
        assert body["max_output_tokens"] == 500 and body["instructions"] == "Be brief."
        assert (body.get("reasoning", {}).get("summary") == "auto") == family.summaries
    else:
        assert body[family.chat_max_tokens] == 500
        assert body["messages"][0] == {"role": family.instructions_role, "content": "Be brief."}
    assert store.load_messages(conv.id)[-1].text


def test_the_matrix_covers_every_family_of_the_table() -> None:
    from desktop.services import _model_families as table

    families = {id(family) for _pattern, family in table._TABLE}
    assert families == {id(family_for(model_of(name).model)) for name, _api in MATRIX}


def test_a_responses_only_model_never_goes_to_chat_and_a_chat_only_one_never_to_responses(
    key_world: World, sim: Simulator, store: HistoryStore, arun: Any
) -> None:
    # Nothing recorded about their API: the model alone decides, and the first request is the right one.
    use(key_world, Deployment("coder", "gpt-5-codex"), Deployment("legacy-chat", "gpt-35-turbo"))
    for name, path in (("coder", INFERENCE[0]), ("legacy-chat", INFERENCE[1])):
        sim.clear()
        conv = store.create_conversation(profile_id="p1", deployment=name)
        assert arun(collect(chat_for(key_world, store).send(conv.id, "hi")))[-1].outcome is Outcome.COMPLETE
        assert [r.path for r in inference(sim)] == [path]


def test_an_unknown_model_learns_from_one_refusal_and_remembers_it_after_a_restart(
    key_world: World, sim: Simulator, store: HistoryStore, arun: Any, tmp_path: Path
) -> None:
    use(key_world, Deployment("house-model"), defaults=ChatDefaults(temperature=0.3))
    conv = store.create_conversation(profile_id="p1")
    events = arun(collect(chat_for(key_world, store).send(conv.id, "hello")))
    assert events[-1].outcome is Outcome.COMPLETE
    # Responses (not offered: the fallback to Chat), then Chat refused `temperature` once, then Chat without it.
    sent = inference(sim)
    assert [r.path for r in sent] == [INFERENCE[0], INFERENCE[1], INFERENCE[1]]
    assert "temperature" in sent[1].json and "temperature" not in sent[2].json
    saved = key_world.saved_profile()["deployments"][0]
    assert (saved["api"], saved["refused"], saved["model_name"]) == ("chat", ["temperature"], "Phi-4-mini-flash")

    # A restart: a new Configuration loaded from the same files, new Connections.
    configuration = Configuration(SettingsStore(tmp_path / "config"))
    configuration.load()
    connections = Connections(configuration, key_world.keys, key_world.session_keys)
    try:
        target = arun(connections.target_for(store.get_conversation(conv.id)))
        assert (target.api, target.refused, target.model) == ("chat", frozenset({"temperature"}), "Phi-4-mini-flash")
        sim.clear()
        chat = ChatService(store, lambda cid: connections.target_for(store.get_conversation(cid)))
        assert arun(collect(chat.send(conv.id, "again")))[-1].outcome is Outcome.COMPLETE
        assert [r.path for r in inference(sim)] == [INFERENCE[1]]
        assert "temperature" not in inference(sim)[0].json
    finally:
        arun(connections.aclose())

    # The answer's Details say what was adapted.
    controller = ChatWindowController(store, configuration)
    answer = store.load_messages(conv.id)[-1]
    assert "Adapted to this model (it refused them): sent without the creativity setting (temperature)" in (
        controller.details(answer.id)
    )


def test_a_refusal_is_dropped_once_per_turn_never_in_a_loop(
    key_world: World, sim: Simulator, store: HistoryStore, arun: Any
) -> None:
    use(key_world, Deployment("Sales-GPT", "gpt-4.1", api="chat"), defaults=ChatDefaults(temperature=0.3))
    refusal = {
        "error": {
            "code": "unsupported_parameter",
            "param": "temperature",
            "message": "Unsupported parameter: 'temperature' is not supported with this model.",
        }
    }
    sim.push_fault(Fault(status=400, body=refusal), times=3)
    conv = store.create_conversation(profile_id="p1")
    events = arun(collect(chat_for(key_world, store).send(conv.id, "hello")))
    assert events[-1].outcome is Outcome.FAILED
    assert len(inference(sim)) == 2  # the first try, then once without temperature; the second refusal ends it


def test_a_refusal_of_what_the_user_typed_is_not_retried(
    key_world: World, sim: Simulator, store: HistoryStore, arun: Any
) -> None:
    use(key_world, Deployment("Sales-GPT", "gpt-4.1", api="responses"))
    body = {
        "error": {
            "code": "unsupported_value",
            "param": "input[0].content[0].text",
            "message": "Unsupported value: 'input[0].content[0].text' does not support this with this model.",
        }
    }
    sim.push_fault(Fault(status=400, body=body))
    conv = store.create_conversation(profile_id="p1")
    assert arun(collect(chat_for(key_world, store).send(conv.id, "hello")))[-1].outcome is Outcome.FAILED
    assert len(inference(sim)) == 1
    assert key_world.saved_profile()["deployments"][0]["refused"] == []


def test_the_picker_shows_the_model_an_answer_named_never_a_guess_from_the_alias(
    key_world: World, sim: Simulator, store: HistoryStore, arun: Any
) -> None:
    use(key_world, Deployment("Sales-GPT"), defaults=ChatDefaults())
    controller = ChatWindowController(store, key_world.configuration)
    assert [c.label for c in controller.header().deployments] == ["Sales-GPT"]  # nothing guessed from "GPT"
    conv = store.create_conversation(profile_id="p1")
    assert arun(collect(chat_for(key_world, store).send(conv.id, "hello")))[-1].outcome is Outcome.COMPLETE
    assert [c.label for c in controller.header().deployments] == ["Sales-GPT · gpt-4.1"]
    saved = key_world.saved_profile()["deployments"][0]
    assert (saved["model_name"], saved["model_version"]) == ("gpt-4.1", "2025-04-14")


def test_the_picker_shows_the_model_arm_discovery_found(world: World, sim: Simulator, arun: Any) -> None:
    world.entra_profile(sim.base_url, deployments=(Deployment("Sales-GPT"),), default_deployment="Sales-GPT")
    result = arun(world.connections.discover_deployments("p1", arm_base_url=sim.arm_url))
    assert result.source == "arm"
    known = world.configuration.settings.profile("p1")
    assert known is not None
    sales = known.deployments[0]
    assert (sales.model_name, sales.model_version, sales.model_format) == ("gpt-4.1", "2025-04-14", "OpenAI")
    store = HistoryStore(Path(world.settings_file).parent / "history.sqlite3")
    store.open()
    try:
        header = ChatWindowController(store, world.configuration).header()
        assert header.deployments[0].label == "Sales-GPT · gpt-4.1"
        assert "gpt-4.1 (2025-04-14)" in header.deployments[0].tooltip
    finally:
        store.close()


def test_long_thinking_models_get_a_long_wait_and_say_so_once(
    key_world: World, sim: Simulator, store: HistoryStore, arun: Any
) -> None:
    use(key_world, Deployment("deep-thinker", "gpt-5-pro", api="responses"), defaults=ChatDefaults())
    conv = store.create_conversation(profile_id="p1")
    target = arun(key_world.connections.target_for(conv))
    assert target.timeout is not None and target.timeout >= LONG_THINKING_TIMEOUT
    assert target.client.timeout.read is not None and target.client.timeout.read >= 600  # others: 10 minutes

    controller = ChatWindowController(store, key_world.configuration, chat_for(key_world, store))
    notices: list[str] = []
    controller.subscribe(lambda e: notices.append(e.text) if isinstance(e, Notice) else None)
    controller.open(conv.id)

    async def send(text: str) -> None:
        controller.send(text)
        await controller.settled(lambda: not controller.is_running())

    for text in ("first", "second"):
        arun(send(text))
    assert len(notices) == 1 and "gpt-5-pro" in notices[0] and "Stop works at any moment" in notices[0]
    assert "in one piece" in controller.header().deployments[0].tooltip
    assert store.load_messages(conv.id)[-1].outcome is Outcome.COMPLETE


# ---- long thinking: simulated time (the simulator's seconds last 1/100 s) -------------------------------------------

SLOW = model_of("slow-thinker")  # first word after 180 s, a keep-alive comment every 15 s


def slow_target(sim: Simulator, name: str, read_timeout: float) -> tuple[TurnTarget, AzureOpenAIClient]:
    client = AzureOpenAIClient(base_url=sim.base_url, api_key=sim.api_key, timeout=read_timeout, max_retries=0)
    return TurnTarget(client=client, deployment=name, api="responses", model=SLOW.model), client


def test_a_first_word_after_three_minutes_arrives_when_keep_alives_come_between(
    store: HistoryStore, sim: Simulator, arun: Any
) -> None:
    # The read timeout is 60 simulated seconds, between two bytes: 180 s of thinking pass thanks to the comments.
    target, client = slow_target(sim, SLOW.name, read_timeout=60 * sim.config.time_scale)
    try:
        conv = store.create_conversation()
        events = arun(collect(ChatService(store, lambda cid: _ready(target)).send(conv.id, "think hard")))
        assert events[-1].outcome is Outcome.COMPLETE
        assert store.load_messages(conv.id)[-1].text
    finally:
        arun(client.aclose())


def test_without_keep_alives_the_same_wait_is_a_timeout(store: HistoryStore, arun: Any) -> None:
    silent = replace(SLOW, name="silent-thinker", keep_alive=0.0)
    simulator = Simulator(SimulatorConfig(deployments=(silent,), time_scale=0.01))
    arun(simulator.start())
    target, client = slow_target(simulator, silent.name, read_timeout=60 * simulator.config.time_scale)
    try:
        conv = store.create_conversation()
        events = arun(collect(ChatService(store, lambda cid: _ready(target)).send(conv.id, "think hard")))
        finished = events[-1]
        assert isinstance(finished, Finished) and finished.outcome is Outcome.FAILED
        assert finished.error is not None
        assert "time" in f"{finished.error.title} {finished.error.explanation}".lower()  # it timed out waiting
    finally:
        arun(client.aclose())
        arun(simulator.stop())


@pytest.mark.parametrize("name", ["slow-thinker", "deep-thinker"])  # streamed, and asked for whole (gpt-5-pro)
def test_stop_during_the_long_wait_before_the_first_word(store: HistoryStore, arun: Any, name: str) -> None:
    thinker = replace(model_of(name), first_token_delay=180.0)
    simulator = Simulator(SimulatorConfig(deployments=(thinker,)))  # real seconds: the wait is three minutes
    arun(simulator.start())
    client = AzureOpenAIClient(base_url=simulator.base_url, api_key=simulator.api_key, timeout=600, max_retries=0)
    target = TurnTarget(client=client, deployment=name, api="responses", model=thinker.model)
    arrived = asyncio.Event()
    chat = ChatService(store, lambda cid: _ready(target))
    conv = store.create_conversation()

    async def scenario() -> None:
        loop = asyncio.get_running_loop()  # the simulator's thread tells this loop that the request arrived
        simulator.on_request = lambda record: loop.call_soon_threadsafe(arrived.set)
        task = asyncio.ensure_future(collect(chat.send(conv.id, "think hard")))
        await arrived.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        arun(scenario())
        answer = store.load_messages(conv.id)[-1]
        assert answer.outcome is Outcome.STOPPED and answer.text == ""
        assert not chat.is_running(conv.id)
    finally:
        arun(client.aclose())
        arun(simulator.stop())


async def _ready(target: TurnTarget) -> TurnTarget:
    return target


def test_a_settings_view_saved_after_discovery_keeps_what_was_learned(
    key_world: World, sim: Simulator, arun: Any
) -> None:
    from desktop.services._setup import ConnectionSetup

    use(key_world, Deployment("Sales-GPT"), Deployment("house-model"), defaults=ChatDefaults())
    draft = key_world.configuration.settings.profile("p1")  # what Settings shows: nothing known about the models
    assert draft is not None
    setup = ConnectionSetup(key_world.configuration, key_world.connections)
    result = arun(setup.discover("p1"))  # the data-plane listing names each deployment's model
    assert result.source == "data_plane"
    key_world.connections.record_refusal("p1", "house-model", "temperature")
    assert arun(setup.save(replace(draft, display_name="Contoso"))).ok  # the view saves its stale copy
    saved = key_world.configuration.settings.profile("p1")
    assert saved is not None and saved.display_name == "Contoso"
    assert [(d.model_name, d.refused) for d in saved.deployments] == [
        ("gpt-4.1", ()),
        ("Phi-4-mini-flash", ("temperature",)),
    ]
