"""The chat window's controller without widgets: real history, the chat service and the simulator."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.client import AzureOpenAIClient
from desktop.config import Configuration, Deployment, Profile, SettingsStore
from desktop.services import (
    AnswerGrew,
    ChatService,
    ChatWindowController,
    ConversationShown,
    DraftRefused,
    DraftSaved,
    MessageAction,
    MessageAdded,
    MessageChanged,
    MessageView,
    Notice,
    Outcome,
    SearchChanged,
    SidebarReset,
    SidebarRowChanged,
    TextDelta,
    TurnChanged,
    TurnEnded,
    TurnTarget,
    WindowEvent,
)
from desktop.services import _chat_window as chat_window
from desktop.simulator import Fault, FaultKind, Simulator
from desktop.storage import HistoryError, HistoryStore


async def drain() -> None:
    """Let every ready task run a few steps (no wall-clock wait)."""
    for _ in range(50):
        await asyncio.sleep(0)


class Harness:
    """The controller plus what it published, and a sleep the test releases by hand."""

    def __init__(
        self,
        store: HistoryStore,
        client: AzureOpenAIClient,
        configuration: Configuration,
        *,
        resolve: Callable[[int], Awaitable[TurnTarget]] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """`resolve` defaults to the shared client and the conversation's deployment; `clock` to the service's."""
        self.events: list[WindowEvent] = []
        self.sleeps: list[float] = []
        self.release = asyncio.Event()

        async def to_client(conversation_id: int) -> TurnTarget:
            conv = store.get_conversation(conversation_id)
            return TurnTarget(
                client=client,
                deployment=(conv.deployment if conv else None) or "gpt-4.1",
                max_output_tokens=conv.params.get("max_output_tokens") if conv else None,
            )

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            await self.release.wait()
            self.release.clear()

        service = ChatService(store, resolve or to_client, **({"clock": clock} if clock is not None else {}))
        self.controller = ChatWindowController(store, configuration, service, sleep=sleep)
        self.controller.subscribe(self.events.append)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def views(self) -> list[MessageView]:
        """Every message view published, in order (added or changed)."""
        return [e.message for e in self.events if isinstance(e, MessageAdded | MessageChanged)]

    async def until(self, predicate: Any) -> None:
        await self.controller.settled(predicate)

    async def turn(self, start: Any) -> TurnEnded:
        before = len(self.of(TurnEnded))
        start()
        await self.until(lambda: len(self.of(TurnEnded)) > before)
        return self.of(TurnEnded)[-1]  # type: ignore[no-any-return]


@pytest.fixture
def configuration(tmp_path: Path) -> Configuration:
    config = Configuration(SettingsStore(tmp_path / "config"))
    config.load()
    config.put_profile(
        Profile(
            id="a",
            display_name="Contoso",
            endpoint="https://contoso.openai.azure.com/openai/v1/",
            deployments=(Deployment("gpt-4.1", "gpt-4.1"), Deployment("mini", "gpt-4o-mini")),
        )
    )
    config.update_app(active_profile_id="a", max_retries=2)
    return config


@pytest.fixture
def harness(
    store: HistoryStore, client: AzureOpenAIClient, configuration: Configuration, arun: Any
) -> Iterator[Harness]:
    h = Harness(store, client, configuration)
    h.controller.start()
    yield h
    arun(h.controller.aclose())


def test_a_wait_over_a_minute_is_an_error_with_the_time_and_no_automatic_retry(
    harness: Harness, sim: Simulator, arun: Any
) -> None:
    sim.push_fault(Fault(kind=FaultKind.STATUS, status=429, headers={"retry-after": "90"}), times=10)
    ended = arun(harness.turn(lambda: harness.controller.send("hi")))
    assert ended.outcome is Outcome.FAILED
    assert len(sim.requests) == 1
    assert harness.sleeps == []
    shown = harness.controller.messages()[-1]
    assert shown.error_title == "Too many requests for now"
    assert "asks for a wait of 90 seconds. Try again after" in shown.error_text
    assert shown.action is MessageAction.RETRY


# A wait the client does not take itself (x-should-retry: false) and of a minute or less is a countdown.
def test_a_long_wait_retries_at_most_max_retries_times(harness: Harness, sim: Simulator, arun: Any) -> None:
    sim.push_fault(
        Fault(kind=FaultKind.STATUS, status=429, headers={"retry-after": "30", "x-should-retry": "false"}), times=10
    )

    async def go() -> TurnEnded:
        harness.controller.send("hi")
        for attempt in (1, 2):
            await harness.until(lambda: harness.controller.wait() is not None)
            wait = harness.controller.wait()
            assert wait is not None
            assert (wait.attempt, wait.of, wait.seconds, wait.automatic) == (attempt, 2, 30.0, True)
            harness.release.set()
            await harness.until(lambda: harness.controller.wait() is None)
        await harness.until(lambda: not harness.controller.is_running())
        return harness.of(TurnEnded)[-1]  # type: ignore[no-any-return]

    ended = arun(go())
    assert ended.outcome is Outcome.FAILED
    assert len(sim.requests) == 3  # the first try and max_retries (2) automatic ones, then it stops
    assert harness.sleeps == [30.0, 30.0]


def test_stop_during_a_wait_sends_nothing_more(harness: Harness, sim: Simulator, arun: Any) -> None:
    sim.push_fault(
        Fault(kind=FaultKind.STATUS, status=429, headers={"retry-after": "30", "x-should-retry": "false"}), times=10
    )

    async def go() -> None:
        harness.controller.send("hi")
        await harness.until(lambda: harness.controller.wait() is not None)
        harness.controller.stop()
        await harness.until(lambda: not harness.controller.is_running())
        harness.release.set()
        await drain()  # a wrongly kept wait would now send again

    arun(go())
    assert len(sim.requests) == 1
    assert harness.controller.wait() is None


def test_a_message_sent_during_a_wait_ends_it_and_nothing_is_regenerated(
    harness: Harness, sim: Simulator, arun: Any
) -> None:
    sim.push_fault(Fault(kind=FaultKind.STATUS, status=429, headers={"retry-after": "30", "x-should-retry": "false"}))

    async def go() -> None:
        harness.controller.send("first")
        await harness.until(lambda: harness.controller.wait() is not None)
        sim.push_answer("answer to second")
        await harness.turn(lambda: harness.controller.send("second"))
        await harness.until(lambda: not harness.controller.is_running())
        harness.release.set()  # a wrongly kept wait would now regenerate
        await drain()  # a wrongly kept wait would now send again

    arun(go())
    assert len(sim.requests) == 2
    assert sim.requests[-1].json["input"][-1]["content"][0]["text"] == "second"
    shown = harness.controller.messages()
    assert [m.text for m in shown][-2:] == ["second", "answer to second"]
    assert shown[-1].outcome is Outcome.COMPLETE


def test_the_draft_is_saved_before_it_is_cleared(harness: Harness, sim: Simulator, arun: Any) -> None:
    sim.push_answer("ok")
    arun(harness.turn(lambda: harness.controller.send("keep me")))
    saved = harness.of(DraftSaved)
    assert len(saved) == 1
    added = [e.message.text for e in harness.of(MessageAdded)]
    assert added[0] == "keep me"
    assert harness.events.index(saved[0]) < harness.events.index(harness.of(MessageAdded)[0])


def test_the_window_hears_of_a_send_once_its_request_is_on_the_wire(
    harness: Harness, sim: Simulator, arun: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Drawing the new rows, the sidebar and the composer before the request goes out delays the first words; the
    # request is sent first. With the fallback out of reach, only the sent request can let the events through.
    monkeypatch.setattr(chat_window, "LONGEST_HOLD_S", 3600.0)
    sim.push_fault(Fault(kind=FaultKind.STALL_MID_STREAM, after_deltas=2))

    async def go() -> None:
        before = len(harness.events)
        harness.controller.send("hi")
        assert len(harness.events) == before  # nothing before the request is on the wire
        await harness.until(lambda: harness.of(MessageAdded))
        assert harness.controller.is_running()  # let through by the sent request, not by the turn's end
        kinds = [type(e) for e in harness.events[before:]]
        assert kinds.index(TurnChanged) < kinds.index(DraftSaved) < kinds.index(MessageAdded)  # in their order
        harness.controller.stop()
        await harness.until(lambda: harness.of(TurnEnded))

    arun(go())
    assert harness.controller.messages()[0].text == "hi"


def test_a_send_that_cannot_go_out_yet_is_shown_within_the_longest_hold(
    store: HistoryStore, configuration: Configuration, arun: Any
) -> None:
    # No chat service yet (the first moments after the paint): the request cannot be sent, the send shows anyway.
    events: list[WindowEvent] = []
    controller = ChatWindowController(store, configuration)
    controller.subscribe(events.append)
    controller.start()

    async def go() -> None:
        before = len(events)
        controller.send("hello")
        assert len(events) == before
        await controller.settled(lambda: any(isinstance(e, TurnChanged) and e.running for e in events))
        controller.stop()
        await controller.settled(lambda: any(isinstance(e, TurnEnded) for e in events))

    arun(go())
    arun(controller.aclose())


def test_a_send_refused_before_it_goes_out_is_said_at_once(harness: Harness, store: HistoryStore, arun: Any) -> None:
    def locked(*_a: Any, **_k: Any) -> Any:
        raise HistoryError("The history is locked by another program.")

    store.create_conversation = locked  # type: ignore[method-assign]

    async def go() -> None:
        harness.controller.send("keep me")
        assert [e.reason for e in harness.of(DraftRefused)] == ["The history is locked by another program."]

    arun(go())
    assert [e.reason for e in harness.of(DraftRefused)] == ["The history is locked by another program."]


def test_a_failed_save_refuses_the_draft(harness: Harness, store: HistoryStore, arun: Any) -> None:
    def full(*_a: Any, **_k: Any) -> Any:
        raise HistoryError("Your disk is full.")

    store.add_user_message = full  # type: ignore[method-assign]
    arun(harness.turn(lambda: harness.controller.send("keep me")))
    assert not harness.of(DraftSaved)
    assert [e.reason for e in harness.of(DraftRefused)] == ["Your disk is full."]
    assert not harness.controller.is_running()


def test_search_has_one_row_per_conversation_and_an_empty_query_shows_the_list(
    harness: Harness, sim: Simulator, arun: Any
) -> None:
    sim.push_answer("Oslo, of course. Oslo!")
    arun(harness.turn(lambda: harness.controller.send("Is it Oslo?")))
    harness.controller.search("Oslo")
    results = harness.of(SearchChanged)[-1].results
    assert results is not None
    assert len(results) == 1
    harness.controller.search("   ")
    assert harness.of(SearchChanged)[-1] == SearchChanged("", None)


def test_a_turn_changes_one_sidebar_row_and_never_reloads_the_list(
    harness: Harness, store: HistoryStore, sim: Simulator, arun: Any
) -> None:
    resets = len(harness.of(SidebarReset))
    sim.push_answer("ok")
    arun(harness.turn(lambda: harness.controller.send("hello")))
    assert len(harness.of(SidebarReset)) == resets
    rows = harness.of(SidebarRowChanged)
    assert rows
    assert rows[-1].row.title == "hello"
    assert not rows[-1].row.streaming
    assert any(r.row.streaming for r in rows)


def test_the_header_follows_the_conversations_own_connection(
    harness: Harness, configuration: Configuration, store: HistoryStore
) -> None:
    configuration.put_profile(
        Profile(
            id="demo",
            display_name="Demo",
            endpoint="http://127.0.0.1/openai/v1/",
            deployments=(Deployment("sim"),),
            is_demo=True,
        )
    )
    controller = harness.controller
    assert not controller.header().demo
    controller.use_for_session("demo")
    assert controller.header().demo
    assert [c.name for c in controller.header().deployments] == ["sim"]
    own = store.create_conversation("mine", profile_id="a", deployment="mini")
    controller.open(own.id)
    header = controller.header()
    assert (header.demo, header.connection_name, header.deployment) == (False, "Contoso", "mini")
    assert [c.label for c in header.deployments] == ["gpt-4.1", "mini · gpt-4o-mini"]
    controller.set_deployment("sim")  # another connection's deployment is refused
    assert store.get_conversation(own.id).deployment == "mini"  # type: ignore[union-attr]
    controller.new_chat()
    assert controller.header().demo
    configuration.update_app(active_profile_id="a")  # unchanged: the session's demo choice stays
    controller.settings_changed()
    assert controller.header().demo
    configuration.put_profile(Profile(id="b", display_name="Fabrikam", endpoint="https://f.openai.azure.com/"))
    configuration.update_app(active_profile_id="b")
    controller.settings_changed()
    assert not controller.header().demo
    assert controller.header().connection_name == "Fabrikam"


def test_opening_a_conversation_mid_answer_shows_its_live_text(harness: Harness, sim: Simulator, arun: Any) -> None:
    sim.push_fault(Fault(kind=FaultKind.STALL_MID_STREAM, after_deltas=2))

    async def go() -> None:
        harness.controller.send("tell me")
        await harness.until(
            lambda: any(m.text and m.outcome is Outcome.STREAMING for m in harness.controller.messages())
        )
        cid = harness.controller.current_id
        assert cid is not None
        harness.controller.new_chat()
        harness.controller.open(cid)
        shown = harness.of(ConversationShown)[-1]
        assert shown.running
        assert shown.messages[-1].outcome is Outcome.STREAMING
        assert shown.messages[-1].text
        harness.controller.stop()
        await harness.until(lambda: not harness.controller.is_running())

    arun(go())
    assert harness.controller.messages()[-1].outcome is Outcome.STOPPED
    assert not [n for n in harness.of(Notice) if "wrong" in n.text]


def test_continue_without_a_filtered_message_leaves_it_out_until_put_back(
    harness: Harness, sim: Simulator, arun: Any
) -> None:
    sim.push_answer("first answer")
    arun(harness.turn(lambda: harness.controller.send("a harmless question")))
    sim.push_fault(Fault(kind=FaultKind.PROMPT_FILTERED))
    arun(harness.turn(lambda: harness.controller.send("the flagged words")))
    blocked = harness.controller.messages()[-1]
    assert blocked.outcome is Outcome.FILTERED
    assert blocked.action is MessageAction.LEAVE_OUT

    harness.controller.act(blocked.id, MessageAction.LEAVE_OUT)
    question, answer = harness.controller.messages()[-2:]
    assert (question.text, question.left_out, question.error_title) == ("the flagged words", True, "Left out")
    assert (answer.left_out, answer.action, answer.error_title) == (
        True,
        MessageAction.PUT_BACK,
        "Left out of the conversation",
    )

    sim.push_answer("second answer")
    arun(harness.turn(lambda: harness.controller.send("the next question")))
    sent = json.dumps(sim.requests[-1].json)
    assert "the flagged words" not in sent
    assert "a harmless question" in sent and "the next question" in sent

    harness.controller.act(answer.id, MessageAction.PUT_BACK)
    assert not any(m.left_out for m in harness.controller.messages())
    sim.push_answer("third answer")
    arun(harness.turn(lambda: harness.controller.send("once more")))
    assert "the flagged words" in json.dumps(sim.requests[-1].json)


def test_a_request_that_can_never_fit_shortens_the_answer_limit_and_answers_again(
    harness: Harness, sim: Simulator, store: HistoryStore, arun: Any
) -> None:
    sim.push_fault(Fault(kind=FaultKind.STATUS, status=429, headers={"retry-after": "86400"}))
    arun(harness.turn(lambda: harness.controller.send("a long question")))
    failed = harness.controller.messages()[-1]
    assert failed.error_title == "This request is larger than the deployment allows"
    assert failed.action is MessageAction.SHORTEN_ANSWER_LIMIT
    assert harness.controller.wait() is None and harness.sleeps == []  # no countdown
    sim.push_answer("a shorter answer")
    arun(harness.turn(lambda: harness.controller.act(failed.id, MessageAction.SHORTEN_ANSWER_LIMIT)))
    cid = harness.controller.current_id
    assert cid is not None
    conv = store.get_conversation(cid)
    assert conv is not None and conv.params["max_output_tokens"] == 4000
    assert sim.requests[-1].json["max_output_tokens"] == 4000
    assert harness.controller.messages()[-1].text == "a shorter answer"


def test_our_own_bug_ends_the_turn_plainly_and_the_window_can_go_on(
    store: HistoryStore, configuration: Configuration, arun: Any, logfail: Any
) -> None:
    from desktop.services._words import say

    async def broken(conversation_id: int) -> TurnTarget:
        raise ValueError("a bug in resolving the target")

    logfail.allow("desktop.services._chat_window", "failed")
    events: list[WindowEvent] = []
    controller = ChatWindowController(store, configuration, ChatService(store, broken))
    controller.subscribe(events.append)
    controller.start()

    async def go() -> None:
        controller.send("hello")
        await controller.settled(lambda: any(isinstance(e, TurnEnded) for e in events))

    arun(go())
    ended = [e for e in events if isinstance(e, TurnEnded)]
    assert ended[-1].outcome is Outcome.FAILED
    assert not controller.is_running()
    shown = controller.messages()[-1]
    assert (shown.error_title, shown.error_text) == say("bug")
    assert "a bug in resolving" not in shown.error_text  # the details stay in the log
    arun(controller.aclose())


def test_words_that_arrive_together_reach_the_window_as_one_update(
    harness: Harness, sim: Simulator, arun: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network read brings many deltas at once: the window gets one AnswerGrew for them (not one each), before
    any other event, and no word is lost or repeated."""
    answer = "many small words " * 30
    sim.push_answer(answer)
    chat = harness.controller.chat
    send = chat.send
    pieces: list[str] = []

    def split_send(*args: Any, **kwargs: Any) -> Any:
        async def split() -> Any:
            async with contextlib.aclosing(send(*args, **kwargs)) as events:
                async for event in events:
                    if not isinstance(event, TextDelta):
                        yield event
                        continue
                    for char in event.text:  # each character a delta, all in the same turn of the event loop
                        pieces.append(char)
                        yield TextDelta(char)

        return split()

    monkeypatch.setattr(chat, "send", split_send)
    ended = arun(harness.turn(lambda: harness.controller.send("hi")))
    assert ended.outcome is Outcome.COMPLETE
    grew = harness.of(AnswerGrew)
    assert "".join(g.text for g in grew) == answer
    assert len(pieces) == len(answer)
    assert len(grew) <= answer.count(" ") + 1  # at most one update per delta the service got from the network
    final = next(i for i, e in enumerate(harness.events) if isinstance(e, MessageChanged) and e.message.text == answer)
    assert max(i for i, e in enumerate(harness.events) if isinstance(e, AnswerGrew)) < final
    assert harness.controller.messages()[-1].text == answer
