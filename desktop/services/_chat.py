"""The chat use case: one turn from the user's words to a saved, streamed answer.

A turn is an async generator of events. Stop = cancel the task iterating it: the partial answer is kept as "stopped".
Everything the user typed is committed before the request leaves; the answer row is created when its first words
arrive, checkpointed at least every `checkpoint_interval` seconds, and finalised with its outcome.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from desktop.auth import EntraSignInError
from desktop.client import (
    APIError,
    AzureOpenAIClient,
    BadRequestError,
    ChatCompletionStream,
    ResponseStream,
    RetryNotice,
    triggered_filter_categories,
)
from desktop.services._problems import classify, retry_reason, with_request_id
from desktop.services._user_error import LENGTH_CODE, TOO_LONG_CODE, Problem, UserError
from desktop.services._words import KEPT, say, wording
from desktop.storage import Attachment, HistoryError, HistoryStore, Message, MessageError, Outcome, Role, Usage

__all__ = [
    "MAX_ANSWER_CHARS",
    "TOO_LONG_CODE",
    "AnswerStarted",
    "ChatService",
    "Finished",
    "ReasoningDelta",
    "Retrying",
    "TextDelta",
    "TurnBusyError",
    "TurnEvent",
    "TurnSetupError",
    "TurnStarted",
    "TurnTarget",
    "UsageReport",
    "make_title",
]

_log = logging.getLogger(__name__)

ApiChoice = Literal["responses", "chat", "unknown"]
MAX_ANSWER_CHARS = 2_000_000
# Once an answer's words flow, its stream is read at most this often: a read per word (300 a second from a fast
# deployment) cost more CPU than showing the words, which the window does at most 20 times a second anyway. The
# first words are never held back; later ones wait at most this long before the window's own batching.
STREAM_READ_INTERVAL = 1 / 20
"""An answer stops here (about 1,000 pages): kept, and marked "too long", so an endless stream cannot fill memory."""
_CONTINUE_PROMPT = "Continue exactly where your previous answer stopped. Do not repeat anything."


# ---- events --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnStarted:
    """The turn began; `user_message` is the saved message (None for regenerate/continue of an existing one)."""

    conversation_id: int
    user_message: Message | None


@dataclass(frozen=True)
class AnswerStarted:
    """The first words arrived and the answer row exists."""

    message_id: int


@dataclass(frozen=True)
class TextDelta:
    """More answer text."""

    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    """More of the model's reasoning summary (reasoning models on the Responses API)."""

    text: str


@dataclass(frozen=True)
class Retrying:
    """The client is about to retry: retry `attempt` of `of`, after `delay` seconds, because of `reason`."""

    attempt: int
    of: int
    delay: float
    reason: str


@dataclass(frozen=True)
class UsageReport:
    """Token counts for the answer."""

    usage: Usage


@dataclass(frozen=True)
class Finished:
    """The turn ended. `error` is set when it failed (and `outcome` is FAILED); `answer` is the saved row."""

    outcome: Outcome
    answer: Message | None
    error: UserError | None = None
    filter_categories: tuple[str, ...] = ()
    truncated: bool = False
    too_long: bool = False  # stopped at MAX_ANSWER_CHARS; outcome STOPPED, saved with error code TOO_LONG_CODE


TurnEvent = TurnStarted | AnswerStarted | TextDelta | ReasoningDelta | Retrying | UsageReport | Finished


# ---- what a turn talks to ------------------------------------------------------------------------------------------


@dataclass
class TurnTarget:
    """Where a turn goes: resolved from the conversation's profile by the caller (connections)."""

    client: AzureOpenAIClient
    deployment: str
    api: ApiChoice = "unknown"
    auth_method: str = "api_key"
    instructions: str = ""
    temperature: float | None = None
    max_output_tokens: int | None = None
    reasoning_effort: str | None = None
    remember_api: Callable[[Literal["responses", "chat"]], None] = field(default=lambda api: None)


class TurnSetupError(Exception):
    """The conversation cannot be sent yet (no connection, no key, signed out); carries the words to show."""

    def __init__(self, error: UserError) -> None:
        super().__init__(error.title)
        self.error = error


