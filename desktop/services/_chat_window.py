"""The chat window's state, without Qt: one owner for everything the main window shows.

`ChatWindowController` owns the sidebar's rows and its search, the open conversation and its messages, the one
running turn per conversation (including the wait before an automatic retry), the target of every per-message action
(by message id), each conversation's own connection, and whether the demo notice shows. It publishes what changed as
plain events; the window renders them and forwards what the user asks for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Sequence
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.config import Configuration, Deployment, InstructionsPreset, Profile
from desktop.lazy_dataclass import dataclass
from desktop.services._documents import file_note
from desktop.services._documents import reads_files as deployment_reads_files
from desktop.services._model_families import LONG_THINKING_TIMEOUT, family_for
from desktop.services._request_params import adapted_words
from desktop.services._turn_settings import (
    EFFORT_KEY,
    NO_INSTRUCTIONS,
    PRESET_KEY,
    efforts_for,
    preset_of,
    presets_for,
)
from desktop.services._user_error import ErrorAction
from desktop.services._views import (
    PENDING_ANSWER,
    ConversationRow,
    DeploymentChoice,
    Header,
    MessageAction,
    MessageView,
    RetryWait,
    SearchRow,
    conversation_row,
    message_details,
    message_view,
)
from desktop.services._window_events import (
    AnswerGrew,
    ConversationShown,
    DraftRefused,
    DraftSaved,
    HeaderChanged,
    MessageAdded,
    MessageChanged,
    MessageRemoved,
    Notice,
    OlderShown,
    SearchChanged,
    SidebarReset,
    SidebarRowChanged,
    SidebarRowRemoved,
    TurnChanged,
    TurnEnded,
    UsageChanged,
    WindowEvent,
)
from desktop.services._words import say
from desktop.storage import (
    UNSET,
    Attachment,
    Conversation,
    HistoryError,
    HistoryStore,
    ImportReport,
    Message,
    Outcome,
    Role,
)

if TYPE_CHECKING:  # the chat service (and with it the client and sign-in) loads after the window is painted
    import asyncio

    from desktop.services._chat import ChatService, Finished, TurnEvent, TurnStarted
    from desktop.services._usage import UsageService
else:  # the controller is built before the first paint; its asyncio code runs after it
    from desktop.services._later import LaterModule

    asyncio = LaterModule("asyncio")

__all__ = ["ChatWindowController"]

_log = logging.getLogger(__name__)

PAGE = 200  # messages loaded when a conversation opens; older ones load on scroll
SIDEBAR_LIMIT = 2000
SIDEBAR_FIRST_PAGE = 60  # a tall window shows about 40 rows: the rest loads right after the first paint
SEARCH_LIMIT = 100
FIRST_ANSWER_LIMIT = 4000  # the answer limit "Shorten the answer limit" sets when none was set
MIN_ANSWER_LIMIT = 256  # it never shortens below this
LONGEST_AUTOMATIC_WAIT = 60.0  # beyond this, a wait Azure asks for is an error with the time, not a countdown
# From a send until its request is on the wire, the window's events wait: otherwise Qt paints the sidebar, the composer
# and the new rows first, and the first words come that much later. They are shown at the latest after this long (a
# connection still being opened), within the tenth of a second a person takes as instant.
LONGEST_HOLD_S = 0.1


def _new_event() -> asyncio.Event:
    return asyncio.Event()


class _Phase(enum.Enum):
    STARTING = "starting"
    STREAMING = "streaming"
    WAITING = "waiting"  # the answer failed and an automatic retry waits for its time


@dataclass
class _Turn:
    """The one running turn of a conversation: its task, the answer's id and words so far, and any wait."""

    conversation_id: int
    task: asyncio.Task[None] | None = None
    phase: _Phase = _Phase.STARTING
    answer_id: int = PENDING_ANSWER
    text: list[str] = field(default_factory=list)
    wait: RetryWait | None = None
    client_retried: bool = False  # the client already waited and retried within this request
    reasoning: list[str] = field(default_factory=list)  # the model's thinking so far
    unshown: list[str] = field(default_factory=list)  # words received but not yet given to the window (see _on_text)
    thinking_ms: int | None = None  # how long it thought before its first words, once they came
    thinking_open: bool | None = None  # the user opened or closed the thinking (None: open until the words come)
    skip_wait: asyncio.Event = field(default_factory=_new_event)


