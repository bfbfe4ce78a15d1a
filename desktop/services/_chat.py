"""The chat use case: one turn from the user's words to a saved, streamed answer.

A turn is an async generator of events. Stop = cancel the task iterating it: the partial answer is kept as "stopped".
Everything the user typed is committed before the request leaves; the answer row is created when its first words
arrive, checkpointed at least every `checkpoint_interval` seconds, and finalised with its outcome.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
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
    ChatCompletion,
    ChatCompletionStream,
    Response,
    ResponseStream,
    RetryNotice,
    triggered_filter_categories,
)
from desktop.services._documents import sends_as_file, text_for_model
from desktop.services._model_families import ModelFamily, family_for
from desktop.services._problems import classify, retry_reason, with_request_id
from desktop.services._request_params import Choices, choices_for, refusal_of, request_extras
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
    """The first words arrived and the answer row exists; `thinking_ms`: how long the model thought before them
    (from the request; None when it sent no thinking), as saved with the answer."""

    message_id: int
    thinking_ms: int | None = None


@dataclass(frozen=True)
class TextDelta:
    """More answer text."""

    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    """More of the model's reasoning summary (reasoning models on the Responses API)."""

    text: str


@dataclass(frozen=True)
class RequestSent:
    """The request is on the wire (each attempt): what the window shows of the turn can be drawn while Azure works."""


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


_SENT = RequestSent()

TurnEvent = TurnStarted | RequestSent | AnswerStarted | TextDelta | ReasoningDelta | Retrying | UsageReport | Finished


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
    preset: str | None = None  # the name of the instructions preset chosen for the conversation (saved with answers)
    security_context: dict[str, str] | None = None  # Azure's user_security_context, when the policy asks for it
    remember_api: Callable[[Literal["responses", "chat"]], None] = field(default=lambda api: None)
    # The deployment's real model (never guessed from its alias; None = not known yet: the SAFE family, and PDFs go
    # as their text), what that
    # model refused before (see _request_params), where to remember new refusals and the model an answer names, and
    # the read timeout between two bytes of the answer (None: the client's).
    model: str | None = None
    refused: frozenset[str] = frozenset()
    remember_refusal: Callable[[str], None] = field(default=lambda name: None)
    remember_model: Callable[[str], None] = field(default=lambda model: None)
    timeout: float | None = None

    @property
    def family(self) -> ModelFamily:
        """What the deployment's model accepts."""
        return family_for(self.model)


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


def _responses_part(attachment: Attachment, model: str | None) -> dict[str, Any]:
    if attachment.mime.startswith("image/"):
        return {"type": "input_image", "image_url": _data_url(attachment), "detail": "auto"}
    if sends_as_file(attachment, "responses", model):
        return {"type": "input_file", "filename": attachment.name, "file_data": _data_url(attachment)}
    return {"type": "input_text", "text": text_for_model(attachment)}


def _chat_part(attachment: Attachment) -> dict[str, Any]:
    if attachment.mime.startswith("image/"):
        return {"type": "image_url", "image_url": {"url": _data_url(attachment), "detail": "auto"}}
    return {"type": "text", "text": text_for_model(attachment)}  # Chat Completions takes no PDF file on Azure


def responses_input(
    history: Sequence[Message], extra_user: str | None = None, *, model: str | None = None
) -> list[dict[str, Any]]:
    """The Responses API `input` list for a history; `model` decides whether PDFs go as files or as their text."""
    items: list[dict[str, Any]] = []
    for m in _history(history):
        if m.role is Role.USER:
            parts: list[dict[str, Any]] = (
                [{"type": "input_text", "text": m.text}] if m.text or not m.attachments else []
            )
            parts += [_responses_part(a, model) for a in m.attachments]
            items.append({"role": "user", "content": parts})
        else:
            items.append({"role": "assistant", "content": [{"type": "output_text", "text": m.text}]})
    if extra_user:
        items.append({"role": "user", "content": [{"type": "input_text", "text": extra_user}]})
    return items


