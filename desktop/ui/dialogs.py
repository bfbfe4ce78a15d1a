"""Opens the app's dialogs for the main window: settings, sign-in, About, and the first-run guide."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject

from desktop.paths import AppPaths
from desktop.ui.about_dialog import AboutDialog
from desktop.ui.first_run import FirstRunDialog
from desktop.ui.main_window import MainWindow
from desktop.ui.settings_dialog import SettingsDialog
from desktop.ui.sign_in import SignInPanel

if TYPE_CHECKING:
    from desktop.services import Connections, ConnectionSetup

_log = logging.getLogger(__name__)


class Dialogs(QObject):
    """Owns the dialogs (one of each at a time) and connects them to the main window."""

    def __init__(
        self,
        window: MainWindow,
        connections: Connections,
        paths: AppPaths,
        *,
        start_demo: Callable[[], bool],
    ) -> None:
        from desktop.services import ConnectionSetup

        super().__init__(window)
        self._window = window
        self._setup: ConnectionSetup = ConnectionSetup(window.services.configuration, connections)
        self._paths = paths
        self._start_demo = start_demo
        self._settings: SettingsDialog | None = None
        self._open: list[SettingsDialog | SignInPanel | FirstRunDialog] = []
        self._keep: set[asyncio.Task[Any]] = set()
        window.settings_requested.connect(self.open_settings)
        window.sign_in_requested.connect(self.open_sign_in)
        window.about_requested.connect(self.open_about)

    @property
    def _configuration(self) -> Any:
        return self._window.services.configuration

    def open_settings(self) -> SettingsDialog:
        """Show the (non-modal) settings dialog; saved changes apply at once."""
        if self._settings is None:
            self._settings = SettingsDialog(self._setup, parent=self._window)
            self._settings.settings_saved.connect(self._window.settings_changed)
            self._settings.connection_chosen.connect(lambda _id: self._window.controller.use_for_new_chats())
            self._open.append(self._settings)
        self._settings.show()
        self._settings.raise_()
        _log.info("settings opened")
        return self._settings

    def open_sign_in(self, profile_id: str) -> SignInPanel | None:
        """Sign in to a connection (the one the conversation that asked for it uses)."""
        profile = self._configuration.settings.profile(profile_id)
        if profile is None:
            self.open_settings()
            return None
        panel = SignInPanel(self._setup, profile.id, self._window)
        panel.signed_in.connect(lambda _user: self._window.settings_changed())
        self._open.append(panel)
        panel.start()
        return panel

    def open_about(self) -> None:
        """Version, folders, log folder and the keyring in use."""

        async def show() -> None:
            name = await self._setup.keyring_name()  # never raises: a broken keyring is described instead
            AboutDialog(self._paths, name, self._window).show()

        task = asyncio.ensure_future(show())
        self._keep.add(task)
        task.add_done_callback(self._keep.discard)

    def maybe_first_run(self) -> FirstRunDialog | None:
        """The guided start, when nothing is set up yet."""
        settings = self._configuration.settings
        # The demo's own connection is not the user's set-up: after a demo, the guided start still shows.
        if settings.app.first_run_done or any(not p.is_demo for p in settings.profiles):
            return None
        dialog = FirstRunDialog(self._setup, self._window)
        dialog.setup_finished.connect(lambda _pid: self._window.settings_changed())
        dialog.demo_requested.connect(self._on_first_run_demo_requested)
        self._open.append(dialog)
        dialog.show()
        return dialog

    async def aclose(self) -> None:
        """End the dialogs' own background work (keyring look-ups, tests, sign-ins) before the loop closes."""
        for dialog in self._open:
            if shiboken6.isValid(dialog):
                await dialog.work.close()
        for task in list(self._keep):
            task.cancel()
        if self._keep:
            await asyncio.gather(*self._keep, return_exceptions=True)

    def _on_first_run_demo_requested(self) -> None:
        self._start_demo()
        self._window.settings_changed()
