"""The settings dialog's app panel: retries, timeout, theme, text size, Enter to send, notifications, proxy, and
the user's own instructions presets."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from desktop.config import PROXY_NONE, PROXY_SYSTEM, THEMES, AppSettings
from desktop.services import RESERVED_NAMES
from desktop.ui.presets_editor import PresetsEditor
from desktop.ui.settings_parts import labelled, lock

FONT_SIZES = (9, 10, 11, 12, 13, 14, 16, 18, 20, 24)


def _tr(text: str) -> str:
    return QCoreApplication.translate("SettingsDialog", text)


class AppPage(QWidget):
    """Retries, timeout, theme, text size, Enter to send, notifications and proxy."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.retries_spin = QSpinBox(self)
        self.retries_spin.setRange(0, 5)
        self.timeout_spin = QSpinBox(self)
        self.timeout_spin.setRange(5, 3600)
        self.timeout_spin.setSuffix(_tr(" seconds"))
        self.theme_combo = QComboBox(self)
        for theme, label in zip(THEMES, ("Same as the system", "Light", "Dark"), strict=True):
            self.theme_combo.addItem(_tr(label), theme)
        self.font_combo = QComboBox(self)
        self.font_combo.addItem(_tr("System default"), None)
        for size in FONT_SIZES:
            self.font_combo.addItem(_tr("{size} pt").format(size=size), size)
        self.send_on_enter_check = QCheckBox(_tr("Enter sends the message (Shift+Enter starts a new line)"), self)
        self.notify_check = QCheckBox(_tr("Notify me when an answer finishes while the app is in the background"), self)
        self.proxy_combo = QComboBox(self)
        self.proxy_combo.addItem(_tr("Use the system settings"), PROXY_SYSTEM)
        self.proxy_combo.addItem(_tr("No proxy"), PROXY_NONE)
        self.proxy_combo.addItem(_tr("This proxy:"), "manual")
        self.proxy_edit = QLineEdit(self)
        self.proxy_edit.setPlaceholderText("http://proxy.example.com:8080")
        self.proxy_combo.currentIndexChanged.connect(self._on_proxy_combo_changed)
        form = QFormLayout(self)
        form.addRow(_tr("Retries when Azure is busy:"), labelled(self.retries_spin, _tr("Retries")))
        form.addRow(_tr("Give up waiting after:"), labelled(self.timeout_spin, _tr("Request timeout")))
        form.addRow(_tr("Appearance:"), labelled(self.theme_combo, _tr("Theme")))
        form.addRow(_tr("Text size:"), labelled(self.font_combo, _tr("Text size")))
        form.addRow("", self.send_on_enter_check)
        form.addRow("", self.notify_check)
        form.addRow(_tr("Proxy:"), labelled(self.proxy_combo, _tr("Proxy")))
        form.addRow("", labelled(self.proxy_edit, _tr("Proxy address")))
        self.presets_editor = PresetsEditor(self)
        form.addRow(_tr("Your instructions presets:"), self.presets_editor)
        self._widgets: dict[str, QWidget] = {
            "max_retries": self.retries_spin,
            "request_timeout": self.timeout_spin,
            "theme": self.theme_combo,
            "font_size": self.font_combo,
            "send_on_enter": self.send_on_enter_check,
            "notify_when_background": self.notify_check,
            "proxy": self.proxy_combo,
            "instruction_presets": self.presets_editor,
        }

    def load(self, app: AppSettings, locked: frozenset[str]) -> None:
        """Show the app settings (locks applied)."""
        self.retries_spin.setValue(app.max_retries)
        self.timeout_spin.setValue(round(app.request_timeout))
        self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(app.theme)))
        self.font_combo.setCurrentIndex(max(0, self.font_combo.findData(app.font_size)))
        self.send_on_enter_check.setChecked(app.send_on_enter)
        self.notify_check.setChecked(app.notify_when_background)
        manual = app.proxy not in (PROXY_SYSTEM, PROXY_NONE)
        self.proxy_combo.setCurrentIndex(self.proxy_combo.findData("manual" if manual else app.proxy))
        self.proxy_edit.setText(app.proxy if manual else "")
        self.presets_editor.set_presets(app.instruction_presets, RESERVED_NAMES)
        for name, widget in self._widgets.items():
            lock(widget, name in locked)
        self._on_proxy_combo_changed()
        if "proxy" in locked:
            lock(self.proxy_edit, True)

    def values(self) -> dict[str, Any]:
        """The edited values, by AppSettings field."""
        proxy = self.proxy_combo.currentData()
        return {
            "max_retries": self.retries_spin.value(),
            "request_timeout": float(self.timeout_spin.value()),
            "theme": self.theme_combo.currentData(),
            "font_size": self.font_combo.currentData(),
            "send_on_enter": self.send_on_enter_check.isChecked(),
            "notify_when_background": self.notify_check.isChecked(),
            "proxy": self.proxy_edit.text().strip() if proxy == "manual" else proxy,
            "instruction_presets": self.presets_editor.presets(),
        }

    def _on_proxy_combo_changed(self) -> None:
        self.proxy_edit.setEnabled(self.proxy_combo.currentData() == "manual" and self.proxy_combo.isEnabled())
