"""The compact bar above the message box: the conversation's model, reasoning effort and instructions preset.

A view of the controller's header: it shows what the header says and forwards the user's choices (the controller
saves them with the conversation, and the next turn uses them). The deployment picker and the instructions editor's
button are the composer's own widgets, placed in this bar so each setting shows once.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLayout, QWidget

from desktop.services import Header
from desktop.ui.composer import Composer

__all__ = ["TurnSettingsBar"]

CUSTOM = "Custom"
_EFFORT_WORDS = {
    "none": "None",
    "minimal": "Minimal",
    "low": "Low",
    "medium": "Medium",
    "high": "High",
}


def _tr(text: str) -> str:
    return QCoreApplication.translate("TurnSettingsBar", text)


def _take(layout: QLayout, widget: QWidget) -> bool:
    """Remove `widget` from `layout` or one of its nested layouts (it is then placed elsewhere)."""
    if layout.indexOf(widget) >= 0:
        layout.removeWidget(widget)
        return True
    for i in range(layout.count()):
        item = layout.itemAt(i)
        inner = item.layout() if item is not None else None
        if inner is not None and _take(inner, widget):
            return True
    return False


class TurnSettingsBar(QWidget):
    """Model, reasoning effort and instructions preset of the open conversation; changes apply to the next turn."""

    effort_changed = Signal(object)  # the effort's value, or None for the default
    preset_changed = Signal(str)  # the preset's name

    def __init__(self, composer: Composer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("turnSettings")
        self.setAccessibleName(_tr("Settings of this chat"))
        self.deployments = composer.deployments
        self.instructions_button = composer.instructions_button
        composer_layout = composer.layout()
        for widget in (self.deployments, self.instructions_button):
            if composer_layout is not None:
                _take(composer_layout, widget)
        self.instructions_button.setText(_tr("Edit…"))
        self.effort = QComboBox(self)
        self.effort.setAccessibleName(_tr("Reasoning effort"))
        self.effort.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.effort.activated.connect(self._on_effort_activated)
        self.effort_label = QLabel(_tr("Reasoning:"), self)
        self.effort_label.setBuddy(self.effort)
        self.preset = QComboBox(self)
        self.preset.setAccessibleName(_tr("Instructions preset"))
        self.preset.setToolTip(_tr("How the assistant behaves in this chat"))
        self.preset.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.preset.activated.connect(self._on_preset_activated)
        model_label = QLabel(_tr("Model:"), self)
        model_label.setBuddy(self.deployments)
        preset_label = QLabel(_tr("Instructions:"), self)
        preset_label.setBuddy(self.preset)
        for label in (model_label, self.effort_label, preset_label):
            label.setObjectName("muted")
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 0, 12, 0)
        row.setSpacing(6)
        row.addWidget(model_label)
        row.addWidget(self.deployments)
        row.addSpacing(10)
        row.addWidget(self.effort_label)
        row.addWidget(self.effort)
        row.addSpacing(10)
        row.addWidget(preset_label)
        row.addWidget(self.preset)
        row.addWidget(self.instructions_button)
        row.addStretch(1)
        # The keyboard goes through the bar as it reads, then on to the message box below it.
        chain = (self.deployments, self.effort, self.preset, self.instructions_button, composer.input)
        for before, after in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after)

    def show_header(self, header: Header) -> None:
        """Show the open conversation's choices (the deployment picker is filled by the composer)."""
        self.effort.blockSignals(True)
        self.effort.clear()
        efforts = header.efforts
        default = _tr("Default")
        if efforts.default:
            default += f" ({_tr(_EFFORT_WORDS.get(efforts.default, efforts.default))})"
        self.effort.addItem(default, None)
        for value in efforts.values:
            self.effort.addItem(_tr(_EFFORT_WORDS.get(value, value)), value)
        found = self.effort.findData(header.effort) if header.effort else 0
        self.effort.setCurrentIndex(max(0, found))
        self.effort.setEnabled(bool(efforts.values))
        self.effort_label.setEnabled(bool(efforts.values))
        tip = (
            _tr("How long the model thinks before it answers: more effort, better answers to hard questions, slower")
            if efforts.values
            else _tr(efforts.why_none)
        )
        self.effort.setToolTip(tip)
        self.effort.setAccessibleDescription(tip)
        self.effort.blockSignals(False)

        self.preset.blockSignals(True)
        self.preset.clear()
        for name in header.presets:
            self.preset.addItem(_tr(name), name)
        if header.preset not in header.presets:
            self.preset.addItem(_tr("Custom (your own words)"), CUSTOM)
        self.preset.setCurrentIndex(
            max(0, self.preset.findData(header.preset if header.preset in header.presets else CUSTOM))
        )
        self.preset.setToolTip(header.instructions or _tr("No instructions: the model's own behaviour"))
        self.preset.blockSignals(False)

    def _on_effort_activated(self, index: int) -> None:
        self.effort_changed.emit(self.effort.itemData(index))

    def _on_preset_activated(self, index: int) -> None:
        name = self.preset.itemData(index)
        if isinstance(name, str) and name != CUSTOM:
            self.preset_changed.emit(name)
