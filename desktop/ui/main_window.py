"""The main window: a view of the chat window's controller (sidebar, chat, composer), wired in one place."""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.config import Configuration
from desktop.messages import Level, MessageBridge, UserMessage
from desktop.paths import AppPaths
from desktop.services import (
    AnswerGrew,
    Attachment,
    ChatWindowController,
    ConversationShown,
    Document,
    DraftRefused,
    DraftSaved,
    Header,
    HeaderChanged,
    MessageAction,
    MessageAdded,
    MessageChanged,
    MessageRemoved,
    Notice,
    OlderShown,
    RetryWait,
    Role,
    SearchChanged,
    SidebarReset,
    SidebarRowChanged,
    SidebarRowRemoved,
    TurnChanged,
    TurnEnded,
    UsageChanged,
    WindowEvent,
)
from desktop.ui.composer import Composer, ImageAttachment
from desktop.ui.conversation_list import ConversationList
from desktop.ui.empty_state import EmptyState
from desktop.ui.lazy_qt import TEXT_SELECTABLE_BY_MOUSE, Qt, set_enum_property
from desktop.ui.tasks import TaskRunner
from desktop.ui.theme import SchemeChoice, ThemeManager
from desktop.ui.toast import Toast
from desktop.ui.turn_settings import TurnSettingsBar
from desktop.ui.window_files import FileActions
from desktop.ui.window_menu import ViewActions, add_menus, fill_menus

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu

    from desktop.ui.chat_view import ChatView

_log = logging.getLogger(__name__)


def _tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


@dataclass
class WindowServices:
    """What the window works with, built by the composition root."""

    controller: ChatWindowController
    configuration: Configuration
    bridge: MessageBridge
    paths: AppPaths
    tasks: TaskRunner
    theme: ThemeManager


class _BridgeRelay(QObject):
    """Hops user messages from any thread onto the GUI thread."""

    received = Signal(object)