def chat_messages(
    history: Sequence[Message], instructions: str, extra_user: str | None = None, *, role: str = "system"
) -> list[dict[str, Any]]:
    """The Chat Completions `messages` list for a history, the instructions first (as `role`)."""
    out: list[dict[str, Any]] = []
    if instructions.strip():
        out.append({"role": role, "content": instructions})
    for m in _history(history):
        if m.role is Role.USER and m.attachments:
            parts: list[dict[str, Any]] = [{"type": "text", "text": m.text}] if m.text else []
            parts += [_chat_part(a) for a in m.attachments]
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
    effort: str | None = None  # the reasoning effort actually sent (the family may drop the conversation's choice)
    outcome: Outcome = Outcome.COMPLETE
    truncated: bool = False
    filter_categories: tuple[str, ...] = ()
    failure: UserError | None = None
    length: int = 0  # characters in `text`
    saved: int = 0  # how many pieces of `text` are in the database
    too_long: bool = False
    headers: dict[str, str] = field(default_factory=dict)  # of the stream's response (rate-limit headroom, region)
    reasoning: list[str] = field(default_factory=list)  # the model's thinking (reasoning summary) so far
    asked_at: float = 0.0  # when the request was sent, on the service's clock
    thinking_ms: int | None = None  # from the request to the first words, when the model sent thinking

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
        family = target.family
        api: Literal["responses", "chat"] = target.api if target.api != "unknown" else family.apis[0]
        refused = set(target.refused)
        last_checkpoint = answer.asked_at = self._clock()
        try:
            while True:
                notices: asyncio.Queue[RetryNotice | RequestSent] = asyncio.Queue()
                retried = False
                choices = self._choices(target, api, refused)
                answer.effort = choices.effort
                opening = asyncio.ensure_future(
                    self._open(
                        api,
                        target,
                        history,
                        extra_user,
                        on_retry=notices.put_nowait,
                        on_sent=functools.partial(notices.put_nowait, _SENT),
                        choices=choices,
                    )
                )
                try:
                    async for notice in _notices_until(opening, notices):
                        if isinstance(notice, RequestSent):
                            yield notice
                            continue
                        retried = True
                        yield Retrying(notice.attempt, notice.max_retries, notice.delay, retry_reason(notice.cause))
                    stream = opening.result()
                    if retried:  # the thinking began with the attempt that was answered, not with the waits before
                        answer.asked_at = self._clock()
                except BadRequestError as exc:
                    if (
                        api == "responses"
                        and target.api == "unknown"
                        and "chat" in family.apis
                        and _is_unsupported_operation(exc)
                    ):
                        _log.info("deployment %s has no Responses API; using Chat Completions", target.deployment)
                        api = "chat"
                        continue
                    refusal = refusal_of(exc, choices)
                    if refusal is not None and refusal not in refused:  # each choice is dropped once: never a loop
                        _log.info("deployment %s refused %s; asking again without it", target.deployment, refusal)
                        refused.add(refusal)
                        target.remember_refusal(refusal)
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
            answer.headers = stream.headers if isinstance(stream, ResponseStream | ChatCompletionStream) else {}
            saver: asyncio.Future[None] | None = None
            try:
                async with _closing(stream):
                    parts: AsyncGenerator[tuple[str, str], None]
                    if isinstance(stream, ResponseStream):
                        parts = _responses_parts(stream, answer)
                    elif isinstance(stream, ChatCompletionStream):
                        parts = _chat_parts(stream, answer)
                    else:
                        parts = _whole_parts(stream, answer)
                    async with contextlib.aclosing(parts):
                        async for kind, delta in parts:
                            if kind == "reasoning":
                                answer.reasoning.append(delta)
                                yield ReasoningDelta(delta)
                                continue
                            if answer.message_id is None:
                                self._thought(answer)
                                answer.message_id = self._begin(conversation_id, answer, target, api)
                                # Saves by the clock, also while the stream pauses between words.
                                saver = asyncio.ensure_future(self._save_every_interval(answer))
                                yield AnswerStarted(answer.message_id, answer.thinking_ms)
                                if isinstance(stream, ResponseStream | ChatCompletionStream):
                                    # The words flow: read the network in batches, not once per word (see the
                                    # constant).
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
            if answer.model:
                target.remember_model(answer.model)
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

    def _begin(
        self, conversation_id: int, answer: _Answer, target: TurnTarget | None, api: Literal["responses", "chat"] | None
    ) -> int:
        """Create the answer's row, with the settings it was asked with; returns its id."""
        return self._store.begin_answer(
            conversation_id,
            model=answer.model,
            deployment=target.deployment if target else None,
            api=api,
            reasoning_effort=answer.effort,
            preset=target.preset if target else None,
        ).id

    def _thought(self, answer: _Answer) -> None:
        """The model's thinking ends (its first words, or the end of the turn): note how long it took."""
        if answer.reasoning and answer.thinking_ms is None:
            answer.thinking_ms = max(0, round((self._clock() - answer.asked_at) * 1000))

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

    @staticmethod
    def _choices(target: TurnTarget, api: Literal["responses", "chat"], refused: set[str]) -> Choices:
        return choices_for(
            target.family,
            refused,
            api,
            temperature=target.temperature,
            max_output_tokens=target.max_output_tokens,
            reasoning_effort=target.reasoning_effort,
        )

    async def _open(
        self,
        api: Literal["responses", "chat"],
        target: TurnTarget,
        history: Sequence[Message],
        extra_user: str | None,
        *,
        on_retry: Callable[[RetryNotice], None],
        on_sent: Callable[[], None],
        choices: Choices,
    ) -> ResponseStream | ChatCompletionStream | Response | ChatCompletion:
        """Send the request; the family and what the model refused decide its parameters (and whether it streams)."""
        extras = request_extras(choices, api)
        common: dict[str, Any] = {
            "model": target.deployment,
            "on_retry": on_retry,
            "on_sent": on_sent,
            "timeout": target.timeout,
        }
        if api == "responses":
            params: dict[str, Any] = {
                "input": responses_input(history, extra_user, model=target.model),
                "store": False,
                **extras,
            }
            if target.instructions.strip():
                params["instructions"] = target.instructions
            if choices.stream:
                return await target.client.responses.create(stream=True, **common, **params)
            return await target.client.responses.create(stream=False, **common, **params)
        messages = chat_messages(history, target.instructions, extra_user, role=choices.instructions_role)
        extras["store"] = False
        if target.security_context:  # documented for Chat Completions only (not for the Responses API)
            extras["user_security_context"] = target.security_context
        if choices.stream:
            extras["stream_options"] = {"include_usage": True}
            return await target.client.chat.completions.create(messages=messages, stream=True, **common, **extras)
        return await target.client.chat.completions.create(messages=messages, stream=False, **common, **extras)

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
        self._thought(answer)
        if answer.message_id is None:
            answer.message_id = self._begin(conversation_id, answer, target, api)
        saved = self._store.finish_answer(
            answer.message_id,
            answer.outcome,
            answer.joined,
            usage=answer.usage,
            error=error,
            request_id=answer.request_id,
            model=answer.model,
            filter_categories=answer.filter_categories,
            reasoning="".join(answer.reasoning) or None,
            thinking_ms=answer.thinking_ms,
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
        self._thought(answer)
        if answer.message_id is None:
            answer.message_id = self._begin(conversation_id, answer, target, api)
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
            reasoning="".join(answer.reasoning) or None,
            thinking_ms=answer.thinking_ms,
        )
        return Finished(outcome, saved, error, error.filter_categories or answer.filter_categories)


