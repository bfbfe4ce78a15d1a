"""The main window's file actions: export, import, and deleting everything, with their dialogs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

from desktop.messages import MessageBridge
from desktop.services import ChatWindowController, HistoryError
from desktop.ui.tasks import TaskRunner
from desktop.ui.toast import Toast


def _tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


class FileActions:
    """Asks where, then lets the controller read or write the history; says plainly what failed."""

    def __init__(
        self,
        window: QWidget,
        controller: ChatWindowController,
        bridge: MessageBridge,
        tasks: TaskRunner,
        toast: Toast,
    ) -> None:
        self._window = window
        self._controller = controller
        self._bridge = bridge
        self._tasks = tasks
        self._toast = toast

    def export_current(self, kind: str) -> None:
        """Save the current conversation as Markdown (`md`) or JSON."""
        cid = self._controller.current_id
        if cid is None:
            self._toast.show_message(_tr("Open a conversation to export it."))
            return
        title = self._controller.header().title
        name = title.strip().replace("/", "-")[:60] or "conversation"
        filters = _tr("Markdown (*.md)") if kind == "md" else _tr("JSON (*.json)")
        from PySide6.QtWidgets import QFileDialog  # file dialogs load when first used

        path, _ = QFileDialog.getSaveFileName(self._window, _tr("Export conversation"), f"{name}.{kind}", filters)
        if not path:
            return
        try:
            Path(path).write_text(self._controller.export_text(cid, kind), encoding="utf-8")
        except (OSError, HistoryError) as exc:
            self._bridge.error(_tr("Could not save the file: %1").replace("%1", _reason(exc)))
        else:
            self._toast.show_message(_tr("Saved to %1").replace("%1", path))

    def export_all(self) -> None:
        """Save every conversation into one JSON archive (in a worker thread: it may be large)."""
        from PySide6.QtWidgets import QFileDialog  # file dialogs load when first used

        path, _ = QFileDialog.getSaveFileName(
            self._window, _tr("Export all conversations"), "azure-openai-chat-history.json", _tr("JSON (*.json)")
        )
        if path:
            self._tasks.start("export-all", self._export_all(Path(path)), replace=True)

    async def _export_all(self, path: Path) -> None:
        try:
            count = await self._controller.export_archive(path)
        except (OSError, HistoryError) as exc:
            self._bridge.error(_tr("Could not export: %1").replace("%1", _reason(exc)))
        else:
            self._toast.show_message(
                _tr("Exported %1 conversations to %2").replace("%1", str(count)).replace("%2", str(path))
            )

    def import_archive(self) -> None:
        """Bring conversations back from an exported archive."""
        from PySide6.QtWidgets import QFileDialog  # file dialogs load when first used

        path, _ = QFileDialog.getOpenFileName(self._window, _tr("Import conversations"), "", _tr("JSON (*.json)"))
        if not path:
            return
        try:
            report = self._controller.import_archive(Path(path))
        except (OSError, HistoryError) as exc:
            self._bridge.error(_tr("Could not import: %1").replace("%1", _reason(exc)))
            return
        self._toast.show_message(
            _tr("Imported %1 conversations (%2 were already here).")
            .replace("%1", str(report.imported))
            .replace("%2", str(report.skipped))
        )

    def delete_all_data(self) -> None:
        """Delete every conversation and backup, after a clear confirmation."""
        from PySide6.QtWidgets import QMessageBox  # loaded when first used, after the first paint

        answer = QMessageBox.warning(
            self._window,
            _tr("Delete all my data?"),
            _tr(
                "This deletes every conversation and its backups from this computer. It cannot be undone. "
                "Your settings and saved keys are kept; remove keys in Settings."
            ),
            QMessageBox.StandardButton.Cancel | QMessageBox.StandardButton.Yes,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._tasks.start("delete-all", self._delete_all(), replace=True)

    async def _delete_all(self) -> None:
        await self._tasks.cancel_all_except("delete-all")
        try:
            removed = await self._controller.delete_all()
        except (OSError, HistoryError) as exc:
            self._bridge.error(_tr("Could not delete everything: %1").replace("%1", _reason(exc)))
            return
        self._toast.show_message(_tr("Deleted %1 files.").replace("%1", str(removed)))


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
