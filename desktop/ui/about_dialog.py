"""The About dialog: version, where the app keeps its files, the log folder and the password store in use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import __version__
from desktop.paths import APP_DISPLAY_NAME, AppPaths


def _tr(text: str) -> str:
    return QCoreApplication.translate("AboutDialog", text)


def _open_folder(path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class AboutDialog(QDialog):
    """Shows the version, data locations and password store; "Open log folder" opens it in the file manager."""

    def __init__(
        self,
        paths: AppPaths,
        keyring_name: str,
        parent: QWidget | None = None,
        *,
        open_folder: Callable[[Path], bool] = _open_folder,
    ) -> None:
        super().__init__(parent)
        self._paths = paths
        self._open_folder = open_folder
        self.setWindowTitle(_tr("About {app}").format(app=APP_DISPLAY_NAME))
        self.setAccessibleName(self.windowTitle())

        title = QLabel(f"<b>{APP_DISPLAY_NAME}</b>", self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        title.setFont(font)
        self.version_label = QLabel(_tr("Version {version}").format(version=__version__), self)
        blurb = QLabel(_tr("A desktop chat app for Azure OpenAI. Your conversations stay on this computer."), self)
        blurb.setWordWrap(True)

        form = QFormLayout()
        self.location_labels: dict[str, QLabel] = {}
        for key, label, path in (
            ("settings", _tr("Settings:"), paths.config_dir),
            ("history", _tr("Conversations:"), paths.data_dir),
            ("logs", _tr("Logs:"), paths.log_dir),
        ):
            value = QLabel(str(path), self)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            value.setAccessibleName(label.rstrip(":"))
            form.addRow(label, value)
            self.location_labels[key] = value
        self.keyring_label = QLabel(keyring_name, self)
        self.keyring_label.setWordWrap(True)
        self.keyring_label.setAccessibleName(_tr("Password store for keys"))
        form.addRow(_tr("Keys are kept in:"), self.keyring_label)

        self.open_logs_button = QPushButton(_tr("Open log folder"), self)
        self.open_logs_button.setAccessibleName(_tr("Open log folder"))
        self.open_logs_button.clicked.connect(self._on_open_logs_clicked)
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.version_label)
        layout.addWidget(blurb)
        layout.addLayout(form)
        layout.addWidget(self.open_logs_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.status_label)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def _on_open_logs_clicked(self) -> None:
        try:
            opened = self._open_folder(self._paths.log_dir)
        except OSError as error:
            opened = False
            detail = error.strerror or type(error).__name__
        else:
            detail = ""
        if opened:
            self.status_label.clear()
            return
        # No file manager (or no permission): say where the folder is so the user can go there by hand.
        self.status_label.setText(
            _tr("The folder could not be opened{detail}. You can find it at: {path}").format(
                detail=f" ({detail})" if detail else "", path=self._paths.log_dir
            )
        )
