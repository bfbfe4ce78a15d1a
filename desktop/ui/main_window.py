"""The main window: conversations on the left, the chat in the middle, the composer below."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QGuiApplication, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.config import Configuration
from desktop.messages import Level, MessageBridge, UserMessage
from desktop.paths import AppPaths
from desktop.services import (
    AnswerStarted,
    ChatService,
    ErrorAction,
    Finished,
    ReasoningDelta,
    Retrying,
    TextDelta,
    TurnBusyError,
    TurnEvent,
    TurnSetupError,
    TurnStarted,
    UserError,
)
from desktop.storage import Attachment, HistoryError, HistoryStore, Role
from desktop.ui.adapters import chat_message, conversation_item, message_details
from desktop.ui.chat_view import ChatMessage, ChatView, Outcome
from desktop.ui.chat_view import Role as ViewRole
from desktop.ui.composer import Composer, ImageAttachment
from desktop.ui.conversation_list import ConversationList, SearchResult
from desktop.ui.tasks import TaskRunner
from desktop.ui.theme import SchemeChoice, ThemeManager
from desktop.ui.toast import Toast

_log = logging.getLogger(__name__)

PAGE = 200  # messages loaded when a conversation opens; older ones load on scroll


def _tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


@dataclass
class WindowServices:
    """What the window works with, built by the composition root."""

    store: HistoryStore
    chat: ChatService
    configuration: Configuration
    bridge: MessageBridge
    paths: AppPaths
    tasks: TaskRunner
    theme: ThemeManager
    demo: bool = False


@dataclass
class _LiveTurn:
    """A turn streaming in some conversation (maybe not the one on screen)."""

    conversation_id: int
    answer_id: str
    text: list[str] = dataclasses.field(default_factory=list)


class _BridgeRelay(QObject):
    """Hops user messages from any thread onto the GUI thread."""

    received = Signal(object)


class MainWindow(QMainWindow):
    """The application's main window; emits `closed` when the user closes it."""

    closed = Signal()
    settings_requested = Signal()
    sign_in_requested = Signal()
    about_requested = Signal()
    turn_finished = Signal(int, str)  # conversation id, outcome (for tests, notifications and benchmarks)

    def __init__(self, services: WindowServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.store = services.store
        self.chat = services.chat
        self._current: int | None = None
        self._live: dict[int, _LiveTurn] = {}
        self._oldest_position: int | None = None
        self._pending_deleted: int | None = None
        self._retry_conversation: int | None = None
        self._retry_timer = QTimer(self)
        self._retry_timer.setSingleShot(True)
        self.setWindowTitle(_tr("Azure OpenAI Chat") + (_tr(" — demo") if services.demo else ""))
        self.resize(1180, 800)
        self.setMinimumSize(640, 420)

        self.sidebar = ConversationList(self)
        self.chat_view = ChatView(self)
        self.composer = Composer(self)
        self.title_label = QLabel(self)
        self.title_label.setObjectName("conversationTitle")
        self.title_label.setAccessibleName(_tr("Conversation title"))
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.title_label.setFont(font)
        self.demo_banner = QLabel(
            _tr(
                "Demo mode: answers come from a built-in simulator on this computer, not from Azure. "
                "Nothing you type leaves this computer."
            ),
            self,
        )
        self.demo_banner.setObjectName("demoBanner")
        self.demo_banner.setWordWrap(True)
        self.demo_banner.setAccessibleName(_tr("Demo mode notice"))
        self.demo_banner.setVisible(services.demo)
        self.demo_banner.setStyleSheet(
            "QLabel#demoBanner { background: #fff4ce; color: #4d3900; padding: 6px 12px; border-radius: 6px; }"
        )

        centre = QWidget(self)
        layout = QVBoxLayout(centre)
        layout.setContentsMargins(12, 8, 12, 10)
        layout.setSpacing(8)
        header = QHBoxLayout()
        header.addWidget(self.title_label, 1)
        layout.addLayout(header)
        layout.addWidget(self.demo_banner)
        layout.addWidget(self.chat_view, 1)
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        layout.addWidget(self.composer)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(centre)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([280, 900])
        self.splitter.setChildrenCollapsible(True)
        self.setCentralWidget(self.splitter)
        self.toast = Toast(self)
        self._relay = _BridgeRelay(self)
        self._build_menus()
        self._connect_signals()
        self._apply_settings()
        services.bridge.subscribe(self._relay.received.emit)
        self.refresh_conversations()
        self._show_conversation(None)

    # -- construction ----------------------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        bar = self.menuBar()

        def action(menu_title: str, text: str, slot: Callable[[], object], shortcut: str | None = None) -> QAction:
            menu = menus[menu_title]
            act = QAction(text, self)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(lambda _checked=False: slot())
            menu.addAction(act)
            return act

        menus = {
            name: bar.addMenu(label)
            for name, label in (
                ("file", _tr("&File")),
                ("chat", _tr("&Chat")),
                ("view", _tr("&View")),
                ("help", _tr("&Help")),
            )
        }
        self.new_action = action("file", _tr("New chat"), self.new_chat, "Ctrl+N")
        action("file", _tr("Export conversation as Markdown…"), lambda: self.export_current("md"))
        action("file", _tr("Export conversation as JSON…"), lambda: self.export_current("json"))
        action("file", _tr("Export all conversations…"), self.export_all)
        action("file", _tr("Import conversations…"), self.import_archive)
        menus["file"].addSeparator()
        self.settings_action = action("file", _tr("Settings…"), self.settings_requested.emit, "Ctrl+,")
        action("file", _tr("Delete all my data…"), self.delete_all_data)
        menus["file"].addSeparator()
        action("file", _tr("Quit"), self.close, "Ctrl+Q")

        self.stop_action = action("chat", _tr("Stop answer"), self.stop_current, "Esc")
        action("chat", _tr("Search conversations"), self.focus_search, "Ctrl+K")
        action("chat", _tr("Focus message box"), self.composer.focus_input, "Ctrl+L")
        action("chat", _tr("Next conversation"), self.sidebar.select_next, "Ctrl+PgDown")
        action("chat", _tr("Previous conversation"), self.sidebar.select_previous, "Ctrl+PgUp")
        action("chat", _tr("Regenerate last answer"), self.regenerate, "Ctrl+R")
        action("chat", _tr("Rename conversation…"), self.rename_current, "F2")

        action("view", _tr("Show or hide conversations"), self.toggle_sidebar, "Ctrl+B")
        action("view", _tr("Larger text"), lambda: self._zoom(1), "Ctrl++")
        action("view", _tr("Smaller text"), lambda: self._zoom(-1), "Ctrl+-")
        theme_menu = menus["view"].addMenu(_tr("Appearance"))
        for choice, label in (
            (SchemeChoice.SYSTEM, _tr("Follow the system")),
            (SchemeChoice.LIGHT, _tr("Light")),
            (SchemeChoice.DARK, _tr("Dark")),
        ):
            act = QAction(label, self)
            act.triggered.connect(lambda _c=False, ch=choice: self.set_theme(ch))
            theme_menu.addAction(act)
        action("view", _tr("Show archived conversations"), self._toggle_archived)

        action("help", _tr("About Azure OpenAI Chat"), self.about_requested.emit)
        action("help", _tr("Open log folder"), lambda: self._open_folder(self.services.paths.log_dir))

    def _connect_signals(self) -> None:
        """Every signal of the window, wired in one place."""
        self.sidebar.conversation_selected.connect(self._on_sidebar_conversation_selected)
        self.sidebar.new_requested.connect(self.new_chat)
        self.sidebar.search_requested.connect(self._on_sidebar_search_requested)
        self.sidebar.rename_requested.connect(self._on_sidebar_rename_requested)
        self.sidebar.delete_requested.connect(self._on_sidebar_delete_requested)
        self.sidebar.pin_requested.connect(self._on_sidebar_pin_requested)
        self.sidebar.archive_requested.connect(self._on_sidebar_archive_requested)
        self.composer.send_requested.connect(self._on_composer_send_requested)
        self.composer.stop_requested.connect(self.stop_current)
        self.composer.deployment_changed.connect(self._on_composer_deployment_changed)
        self.composer.instructions_changed.connect(self._on_composer_instructions_changed)
        self.chat_view.edit_requested.connect(self._on_chat_view_edit_requested)
        self.chat_view.regenerate_requested.connect(lambda _id: self.regenerate())
        self.chat_view.details_requested.connect(self._on_chat_view_details_requested)
        self.chat_view.action_requested.connect(self._on_chat_view_action_requested)
        self.chat_view.retry_now_requested.connect(self._on_chat_view_retry_now_requested)
        self._retry_timer.timeout.connect(self._on_retry_timer_timeout)
        self.chat_view.older_requested.connect(self._on_chat_view_older_requested)
        self.toast.action_triggered.connect(self._on_toast_action_triggered)
        self.toast.dismissed.connect(self._on_toast_dismissed)
        self.services.theme.changed.connect(self._on_theme_changed)
        self._relay.received.connect(self._on_bridge_message)

    def _apply_settings(self) -> None:
        """Apply the app settings that the window shows (also after the settings dialog saved)."""
        settings = self.services.configuration.settings
        self.composer.set_send_on_enter(settings.app.send_on_enter)
        self.sidebar.set_collapsed(settings.app.sidebar_collapsed)
        self.chat_view.set_colors(self.services.theme.colors())
        self._refresh_deployments()

    def settings_changed(self) -> None:
        """Called after the settings dialog saved: apply without a restart (theme and text size included)."""
        app = self.services.configuration.settings.app
        theme = self.services.theme
        with contextlib.suppress(ValueError):
            theme.set_choice(SchemeChoice(app.theme))
        if app.font_size:
            theme.set_font_size(app.font_size)
        self._apply_settings()

    def set_demo(self, demo: bool) -> None:
        """Show or hide the demo notice (the demo can start from the first-run guide)."""
        self.services.demo = demo
        self.demo_banner.setVisible(demo)

    # -- conversations ---------------------------------------------------------------------------------------------

    def refresh_conversations(self) -> None:
        """Reload the sidebar from history."""
        conversations = self.store.list_conversations(limit=2000, include_archived=True)
        self.sidebar.set_items([conversation_item(c, c.id in self._live) for c in conversations])
        if self._current is not None:
            self.sidebar.set_current(str(self._current))

    def new_chat(self) -> None:
        """Start an empty conversation (created in history when the first message is sent)."""
        self._show_conversation(None)
        self.composer.focus_input()

    def open_conversation(self, conversation_id: int) -> None:
        """Show a conversation (its last messages; older ones load on scroll)."""
        self._show_conversation(conversation_id)

    def _show_conversation(self, conversation_id: int | None) -> None:
        self.chat_view.flush()
        if conversation_id != self._retry_conversation:
            self._retry_timer.stop()
            self._retry_conversation = None
        self._current = conversation_id
        conv = self.store.get_conversation(conversation_id) if conversation_id is not None else None
        if conv is None:
            self._current = None
            self.chat_view.set_messages([])
            self.title_label.setText(_tr("New chat"))
            self.composer.set_instructions(self._profile_defaults_instructions())
        else:
            messages = self.store.load_messages(conv.id, limit=PAGE)
            self._oldest_position = messages[0].position if messages else None
            shown = [chat_message(m) for m in messages]
            live = self._live.get(conv.id)
            if live is not None:
                shown = [m for m in shown if m.id != live.answer_id]
                shown.append(self._live_message(live))
            self.chat_view.set_messages(shown, has_older=self.store.message_count(conv.id) > len(messages))
            self.title_label.setText(conv.title or _tr("New chat"))
            self.composer.set_instructions(conv.instructions)
            self.sidebar.set_current(str(conv.id))
        self._refresh_deployments()
        self.composer.set_streaming(self._current is not None and self._current in self._live)

    def _live_message(self, live: _LiveTurn) -> ChatMessage:
        return ChatMessage(
            id=live.answer_id, role=ViewRole.ASSISTANT, text="".join(live.text), outcome=Outcome.STREAMING
        )

    def _profile_defaults_instructions(self) -> str:
        profile = self.services.configuration.settings.active_profile
        return profile.chat_defaults.instructions if profile else ""

    def _refresh_deployments(self) -> None:
        profile = self.services.configuration.settings.active_profile
        names = [d.name for d in profile.deployments] if profile else []
        current = None
        if self._current is not None:
            conv = self.store.get_conversation(self._current)
            current = conv.deployment if conv else None
        current = current or (profile.default_deployment if profile else None) or (names[0] if names else None)
        if current and current not in names:
            names.append(current)
        labels = []
        for name in names:
            dep = next((d for d in profile.deployments if d.name == name), None) if profile else None
            model = f" ({dep.model_name})" if dep and dep.model_name and dep.model_name != name else ""
            labels.append((name + model, name))
        self.composer.set_deployments(labels, current)

    def _ensure_conversation(self) -> int:
        if self._current is not None:
            return self._current
        settings = self.services.configuration.settings
        profile = settings.active_profile
        deployment = self.composer.current_deployment() or (profile.default_deployment if profile else None)
        conv = self.store.create_conversation(
            "New chat",
            profile_id=profile.id if profile else None,
            deployment=deployment,
            instructions=self.composer.instructions(),
        )
        self._current = conv.id
        self.refresh_conversations()
        return conv.id

    # -- turns -----------------------------------------------------------------------------------------------------

    def send(self, text: str, images: list[ImageAttachment] | None = None) -> None:
        """Send a message in the current conversation (creating it if needed)."""
        try:
            conversation_id = self._ensure_conversation()
        except HistoryError as exc:
            self.services.bridge.error(str(exc))
            return
        attachments = [Attachment(i.mime, i.data, i.name) for i in images or []]
        self._start_turn(conversation_id, self.chat.send(conversation_id, text, attachments))

    def regenerate(self) -> None:
        """Answer the last question of the current conversation again."""
        if self._current is not None and not self.chat.is_running(self._current):
            self._start_turn(self._current, self.chat.regenerate(self._current))

    def continue_answer(self) -> None:
        """Ask for the rest of an answer cut at the length limit."""
        if self._current is not None and not self.chat.is_running(self._current):
            self._start_turn(self._current, self.chat.continue_answer(self._current))

    def stop_current(self) -> None:
        """Stop the answer streaming in the current conversation (the partial answer is kept)."""
        if self._current is not None:
            self.services.tasks.cancel(_turn_task(self._current))

    def _start_turn(self, conversation_id: int, events: AsyncGenerator[TurnEvent, None]) -> None:
        if self.chat.is_running(conversation_id):
            self.toast.show_message(_tr("An answer is still arriving in this conversation."))
            return
        self.services.tasks.start(_turn_task(conversation_id), self._run_turn(conversation_id, events))

    async def _run_turn(self, conversation_id: int, events: AsyncGenerator[TurnEvent, None]) -> None:
        """Feed one turn's events to the view (when it shows that conversation) and keep the sidebar current."""
        live = _LiveTurn(conversation_id, f"pending-{conversation_id}")
        finished: Finished | None = None
        try:
            async with contextlib.aclosing(events):
                async for event in events:
                    finished = self._on_turn_event(live, event) or finished
        except TurnBusyError:
            self.toast.show_message(_tr("An answer is still arriving in this conversation."))
        except TurnSetupError as exc:
            self.toast.show_message(exc.error.title)
        except asyncio.CancelledError:
            self._end_turn(live, None)
            raise
        self._end_turn(live, finished)

    def _on_turn_event(self, live: _LiveTurn, event: TurnEvent) -> Finished | None:
        shown = self._current == live.conversation_id
        if isinstance(event, TurnStarted):
            self._live[live.conversation_id] = live
            if shown:
                # History now holds the user's message (and an edit or regenerate replaced what followed it):
                # reload, which also shows the live answer's placeholder.
                self._show_conversation(live.conversation_id)
            self.refresh_conversations()
        elif isinstance(event, AnswerStarted):
            _log.info("answer in conversation %d started", live.conversation_id)
            old = live.answer_id
            live.answer_id = str(event.message_id)
            if shown:
                self.chat_view.remove_message(old)
                self.chat_view.append_message(self._live_message(live))
        elif isinstance(event, TextDelta):
            live.text.append(event.text)
            if shown:
                if self.chat_view.retry_notice():
                    self.chat_view.clear_retry()
                self.chat_view.append_delta(live.answer_id, event.text)
        elif isinstance(event, Retrying):
            if shown:
                self.chat_view.show_retry(live.answer_id, event.delay, event.attempt, event.of, event.reason)
        elif isinstance(event, ReasoningDelta):
            return None
        elif isinstance(event, Finished):
            return event
        return None

    def _end_turn(self, live: _LiveTurn, finished: Finished | None) -> None:
        self._live.pop(live.conversation_id, None)
        shown = self._current == live.conversation_id
        outcome = finished.outcome.value if finished else "stopped"
        if shown:
            self.chat_view.flush()
            self.chat_view.clear_retry()
            answer = finished.answer if finished else None
            if answer is None:
                # Stopped: the service saved the partial answer; show what history now holds.
                self._show_conversation(live.conversation_id)
            else:
                message = chat_message(answer, finished.error if finished else None)
                if self.chat_view.message(live.answer_id) is not None and live.answer_id != message.id:
                    self.chat_view.remove_message(live.answer_id)
                if self.chat_view.message(message.id) is None:
                    self.chat_view.append_message(message)
                else:
                    self.chat_view.update_message(message)
                error = finished.error if finished else None
                if error is not None and error.action is ErrorAction.WAIT_AND_RETRY and error.retry_after:
                    self._schedule_retry(live.conversation_id, message.id, error.retry_after)
            self.composer.set_streaming(False)
        self.refresh_conversations()
        if finished is not None and finished.error is not None and not shown:
            self.toast.show_message(finished.error.title)
        _log.info("answer in conversation %d finished: %s", live.conversation_id, outcome)
        self._notify_if_background(live.conversation_id, outcome)
        self.turn_finished.emit(live.conversation_id, outcome)

    def _schedule_retry(self, conversation_id: int, message_id: str, seconds: float) -> None:
        """Azure asked for a long wait: count down in place, then try again by itself ("Retry now" skips the wait)."""
        self.chat_view.show_retry(message_id, seconds, 1, 1, _tr("rate limit"))
        self._retry_timer.start(int(seconds * 1000))
        self._retry_conversation = conversation_id

    def _on_retry_timer_timeout(self) -> None:
        if self._retry_conversation is not None and self._retry_conversation == self._current:
            self.chat_view.clear_retry()
            self.regenerate()
        self._retry_conversation = None

    def _on_chat_view_retry_now_requested(self, _message_id: str) -> None:
        self._retry_timer.stop()
        self._retry_conversation = None
        self.chat_view.clear_retry()
        self.regenerate()

    def _notify_if_background(self, conversation_id: int, outcome: str) -> None:
        if not self.services.configuration.settings.app.notify_when_background or self.isActiveWindow():
            return
        QApplication.alert(self)
        conv = self.store.get_conversation(conversation_id)
        title = conv.title if conv else _tr("Conversation")
        self.toast.show_message(_tr("Answer finished: %1").replace("%1", title))
        _log.debug("told the user: answer finished in the background")

    # -- slots -----------------------------------------------------------------------------------------------------

    def _on_sidebar_conversation_selected(self, conversation_id: str) -> None:
        if conversation_id and int(conversation_id) != self._current:
            self._show_conversation(int(conversation_id))

    def _on_sidebar_search_requested(self, query: str) -> None:
        if not query.strip():
            self.sidebar.show_search_results([])
            return
        hits = self.store.search(query, limit=100)
        self.sidebar.show_search_results(
            [SearchResult(str(h.conversation_id), h.conversation_title or _tr("New chat"), h.snippet) for h in hits]
        )

    def _on_sidebar_rename_requested(self, conversation_id: str, title: str) -> None:
        if title.strip():
            self.store.rename(int(conversation_id), title.strip())
            if self._current == int(conversation_id):
                self.title_label.setText(title.strip())
            self.refresh_conversations()

    def _on_sidebar_delete_requested(self, conversation_id: str) -> None:
        cid = int(conversation_id)
        self.services.tasks.cancel(_turn_task(cid))
        self._purge_pending_delete()
        self.store.delete_conversation(cid)
        self._pending_deleted = cid
        if self._current == cid:
            self._show_conversation(None)
        self.refresh_conversations()
        self.toast.show_message(_tr("Conversation deleted."), _tr("Undo"), timeout_ms=8000)

    def _on_toast_action_triggered(self) -> None:
        if self._pending_deleted is not None:
            cid, self._pending_deleted = self._pending_deleted, None
            self.store.restore_conversation(cid)
            self.refresh_conversations()
            self._show_conversation(cid)

    def _on_toast_dismissed(self) -> None:
        self._purge_pending_delete()

    def _purge_pending_delete(self) -> None:
        if self._pending_deleted is not None:
            self._pending_deleted = None
            self.store.purge_deleted()

    def _on_sidebar_pin_requested(self, conversation_id: str, pinned: bool) -> None:
        self.store.set_pinned(int(conversation_id), pinned)
        self.refresh_conversations()

    def _on_sidebar_archive_requested(self, conversation_id: str, archived: bool) -> None:
        self.store.set_archived(int(conversation_id), archived)
        self.refresh_conversations()

    def _on_composer_send_requested(self, text: str, images: list[ImageAttachment]) -> None:
        self.send(text, images)

    def _on_composer_deployment_changed(self, deployment: str) -> None:
        if self._current is not None and deployment:
            self.store.update_conversation(self._current, deployment=deployment)

    def _on_composer_instructions_changed(self, instructions: str) -> None:
        if self._current is not None:
            self.store.update_conversation(self._current, instructions=instructions)

    def _on_chat_view_edit_requested(self, message_id: str) -> None:
        msg = self.store.get_message(int(message_id))
        if msg is None or msg.role is not Role.USER:
            return
        text, ok = QInputDialog.getMultiLineText(
            self, _tr("Edit and resend"), _tr("Your message (later messages will be replaced):"), msg.text
        )
        if ok and text.strip() and text != msg.text:
            self.edit_and_resend(msg.id, text)

    def edit_and_resend(self, message_id: int, text: str) -> None:
        """Replace an earlier user message and answer it again."""
        msg = self.store.get_message(message_id)
        if msg is not None and not self.chat.is_running(msg.conversation_id):
            self._start_turn(msg.conversation_id, self.chat.edit_and_resend(message_id, text))

    def _on_chat_view_details_requested(self, message_id: str) -> None:
        msg = self.store.get_message(int(message_id))
        if msg is None:
            return
        box = QMessageBox(QMessageBox.Icon.Information, _tr("Answer details"), message_details(msg), parent=self)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()

    def _on_chat_view_action_requested(self, message_id: str, action: str) -> None:
        if action == "retry":
            self.regenerate()
        elif action == "continue":
            self.continue_answer()
        elif action == "settings":
            self.settings_requested.emit()
        elif action == "sign_in":
            self.sign_in_requested.emit()
        elif action == "new_chat":
            self.new_chat()
        elif action == "edit_last":
            last_user = next((m for m in reversed(self.chat_view.messages()) if m.role.value == "user"), None)
            if last_user is not None:
                self._on_chat_view_edit_requested(last_user.id)
        elif action == "copy_details":
            msg = self.store.get_message(int(message_id))
            if msg is not None:
                QGuiApplication.clipboard().setText(message_details(msg))
                self.toast.show_message(_tr("Details copied. Send them to your administrator."))

    def _on_chat_view_older_requested(self) -> None:
        if self._current is None or self._oldest_position is None:
            self.chat_view.set_has_older(False)
            return
        older = self.store.load_messages(self._current, limit=PAGE, before_position=self._oldest_position)
        if older:
            self._oldest_position = older[0].position
        self.chat_view.prepend_messages([chat_message(m) for m in older], has_older=len(older) == PAGE)

    def _on_bridge_message(self, message: object) -> None:
        if not isinstance(message, UserMessage):
            return
        if message.level is Level.ERROR and message.details:
            box = QMessageBox(QMessageBox.Icon.Warning, _tr("Azure OpenAI Chat"), message.text, parent=self)
            box.setDetailedText(message.details)
            box.open()
        else:
            self.toast.show_message(message.text, timeout_ms=9000)

    def _on_theme_changed(self) -> None:
        self.chat_view.set_colors(self.services.theme.colors())

    # -- view actions ----------------------------------------------------------------------------------------------

    def focus_search(self) -> None:
        """Put the cursor into the search field."""
        if self.sidebar.isHidden() or self.splitter.sizes()[0] == 0:
            self.toggle_sidebar()
        self.sidebar.focus_search()

    def toggle_sidebar(self) -> None:
        """Collapse or expand the conversation list."""
        collapsed = not self.services.configuration.settings.app.sidebar_collapsed
        self.sidebar.set_collapsed(collapsed)
        with contextlib.suppress(Exception):
            self.services.configuration.update_app(sidebar_collapsed=collapsed)
            self.services.configuration.save()

    def rename_current(self) -> None:
        """Rename the current conversation."""
        if self._current is None:
            return
        conv = self.store.get_conversation(self._current)
        title, ok = QInputDialog.getText(
            self, _tr("Rename conversation"), _tr("Title:"), text=conv.title if conv else ""
        )
        if ok:
            self._on_sidebar_rename_requested(str(self._current), title)

    def set_theme(self, choice: SchemeChoice) -> None:
        """Light, dark or follow the system."""
        self.services.theme.set_choice(choice)
        with contextlib.suppress(Exception):
            self.services.configuration.update_app(theme=choice.value)
            self.services.configuration.save()

    def _zoom(self, step: int) -> None:
        theme = self.services.theme
        theme.set_font_size(max(8, min(28, theme.font_size() + step)))
        with contextlib.suppress(Exception):
            self.services.configuration.update_app(font_size=theme.font_size())
            self.services.configuration.save()

    def _toggle_archived(self) -> None:
        self._show_archived = not getattr(self, "_show_archived", False)
        self.sidebar.set_show_archived(self._show_archived)

    def _open_folder(self, path: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    # -- export, import, delete ------------------------------------------------------------------------------------

    def export_current(self, kind: str) -> None:
        """Save the current conversation as Markdown or JSON."""
        if self._current is None:
            self.toast.show_message(_tr("Open a conversation to export it."))
            return
        conv = self.store.get_conversation(self._current)
        name = (conv.title if conv else "conversation").strip().replace("/", "-")[:60] or "conversation"
        filters = _tr("Markdown (*.md)") if kind == "md" else _tr("JSON (*.json)")
        path, _ = QFileDialog.getSaveFileName(self, _tr("Export conversation"), f"{name}.{kind}", filters)
        if path:
            text = self.store.export_markdown(self._current) if kind == "md" else self.store.export_json(self._current)
            self._write_file(Path(path), text)

    def _write_file(self, path: Path, text: str) -> None:
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.services.bridge.error(_tr("Could not save the file: %1").replace("%1", exc.strerror or str(exc)))
        else:
            self.toast.show_message(_tr("Saved to %1").replace("%1", str(path)))

    def export_all(self) -> None:
        """Save every conversation into one JSON archive (in a worker thread: it may be large)."""
        path, _ = QFileDialog.getSaveFileName(
            self, _tr("Export all conversations"), "azure-openai-chat-history.json", _tr("JSON (*.json)")
        )
        if path:
            self.services.tasks.start("export-all", self._export_all(Path(path)), replace=True)

    async def _export_all(self, path: Path) -> None:
        try:
            count = await asyncio.to_thread(self.store.export_archive, path)
        except (OSError, HistoryError) as exc:
            self.services.bridge.error(_tr("Could not export: %1").replace("%1", str(exc)))
        else:
            self.toast.show_message(
                _tr("Exported %1 conversations to %2").replace("%1", str(count)).replace("%2", str(path))
            )

    def import_archive(self) -> None:
        """Bring conversations back from an exported archive."""
        path, _ = QFileDialog.getOpenFileName(self, _tr("Import conversations"), "", _tr("JSON (*.json)"))
        if not path:
            return
        try:
            report = self.store.import_archive(Path(path))
        except (OSError, HistoryError) as exc:
            self.services.bridge.error(_tr("Could not import: %1").replace("%1", str(exc)))
            return
        self.refresh_conversations()
        self.toast.show_message(
            _tr("Imported %1 conversations (%2 were already here).")
            .replace("%1", str(report.imported))
            .replace("%2", str(report.skipped))
        )

    def delete_all_data(self) -> None:
        """Delete every conversation and backup, after a clear confirmation."""
        answer = QMessageBox.warning(
            self,
            _tr("Delete all my data?"),
            _tr(
                "This deletes every conversation and its backups from this computer. It cannot be undone. "
                "Your settings and saved keys are kept; remove keys in Settings."
            ),
            QMessageBox.StandardButton.Cancel | QMessageBox.StandardButton.Yes,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.services.tasks.start("delete-all", self._delete_all(), replace=True)

    async def _delete_all(self) -> None:
        await self.services.tasks.cancel_all_except("delete-all")
        try:
            removed = self.store.delete_all_data()
        except (OSError, HistoryError) as exc:
            self.services.bridge.error(_tr("Could not delete everything: %1").replace("%1", str(exc)))
            return
        self._live.clear()
        self._show_conversation(None)
        self.refresh_conversations()
        self.toast.show_message(_tr("Deleted %1 files.").replace("%1", str(len(removed))))

    # -- Qt overrides ----------------------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        """Tell the app to shut down once the window is closed."""
        self._purge_pending_delete()
        super().closeEvent(event)
        if event.isAccepted():
            self.closed.emit()

    def showEvent(self, event: QShowEvent) -> None:
        """Focus the composer when the window appears."""
        super().showEvent(event)
        QTimer.singleShot(0, self.composer.focus_input)


def _turn_task(conversation_id: int) -> str:
    return f"turn:{conversation_id}"


__all__ = ["MainWindow", "UserError", "WindowServices"]