TurnFactory = Callable[[], AsyncGenerator["TurnEvent", None]]


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class ChatWindowController:
    """The main window's state and use cases; widgets subscribe to its events and call its methods."""

    def __init__(
        self,
        store: HistoryStore,
        configuration: Configuration,
        chat: ChatService | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = _sleep,
    ) -> None:
        self._store = store
        self._chat = chat
        self._configuration = configuration
        self._clock = clock
        self._sleep = sleep
        self._listeners: list[Callable[[WindowEvent], None]] = []
        self._held: list[WindowEvent] | None = None  # events waiting for a turn's request to be sent (see _hold)
        self._hold_timer: asyncio.TimerHandle | None = None
        self._rows: dict[int, ConversationRow] = {}
        self._query = ""
        self._open: Conversation | None = None
        self._messages: list[MessageView] = []
        self._oldest_position: int | None = None
        self._draft_deployment: str | None = None
        self._draft_instructions: str | None = None
        self._draft_params: dict[str, str] = {}  # a new chat's effort and preset, until it is created
        self._turns: dict[int, _Turn] = {}
        self._pending_delete: int | None = None
        self._session_profile: str | None = None
        self._seen_active = configuration.settings.app.active_profile_id
        self._told_long_thinking: set[str] = set()
        self._usage: UsageService | None = None
        self._words_due = False  # words wait for the end of this turn of the event loop (see _on_text)

    @functools.cached_property
    def _chat_ready(self) -> asyncio.Event:
        """Set once the chat service is attached (made on first use: asyncio loads after the first paint)."""
        ready = asyncio.Event()
        if self._chat is not None:
            ready.set()
        return ready

    @property
    def usage(self) -> UsageService:
        """Token usage and estimated costs (loaded when first needed: not before the window is painted)."""
        if self._usage is None:
            from desktop.services._usage import UsageService

            self._usage = UsageService(self._store, self._configuration)
        return self._usage

    def attach_chat(self, chat: ChatService) -> None:
        """Give the controller its chat service (built after the first paint); sends made before it wait for it."""
        self._chat = chat
        self._chat_ready.set()

    @property
    def chat(self) -> ChatService:
        """The chat service (only used once `attach_chat` ran: turns wait for it)."""
        assert self._chat is not None, "the chat service is attached before any turn runs"
        return self._chat

    # ---- publishing -------------------------------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[WindowEvent], None]) -> None:
        """Receive every event (on the event loop's thread, in order)."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[WindowEvent], None]) -> None:
        """Stop receiving events."""
        self._listeners.remove(listener)

    async def settled(self, condition: Callable[[], bool]) -> None:
        """Wait until `condition` holds; it is checked after every event this controller publishes."""
        if condition():
            return
        reached = asyncio.Event()

        def check(_event: WindowEvent) -> None:
            if condition():
                reached.set()

        self.subscribe(check)
        try:
            await reached.wait()
        finally:
            self.unsubscribe(check)

    def _publish(self, event: WindowEvent) -> None:
        if self._words_due and not isinstance(event, AnswerGrew):
            self._show_words()  # words that came before this event show before it
        if self._held is not None:
            self._held.append(event)
            return
        for listener in list(self._listeners):
            listener(event)

    def _hold(self) -> None:
        """Keep events back (in order) until a turn's request is sent, its turn ends, or LONGEST_HOLD_S passed."""
        if self._held is None:
            self._held = []
            self._hold_timer = asyncio.get_running_loop().call_later(LONGEST_HOLD_S, self._release)

    def _release(self) -> None:
        """Publish the events held back, in order."""
        if self._hold_timer is not None:
            self._hold_timer.cancel()
            self._hold_timer = None
        held, self._held = self._held, None
        for event in held or ():
            self._publish(event)

    @contextlib.contextmanager
    def _history(self) -> Iterator[None]:
        """Say what went wrong with the history (locked, full disk) instead of failing the action silently."""
        try:
            yield
        except HistoryError as exc:
            _log.warning("history: %s", exc)
            self._publish(Notice(str(exc)))

    # ---- queries ----------------------------------------------------------------------------------------------------

    @property
    def current_id(self) -> int | None:
        """The open conversation's id (None for a new chat)."""
        return self._open.id if self._open is not None else None

    def messages(self) -> list[MessageView]:
        """The open conversation's messages as shown (the streaming answer with its words so far)."""
        if self._words_due:
            self._show_words()
        return list(self._messages)

    def is_running(self, conversation_id: int | None = None) -> bool:
        """Whether a turn (or its wait) runs in a conversation (default: the open one)."""
        cid = self.current_id if conversation_id is None else conversation_id
        return cid is not None and cid in self._turns

    def wait(self, conversation_id: int | None = None) -> RetryWait | None:
        """The wait shown in a conversation's turn (default: the open one), if any."""
        turn = self._turn_of(conversation_id)
        return turn.wait if turn is not None else None

    def _turn_of(self, conversation_id: int | None) -> _Turn | None:
        cid = self.current_id if conversation_id is None else conversation_id
        return self._turns.get(cid) if cid is not None else None

    def header(self) -> Header:
        """What the window's header and composer show for the open conversation."""
        conv = self._open
        profile = self._profile_of(conv)
        choices = tuple(_deployment_choice(d) for d in profile.deployments) if profile else ()
        names = [c.name for c in choices]
        current = conv.deployment if conv is not None else self._draft_deployment
        if not current and profile is not None:
            current = profile.default_deployment or (names[0] if names else None)
        if current and current not in names:
            choices = (*choices, _choice(current, None, None))
        instructions = conv.instructions if conv is not None else self._draft_instructions
        params = conv.params if conv is not None else self._draft_params
        if instructions is None:
            no_instructions = params.get(PRESET_KEY) == NO_INSTRUCTIONS
            instructions = profile.chat_defaults.instructions if profile and not no_instructions else ""
        efforts = efforts_for(profile, current)
        effort = params.get(EFFORT_KEY)
        usage, usage_tip = self._usage_line(conv.id if conv is not None else None)
        return Header(
            conversation_id=conv.id if conv else None,
            title=(conv.title if conv else "") or "New chat",
            connection_id=profile.id if profile else None,
            connection_name=profile.display_name if profile else "",
            demo=bool(profile and profile.is_demo),
            deployments=choices,
            deployment=current,
            instructions=instructions,
            efforts=efforts,
            effort=effort if effort in efforts.values else None,
            presets=tuple(p.name for p in presets_for(profile, self._saved_presets)),
            preset=preset_of(params, instructions, profile, self._saved_presets),
            usage=usage,
            usage_tip=usage_tip,
            reads_files=self._reads_files(profile, current),
        )

    def _usage_line(self, conversation_id: int | None) -> tuple[str, str]:
        if conversation_id is None:
            return "", ""
        try:
            return self.usage.conversation_line(conversation_id)
        except HistoryError as exc:  # a header without its total beats no header
            _log.warning("conversation usage unavailable: %s", exc)
            return "", ""

    @staticmethod
    def _reads_files(profile: Profile | None, deployment: str | None) -> bool:
        """Whether a deployment takes PDFs as files: its API (Responses unless known to be Chat) and its real model
        (never guessed from the deployment's name: an unknown model gets the documents' text)."""
        known = next((d for d in profile.deployments if d.name == deployment), None) if profile else None
        return deployment_reads_files(known.api if known else None, known.model_name if known else None)

    def _views(self, messages: Sequence[Message]) -> list[MessageView]:
        """Messages as the open conversation shows them (their documents' chips say how they are sent now)."""
        reads = self.header().reads_files if any(m.attachments for m in messages) else False
        return [message_view(m, reads_files=reads) for m in messages]

    def details(self, message_id: int) -> str:
        """The Details of a message (deployment, model, what its model refused, tokens, cost, request id), or ''."""
        msg = self._store.get_message(message_id)
        if msg is None:
            return ""
        deployment = self._deployment_of(msg.conversation_id, msg.deployment)
        conv = self._store.get_conversation(msg.conversation_id)
        extra = self.usage.answer_lines(msg, conv.profile_id if conv is not None else None)
        adapted = adapted_words(deployment.refused) if deployment is not None else ""
        return "\n".join([message_details(msg, adapted), *extra])

    def _deployment_of(self, conversation_id: int, name: str | None) -> Deployment | None:
        """What the profile knows of a conversation's deployment (its real model, what it refused), or None."""
        profile = self._profile_of(self._store.get_conversation(conversation_id))
        name = name or (profile.default_deployment if profile is not None else None)
        return next((d for d in profile.deployments if d.name == name), None) if profile is not None else None

    def _say_long_thinking(self, conversation_id: int) -> None:
        """Say plainly, once per deployment and session, that its model answers whole after minutes of thinking."""
        with self._history():
            conv = self._store.get_conversation(conversation_id)
            deployment = self._deployment_of(conversation_id, conv.deployment if conv is not None else None)
            if deployment is None or deployment.name in self._told_long_thinking:
                return
            if family_for(deployment.model_name).long_thinking:
                self._told_long_thinking.add(deployment.name)
                minutes = round(max(self._configuration.settings.app.request_timeout, LONG_THINKING_TIMEOUT) / 60)
                _title, text = say("long_thinking", model=deployment.model_name, minutes=str(minutes))
                self._publish(Notice(text))

    def last_question(self) -> MessageView | None:
        """The open conversation's last message of the user (Up in an empty composer edits it)."""
        return next((m for m in reversed(self._messages) if m.role is Role.USER), None)

    @property
    def _saved_presets(self) -> tuple[InstructionsPreset, ...]:
        return self._configuration.settings.app.instruction_presets

    def _profile_of(self, conv: Conversation | None) -> Profile | None:
        settings = self._configuration.settings
        if conv is not None and conv.profile_id:
            return settings.profile(conv.profile_id)
        return self.default_profile()

    def default_profile(self) -> Profile | None:
        """The connection a new chat uses: the demo while it was chosen for this session, else the active one."""
        settings = self._configuration.settings
        session = settings.profile(self._session_profile) if self._session_profile else None
        return session or settings.active_profile

    # ---- start and settings -----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Fill the sidebar with its first page (what a window shows) and show a new chat."""
        with self._history():
            conversations = self._store.list_conversations(limit=SIDEBAR_FIRST_PAGE, include_archived=True)
            self._rows = {c.id: conversation_row(c) for c in conversations}
        self._publish(SidebarReset(tuple(self._rows.values())))
        self.new_chat()

    def load_whole_sidebar(self) -> None:
        """Fill the sidebar with every conversation (after the first paint)."""
        if len(self._rows) >= SIDEBAR_FIRST_PAGE:
            self._reload_sidebar()

    def use_for_session(self, profile_id: str) -> None:
        """New chats use this connection for this session only (the demo), leaving the saved choice alone."""
        self._session_profile = profile_id
        self._seen_active = self._configuration.settings.app.active_profile_id
        self._publish(HeaderChanged(self.header()))

    def use_for_new_chats(self) -> None:
        """The user chose the (saved) active connection for new chats: the session's own choice, the demo, ends."""
        self._session_profile = None
        self._seen_active = self._configuration.settings.app.active_profile_id
        self._publish(HeaderChanged(self.header()))

    def settings_changed(self) -> None:
        """Connections or the active one changed: a new active connection ends the session's own choice."""
        active = self._configuration.settings.app.active_profile_id
        if active != self._seen_active:
            self._seen_active = active
            self._session_profile = None
        self._publish(HeaderChanged(self.header()))

    # ---- the sidebar ------------------------------------------------------------------------------------------------

    def search(self, query: str) -> None:
        """Search every conversation; an empty query shows the list again. One result per conversation."""
        self._query = query.strip()
        if not self._query:
            self._publish(SearchChanged("", None))
            return
        hits = []
        with self._history():
            hits = self._store.search(self._query, limit=SEARCH_LIMIT)
        best: dict[int, SearchRow] = {}
        for hit in hits:  # best-ranked first: keep each conversation's first hit
            best.setdefault(hit.conversation_id, SearchRow(hit.conversation_id, hit.conversation_title, hit.snippet))
        self._publish(SearchChanged(self._query, tuple(best.values())))

    def _set_row(self, conv: Conversation) -> None:
        row = conversation_row(conv, streaming=conv.id in self._turns)
        self._rows[conv.id] = row
        self._publish(SidebarRowChanged(row))

    def _refresh_row(self, conversation_id: int) -> None:
        with self._history():
            conv = self._store.get_conversation(conversation_id)
            if conv is not None:
                self._set_row(conv)
                if self._open is not None and self._open.id == conv.id:
                    self._open = conv
                    self._publish(HeaderChanged(self.header()))

    def rename(self, conversation_id: int, title: str) -> None:
        """Give a conversation a new title (blank titles are ignored)."""
        if not title.strip():
            return
        with self._history():
            self._store.rename(conversation_id, title.strip())
            self._refresh_row(conversation_id)

    def set_pinned(self, conversation_id: int, pinned: bool) -> None:
        """Pin a conversation to the top, or unpin it."""
        with self._history():
            self._set_row(self._store.set_pinned(conversation_id, pinned))

    def set_archived(self, conversation_id: int, archived: bool) -> None:
        """Archive or unarchive a conversation."""
        with self._history():
            self._set_row(self._store.set_archived(conversation_id, archived))

    def delete(self, conversation_id: int) -> None:
        """Delete a conversation (its turn stops); Undo brings it back until the next delete or the notice goes."""
        turn = self._turns.get(conversation_id)
        if turn is not None and turn.task is not None:
            turn.task.cancel()
        self.purge_deleted()
        with self._history():
            self._store.delete_conversation(conversation_id)
            self._pending_delete = conversation_id
            self._rows.pop(conversation_id, None)
            self._publish(SidebarRowRemoved(conversation_id))
            if self.current_id == conversation_id:
                self.new_chat()
            self._publish(Notice("Conversation deleted.", undo=True))

    def undo_delete(self) -> None:
        """Bring back the conversation deleted last."""
        cid, self._pending_delete = self._pending_delete, None
        if cid is None:
            return
        with self._history():
            self._set_row(self._store.restore_conversation(cid))
            self.open(cid)

    def purge_deleted(self) -> None:
        """Make the last delete final (the Undo notice went away, or another delete came)."""
        if self._pending_delete is not None:
            self._pending_delete = None
            with self._history():
                self._store.purge_deleted()

    # ---- the open conversation --------------------------------------------------------------------------------------

    def new_chat(self) -> None:
        """Show an empty conversation; it is created in history when its first message is sent."""
        self._open = None
        self._messages = []
        self._oldest_position = None
        self._draft_deployment = self._draft_instructions = None
        self._draft_params = {}
        self._publish(ConversationShown(self.header(), (), False, False, None))

    def open(self, conversation_id: int) -> None:
        """Show a conversation: its last messages (older ones on request), with its streaming answer if any."""
        if self.current_id == conversation_id:
            return
        with self._history():
            conv = self._store.get_conversation(conversation_id)
            if conv is None:
                self._publish(Notice("This conversation no longer exists."))
                return
            stored = self._store.load_messages(conversation_id, limit=PAGE)
            has_older = len(stored) == PAGE and self._store.message_count(conversation_id) > PAGE
            self._open = conv
            self._oldest_position = stored[0].position if stored else None
            self._messages = self._views(stored)
            turn = self._turns.get(conversation_id)
            if turn is not None and turn.phase is not _Phase.WAITING:
                self._messages = [m for m in self._messages if m.id != turn.answer_id]
                if turn.phase is _Phase.STREAMING or turn.reasoning:  # words, or thinking before them
                    self._messages.append(_live(turn))
            self._publish(
                ConversationShown(
                    self.header(), tuple(self._messages), has_older, turn is not None, turn.wait if turn else None
                )
            )

    def load_older(self) -> None:
        """Put the page of messages before those shown above them."""
        conv, oldest = self._open, self._oldest_position
        if conv is None or oldest is None:
            self._publish(OlderShown((), False))
            return
        with self._history():
            older = self._store.load_messages(conv.id, limit=PAGE, before_position=oldest)
            if older:
                self._oldest_position = older[0].position
            views = self._views(older)
            self._messages[:0] = views
            self._publish(OlderShown(tuple(views), len(older) == PAGE))

    def set_deployment(self, name: str) -> None:
        """Answer with another deployment of the conversation's own connection (others are refused)."""
        header = self.header()
        if name == header.deployment or name not in {c.name for c in header.deployments}:
            return
        params = dict(self._open.params if self._open is not None else self._draft_params)
        if params.get(EFFORT_KEY) not in efforts_for(self._profile_of(self._open), name).values:
            params.pop(EFFORT_KEY, None)  # never kept for a model that would refuse it
        if self._open is None:
            self._draft_deployment = name
            self._draft_params = params
        else:
            with self._history():
                self._open = self._store.update_conversation(self._open.id, deployment=name, params=params)
        header = self.header()
        self._publish(HeaderChanged(header))
        # The whole conversation goes to the new deployment: its documents' chips now say how they are sent there.
        for view in [v for v in self._messages if v.files]:
            files = tuple(
                dataclasses.replace(f, note=file_note(Attachment(f.mime, b"", f.name), header.reads_files))
                for f in view.files
            )
            self._replace(view.id, dataclasses.replace(view, files=files))

    def set_instructions(self, text: str) -> None:
        """Change the open conversation's instructions (a new chat keeps them until it is created)."""
        self._set_turn_settings(text, PRESET_KEY, None)

    def set_effort(self, effort: str | None) -> None:
        """Ask the next answers with this reasoning effort (None: the default); values the model refuses are ignored."""
        header = self.header()
        if effort == header.effort or (effort is not None and effort not in header.efforts.values):
            return
        self._set_turn_settings(None, EFFORT_KEY, effort)

    def set_preset(self, name: str) -> None:
        """Use an instructions preset (by name) for the next answers."""
        presets = presets_for(self._profile_of(self._open), self._saved_presets)
        preset = next((p for p in presets if p.name == name), None)
        if preset is not None and name != self.header().preset:
            self._set_turn_settings(preset.text, PRESET_KEY, preset.name)

    def _set_turn_settings(self, instructions: str | None, key: str, value: str | None) -> None:
        """Save one of the next turn's settings with the conversation (or the new chat's draft) and show it."""
        params = dict(self._open.params if self._open is not None else self._draft_params)
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
        if self._open is None:
            if instructions is not None:
                self._draft_instructions = instructions
            self._draft_params = params
        else:
            text = UNSET if instructions is None else instructions
            with self._history():
                self._open = self._store.update_conversation(self._open.id, instructions=text, params=params)
        self._publish(HeaderChanged(self.header()))

    def _ensure_conversation(self) -> Conversation:
        if self._open is not None:
            return self._open
        header = self.header()
        conv = self._store.create_conversation(
            "New chat",
            profile_id=header.connection_id,
            deployment=header.deployment,
            instructions=header.instructions,
            params=dict(self._draft_params),
        )
        self._open = conv
        self._messages = []
        self._set_row(conv)
        self._publish(HeaderChanged(self.header()))
        return conv

    # ---- turns ------------------------------------------------------------------------------------------------------

    def send(self, text: str, attachments: Sequence[Attachment] = ()) -> None:
        """Send a message in the open conversation (creating it). The composer clears on DraftSaved only."""
        if not text.strip() and not attachments:
            self._publish(DraftRefused("Type a message first."))
            return
        turn = self._turn_of(None)
        if turn is not None:
            if turn.phase is not _Phase.WAITING or turn.task is None:
                self._publish(DraftRefused("An answer is still arriving in this conversation. Stop it first."))
                return
            # A new message ends the wait: the failed answer is not retried (and no other answer is regenerated).
            turn.task.cancel()
            del self._turns[turn.conversation_id]
        self._hold()
        try:
            conv = self._ensure_conversation()
        except HistoryError as exc:
            self._publish(DraftRefused(str(exc)))
            self._release()
            return
        self._start(conv.id, lambda: self.chat.send(conv.id, text, attachments), draft=True)

    def stop(self, conversation_id: int | None = None) -> None:
        """Stop the answer or the wait of a conversation (default: the open one); what arrived is kept."""
        turn = self._turn_of(conversation_id)
        if turn is not None and turn.task is not None:
            turn.task.cancel()

    def retry_now(self) -> None:
        """End the open conversation's automatic wait now and try again."""
        turn = self._turn_of(None)
        if turn is not None and turn.phase is _Phase.WAITING:
            turn.skip_wait.set()

    def act(self, message_id: int, action: MessageAction) -> None:
        """Carry out an answer's own action on that answer (the window handles sign-in, settings and copying)."""
        if action is MessageAction.RETRY:
            self.answer_again(message_id)
        elif action is MessageAction.CONTINUE:
            self.continue_answer()
        elif action is MessageAction.NEW_CHAT:
            self.new_chat()
        elif action in (MessageAction.LEAVE_OUT, MessageAction.PUT_BACK):
            self.leave_out(message_id, action is MessageAction.LEAVE_OUT)
        elif action is MessageAction.SHORTEN_ANSWER_LIMIT:
            self.shorten_answer_limit(message_id)
        elif action is MessageAction.TOGGLE_THINKING:
            self.toggle_thinking(message_id)

    def toggle_thinking(self, message_id: int) -> None:
        """Expand or collapse an answer's thinking (the streaming answer's too: it then stays as the user left it)."""
        index = self._index(message_id)
        if index < 0 or not self._messages[index].reasoning:
            return
        view = self._messages[index]
        turn = next((t for t in self._turns.values() if t.answer_id == message_id), None)
        if turn is not None and self._shown(turn):
            turn.thinking_open = not view.thinking_open
        self._replace(message_id, dataclasses.replace(view, thinking_open=not view.thinking_open))

    def leave_out(self, message_id: int, left_out: bool = True) -> None:
        """Continue without a flagged answer and its question (or put them back): later turns do not send them."""
        with self._history():
            for msg in self.chat.leave_out(message_id, left_out):
                if self._index(msg.id) >= 0:
                    self._replace(msg.id, self._views([msg])[0])

    def shorten_answer_limit(self, message_id: int) -> None:
        """Halve the open conversation's answer limit (the request could never fit) and answer again."""
        cid = self.current_id
        with self._history():
            conv = self._store.get_conversation(cid) if cid is not None else None
            if conv is None:
                return
            current = conv.params.get("max_output_tokens")
            if not isinstance(current, int) or isinstance(current, bool) or current <= 0:
                profile = self._profile_of(conv)
                current = profile.chat_defaults.max_output_tokens if profile else None
            limit = max(MIN_ANSWER_LIMIT, current // 2) if current else FIRST_ANSWER_LIMIT
            self._store.update_conversation(conv.id, params={**conv.params, "max_output_tokens": limit})
            self._publish(Notice(f"Answers in this chat are now limited to {limit:,} tokens."))
        self.answer_again(message_id)

    def regenerate(self) -> None:
        """Answer the open conversation's last question again."""
        last = self.last_question()
        if last is not None:
            self._answer(last)

    def answer_again(self, message_id: int) -> None:
        """Answer again the question that message `message_id` answered (or that question itself).

        The answers and messages after that question are replaced; they stay recoverable until the next edit.
        """
        index = next((i for i, m in enumerate(self._messages) if m.id == message_id), -1)
        question = next((m for m in reversed(self._messages[: index + 1]) if m.role is Role.USER), None)
        if question is None:
            self._publish(Notice("This message is no longer shown; open its conversation again."))
            return
        self._answer(question)

    def edit_and_resend(self, message_id: int, text: str) -> None:
        """Replace one of the user's messages (and what followed it) and answer the new text."""
        if not text.strip():
            return
        question = next((m for m in self._messages if m.id == message_id and m.role is Role.USER), None)
        if question is None or self._open is None:
            return
        if self._busy(self._open.id):
            return
        self._start(
            self._open.id, lambda: self.chat.edit_and_resend(message_id, text), replaces=message_id, draft=False
        )

    def continue_answer(self) -> None:
        """Ask for the rest of an answer cut at the length limit (it arrives as a new answer)."""
        if self._open is not None and not self._busy(self._open.id):
            cid = self._open.id
            self._start(cid, lambda: self.chat.continue_answer(cid))

    def _answer(self, question: MessageView) -> None:
        if self._open is None or self._busy(self._open.id):
            return
        self._start(self._open.id, lambda: self.chat.edit_and_resend(question.id, question.text), replaces=question.id)

    def _busy(self, conversation_id: int) -> bool:
        if conversation_id in self._turns:
            self._publish(Notice("An answer is still arriving in this conversation."))
            return True
        return False

    def _start(
        self, conversation_id: int, make: TurnFactory, *, replaces: int | None = None, draft: bool = False
    ) -> None:
        self._hold()
        self._say_long_thinking(conversation_id)
        turn = _Turn(conversation_id)
        self._turns[conversation_id] = turn
        turn.task = asyncio.get_running_loop().create_task(
            self._run(turn, make, replaces, draft), name=f"turn:{conversation_id}"
        )
        self._publish(TurnChanged(conversation_id, True, None))

    def _shown(self, turn: _Turn) -> bool:
        return self.current_id == turn.conversation_id

    async def _run(self, turn: _Turn, make: TurnFactory, replaces: int | None, draft: bool) -> None:
        outcome = Outcome.STOPPED
        attempts = 0
        try:
            await self._chat_ready.wait()  # a send in the first moments waits for the chat service to be built
            while True:
                finished = await self._one(turn, make, replaces, draft)
                if finished is None:
                    outcome = Outcome.FAILED
                    return
                outcome = finished.outcome
                wait = self._automatic_wait(turn, finished, attempts)
                if wait is None:
                    return
                attempts += 1
                await self._wait(turn, wait)
                question = next((m for m in reversed(self._messages) if m.role is Role.USER), None)
                replaces = question.id if question is not None and self._shown(turn) else None
                make, draft = functools.partial(self.chat.regenerate, turn.conversation_id), False
        except asyncio.CancelledError:
            self._show_stopped(turn)
            raise
        except Exception:  # our own bug: say so plainly (the words table's "bug" row); the traceback goes to the log
            _log.exception("turn in conversation %d failed", turn.conversation_id)
            self._fail_locally(turn, *say("bug"))
            outcome = Outcome.FAILED
        finally:
            try:
                self._end(turn, outcome)
            finally:
                self._release()

    async def _one(self, turn: _Turn, make: TurnFactory, replaces: int | None, draft: bool) -> Finished | None:
        """Run one request of a turn; returns how it finished, or None when it could not start."""
        from desktop.services import _chat as t  # loaded with the chat service, which this turn waited for

        turn.phase, turn.answer_id, turn.text, turn.client_retried = _Phase.STARTING, PENDING_ANSWER, [], False
        turn.reasoning, turn.thinking_ms, turn.thinking_open = [], None, None
        finished: Finished | None = None
        started = False
        try:
            events = make()
            async with contextlib.aclosing(events):
                async for event in events:
                    if isinstance(event, t.TextDelta):  # first: nearly every event is one
                        self._on_text(turn, event.text)
                    elif isinstance(event, t.TurnStarted):
                        started = True
                        self._on_started(turn, event, replaces, draft)
                    elif isinstance(event, t.RequestSent):
                        self._release()
                    elif isinstance(event, t.AnswerStarted):
                        turn.thinking_ms = event.thinking_ms
                        self._on_answer_started(turn, event.message_id)
                    elif isinstance(event, t.ReasoningDelta):
                        self._on_reasoning(turn, event.text)
                    elif isinstance(event, t.Retrying):
                        turn.client_retried = True
                        wait = RetryWait(
                            turn.answer_id,
                            event.delay,
                            self._clock() + event.delay,
                            event.attempt,
                            event.of,
                            event.reason,
                            automatic=False,
                        )
                        self._set_wait(turn, wait)
                    elif isinstance(event, t.Finished):
                        finished = event
        except (t.TurnSetupError, t.TurnBusyError) as exc:
            reason = exc.error.title if isinstance(exc, t.TurnSetupError) else str(exc)
            self._publish(DraftRefused(reason) if draft and not started else Notice(reason))
            return None
        except HistoryError as exc:
            if not started:
                self._publish(DraftRefused(str(exc)) if draft else Notice(str(exc)))
            else:
                self._fail_locally(turn, *say("history_not_saved", message=str(exc)))
            return None
        if finished is not None:
            self._on_finished(turn, finished)
        return finished

    def _on_started(self, turn: _Turn, event: TurnStarted, replaces: int | None, draft: bool) -> None:
        if draft:
            self._publish(DraftSaved(turn.conversation_id))
        if self._shown(turn):
            if replaces is not None:
                index = next((i for i, m in enumerate(self._messages) if m.id == replaces), len(self._messages))
                for gone in self._messages[index:]:
                    self._publish(MessageRemoved(gone.id))
                del self._messages[index:]
            if event.user_message is not None:
                self._add(self._views([event.user_message])[0])
            self._add(_live(turn))
        self._refresh_row(turn.conversation_id)

    def _on_answer_started(self, turn: _Turn, message_id: int) -> None:
        _log.info("answer in conversation %d started", turn.conversation_id)
        old, turn.answer_id, turn.phase = turn.answer_id, message_id, _Phase.STREAMING
        if self._shown(turn):
            self._replace(old, _live(turn))

    def _on_text(self, turn: _Turn, text: str) -> None:
        first = not turn.text
        turn.text.append(text)
        if turn.wait is not None:
            self._set_wait(turn, None)
        if first and turn.reasoning and self._shown(turn):
            self._replace(turn.answer_id, _live(turn))  # the words begin: the thinking closes (one change, not a delta)
            return
        if first:
            self._show_words_of(turn, text)  # the first words show at once (time to first token)
            return
        # Later words arrive many to a network read, all in one turn of the event loop: they reach the window as one
        # update when that turn ends (or before any other event), not one update (and one copy of the answer) each.
        turn.unshown.append(text)
        if not self._words_due:
            self._words_due = True
            asyncio.get_running_loop().call_soon(self._show_words)

    def _show_words(self) -> None:
        """Give the window the words received since the last update, one update per answer."""
        self._words_due = False
        for turn in self._turns.values():
            if turn.unshown:
                text = "".join(turn.unshown)
                turn.unshown.clear()
                self._show_words_of(turn, text)

    def _show_words_of(self, turn: _Turn, text: str) -> None:
        if self._shown(turn):
            # The streaming answer is the last message: no scan of the list at each update.
            last = len(self._messages) - 1
            index = last if last >= 0 and self._messages[last].id == turn.answer_id else self._index(turn.answer_id)
            if index >= 0:
                self._messages[index] = _live(turn)
            self._publish(AnswerGrew(turn.answer_id, text))

    def _on_reasoning(self, turn: _Turn, text: str) -> None:
        """More of the model's thinking: the live answer shows all of it so far (its section open until the words)."""
        turn.reasoning.append(text)
        if turn.wait is not None:
            self._set_wait(turn, None)
        if self._shown(turn):
            self._replace(turn.answer_id, _live(turn))

    def _on_finished(self, turn: _Turn, finished: Finished) -> None:
        if turn.wait is not None:
            self._set_wait(turn, None)
        if finished.answer is not None and self._shown(turn):
            view = message_view(finished.answer, finished.error)
            view = dataclasses.replace(view, thinking_open=bool(turn.thinking_open and view.reasoning))
            self._replace(turn.answer_id, view)
            turn.answer_id = view.id
        if finished.error is not None and not self._shown(turn):
            self._publish(Notice(finished.error.title))

    def _automatic_wait(self, turn: _Turn, finished: Finished, attempts: int) -> RetryWait | None:
        """A wait of at most a minute that Azure asked for and the client did not take, within max_retries.

        Longer waits are not counted down: the problem says the time and offers to try again (or, for a request
        that can never fit, to shorten the answer limit).
        """
        error = finished.error
        if error is None or error.action is not ErrorAction.WAIT_AND_RETRY or finished.answer is None:
            return None
        seconds = error.retry_after or 0.0
        limit = self._configuration.settings.app.max_retries
        if turn.client_retried or not 0 < seconds <= LONGEST_AUTOMATIC_WAIT or attempts >= limit:
            return None
        return RetryWait(
            finished.answer.id, seconds, self._clock() + seconds, attempts + 1, limit, "rate limit", automatic=True
        )

    async def _wait(self, turn: _Turn, wait: RetryWait) -> None:
        _log.info(
            "conversation %d waits %.0f s before retry %d of %d",
            turn.conversation_id,
            wait.seconds,
            wait.attempt,
            wait.of,
        )
        turn.phase = _Phase.WAITING
        turn.skip_wait.clear()
        self._set_wait(turn, wait)
        sleeper = asyncio.ensure_future(self._sleep(wait.seconds))
        skipper = asyncio.ensure_future(turn.skip_wait.wait())
        try:
            await asyncio.wait({sleeper, skipper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, skipper):
                task.cancel()
            await asyncio.gather(sleeper, skipper, return_exceptions=True)
        self._set_wait(turn, None)

    def _set_wait(self, turn: _Turn, wait: RetryWait | None) -> None:
        turn.wait = wait
        self._publish(TurnChanged(turn.conversation_id, True, wait))

    def _show_stopped(self, turn: _Turn) -> None:
        """After Stop: show what history now holds for the answer (the service saved it as stopped)."""
        if not self._shown(turn) or turn.phase is _Phase.WAITING:
            return
        with self._history():
            if turn.answer_id != PENDING_ANSWER:
                saved = self._store.get_message(turn.answer_id)
            else:  # stopped before the first words: the service saved an empty "stopped" answer, the last message
                last = self._store.load_messages(turn.conversation_id, limit=1)
                saved = last[0] if last and last[0].role is Role.ASSISTANT else None
            self._replace(turn.answer_id, message_view(saved) if saved is not None else None)

    def _fail_locally(self, turn: _Turn, title: str, text: str) -> None:
        if not self._shown(turn):
            self._publish(Notice(f"{title}: {text}"))
            return
        view = MessageView(
            id=turn.answer_id,
            role=Role.ASSISTANT,
            text="".join(turn.text),
            outcome=Outcome.FAILED,
            error_title=title,
            error_text=text,
            action=MessageAction.COPY_DETAILS if turn.answer_id != PENDING_ANSWER else None,
            reasoning="".join(turn.reasoning),
            thinking_ms=turn.thinking_ms,
        )
        self._replace(turn.answer_id, view)
        _log.info("turn in conversation %d ended on this computer: %s", turn.conversation_id, title)

    def _end(self, turn: _Turn, outcome: Outcome) -> None:
        cid = turn.conversation_id
        if self._turns.get(cid) is turn:
            del self._turns[cid]
            self._publish(TurnChanged(cid, False, None))
        self._refresh_row(cid)
        if cid == self.current_id:
            self._publish(UsageChanged(cid, *self._usage_line(cid)))
        row = self._rows.get(cid)
        self._publish(TurnEnded(cid, outcome, row.title if row else ""))

    # ---- the open conversation's list -------------------------------------------------------------------------------

    def _index(self, message_id: int) -> int:
        if self._words_due:
            self._show_words()  # the streaming answer's view has all its words
        return next((i for i, m in enumerate(self._messages) if m.id == message_id), -1)

    def _add(self, view: MessageView) -> None:
        self._messages.append(view)
        self._publish(MessageAdded(view))

    def _replace(self, message_id: int, view: MessageView | None) -> None:
        index = self._index(message_id)
        if index < 0:
            if view is not None:
                self._add(view)
            return
        if view is None:
            del self._messages[index]
            self._publish(MessageRemoved(message_id))
        elif view.id != message_id:
            self._messages[index] = view
            self._publish(MessageRemoved(message_id))
            self._publish(MessageAdded(view))
        else:
            self._messages[index] = view
            self._publish(MessageChanged(view))

    # ---- files ------------------------------------------------------------------------------------------------------

    def export_text(self, conversation_id: int, kind: str) -> str:
        """The conversation as Markdown (`md`) or JSON."""
        if kind == "md":
            return self._store.export_markdown(conversation_id)
        return self._store.export_json(conversation_id)

    async def export_archive(self, path: Path) -> int:
        """Every conversation into one archive (in a worker thread: it may be large); returns how many."""
        return await asyncio.to_thread(self._store.export_archive, path)

    def import_archive(self, path: Path) -> ImportReport:
        """Bring conversations back from an archive; the sidebar is filled again."""
        report = self._store.import_archive(path)
        self._reload_sidebar()
        return report

    async def delete_all(self) -> int:
        """Stop every turn, then delete every conversation and backup; returns how many files went."""
        await self.aclose()
        removed = self._store.delete_all_data()
        self._reload_sidebar()
        self.new_chat()
        return len(removed)

    def _reload_sidebar(self) -> None:
        with self._history():
            conversations = self._store.list_conversations(limit=SIDEBAR_LIMIT, include_archived=True)
            self._rows = {c.id: conversation_row(c, c.id in self._turns) for c in conversations}
        self._publish(SidebarReset(tuple(self._rows.values())))

    async def aclose(self) -> None:
        """Stop every turn and wait for each to save what it had."""
        tasks = [t.task for t in self._turns.values() if t.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def _live(turn: _Turn) -> MessageView:
    # The words so far are kept joined: a delta adds one piece to join, instead of every piece of the answer again.
    if len(turn.text) > 1:
        turn.text[:] = ["".join(turn.text)]
    if len(turn.reasoning) > 1:
        turn.reasoning[:] = ["".join(turn.reasoning)]
    text = turn.text[0] if turn.text else ""
    return MessageView(
        turn.answer_id,
        Role.ASSISTANT,
        text,
        Outcome.STREAMING,
        reasoning=turn.reasoning[0] if turn.reasoning else "",
        thinking_ms=turn.thinking_ms,
        thinking_open=turn.thinking_open if turn.thinking_open is not None else not text,
    )


def _deployment_choice(deployment: Deployment) -> DeploymentChoice:
    """A deployment in the picker: its alias and, when known, its real model ("Sales-GPT · gpt-4.1")."""
    choice = _choice(deployment.name, deployment.model_name, deployment.model_version)
    family = family_for(deployment.model_name)
    if not family.long_thinking:
        return choice
    return replace(choice, tooltip=f"{choice.tooltip}. It may think for minutes, and its answer arrives in one piece.")


def _choice(name: str, model: str | None, version: str | None) -> DeploymentChoice:
    label = f"{name} · {model}" if model and model != name else name
    tooltip = f"Deployment “{name}”" + (f", model {model}" if model else "") + (f" ({version})" if version else "")
    return DeploymentChoice(name, label, tooltip)
