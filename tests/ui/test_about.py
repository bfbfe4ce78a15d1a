"""The About dialog: version, data locations, password store and "Open log folder"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from desktop import __version__
from desktop.paths import AppPaths
from desktop.ui.about_dialog import AboutDialog


def test_shows_version_locations_and_keyring(tmp_path: Path, qtbot: Any) -> None:
    paths = AppPaths.under(tmp_path)
    dialog = AboutDialog(paths, "Secret Service (GNOME Keyring or KDE Wallet)")
    qtbot.addWidget(dialog)
    assert __version__ in dialog.version_label.text()
    assert dialog.location_labels["settings"].text() == str(paths.config_dir)
    assert dialog.location_labels["history"].text() == str(paths.data_dir)
    assert dialog.location_labels["logs"].text() == str(paths.log_dir)
    assert dialog.keyring_label.text() == "Secret Service (GNOME Keyring or KDE Wallet)"


def test_open_log_folder_opens_the_log_dir(tmp_path: Path, qtbot: Any) -> None:
    opened: list[Path] = []
    paths = AppPaths.under(tmp_path)
    dialog = AboutDialog(paths, "x", open_folder=lambda p: opened.append(p) is None)
    qtbot.addWidget(dialog)
    qtbot.mouseClick(dialog.open_logs_button, Qt.MouseButton.LeftButton)
    assert opened == [paths.log_dir]
    assert dialog.status_label.text() == ""


def test_when_the_folder_cannot_be_opened_it_says_where_it_is(tmp_path: Path, qtbot: Any) -> None:
    paths = AppPaths.under(tmp_path)

    def refuse(path: Path) -> bool:
        raise PermissionError(13, "Permission denied")

    dialog = AboutDialog(paths, "x", open_folder=refuse)
    qtbot.addWidget(dialog)
    dialog.open_logs_button.click()
    assert "could not be opened (Permission denied)" in dialog.status_label.text()
    assert str(paths.log_dir) in dialog.status_label.text()
    no_file_manager = AboutDialog(paths, "x", open_folder=lambda p: False)
    qtbot.addWidget(no_file_manager)
    no_file_manager.open_logs_button.click()
    assert str(paths.log_dir) in no_file_manager.status_label.text()
