"""The user's own instructions presets, edited in Settings: a list with Add… and Remove."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.config import InstructionsPreset

__all__ = ["PresetDialog", "PresetsEditor"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("SettingsDialog", text)


class PresetDialog(QDialog):
    """A name and the instructions of a new preset; OK only once both are filled in."""

    def __init__(self, taken: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_tr("New instructions preset"))
        self._taken = {name.casefold() for name in taken}
        self.name_edit = QLineEdit(self)
        self.name_edit.setAccessibleName(_tr("Preset name"))
        self.name_edit.setPlaceholderText(_tr("e.g. Legal review"))
        self.text_edit = QPlainTextEdit(self)
        self.text_edit.setAccessibleName(_tr("Preset instructions"))
        self.text_edit.setPlaceholderText(_tr("How should the assistant behave?"))
        self.text_edit.setTabChangesFocus(True)
        self.problem = QLabel(self)
        self.problem.setObjectName("inlineError")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(_tr("Name:"), self.name_edit)
        form.addRow(_tr("Instructions:"), self.text_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.name_edit.textChanged.connect(self._check)
        self.text_edit.textChanged.connect(self._check)
        self._check()

    def _check(self) -> None:
        name = self.name_edit.text().strip()
        taken = name.casefold() in self._taken
        self.problem.setText(_tr("A preset with this name exists already.") if taken else "")
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(name) and not taken and bool(self.text_edit.toPlainText().strip()))

    def preset(self) -> InstructionsPreset:
        """The preset as typed."""
        return InstructionsPreset(self.name_edit.text().strip(), self.text_edit.toPlainText().strip())


class PresetsEditor(QWidget):
    """The saved presets, offered in every chat's settings bar after the built-in ones."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget(self)
        self.list.setAccessibleName(_tr("Your instructions presets"))
        self.list.setMaximumHeight(90)
        self.add_button = QPushButton(_tr("Add…"), self)
        self.add_button.setAccessibleName(_tr("Add an instructions preset"))
        self.add_button.clicked.connect(self.add)
        self.remove_button = QPushButton(_tr("Remove"), self)
        self.remove_button.setAccessibleName(_tr("Remove the chosen preset"))
        self.remove_button.clicked.connect(self.remove)
        self.list.currentRowChanged.connect(lambda _row: self._update())
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.list, 1)
        row.addLayout(buttons)
        self._reserved: tuple[str, ...] = ()
        self._update()

    def set_presets(self, presets: Sequence[InstructionsPreset], reserved: Sequence[str] = ()) -> None:
        """Show these presets; `reserved` are names already used by the app's own presets."""
        self._reserved = tuple(reserved)
        self.list.clear()
        for preset in presets:
            self._append(preset)
        self._update()

    def presets(self) -> tuple[InstructionsPreset, ...]:
        """The presets as edited."""
        items = (self.list.item(i) for i in range(self.list.count()))
        return tuple(item.data(Qt.ItemDataRole.UserRole) for item in items if item is not None)

    def add(self) -> PresetDialog:
        """Ask for a new preset's name and instructions; it is added when the dialog is accepted."""
        dialog = PresetDialog([*self._reserved, *(p.name for p in self.presets())], self)
        dialog.accepted.connect(lambda: self._added(dialog.preset()))
        dialog.open()
        return dialog

    def remove(self) -> None:
        """Remove the chosen preset."""
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)
        self._update()

    def _added(self, preset: InstructionsPreset) -> None:
        self._append(preset)
        self.list.setCurrentRow(self.list.count() - 1)
        self._update()

    def _append(self, preset: InstructionsPreset) -> None:
        item = QListWidgetItem(preset.name, self.list)
        item.setData(Qt.ItemDataRole.UserRole, preset)
        item.setToolTip(preset.text)

    def _update(self) -> None:
        self.remove_button.setEnabled(self.isEnabled() and self.list.currentRow() >= 0)
