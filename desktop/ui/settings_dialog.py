"""The settings dialog: the list of connections with their editor, and the app's preferences."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.config import Deployment, Profile, SettingsChangeError
from desktop.ui.app_page import AppPage
from desktop.ui.async_slots import AsyncWork
from desktop.ui.profile_editor import ProfileEditor
from desktop.ui.settings_parts import LOCKED_TIP, describe_endpoint, lock_icon, steps_html
from desktop.ui.sign_in import SignInPanel

if TYPE_CHECKING:
    from desktop.services import ConnectionReport, ConnectionSetup

__all__ = ["AppPage", "ProfileEditor", "SettingsDialog", "describe_endpoint"]

_log = logging.getLogger(__name__)


def _tr(text: str) -> str:
    return QCoreApplication.translate("SettingsDialog", text)


class SettingsDialog(QDialog):
    """Connections and preferences; Save applies at once (emits `settings_saved`), Close discards unsaved edits."""

    settings_saved = Signal()
    connection_chosen = Signal(str)  # "Use for chats": new chats use this connection from now on

    def __init__(
        self,
        setup: ConnectionSetup,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._setup = setup
        self._configuration = setup.configuration
        self._drafts: dict[str, Profile] = {}
        self._removed: set[str] = set()
        self._active_id: str | None = None
        self._current: str | None = None
        self._pending_key: tuple[str, str] | None = None  # (profile id, key) waiting for session-only consent
        self._use_after_consent = False
        self.sign_in_panel: SignInPanel | None = None
        self._key_status_request = 0
        self.work = AsyncWork(self, self._on_work_failed)
        self.setWindowTitle(_tr("Settings"))
        self.setAccessibleName(_tr("Settings"))
        self.setModal(False)
        self.resize(900, 720)

        self.profile_list = QListWidget(self)
        self.profile_list.setAccessibleName(_tr("Connections"))
        self.profile_list.currentItemChanged.connect(self._on_profile_list_current_changed)
        self.add_button = QPushButton(_tr("Add"), self)
        self.add_button.setAccessibleName(_tr("Add a connection"))
        self.remove_button = QPushButton(_tr("Remove"), self)
        self.remove_button.setAccessibleName(_tr("Remove this connection"))
        self.use_button = QPushButton(_tr("&Use for chats"), self)
        self.use_button.setAccessibleName(_tr("Use this connection for new chats"))
        self.editor = ProfileEditor(self)
        scroll = QScrollArea(self)
        scroll.setWidget(self.editor)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.empty_label = QLabel(_tr("No connections yet. Choose Add to set one up."), self)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        left = QVBoxLayout()
        left.addWidget(self.profile_list, 1)
        left_buttons = QHBoxLayout()
        left_buttons.addWidget(self.add_button)
        left_buttons.addWidget(self.remove_button)
        left.addLayout(left_buttons)
        left.addWidget(self.use_button)
        connections_page = QWidget(self)
        connections_layout = QHBoxLayout(connections_page)
        connections_layout.addLayout(left, 1)
        connections_layout.addWidget(scroll, 3)
        connections_layout.addWidget(self.empty_label, 3)
        self._scroll = scroll

        self.app_page = AppPage(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(connections_page, _tr("Connections"))
        self.tabs.addTab(self.app_page, _tr("App"))

        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName(_tr("Settings status"))
        self.save_button = QPushButton(_tr("Save"), self)
        self.save_button.setDefault(True)
        self.close_button = QPushButton(_tr("Close"), self)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)
        self._connect_signals()
        self.reload()

    def _connect_signals(self) -> None:
        e = self.editor
        self.add_button.clicked.connect(self._on_add_clicked)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.use_button.clicked.connect(self._on_use_clicked)
        self.save_button.clicked.connect(lambda: self.work.start(self.save()))
        self.close_button.clicked.connect(self.close)
        e.name_edit.textEdited.connect(self._on_editor_name_edited)
        e.remove_key_button.clicked.connect(lambda: self.work.start(self.remove_key()))
        e.session_button.clicked.connect(lambda: self.work.start(self.keep_key_for_session()))
        e.sign_in_button.clicked.connect(lambda: self.work.start(self.sign_in()))
        e.sign_out_button.clicked.connect(lambda: self.work.start(self.sign_out()))
        e.find_button.clicked.connect(lambda: self.work.start(self.find_deployments()))
        e.test_button.clicked.connect(lambda: self.work.start(self.test_connection()))

    # -- state -----------------------------------------------------------------------------------------------------

    def reload(self) -> None:
        """Show what is saved (drops unsaved edits)."""
        settings = self._configuration.settings
        self._drafts = {p.id: p for p in settings.profiles}
        self._removed.clear()
        self._active_id = settings.app.active_profile_id
        current = self._current if self._current in self._drafts else self._active_id
        self._current = None
        self._fill_list(current)
        self.app_page.load(settings.app, settings.locked)
        self.add_button.setEnabled(settings.custom_profiles_allowed)
        self.add_button.setToolTip("" if settings.custom_profiles_allowed else _tr(LOCKED_TIP))

    def _fill_list(self, select: str | None) -> None:
        self.profile_list.blockSignals(True)
        self.profile_list.clear()
        for profile in self._drafts.values():
            item = QListWidgetItem(self._list_text(profile))
            item.setData(Qt.ItemDataRole.UserRole, profile.id)
            if profile.managed:
                item.setIcon(lock_icon())
                item.setToolTip(_tr(LOCKED_TIP))
            self.profile_list.addItem(item)
        self.profile_list.blockSignals(False)
        ids = list(self._drafts)
        row = ids.index(select) if select in ids else (0 if ids else -1)
        self.profile_list.setCurrentRow(row)
        if row < 0:
            self._show_profile(None)

    def _list_text(self, profile: Profile) -> str:
        in_use = _tr("  (in use)") if profile.id == self._active_id else ""
        return profile.display_name + in_use

    def _collect(self) -> None:
        """Keep the editor's edits in the drafts."""
        if self._current is not None:
            edited = self.editor.profile()
            if edited is not None:
                self._drafts[self._current] = edited

    def _show_profile(self, profile_id: str | None) -> None:
        self._collect()
        self._current = profile_id
        profile = self._drafts.get(profile_id) if profile_id else None
        self._scroll.setVisible(profile is not None)
        self.empty_label.setVisible(profile is None)
        self.remove_button.setEnabled(profile is not None and not profile.managed)
        self.remove_button.setToolTip(_tr(LOCKED_TIP) if profile is not None and profile.managed else "")
        self.use_button.setEnabled(profile is not None and profile.blocked_reason is None)
        if profile is None:
            return
        self.editor.load(profile, self._configuration.settings.allowed_auth_methods)
        account = self._setup.account(profile.id)
        self.editor.set_account(account.username if account is not None else None)
        self.work.start(self.refresh_key_status(profile.id))

    @property
    def current_profile_id(self) -> str | None:
        """The connection shown in the editor."""
        return self._current

    def select_profile(self, profile_id: str) -> None:
        """Show a connection in the editor."""
        ids = list(self._drafts)
        if profile_id in ids:
            self.profile_list.setCurrentRow(ids.index(profile_id))

    def _say(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #c42b1c;" if error else "")

    # -- slots -----------------------------------------------------------------------------------------------------

    def _on_profile_list_current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        self._show_profile(current.data(Qt.ItemDataRole.UserRole) if current is not None else None)

    def _on_editor_name_edited(self, text: str) -> None:
        item = self.profile_list.currentItem()
        if item is not None and self._current is not None:
            item.setText(self._list_text(replace(self._drafts[self._current], display_name=text.strip() or "…")))

    def _on_add_clicked(self) -> None:
        self._collect()
        profile = replace(self._setup.new_draft(), display_name=_tr("New connection"))
        self._drafts[profile.id] = profile
        self._current = None
        self._fill_list(profile.id)
        self.editor.endpoint_edit.setFocus()

    def _on_remove_clicked(self) -> None:
        if self._current is None or self._drafts[self._current].managed:
            return
        removed = self._drafts.pop(self._current)
        self._removed.add(removed.id)
        self._current = None
        self._fill_list(None)
        self._say(_tr("“{name}” will be removed when you save.").format(name=removed.display_name))

    def _on_use_clicked(self) -> None:
        if self._current is not None:
            self.work.start(self.use_for_chats())

    async def use_for_chats(self) -> bool:
        """Make the connection in the editor the one new chats use, at once (saving it first if it is new)."""
        if self._current is None:
            return False
        profile_id = await self._save_current(use_for_chats=True)
        if profile_id is None:
            return False
        self._chosen(profile_id)
        return True

    def _chosen(self, profile_id: str) -> None:
        """Show and announce that new chats use this (saved) connection."""
        self._active_id = profile_id
        for row in range(self.profile_list.count()):
            item = self.profile_list.item(row)
            item.setText(self._list_text(self._drafts[item.data(Qt.ItemDataRole.UserRole)]))
        self._say(_tr("New chats now use “{name}”.").format(name=self._drafts[profile_id].display_name))
        _log.info("new chats use connection %s", profile_id)
        self.settings_saved.emit()
        self.connection_chosen.emit(profile_id)

    def _on_work_failed(self, error: BaseException) -> None:
        self._say(_tr("Something went wrong: {error}").format(error=type(error).__name__), error=True)

    # -- saving ----------------------------------------------------------------------------------------------------

    async def save(self) -> bool:
        """Validate and write every change (settings file and key store); say plainly what failed."""
        from desktop.services import SetupError

        self._collect()
        self._say(_tr("Saving…"))
        for profile in self._drafts.values():
            try:
                self._setup.checked(profile)
            except SetupError as error:
                self.select_profile(profile.id)
                self._say(str(error), error=True)
                return False
        try:
            for profile_id in sorted(self._removed):
                await self._setup.remove(profile_id)
        except SetupError as error:
            self._say(str(error), error=True)
            return False
        self._removed.clear()
        for profile in self._drafts.values():
            if profile.id != self._current and not await self._save_one(profile):
                return False
        if self._current is not None and await self._save_current(announce=False) is None:
            return False
        settings = self._configuration.settings
        changes = {
            k: v
            for k, v in {**self.app_page.values(), "active_profile_id": self._active_id}.items()
            if getattr(settings.app, k) != v and k not in settings.locked
        }
        try:
            if changes:
                self._configuration.update_app(**changes)
        except (SettingsChangeError, OSError) as error:
            self._say(str(error), error=True)
            return False
        self.reload()
        self._say(_tr("Saved."))
        self.settings_saved.emit()
        return True

    async def _save_one(self, profile: Profile) -> bool:
        result = await self._setup.save(profile)
        if not result.ok:
            self.select_profile(profile.id)
            self._say(result.problem or _tr("The connection could not be saved."), error=True)
        return result.ok

    async def _save_current(self, *, use_for_chats: bool = False, announce: bool = True) -> str | None:
        """Save the connection in the editor with its typed key (and "use for chats"), all or nothing; its id."""
        self._collect()
        if self._current is None:
            return None
        profile = self._drafts[self._current]
        key = self.editor.key_edit.text() if profile.auth_method == "api_key" else None
        result = await self._setup.save(profile, key, use_for_chats=use_for_chats)
        if result.needs_consent:
            self._ask_session_consent(profile.id, key or "", result.problem or "", use_for_chats)
            return None
        if not result.ok:
            self._say(result.problem or _tr("The connection could not be saved."), error=True)
            return None
        await self._after_save(profile.id, key_saved=result.key_place is not None, announce=announce)
        return profile.id

    async def _after_save(self, profile_id: str, *, key_saved: bool, announce: bool = True) -> None:
        saved = self._configuration.settings.profile(profile_id)
        if saved is not None:
            self._drafts[profile_id] = saved
        if key_saved and self._current == profile_id:
            self.editor.key_edit.clear()
            self.editor.session_box.setVisible(False)
            await self.refresh_key_status(profile_id)
        if announce:
            self.settings_saved.emit()

    # -- keys ------------------------------------------------------------------------------------------------------

    def _ask_session_consent(self, profile_id: str, key: str, problem: str, use_for_chats: bool) -> None:
        self._pending_key = (profile_id, key)
        self._use_after_consent = use_for_chats
        self.editor.session_label.setText(
            _tr(
                "{problem} You can still use the key until you close the app: it is then kept in memory only, "
                "never written to disk, and you will paste it again next time."
            ).format(problem=problem)
        )
        self.editor.session_box.setVisible(True)
        self.editor.session_button.setFocus()
        self._say(_tr("The key was not saved: there is no password store on this computer."), error=True)

    async def refresh_key_status(self, profile_id: str) -> None:
        """Say whether a key is saved for the connection and where."""
        # Look-ups run in worker threads and may finish out of order: only the latest one may write the status.
        self._key_status_request += 1
        request = self._key_status_request
        text = await self._setup.key_status(profile_id)
        if self._current == profile_id and request == self._key_status_request:
            self.editor.key_status.setText(text)

    async def keep_key_for_session(self) -> None:
        """The user agreed: keep the pending key in memory for this session only (and save the connection)."""
        if self._pending_key is None:
            return
        profile_id, key = self._pending_key
        self._pending_key = None
        self._collect()
        profile = self._drafts.get(profile_id)
        if profile is None:
            return
        result = await self._setup.save(profile, key, use_for_chats=self._use_after_consent, consent=True)
        if not result.ok:
            self._say(result.problem or _tr("The connection could not be saved."), error=True)
            return
        self.editor.session_box.setVisible(False)
        await self._after_save(profile_id, key_saved=True)
        if self._use_after_consent:
            self._chosen(profile_id)
        else:
            self._say(_tr("The key will be used until you close the app."))

    async def remove_key(self) -> None:
        """Remove the connection's key from wherever it is kept."""
        if self._current is None:
            return
        profile_id = self._current
        removed = await self._setup.remove_key(profile_id)
        await self.refresh_key_status(profile_id)
        self._say(_tr("The key was removed.") if removed else _tr("There was no saved key to remove."))

    # -- sign-in, discovery, test ----------------------------------------------------------------------------------

    async def sign_in(self) -> None:
        """Save the connection, then open the sign-in panel for it."""
        profile_id = await self._save_current()
        if profile_id is None:
            return
        panel = SignInPanel(self._setup, profile_id, self)
        panel.signed_in.connect(self._on_sign_in_panel_signed_in)
        self.sign_in_panel = panel
        panel.start()

    def _on_sign_in_panel_signed_in(self, username: str) -> None:
        self.editor.set_account(username)
        self._say(_tr("Signed in."))

    async def sign_out(self) -> None:
        """Sign out of the connection's account."""
        if self._current is None:
            return
        await self._setup.sign_out(self._current)
        self.editor.set_account(None)
        self._say(_tr("Signed out."))

    async def find_deployments(self) -> None:
        """Save the connection, list its models and add every one found on this resource."""
        from desktop.services import found_deployments, plural

        profile_id = await self._save_current()
        if profile_id is None:
            return
        button, status = self.editor.find_button, self.editor.find_status
        button.setEnabled(False)
        status.setText(_tr("Looking for your models…"))
        try:
            result = await self._setup.discover(profile_id)
        finally:
            button.setEnabled(True)
        if self._current != profile_id:
            return
        here = found_deployments(self._drafts[profile_id], result)
        names = {d.name for d in here}
        elsewhere = [d.label for d in result.deployments if d.name not in names]
        added = [d.name for d in here if self.editor.add_deployment(Deployment(d.name, d.model_name, d.model_version))]
        words = [result.message] if result.message else []
        if here:
            words.insert(
                0,
                _tr("Found {found}; {added} new.").format(
                    found=plural(len(here), _tr("model"), _tr("models")), added=len(added)
                ),
            )
        elif not result.message:
            words.append(_tr("No models were found on this resource. Type the model’s deployment name instead."))
        if elsewhere:
            words.append(
                _tr(
                    "Also on your other resources: {names}. Add a connection with that resource's address to use them."
                ).format(names=", ".join(elsewhere))
            )
        status.setText(" ".join(words))
        self._collect()

    async def test_connection(self) -> ConnectionReport | None:
        """Save the connection and test it step by step; show each step in plain words."""
        profile_id = await self._save_current()
        if profile_id is None:
            return None
        deployment = self.editor.default_combo.currentText() or None
        button, results = self.editor.test_button, self.editor.test_results
        button.setEnabled(False)
        results.setText(_tr("Testing the connection…"))
        try:
            report = await self._setup.test_connection(profile_id, deployment)
        finally:
            button.setEnabled(True)
        if self._current == profile_id:
            saved = self._configuration.settings.profile(profile_id)
            if saved is not None:
                # The test records which API each deployment answers: show it.
                self._drafts[profile_id] = replace(self._drafts[profile_id], deployments=saved.deployments)
                self.editor.set_deployments(saved.deployments, self.editor.default_combo.currentText() or None)
            self.editor.test_results.setText(steps_html(report))
        return report

    def showEvent(self, event: QShowEvent) -> None:
        """Each opening shows what is saved (edits not saved last time are dropped)."""
        if not event.spontaneous():
            self.reload()
        super().showEvent(event)