class TurnBusyError(Exception):
    """A turn is already running in this conversation."""


ResolveTarget = Callable[[int], Awaitable[TurnTarget]]


def _setup_problem(key: str) -> Problem:
    row = wording(key)
    title, text = say(key)
    return Problem(title, text, row.action, category=row.category)


def make_title(text: str, limit: int = 60) -> str:
    """A conversation title from its first message: first line, Markdown marks dropped, cut at a word."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = re.sub(r"[#>*_`~\[\]]+", "", line).strip()
    line = re.sub(r"\s+", " ", line)
    if not line:
        return "New chat"
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] or line[:limit]
    return cut.rstrip(" ,.;:") + "…"


# ---- request building ----------------------------------------------------------------------------------------------


def _data_url(attachment: Attachment) -> str:
    return f"data:{attachment.mime};base64,{base64.b64encode(attachment.data).decode('ascii')}"


def _history(messages: Sequence[Message]) -> list[Message]:
    """The messages worth sending: user messages and answers with text (failed or empty answers left out, and the
    messages the user chose to continue without)."""
    kept = []
    for m in messages:
        if m.left_out:
            continue
        if m.role is Role.USER or (m.role is Role.ASSISTANT and m.text and m.outcome is not Outcome.FAILED):
            kept.append(m)
    return kept


def responses_input(history: Sequence[Message], extra_user: str | None = None) -> list[dict[str, Any]]:
    """The Responses API `input` list for a history."""
    items: list[dict[str, Any]] = []
    for m in _history(history):
        if m.role is Role.USER:
            parts: list[dict[str, Any]] = [{"type": "input_text", "text": m.text}]
            parts += [
                {"type": "input_image", "image_url": _data_url(a), "detail": "auto"}
                for a in m.attachments
                if a.mime.startswith("image/")
            ]
            items.append({"role": "user", "content": parts})
        else:
            items.append({"role": "assistant", "content": [{"type": "output_text", "text": m.text}]})
    if extra_user:
        items.append({"role": "user", "content": [{"type": "input_text", "text": extra_user}]})
    return items


def chat_messages(history: Sequence[Message], instructions: str, extra_user: str | None = None) -> list[dict[str, Any]]:
    """The Chat Completions `messages` list for a history, the system prompt first."""
    out: list[dict[str, Any]] = []
    if instructions.strip():
        out.append({"role": "system", "content": instructions})
    for m in _history(history):
        if m.role is Role.USER and m.attachments:
            parts: list[dict[str, Any]] = [{"type": "text", "text": m.text}]
            parts += [
                {"type": "image_url", "image_url": {"url": _data_url(a), "detail": "auto"}}
                for a in m.attachments
                if a.mime.startswith("image/")
            ]
            out.append({"role": "user", "content": parts})
        else:
            out.append({"role": m.role.value, "content": m.text})
    if extra_user:
        out.append({"role": "user", "content": extra_user})
    return out


def _is_unsupported_operation(exc: BaseException) -> bool:
    """Azure's answer when a deployment's model does not support the Responses API."""
    if not isinstance(exc, BadRequestError):
        return False
    text = f"{exc.code} {exc.message}".lower()
    return "operationnotsupported" in text or ("does not support" in text and "responses" in text)


# ---- the service ---------------------------------------------------------------------------------------------------


@dataclass
class _Answer:
    """The state of the answer being streamed."""

    text: list[str] = field(default_factory=list)
    message_id: int | None = None
    usage: Usage | None = None
    request_id: str | None = None
    model: str | None = None
    outcome: Outcome = Outcome.COMPLETE
    truncated: bool = False
    filter_categories: tuple[str, ...] = ()
    failure: UserError | None = None
    length: int = 0  # characters in `text`
    saved: int = 0  # how many pieces of `text` are in the database
    too_long: bool = False
    headers: dict[str, str] = field(default_factory=dict)  # of the stream's response (rate-limit headroom, region)

    @property
    def joined(self) -> str:
        return "".join(self.text)


class ChatService:
    """Drives turns: saves, sends, streams, checkpoints, finalises. Qt-free; one instance per app."""

    def __init__(
        self,
        store: HistoryStore,
        resolve_target: ResolveTarget,
        *,
        checkpoint_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        max_answer_chars: int = MAX_ANSWER_CHARS,
    ) -> None:
        self._store = store
        self._resolve = resolve_target
        self._interval = checkpoint_interval
        self._clock = clock
        self._sleep = sleep
        self._max_chars = max_answer_chars
        self._running: set[int] = set()

    def is_running(self, conversation_id: int) -> bool:
        """Whether a turn is streaming in that conversation."""
        return conversation_id in self._running

    # -- public turns ----------------------------------------------------------------------------------------------

    def send(
        self, conversation_id: int, text: str, attachments: Sequence[Attachment] = ()
    ) -> AsyncGenerator[TurnEvent, None]:
        """Save the user's message and stream the answer."""
        return self._turn(conversation_id, lambda: self._add_user(conversation_id, text, attachments))

    def regenerate(self, conversation_id: int) -> AsyncGenerator[TurnEvent, None]:
        """Answer the last user message again; the previous answer stays recoverable until the next edit."""

        def prepare() -> Message:
            messages = self._store.load_messages(conversation_id, limit=50)
            last_user = next((m for m in reversed(messages) if m.role is Role.USER), None)
            if last_user is None:
                raise TurnSetupError(_setup_problem("nothing_to_answer"))
            return self._store.edit_user_message(last_user.id, last_user.text)

        return self._turn(conversation_id, prepare)

    def edit_and_resend(self, message_id: int, text: str) -> AsyncGenerator[TurnEvent, None]:
        """Replace an earlier user message (and what followed it) and answer the new text."""
        original = self._store.get_message(message_id)
        if original is None:
            raise TurnSetupError(_setup_problem("message_gone"))
        return self._turn(original.conversation_id, lambda: self._store.edit_user_message(message_id, text))

    def continue_answer(self, conversation_id: int) -> AsyncGenerator[TurnEvent, None]:
        """Ask for the rest of an answer cut at the length limit; the rest arrives as a new answer."""
        return self._turn(conversation_id, lambda: None, extra_user=_CONTINUE_PROMPT)

    # -- the turn --------------------------------------------------------------------------------------------------

    def _add_user(self, conversation_id: int, text: str, attachments: Sequence[Attachment]) -> Message:
        if not text.strip() and not attachments:
            raise TurnSetupError(_setup_problem("nothing_to_send"))
        message = self._store.add_user_message(conversation_id, text, attachments)
        conversation = self._store.get_conversation(conversation_id)
        if conversation is not None and conversation.title in ("", "New chat"):
            self._store.rename(conversation_id, make_title(text))
        return message

    async def _turn(
        self,
        conversation_id: int,
        prepare: Callable[[], Message | None],
        *,
        extra_user: str | None = None,
    ) -> AsyncGenerator[TurnEvent, None]:
        if conversation_id in self._running:
            raise TurnBusyError("An answer is still arriving in this conversation.")
        self._running.add(conversation_id)
        try:
            user_message = prepare()  # committed before anything goes out
            yield TurnStarted(conversation_id, user_message)
            answer = _Answer()
            try:
                target = await self._resolve(conversation_id)
            except TurnSetupError as exc:
                yield self._finish_failed(conversation_id, answer, exc.error, target=None)
                return
            async for event in self._stream(conversation_id, target, answer, extra_user):
                yield event
        finally:
            self._running.discard(conversation_id)

    async def _stream(
        self, conversation_id: int, target: TurnTarget, answer: _Answer, extra_user: str | None
    ) -> AsyncGenerator[TurnEvent, None]:
        history = self._store.load_messages(conversation_id, limit=100_000)
        api: Literal["responses", "chat"] = "chat" if target.api == "chat" else "responses"
        last_checkpoint = self._clock()
        try:
            while True:
                notices: asyncio.Queue[RetryNotice] = asyncio.Queue()
                opening = asyncio.ensure_future(self._open(api, target, history, extra_user, notices.put_nowait))
                try:
                    async for notice in _notices_until(opening, notices):
                        yield Retrying(notice.attempt, notice.max_retries, notice.delay, retry_reason(notice.cause))
                    stream = opening.result()
                except BadRequestError as exc:
                    if api == "responses" and target.api == "unknown" and _is_unsupported_operation(exc):
                        _log.info("deployment %s has no Responses API; using Chat Completions", target.deployment)
                        api = "chat"
                        continue
                    raise
                finally:
                    if not opening.done():
                        opening.cancel()
                        with contextlib.suppress(BaseException):
                            await opening
                break
            if target.api == "unknown":
                target.remember_api(api)
            answer.request_id = stream.request_id
            answer.headers = stream.headers
            saver: asyncio.Future[None] | None = None
            try:
                async with stream:
                    if isinstance(stream, ResponseStream):
                        parts = _responses_parts(stream, answer)
                    else:
                        parts = _chat_parts(stream, answer)
                    async with contextlib.aclosing(parts):
                        async for kind, delta in parts:
                            if kind == "reasoning":
                                yield ReasoningDelta(delta)
                                continue
                            if answer.message_id is None:
                                row = self._store.begin_answer(
                                    conversation_id, model=answer.model, deployment=target.deployment, api=api
                                )
                                answer.message_id = row.id
                                # Saves by the clock, also while the stream pauses between words.
                                saver = asyncio.ensure_future(self._save_every_interval(answer))
                                yield AnswerStarted(row.id)
                                # The words flow: read the network in batches, not once per word (see the constant).
                                stream.min_read_interval = STREAM_READ_INTERVAL
                            room = self._max_chars - answer.length
                            text = delta[:room]
                            answer.too_long = len(delta) > room
                            answer.text.append(text)
                            answer.length += len(text)
                            if text:
                                yield TextDelta(text)
                            if answer.too_long:
                                answer.outcome = Outcome.STOPPED
                                break
                            now = self._clock()
                            if now - last_checkpoint >= self._interval:
                                self._save(answer)
                                last_checkpoint = now
            finally:
                if saver is not None:
                    saver.cancel()
            if answer.usage is not None:
                yield UsageReport(answer.usage)
            if answer.failure is not None:
                yield self._finish_failed(conversation_id, answer, answer.failure, target=target, api=api)
                return
            yield self._finish(conversation_id, answer, target, api)
        except (asyncio.CancelledError, GeneratorExit):
            # Stop: the task was cancelled, or the caller stopped iterating. Keep what arrived, marked "stopped".
            answer.outcome = Outcome.STOPPED
            self._finish(conversation_id, answer, target, api)
            raise
        except (APIError, EntraSignInError) as exc:
            error = self._classify(exc, target, answer)
            if isinstance(exc, BadRequestError) and exc.is_content_filter:
                answer.outcome = Outcome.FILTERED
                answer.filter_categories = error.filter_categories
            yield self._finish_failed(conversation_id, answer, error, target=target, api=api)
        except HistoryError:
            raise  # this computer's disk: the window says so (it is not a bug, and saving the failure would fail too)
        except Exception as exc:
            # Our own bug: said plainly in the chat, the traceback only in the log.
            _log.exception("unexpected failure in a turn of conversation %d", conversation_id)
            yield self._finish_failed(
                conversation_id, answer, self._classify(exc, target, answer), target=target, api=api
            )

    @staticmethod
    def _classify(exc: BaseException, target: TurnTarget, answer: _Answer) -> Problem:
        problem = classify(
            exc,
            auth_method=target.auth_method,
            deployment=target.deployment,
            received=answer.length > 0,
            headers=answer.headers,
        )
        return with_request_id(problem, answer.request_id)

    def leave_out(self, answer_id: int, left_out: bool = True) -> list[Message]:
        """Continue without a flagged turn (or put it back): the answer and the question it answered are left out of
        (or again part of) what later turns send. Returns both messages as they are now."""
        answer = self._store.get_message(answer_id)
        if answer is None:
            raise TurnSetupError(_setup_problem("message_gone"))
        ids = [answer.id]
        if answer.role is Role.ASSISTANT:
            before = self._store.load_messages(answer.conversation_id, limit=100_000, before_position=answer.position)
            question = next((m for m in reversed(before) if m.role is Role.USER), None)
            if question is not None:
                ids.insert(0, question.id)
        return self._store.set_left_out(ids, left_out)

    def _save(self, answer: _Answer) -> None:
        """Append what arrived since the last checkpoint (a small write, however long the answer is)."""
        if answer.message_id is None or answer.saved == len(answer.text):
            return
        pieces = len(answer.text)
        self._store.append_answer(answer.message_id, "".join(answer.text[answer.saved : pieces]))
        answer.saved = pieces

    async def _save_every_interval(self, answer: _Answer) -> None:
        while True:
            await self._sleep(self._interval)
            try:
                self._save(answer)
            except HistoryError as exc:  # e.g. the disk filled up: the answer keeps streaming, the next save retries
                _log.warning("could not save the answer so far: %s", exc)

    async def _open(
        self,
        api: Literal["responses", "chat"],
        target: TurnTarget,
        history: Sequence[Message],
        extra_user: str | None,
        on_retry: Callable[[RetryNotice], None],
    ) -> ResponseStream | ChatCompletionStream:
        if api == "responses":
            params: dict[str, Any] = {"input": responses_input(history, extra_user), "store": False}
            if target.instructions.strip():
                params["instructions"] = target.instructions
            if target.max_output_tokens:
                params["max_output_tokens"] = target.max_output_tokens
            if target.reasoning_effort:
                params["reasoning"] = {"effort": target.reasoning_effort, "summary": "auto"}
            if target.temperature is not None:
                params["temperature"] = target.temperature
            return await target.client.responses.create(
                model=target.deployment, stream=True, on_retry=on_retry, **params
            )
        chat_params: dict[str, Any] = {"stream_options": {"include_usage": True}}
        if target.max_output_tokens:
            chat_params["max_completion_tokens"] = target.max_output_tokens
        if target.reasoning_effort:
            chat_params["reasoning_effort"] = target.reasoning_effort
        if target.temperature is not None:
            chat_params["temperature"] = target.temperature
        return await target.client.chat.completions.create(
            messages=chat_messages(history, target.instructions, extra_user),
            model=target.deployment,
            stream=True,
            on_retry=on_retry,
            **chat_params,
        )

    # -- endings ---------------------------------------------------------------------------------------------------

    def _finish(
        self, conversation_id: int, answer: _Answer, target: TurnTarget, api: Literal["responses", "chat"]
    ) -> Finished:
        error = None
        if answer.too_long:
            title, text = say("answer_too_long", limit=f"{self._max_chars:,}")
            error = MessageError(title, text, code=TOO_LONG_CODE, request_id=answer.request_id)
        elif answer.truncated:
            title, text = say("answer_length")
            error = MessageError(title, text, code=LENGTH_CODE, request_id=answer.request_id)
        if answer.message_id is None:
            row = self._store.begin_answer(conversation_id, model=answer.model, deployment=target.deployment, api=api)
            answer.message_id = row.id
        saved = self._store.finish_answer(
            answer.message_id,
            answer.outcome,
            answer.joined,
            usage=answer.usage,
            error=error,
            request_id=answer.request_id,
            model=answer.model,
            filter_categories=answer.filter_categories,
        )
        return Finished(answer.outcome, saved, None, answer.filter_categories, answer.truncated, answer.too_long)

    def _finish_failed(
        self,
        conversation_id: int,
        answer: _Answer,
        error: UserError,
        *,
        target: TurnTarget | None,
        api: Literal["responses", "chat"] | None = None,
    ) -> Finished:
        """Save the failure on the answer row (created now if no words arrived) so history shows what happened."""
        outcome = Outcome.FILTERED if answer.outcome is Outcome.FILTERED else Outcome.FAILED
        if answer.message_id is None:
            row = self._store.begin_answer(
                conversation_id, model=answer.model, deployment=target.deployment if target else None, api=api
            )
            answer.message_id = row.id
        saved = self._store.finish_answer(
            answer.message_id,
            outcome,
            answer.joined,
            usage=answer.usage,
            error=MessageError(
                error.title,
                error.explanation,
                error.code,
                error.status,
                error.request_id,
                action=error.action.value,
                category=error.category.value,
                problem=error.to_json(),
            ),
            request_id=error.request_id or answer.request_id,
            model=answer.model,
            filter_categories=error.filter_categories or answer.filter_categories,
        )
        return Finished(outcome, saved, error, error.filter_categories or answer.filter_categories)