async def _notices_until(
    opening: asyncio.Future[Any], notices: asyncio.Queue[RetryNotice | RequestSent]
) -> AsyncIterator[RetryNotice | RequestSent]:
    """Yield retry and sent notices while the request is being opened; return once it is open (or failed)."""
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
                    cached_tokens=response.usage.cached_tokens,
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
                reasoning_tokens=chunk.usage.reasoning_tokens,
                cached_tokens=chunk.usage.cached_tokens,
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


def _closing(stream: object) -> contextlib.AbstractAsyncContextManager[object]:
    """A stream closes its response on exit; a whole answer (non-streaming models) has nothing left open."""
    if isinstance(stream, ResponseStream | ChatCompletionStream):
        return stream
    return contextlib.nullcontext()


async def _whole_parts(result: Response | ChatCompletion, answer: _Answer) -> AsyncGenerator[tuple[str, str], None]:
    """('reasoning' | 'text', words) from an answer that arrived whole; fills usage and the ending into `answer`."""
    answer.model = result.model or answer.model
    if isinstance(result, Response):
        if result.usage is not None:
            answer.usage = Usage(
                input_tokens=result.usage.input_tokens,
                output_tokens=result.usage.output_tokens,
                reasoning_tokens=result.usage.reasoning_tokens,
                total_tokens=result.usage.total_tokens,
            )
        if result.reasoning_summary:
            yield "reasoning", result.reasoning_summary
        text = result.output_text or result.refusal or ""
        if text:
            yield "text", text
        if result.status == "incomplete":
            reason = result.incomplete_details.reason if result.incomplete_details else None
            if reason == "content_filter":
                answer.outcome = Outcome.FILTERED
                answer.filter_categories = _categories(result.raw.get("content_filter_results") or {}) or (
                    "content_filter",
                )
            else:
                answer.truncated = True
        elif result.status == "failed":
            row = wording("response_failed")
            message = result.error.message if result.error and result.error.message else "the response failed"
            title, words = say("response_failed", message=message, kept=KEPT if answer.length else "")
            answer.failure = Problem(
                title,
                words,
                row.action,
                request_id=answer.request_id,
                code=result.error.code if result.error else None,
                category=row.category,
                details=f"Problem: response_failed\nRequest id: {answer.request_id}",
            )
        return
    if result.usage is not None:
        answer.usage = Usage(
            input_tokens=result.usage.prompt_tokens,
            output_tokens=result.usage.completion_tokens,
            total_tokens=result.usage.total_tokens,
        )
    choice = next((c for c in result.choices if c.index == 0), None)
    if choice is None:
        return
    text = choice.message.content or choice.message.refusal or ""
    if text:
        yield "text", text
    if choice.finish_reason == "content_filter":
        answer.outcome = Outcome.FILTERED
        answer.filter_categories = _categories(choice.content_filter_results) or ("content_filter",)
    elif choice.finish_reason == "length":
        answer.truncated = True