class MainWindow(ViewActions, QMainWindow):
    """The application's main window; emits `closed` when the user closes it."""

    closed = Signal()
    settings_requested = Signal()
    sign_in_requested = Signal(str)  # the connection (profile id) to sign in
    about_requested = Signal()
    turn_finished = Signal(int, str)  # conversation id, outcome (notifications, tests and benchmarks)

    def __init__(self, services: WindowServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.controller = services.controller
        self.header = Header(None, "", None, "", False, (), None, "")
        self.resize(1180, 800)
        self.setMinimumSize(640, 420)
        # Horizontal. `QSplitter(self)` would make PySide6 check `self` against QSplitter(Qt.Orientation, parent),
        # and so make the Qt namespace (desktop/ui/lazy_qt.py).
        self.splitter = QSplitter()
        self.setCentralWidget(self.splitter)
        self.sidebar = ConversationList(self.splitter)
        self.splitter.addWidget(self.sidebar)
        centre = QWidget(self.splitter)
        self.splitter.addWidget(centre)
        # The message view is not part of the first frame (a start shows a new chat): `finish_building` builds it
        # right after the first paint, or the first event that needs it does.
        self._chat_view: ChatView | None = None
        self.pages = QStackedWidget(centre)
        self.empty_state = EmptyState(self.pages)
        self.pages.addWidget(self.empty_state)
        self.composer = Composer(centre)
        self.turn_settings = TurnSettingsBar(self.composer, centre)
        self.title_label = QLabel(centre)
        self.title_label.setObjectName("conversationTitle")
        self.title_label.setAccessibleName(_tr("Conversation title"))
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.title_label.setFont(font)
        self.usage_label = QLabel(centre)  # the conversation's tokens (and estimated cost), quiet, right of the title
        self.usage_label.setObjectName("conversationUsage")
        self.usage_label.setAccessibleName(_tr("Tokens used in this conversation"))
        self.usage_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        set_enum_property(self.usage_label, "textInteractionFlags", TEXT_SELECTABLE_BY_MOUSE)
        self._demo_banner: QLabel | None = None  # made when a demo chat first shows (`demo_banner`)
        self._centre = centre
        self._centre_layout = layout = QVBoxLayout(centre)
        layout.setContentsMargins(12, 8, 12, 10)
        layout.setSpacing(8)
        header = QHBoxLayout()
        header.addWidget(self.title_label, 1)
        header.addWidget(self.usage_label)  # as wide as its text, at the right, centred in the row like the title
        layout.addLayout(header)
        layout.addWidget(self.pages, 1)
        line = QFrame(centre)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        layout.addWidget(self.turn_settings)
        layout.addWidget(self.composer)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([280, 900])
        self.splitter.setChildrenCollapsible(True)
        # Tab follows the screen below the messages: the chat's settings row, the message box, then the buttons under
        # it (by creation, the paperclip came first).
        c, t = self.composer, self.turn_settings
        stops = [c.deployments, t.effort, t.preset, c.instructions_button, c.input, c.attach_button, c.send_button]
        for before, after in itertools.pairwise(stops):
            QWidget.setTabOrder(before, after)
        self.toast = Toast(self)
        self.files = FileActions(self, self.controller, services.bridge, services.tasks, self.toast)
        self._relay = _BridgeRelay(self)
        # The menus' titles are in the first frame; their actions and shortcuts come right after it (finish_building).
        self._menus: dict[str, QMenu] | None = add_menus(self)
        self._connect_signals()
        self._apply_settings()
        services.bridge.subscribe(self._relay.received.emit)
        self.controller.subscribe(self._on_controller_event)
        self.controller.start()

    @property
    def demo_banner(self) -> QLabel:
        """The notice above a demo chat's messages, made at its first use: most starts show none."""
        if self._demo_banner is None:
            banner = QLabel(
                _tr(
                    "Demo mode: answers come from a built-in simulator on this computer, not from Azure. "
                    "Nothing you type here leaves this computer."
                ),
                self._centre,
            )
            banner.setObjectName("demoBanner")
            banner.setWordWrap(True)
            banner.setAccessibleName(_tr("Demo mode notice"))
            banner.setStyleSheet(
                "QLabel#demoBanner { background: #fff4ce; color: #4d3900; padding: 6px 12px; border-radius: 6px; }"
            )
            banner.hide()
            self._centre_layout.insertWidget(1, banner)  # under the title's row, above the messages
            self._demo_banner = banner
        return self._demo_banner

    def _connect_signals(self) -> None:
        """Every signal of the window, wired in one place."""
        c = self.controller
        self.sidebar.conversation_selected.connect(c.open)
        self.sidebar.new_requested.connect(self.new_chat)
        self.sidebar.search_requested.connect(c.search)
        self.sidebar.rename_requested.connect(c.rename)
        self.sidebar.delete_requested.connect(c.delete)
        self.sidebar.pin_requested.connect(c.set_pinned)
        self.sidebar.archive_requested.connect(c.set_archived)
        self.composer.send_requested.connect(self._on_composer_send_requested)
        self.composer.stop_requested.connect(self.stop_current)
        self.composer.edit_last_requested.connect(self.edit_last_question)
        self.composer.deployment_changed.connect(c.set_deployment)
        self.composer.instructions_changed.connect(c.set_instructions)
        self.turn_settings.effort_changed.connect(c.set_effort)
        self.turn_settings.preset_changed.connect(c.set_preset)
        self.empty_state.prompt_chosen.connect(self._on_empty_state_prompt_chosen)
        self.toast.action_triggered.connect(c.undo_delete)
        self.toast.dismissed.connect(c.purge_deleted)
        self.services.theme.changed.connect(self._on_theme_changed)
        self._relay.received.connect(self._on_bridge_message)

    @property
    def chat_view(self) -> ChatView:
        """The open conversation's messages (built on first use if `finish_building` has not run yet)."""
        if self._chat_view is None:
            self._chat_view = self._build_chat_view()
        return self._chat_view

    def focus_messages(self) -> None:
        """Move the keyboard focus to the latest message (Ctrl+J)."""
        self.chat_view.focus_latest()

    def finish_building(self) -> None:
        """Build what the first frame does not show: the message view, the menus' actions (and shortcuts) and the
        search field's clear button; the app calls this right after the first paint."""
        if self._chat_view is None:
            self._chat_view = self._build_chat_view()
        if self._menus is not None:  # (once, and so is what follows)
            fill_menus(self, self._menus)
            self._menus = None
            self.sidebar.finish_building()

    def _build_chat_view(self) -> ChatView:
        from desktop.ui.chat_view import ChatView

        view = ChatView(self)
        self.pages.addWidget(view)
        view.set_colors(self.services.theme.colors())
        c = self.controller
        view.edit_requested.connect(self.edit_message)
        view.regenerate_requested.connect(c.answer_again)
        view.details_requested.connect(self._on_chat_view_details_requested)
        view.action_requested.connect(self._on_chat_view_action_requested)
        view.retry_now_requested.connect(lambda _id: c.retry_now())
        view.copy_requested.connect(lambda _id: self.toast.show_message(_tr("Copied"), timeout_ms=1500))
        view.older_requested.connect(c.load_older)
        return view

    def _apply_settings(self) -> None:
        """Apply the app settings that the window shows (also after the settings dialog saved)."""
        settings = self.services.configuration.settings
        self.composer.set_send_on_enter(settings.app.send_on_enter)
        self.sidebar.set_collapsed(settings.app.sidebar_collapsed)
        if self._chat_view is not None:
            self._chat_view.set_colors(self.services.theme.colors())
        self.composer.set_icon_color(self.services.theme.colors().muted)

    def settings_changed(self) -> None:
        """Called after settings were saved: apply without a restart (connections, theme and text size included)."""
        app = self.services.configuration.settings.app
        theme = self.services.theme
        with contextlib.suppress(ValueError):
            theme.set_choice(SchemeChoice(app.theme))
        if app.font_size:
            theme.set_font_size(app.font_size)
        self._apply_settings()
        self.controller.settings_changed()

    # -- what the controller says ----------------------------------------------------------------------------------

    def _on_controller_event(self, event: WindowEvent) -> None:
        if isinstance(event, AnswerGrew):
            self.chat_view.append_delta(event.message_id, event.text)
        elif isinstance(event, MessageAdded):
            self.chat_view.append_message(event.message)
            self.pages.setCurrentWidget(self.chat_view)
        elif isinstance(event, MessageChanged):
            self.chat_view.update_message(event.message)
        elif isinstance(event, MessageRemoved):
            self.chat_view.remove_message(event.message_id)
        elif isinstance(event, ConversationShown):
            if event.messages or self._chat_view is not None:  # an empty chat needs no message view yet
                self.chat_view.set_messages(event.messages, has_older=event.has_older)
            self.pages.setCurrentWidget(self.chat_view if event.messages else self.empty_state)
            self._show_header(event.header)
            self._show_turn(event.running, event.wait)
        elif isinstance(event, HeaderChanged):
            self._show_header(event.header)
        elif isinstance(event, TurnChanged):
            if event.conversation_id == self.controller.current_id:
                self._show_turn(event.running, event.wait)
        elif isinstance(event, TurnEnded):
            self._on_turn_ended(event)
        elif isinstance(event, SidebarRowChanged):
            self.sidebar.upsert(event.row)
        elif isinstance(event, SidebarRowRemoved):
            self.sidebar.remove(event.conversation_id)
        elif isinstance(event, SidebarReset):
            self.sidebar.set_items(event.rows)
            self.sidebar.set_current(self.controller.current_id)
        elif isinstance(event, SearchChanged):
            self.sidebar.show_search_results(event.results)
        elif isinstance(event, OlderShown):
            self.chat_view.prepend_messages(event.messages, has_older=event.has_older)
        elif isinstance(event, DraftSaved):
            self.composer.clear_draft()
        elif isinstance(event, DraftRefused):
            self.composer.show_problem(event.reason)
        elif isinstance(event, UsageChanged):
            if event.conversation_id == self.header.conversation_id:
                self._show_usage_line(event.text, event.tip)
        elif isinstance(event, Notice):
            self.toast.show_message(event.text, _tr("Undo") if event.undo else "", 8000 if event.undo else 5000)

    def _show_header(self, header: Header) -> None:
        self.header = header
        self.title_label.setText(header.title if header.conversation_id is not None else _tr("New chat"))
        self._show_usage_line(header.usage, header.usage_tip)
        if header.demo or self._demo_banner is not None:
            self.demo_banner.setVisible(header.demo)
        self.setWindowTitle(_tr("Azure OpenAI Chat") + (_tr(" — demo") if header.demo else ""))
        self.composer.set_deployments(header.deployments, header.deployment)
        self.composer.set_reads_files(header.reads_files)
        self.composer.set_instructions(header.instructions)
        self.turn_settings.show_header(header)
        self.empty_state.show_header(header)
        self.sidebar.set_current(header.conversation_id)

    def _show_usage_line(self, text: str, tip: str) -> None:
        self.usage_label.setText(text)
        self.usage_label.setToolTip(tip)
        self.usage_label.setVisible(bool(text))

    def _show_turn(self, running: bool, wait: RetryWait | None) -> None:
        self.composer.set_streaming(running)
        if wait is not None:
            self.chat_view.show_retry(wait)
        elif self._chat_view is not None:
            self._chat_view.clear_retry()

    def _on_turn_ended(self, event: TurnEnded) -> None:
        _log.info("answer in conversation %d finished: %s", event.conversation_id, event.outcome.value)
        settings = self.services.configuration.settings
        if settings.app.notify_when_background and not self.isActiveWindow():
            QApplication.alert(self)
            self.toast.show_message(_tr("Answer finished: %1").replace("%1", event.title or _tr("Conversation")))
        self.turn_finished.emit(event.conversation_id, event.outcome.value)

    # -- what the user asks for ------------------------------------------------------------------------------------

    def new_chat(self) -> None:
        """Start an empty conversation (created in history when the first message is sent)."""
        self.controller.new_chat()
        self.composer.focus_input()

    def open_conversation(self, conversation_id: int) -> None:
        """Show a conversation (its last messages; older ones load on scroll)."""
        self.controller.open(conversation_id)

    def send(self, text: str, files: Sequence[ImageAttachment | Document] | None = None) -> None:
        """Send a message in the current conversation (creating it if needed), with its images and documents."""
        self.controller.send(
            text,
            [f.attachment() if isinstance(f, Document) else Attachment(f.mime, f.data, f.name) for f in files or []],
        )

    def stop_current(self) -> None:
        """Stop the answer (or the wait before a retry) in the current conversation; what arrived is kept."""
        self.controller.stop()

    def regenerate(self) -> None:
        """Answer the last question of the current conversation again."""
        self.controller.regenerate()

    def edit_message(self, message_id: int) -> None:
        """Edit one of the user's messages in a real editor (Enter sends, Esc cancels), then resend it."""
        message = next((m for m in self.controller.messages() if m.id == message_id and m.role is Role.USER), None)
        if message is None:
            return
        from desktop.ui.edit_dialog import EditMessageDialog

        dialog = EditMessageDialog(message.text, self)
        dialog.accepted.connect(lambda: self.controller.edit_and_resend(message_id, dialog.text()))
        dialog.finished.connect(lambda _result: self.composer.focus_input())
        dialog.open()

    def edit_last_question(self) -> None:
        """Edit the last message the user sent (Up in an empty message box)."""
        last = self.controller.last_question()
        if last is not None:
            self.edit_message(last.id)

    def _on_composer_send_requested(self, text: str, files: list[ImageAttachment | Document]) -> None:
        self.send(text, files)

    def _on_empty_state_prompt_chosen(self, prompt: str) -> None:
        self.composer.set_text(prompt)
        self.composer.focus_input()

    def _on_chat_view_details_requested(self, message_id: int) -> None:
        from PySide6.QtWidgets import QMessageBox  # message boxes load when first used, after the first paint

        box = QMessageBox(
            QMessageBox.Icon.Information, _tr("Answer details"), self.controller.details(message_id), parent=self
        )
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()

    def _on_chat_view_action_requested(self, message_id: int, action: MessageAction) -> None:
        if action is MessageAction.SIGN_IN:
            if self.header.connection_id:
                self.sign_in_requested.emit(self.header.connection_id)
        elif action is MessageAction.OPEN_SETTINGS:
            self.settings_requested.emit()
        elif action is MessageAction.EDIT:
            messages = self.controller.messages()
            index = next((i for i, m in enumerate(messages) if m.id == message_id), len(messages))
            question = next((m for m in reversed(messages[: index + 1]) if m.role is Role.USER), None)
            if question is not None:
                self.edit_message(question.id)
        elif action is MessageAction.COPY_DETAILS:
            QGuiApplication.clipboard().setText(self.controller.details(message_id))
            self.toast.show_message(_tr("Details copied. Send them to your administrator."))
        else:
            self.controller.act(message_id, action)

    def _on_bridge_message(self, message: object) -> None:
        if not isinstance(message, UserMessage):
            return
        if message.level is Level.ERROR and message.details:
            from PySide6.QtWidgets import QMessageBox

            box = QMessageBox(QMessageBox.Icon.Warning, _tr("Azure OpenAI Chat"), message.text, parent=self)
            box.setDetailedText(message.details)
            box.open()
        else:
            self.toast.show_message(message.text, timeout_ms=9000)

    def _on_theme_changed(self) -> None:
        if self._chat_view is not None:
            self._chat_view.set_colors(self.services.theme.colors())
        self.composer.set_icon_color(self.services.theme.colors().muted)

    # -- Qt overrides ----------------------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        """Tell the app to shut down once the window is closed."""
        self.controller.purge_deleted()
        super().closeEvent(event)
        if event.isAccepted():
            self.closed.emit()

    def showEvent(self, event: QShowEvent) -> None:
        """Focus the composer when the window appears."""
        super().showEvent(event)
        QTimer.singleShot(0, self.composer.take_first_focus)


__all__ = ["MainWindow", "WindowServices"]