async def _notices_until(
    opening: asyncio.Future[Any], notices: asyncio.Queue[RetryNotice]
) -> AsyncIterator[RetryNotice]:
    """Yield retry notices while the request is being opened; return once it is open (or failed)."""
    while True:
        getter = asyncio.ensure_future(notices.get())
        try:
            await asyncio.wait({opening, getter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            yield getter.result()
            continue
        while not notices.empty():
            yield notices.get_nowait()
        return


def _categories(results: Any) -> tuple[str, ...]:
    return tuple(triggered_filter_categories(results))


async def _responses_parts(stream: ResponseStream, answer: _Answer) -> AsyncGenerator[tuple[str, str], None]:
    """('text' | 'reasoning', words) from a Responses stream; fills usage and the ending into `answer`."""
    async for event in stream:
        kind = event.type
        if kind in {"response.output_text.delta", "response.refusal.delta"}:
            if event.delta:
                yield "text", event.delta
        elif kind == "response.reasoning_summary_text.delta":
            if event.delta:
                yield "reasoning", event.delta
        elif kind in ("response.created", "response.in_progress"):
            if event.response is not None:
                answer.model = event.response.model or answer.model
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            response = event.response
            if response is None:
                continue
            answer.model = response.model or answer.model
            if response.usage is not None:
                answer.usage = Usage(
                    input_tokens=response.usage.input_tokens,
                    output_tokens=response.usage.output_tokens,
                    reasoning_tokens=response.usage.reasoning_tokens,
                    total_tokens=response.usage.total_tokens,
                )
            if kind == "response.incomplete":
                reason = response.incomplete_details.reason if response.incomplete_details else None
                if reason == "content_filter":
                    answer.outcome = Outcome.FILTERED
                    answer.filter_categories = _categories(response.raw.get("content_filter_results") or {}) or (
                        "content_filter",
                    )
                else:
                    answer.truncated = True
            elif kind == "response.failed":
                err = response.error
                row = wording("response_failed")
                title, text = say(
                    "response_failed",
                    message=err.message if err and err.message else "the response failed",
                    kept=KEPT if answer.length else "",
                )
                answer.failure = Problem(
                    title,
                    text,
                    row.action,
                    request_id=answer.request_id,
                    code=err.code if err else None,
                    category=row.category,
                    details=f"Problem: response_failed\nRequest id: {answer.request_id}",
                )


async def _chat_parts(stream: ChatCompletionStream, answer: _Answer) -> AsyncGenerator[tuple[str, str], None]:
    """('text', words) from a Chat Completions stream; fills usage and the ending into `answer`."""
    async for chunk in stream:
        if chunk.model:
            answer.model = chunk.model
        if chunk.usage is not None:
            answer.usage = Usage(
                input_tokens=chunk.usage.prompt_tokens,
                output_tokens=chunk.usage.completion_tokens,
                total_tokens=chunk.usage.total_tokens,
            )
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            if choice.delta.content:
                yield "text", choice.delta.content
            elif choice.delta.refusal:
                yield "text", choice.delta.refusal
            if choice.finish_reason == "content_filter":
                answer.outcome = Outcome.FILTERED
                answer.filter_categories = _categories(choice.content_filter_results) or ("content_filter",)
            elif choice.finish_reason == "length":
                answer.truncated = True
