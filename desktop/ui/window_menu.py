"""The main window's menus and their shortcuts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QCoreApplication

from desktop.ui.composer import ATTACH_SHORTCUT
from desktop.ui.lazy_qt import Qt
from desktop.ui.theme import SchemeChoice

if TYPE_CHECKING:
    from pathlib import Path

    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMenu, QWidget

    from desktop.services import ChatWindowController
    from desktop.ui.conversation_list import ConversationList
    from desktop.ui.main_window import MainWindow, WindowServices
    from desktop.ui.toast import Toast
    from desktop.ui.usage_view import UsageDialog


def _tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


class ViewActions:
    """What the View menu and a few Chat shortcuts do to the main window (mixed into MainWindow)."""

    services: WindowServices
    controller: ChatWindowController
    sidebar: ConversationList
    toast: Toast
    usage_dialog: UsageDialog | None = None

    def focus_search(self) -> None:
        """Put the cursor into the search field."""
        if self.services.configuration.settings.app.sidebar_collapsed:
            self.toggle_sidebar()
        self.sidebar.focus_search()

    def toggle_sidebar(self) -> None:
        """Collapse or expand the conversation list."""
        collapsed = not self.services.configuration.settings.app.sidebar_collapsed
        self.sidebar.set_collapsed(collapsed)
        self._save_app(sidebar_collapsed=collapsed)

    def rename_current(self) -> None:
        """Rename the current conversation in place in the sidebar (F2)."""
        if self.controller.current_id is not None:
            if self.services.configuration.settings.app.sidebar_collapsed:
                self.toggle_sidebar()
            self.sidebar.rename(self.controller.current_id)

    def set_theme(self, choice: SchemeChoice) -> None:
        """Light, dark or follow the system."""
        self.services.theme.set_choice(choice)
        self._save_app(theme=choice.value)

    def zoom(self, step: int) -> None:
        """Make the text larger (1) or smaller (-1)."""
        theme = self.services.theme
        theme.set_font_size(max(8, min(28, theme.font_size() + step)))
        self._save_app(font_size=theme.font_size())

    def toggle_archived(self) -> None:
        """Show or hide archived conversations."""
        self._show_archived = not getattr(self, "_show_archived", False)
        self.sidebar.set_show_archived(self._show_archived)

    def show_usage(self) -> None:
        """Open the Usage window: tokens per day and model over 30 days (and estimated costs with prices)."""
        from desktop.services import HistoryError
        from desktop.ui.usage_view import UsageDialog  # loaded on first use, never before the first paint

        try:
            dialog = UsageDialog(self.controller.usage, cast("QWidget", self))
        except HistoryError as exc:
            self.toast.show_message(str(exc))
            return
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.usage_dialog = dialog
        dialog.open()

    def _save_app(self, **changes: object) -> None:
        try:
            self.services.configuration.update_app(**changes)
            self.services.configuration.save()
        except (OSError, ValueError) as exc:
            self.toast.show_message(_tr("Could not save the setting: %1").replace("%1", str(exc)))


def add_menus(window: MainWindow) -> dict[str, QMenu]:
    """The menu bar's four menus, empty: what the first frame shows of them."""
    bar = window.menuBar()
    return {
        name: bar.addMenu(label)
        for name, label in (
            ("file", _tr("&File")),
            ("chat", _tr("&Chat")),
            ("view", _tr("&View")),
            ("help", _tr("&Help")),
        )
    }


def fill_menus(window: MainWindow, menus: dict[str, QMenu]) -> None:
    """The menus' actions and the window's keyboard shortcuts (built right after the first paint)."""
    from PySide6.QtGui import QAction, QKeySequence

    def action(menu: str, text: str, slot: Callable[[], object], shortcut: str | None = None) -> QAction:
        act = QAction(text, window)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(lambda _checked=False: slot())
        menus[menu].addAction(act)
        return act

    files = window.files
    action("file", _tr("New chat"), window.new_chat, "Ctrl+N")
    action("file", _tr("Export conversation as Markdown…"), lambda: files.export_current("md"))
    action("file", _tr("Export conversation as JSON…"), lambda: files.export_current("json"))
    action("file", _tr("Export all conversations…"), files.export_all)
    action("file", _tr("Import conversations…"), files.import_archive)
    menus["file"].addSeparator()
    action("file", _tr("Settings…"), window.settings_requested.emit, "Ctrl+,")
    action("file", _tr("Delete all my data…"), files.delete_all_data)
    menus["file"].addSeparator()
    action("file", _tr("Quit"), window.close, "Ctrl+Q")

    action("chat", _tr("Stop answer"), window.stop_current, "Esc")
    action("chat", _tr("Search conversations"), window.focus_search, "Ctrl+K")
    action("chat", _tr("Focus message box"), window.composer.focus_input, "Ctrl+L")
    action("chat", _tr("Attach files…"), window.composer.choose_files, ATTACH_SHORTCUT)
    action("chat", _tr("Go to the messages"), window.focus_messages, "Ctrl+J")
    action("chat", _tr("Next conversation"), window.sidebar.select_next, "Ctrl+PgDown")
    action("chat", _tr("Previous conversation"), window.sidebar.select_previous, "Ctrl+PgUp")
    action("chat", _tr("Regenerate last answer"), window.regenerate, "Ctrl+R")
    action("chat", _tr("Edit last message"), window.edit_last_question)
    action("chat", _tr("Rename conversation"), window.rename_current, "F2")

    action("view", _tr("Show or hide conversations"), window.toggle_sidebar, "Ctrl+B")
    action("view", _tr("Larger text"), lambda: window.zoom(1), "Ctrl++")
    action("view", _tr("Smaller text"), lambda: window.zoom(-1), "Ctrl+-")
    theme_menu = menus["view"].addMenu(_tr("Appearance"))
    for choice, label in (
        (SchemeChoice.SYSTEM, _tr("Follow the system")),
        (SchemeChoice.LIGHT, _tr("Light")),
        (SchemeChoice.DARK, _tr("Dark")),
    ):
        act = QAction(label, window)
        act.triggered.connect(lambda _c=False, ch=choice: window.set_theme(ch))
        theme_menu.addAction(act)
    action("view", _tr("Show archived conversations"), window.toggle_archived)
    menus["view"].addSeparator()
    action("view", _tr("Usage…"), window.show_usage)

    action("help", _tr("About Azure OpenAI Chat"), window.about_requested.emit)
    log_dir = window.services.paths.log_dir
    action("help", _tr("Open log folder"), lambda: _open_folder(log_dir))


def _open_folder(folder: Path) -> None:
    """Show a folder in the desktop's file manager (QUrl and QDesktopServices load when first used)."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
