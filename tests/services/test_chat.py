"""Whole turns through the chat service against the simulator, with the database checked after each."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from desktop.client import AzureOpenAIClient
from desktop.services import (
    AnswerStarted,
    ChatService,
    ErrorAction,
    Finished,
    ReasoningDelta,
    RequestSent,
    Retrying,
    TextDelta,
    TurnBusyError,
    TurnSetupError,
    TurnStarted,
    TurnTarget,
    UsageReport,
    UserError,
    make_title,
)
from desktop.simulator import Fault, FaultKind, Simulator
from desktop.storage import Attachment, HistoryStore, Outcome, Role
from tests.services.conftest import collect, target_for


def service(store: HistoryStore, target: TurnTarget | Exception, **kw: Any) -> ChatService:
    async def resolve(conversation_id: int) -> TurnTarget:
        if isinstance(target, Exception):
            raise target
        return target

    return ChatService(store, resolve, **kw)


def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_send_streams_saves_and_titles(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    sim.push_answer("Hello **there**, the answer.")
    conv = store.create_conversation("New chat")
    chat = service(store, target_for(client, instructions="Be brief.", temperature=0.2, max_output_tokens=500))
    events = arun(collect(chat.send(conv.id, "What is the capital of Norway?\nThanks")))

    assert isinstance(events[0], TurnStarted)
    assert events[0].user_message is not None
    assert isinstance(events[1], RequestSent)  # the window draws the turn while Azure works, not before it is sent
    assert isinstance(events[2], AnswerStarted)
    assert text_of(events) == "Hello **there**, the answer."
    assert any(isinstance(e, UsageReport) for e in events)
    final = events[-1]
    assert isinstance(final, Finished)
    assert final.outcome is Outcome.COMPLETE
    assert final.error is None

    messages = store.load_messages(conv.id)
    assert [m.role for m in messages] == [Role.USER, Role.ASSISTANT]
    assert messages[1].text == "Hello **there**, the answer."
    assert messages[1].outcome is Outcome.COMPLETE
    assert messages[1].usage is not None
    assert messages[1].usage.output_tokens
    assert messages[1].deployment == "gpt-4.1"
    assert messages[1].api == "responses"
    assert messages[1].request_id
    assert store.get_conversation(conv.id).title == "What is the capital of Norway?"  # type: ignore[union-attr]

    body = sim.requests[-1].json
    assert sim.requests[-1].path.endswith("/responses")
    assert body["store"] is False
    assert body["instructions"] == "Be brief."
    assert body["temperature"] == 0.2
    assert body["max_output_tokens"] == 500
    assert body["input"][-1]["content"][0] == {"type": "input_text", "text": "What is the capital of Norway?\nThanks"}


def test_history_and_images_are_sent_on_chat_completions(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    conv = store.create_conversation()
    chat = service(store, target_for(client, "gpt-4o-mini", api="chat", instructions="You are kind."))
    arun(collect(chat.send(conv.id, "first")))
    png = Attachment("image/png", b"\x89PNG\r\n\x1a\nfake", "a.png")
    events = arun(collect(chat.send(conv.id, "second", [png])))
    assert events[-1].outcome is Outcome.COMPLETE
    body = sim.requests[-1].json
    assert sim.requests[-1].path.endswith("/chat/completions")
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    parts = body["messages"][-1]["content"]
    assert parts[0] == {"type": "text", "text": "second"}
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert body["stream_options"] == {"include_usage": True}
    stored = store.load_messages(conv.id)
    assert stored[2].attachments == (png,)


def test_unknown_api_falls_back_to_chat_and_is_remembered(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    remembered: list[str] = []
    conv = store.create_conversation()
    target = target_for(client, "gpt-4o-mini", api="unknown", remember_api=remembered.append)
    events = arun(collect(service(store, target).send(conv.id, "hi")))
    assert events[-1].outcome is Outcome.COMPLETE
    assert [r.path.rsplit("/", 1)[-1] for r in sim.requests] == ["responses", "completions"]
    assert remembered == ["chat"]
    assert store.load_messages(conv.id)[-1].api == "chat"


def stop_after(chat_events: Any, deltas: int, seen: list[Any], on_stop: Any = None) -> Any:
    """Iterate a turn in its own task and cancel that task (what Stop does) after `deltas` text deltas."""

    async def consume() -> None:
        async for event in chat_events:
            seen.append(event)
            if sum(isinstance(e, TextDelta) for e in seen) == deltas:
                if on_stop is not None:
                    on_stop()
                reached.set()

    async def scenario() -> None:
        task = asyncio.ensure_future(consume())
        await reached.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    reached = asyncio.Event()
    return scenario()


def test_stop_keeps_the_partial_answer(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    sim.push_fault(Fault(kind=FaultKind.STALL_MID_STREAM, after_deltas=5))
    conv = store.create_conversation()
    chat = service(store, target_for(client))
    seen: list[Any] = []
    arun(stop_after(chat.send(conv.id, "tell me a story"), 5, seen))
    answer = store.load_messages(conv.id)[-1]
    assert answer.outcome is Outcome.STOPPED
    assert answer.text == text_of(seen)
    assert answer.text
    assert not chat.is_running(conv.id)


def test_checkpoints_reach_the_database_while_streaming(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    sim.push_fault(Fault(kind=FaultKind.STALL_MID_STREAM, after_deltas=8))
    conv = store.create_conversation()
    ticks = iter(range(1000))
    chat = service(store, target_for(client), checkpoint_interval=1.0, clock=lambda: float(next(ticks)))
    saved: list[str] = []

    def crash_now() -> None:
        # Still streaming: what a crash at this moment would leave behind.
        row = store.load_messages(conv.id)[-1]
        assert row.outcome is Outcome.STREAMING
        saved.append(row.text)

    arun(stop_after(chat.send(conv.id, "story"), 8, [], crash_now))
    final = store.load_messages(conv.id)[-1].text
    assert saved
    assert saved[0]
    assert final.startswith(saved[0])


def test_content_filter_blocks_prompt(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    sim.push_fault(Fault(kind=FaultKind.PROMPT_FILTERED))
    conv = store.create_conversation()
    events = arun(collect(service(store, target_for(client)).send(conv.id, "something bad")))
    final = events[-1]
    assert final.outcome is Outcome.FILTERED
    assert final.error is not None
    assert final.error.action is ErrorAction.LEAVE_OUT
    assert final.filter_categories
    row = store.load_messages(conv.id)[-1]
    assert row.outcome is Outcome.FILTERED
    assert row.filter_categories == final.filter_categories
    assert row.error is not None
    assert row.error.title == "Blocked by the content filter"


@pytest.mark.parametrize(("deployment", "api"), [("gpt-4.1", "responses"), ("gpt-4o-mini", "chat")])
def test_content_filter_cuts_answer(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any, deployment: str, api: str
) -> None:
    sim.push_fault(Fault(kind=FaultKind.FILTER_CUT, after_deltas=4))
    conv = store.create_conversation()
    events = arun(collect(service(store, target_for(client, deployment, api=api)).send(conv.id, "go")))  # type: ignore[arg-type]
    final = events[-1]
    assert final.outcome is Outcome.FILTERED
    assert final.filter_categories
    row = store.load_messages(conv.id)[-1]
    assert row.outcome is Outcome.FILTERED
    assert row.text == text_of(events) != ""


def test_rate_limit_retry_is_reported_then_succeeds(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    sim.push_fault(Fault(kind=FaultKind.STATUS, status=429, headers={"retry-after": "3"}))
    conv = store.create_conversation()
    events = arun(collect(service(store, target_for(client)).send(conv.id, "hi")))
    retrying = [e for e in events if isinstance(e, Retrying)]
    assert retrying == [Retrying(1, 2, 3.0, "rate limit")]
    assert events[-1].outcome is Outcome.COMPLETE


@pytest.mark.parametrize(
    ("fault", "title", "action"),
    [
        (Fault(kind=FaultKind.STATUS, status=500), "Azure had a problem", ErrorAction.RETRY),
        (
            Fault(kind=FaultKind.STATUS, status=429, headers={"retry-after": "120"}),
            "Too many requests for now",
            ErrorAction.RETRY,
        ),
        (Fault(kind=FaultKind.DROP_MID_STREAM, after_deltas=3), "The answer was cut off", ErrorAction.RETRY),
        (
            Fault(kind=FaultKind.MALFORMED_SSE, after_deltas=3),
            "The rest of the answer could not be read",
            ErrorAction.RETRY,
        ),
        (Fault(kind=FaultKind.NO_TERMINAL), "The answer was cut off", ErrorAction.RETRY),
    ],
)
def test_failures_are_saved_with_plain_words(
    store: HistoryStore,
    sim: Simulator,
    client: AzureOpenAIClient,
    arun: Any,
    fault: Fault,
    title: str,
    action: ErrorAction,
) -> None:
    sim.push_fault(fault, times=3)
    conv = store.create_conversation()
    events = arun(collect(service(store, target_for(client)).send(conv.id, "hi")))
    final = events[-1]
    assert final.outcome is Outcome.FAILED
    assert final.error is not None
    assert (final.error.title, final.error.action) == (title, action)
    assert final.error.request_id
    row = store.load_messages(conv.id)[-1]
    assert row.outcome is Outcome.FAILED
    assert row.error is not None
    assert row.error.title == title
    assert row.text == text_of(events)
    if action is ErrorAction.WAIT_AND_RETRY:
        assert final.error.retry_after == 120


def test_wrong_key_and_missing_deployment(store: HistoryStore, sim: Simulator, arun: Any) -> None:
    bad = AzureOpenAIClient(base_url=sim.base_url, api_key="wrong-key")
    conv = store.create_conversation()
    events = arun(collect(service(store, target_for(bad)).send(conv.id, "hi")))
    assert events[-1].error.title == "The API key was not accepted"
    assert events[-1].error.action is ErrorAction.OPEN_SETTINGS
    arun(bad.aclose())
    good = AzureOpenAIClient(base_url=sim.base_url, api_key=sim.api_key)
    events = arun(collect(service(store, target_for(good, "no-such-deployment")).send(conv.id, "hi")))
    assert events[-1].error.title == "This deployment does not exist"
    assert "no-such-deployment" in events[-1].error.explanation
    arun(good.aclose())


def test_setup_error_is_saved_and_user_message_kept(store: HistoryStore, arun: Any) -> None:
    conv = store.create_conversation()
    problem = TurnSetupError(UserError("Please sign in again", "Your sign-in expired.", ErrorAction.SIGN_IN))
    events = arun(collect(service(store, problem).send(conv.id, "hello")))
    assert events[-1].outcome is Outcome.FAILED
    assert events[-1].error.action is ErrorAction.SIGN_IN
    messages = store.load_messages(conv.id)
    assert messages[0].text == "hello"
    assert messages[1].error is not None
    assert messages[1].error.title == "Please sign in again"


def test_length_cut_then_continue(store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any) -> None:
    conv = store.create_conversation()
    chat = service(store, target_for(client, max_output_tokens=20))
    events = arun(collect(chat.send(conv.id, "long please")))
    final = events[-1]
    assert final.truncated
    assert final.answer is not None
    assert final.answer.error is not None
    assert final.answer.error.code == "length"
    events = arun(collect(chat.continue_answer(conv.id)))
    assert events[-1].outcome is Outcome.COMPLETE
    body = sim.requests[-1].json
    assert body["input"][-2]["role"] == "assistant"
    assert "Continue" in body["input"][-1]["content"][0]["text"]
    assert [m.role for m in store.load_messages(conv.id)] == [Role.USER, Role.ASSISTANT, Role.ASSISTANT]


def test_regenerate_and_edit_keep_replaced_messages_recoverable(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    conv = store.create_conversation()
    chat = service(store, target_for(client))
    sim.push_answer("first answer")
    arun(collect(chat.send(conv.id, "question")))
    sim.push_answer("second answer")
    arun(collect(chat.regenerate(conv.id)))
    current = store.load_messages(conv.id)
    assert [m.text for m in current] == ["question", "second answer"]
    assert [m.text for m in store.superseded_messages(conv.id)] == ["question", "first answer"]

    sim.push_answer("third answer")
    user_id = current[0].id
    arun(collect(chat.edit_and_resend(user_id, "better question")))
    assert [m.text for m in store.load_messages(conv.id)] == ["better question", "third answer"]


def test_reasoning_summary_streams_separately(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    conv = store.create_conversation()
    # The family comes from the real model (the deployment's name is an alias and is never read).
    target = target_for(client, "o4-mini", reasoning_effort="low", model="o4-mini")
    events = arun(collect(service(store, target).send(conv.id, "think")))
    assert any(isinstance(e, ReasoningDelta) for e in events)
    assert events[-1].outcome is Outcome.COMPLETE
    assert sim.requests[-1].json["reasoning"] == {"effort": "low", "summary": "auto"}
    answer = events[-1].answer
    assert answer.reasoning == "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    started = next(e for e in events if isinstance(e, AnswerStarted))
    assert answer.thinking_ms is not None and started.thinking_ms == answer.thinking_ms
    assert (answer.reasoning_effort, store.get_message(answer.id).reasoning) == ("low", answer.reasoning)  # type: ignore[union-attr]


def test_the_thinking_time_leaves_out_the_wait_before_a_retry(store: HistoryStore, sim: Simulator, arun: Any) -> None:
    now = [100.0]

    def clock() -> float:
        now[0] += 0.5  # every reading is half a second later
        return now[0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    sim.push_fault(Fault(kind=FaultKind.STATUS, status=429, headers={"retry-after": "30"}))
    client = AzureOpenAIClient(base_url=sim.base_url, api_key=sim.api_key, sleep=sleep)
    try:
        conv = store.create_conversation()
        events = arun(
            collect(service(store, target_for(client, "o4-mini", model="o4-mini"), clock=clock).send(conv.id, "think"))
        )
    finally:
        arun(client.aclose())
    assert any(isinstance(e, Retrying) for e in events)
    answer = events[-1].answer
    assert answer.thinking_ms is not None and 0 < answer.thinking_ms < 30_000


def test_turns_in_two_conversations_run_side_by_side(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    a = store.create_conversation()
    b = store.create_conversation()
    chat = service(store, target_for(client))
    sim.push_answer("answer one")
    sim.push_answer("answer two")

    async def both() -> list[list[Any]]:
        return list(await asyncio.gather(collect(chat.send(a.id, "one")), collect(chat.send(b.id, "two"))))

    ev_a, ev_b = arun(both())
    assert {text_of(ev_a), text_of(ev_b)} == {"answer one", "answer two"}
    assert store.load_messages(a.id)[-1].text == text_of(ev_a)
    assert store.load_messages(b.id)[-1].text == text_of(ev_b)


def test_one_turn_per_conversation(store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any) -> None:
    sim.push_fault(Fault(kind=FaultKind.STALL_MID_STREAM, after_deltas=2))
    conv = store.create_conversation()
    chat = service(store, target_for(client))

    async def run() -> None:
        first = chat.send(conv.id, "one")
        await first.__anext__()
        with pytest.raises(TurnBusyError):
            await chat.send(conv.id, "two").__anext__()
        await first.aclose()

    arun(run())
    assert not chat.is_running(conv.id)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("What is the capital of Norway?", "What is the capital of Norway?"),
        ("\n\n  # Heading **bold**\nmore", "Heading bold"),
        ("x" * 100, "x" * 60 + "…"),
        ("word " * 30, ("word " * 12).strip() + "…"),
        ("   ", "New chat"),
    ],
)
def test_make_title(text: str, title: str) -> None:
    assert make_title(text) == title


def test_checkpoints_by_the_clock_while_the_stream_pauses(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    sim.push_fault(Fault(kind=FaultKind.STALL_MID_STREAM, after_deltas=5))
    conv = store.create_conversation()
    ticks: asyncio.Queue[None] = asyncio.Queue()
    saved = asyncio.Event()
    appended: list[str] = []
    append = store.append_answer

    def spy(message_id: int, text: str) -> None:
        append(message_id, text)
        appended.append(text)
        saved.set()

    store.append_answer = spy  # type: ignore[method-assign]

    async def tick(seconds: float) -> None:  # the saver's sleep: one second passes when the test says so
        await ticks.get()

    # The clock never moves for the inline check: only the timer can save.
    chat = service(store, target_for(client), checkpoint_interval=1.0, clock=lambda: 0.0, sleep=tick)

    async def scenario() -> tuple[str, str, Outcome]:
        turn = chat.send(conv.id, "story")
        seen: list[Any] = []
        while sum(isinstance(e, TextDelta) for e in seen) < 5:
            seen.append(await turn.__anext__())
        waiting = asyncio.ensure_future(turn.__anext__())  # the stream has paused: nothing more arrives
        assert not appended
        ticks.put_nowait(None)  # a second passes
        await saved.wait()
        row = store.get_message(next(e.message_id for e in seen if isinstance(e, AnswerStarted)))
        assert row is not None
        waiting.cancel()  # Stop
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        await turn.aclose()
        return text_of(seen), row.text, row.outcome

    sent, saved_text, outcome = arun(scenario())
    assert saved_text == sent  # everything received before the pause is on disk
    assert outcome is Outcome.STREAMING
    assert "".join(appended) == sent
    assert store.load_messages(conv.id)[-1].outcome is Outcome.STOPPED


def test_an_endless_answer_stops_at_the_cap_kept_and_marked_too_long(
    store: HistoryStore, sim: Simulator, client: AzureOpenAIClient, arun: Any
) -> None:
    sim.push_answer("word " * 400)
    conv = store.create_conversation()
    chat = service(store, target_for(client), max_answer_chars=1000)
    events = arun(collect(chat.send(conv.id, "go on forever")))
    final = events[-1]
    assert isinstance(final, Finished)
    assert final.too_long
    assert final.outcome is Outcome.STOPPED
    assert len(text_of(events)) == 1000
    row = store.load_messages(conv.id)[-1]
    assert row.text == ("word " * 400)[:1000]
    assert row.outcome is Outcome.STOPPED
    assert row.error is not None
    assert row.error.code == "too_long"
    assert not chat.is_running(conv.id)
