"""The settings dialog: connections (address, key or sign-in, deployments, test) and app preferences."""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.config import (
    AUTH_METHODS,
    CLOUDS,
    PROXY_NONE,
    PROXY_SYSTEM,
    REASONING_EFFORTS,
    THEMES,
    AppSettings,
    AuthMethod,
    ChatDefaults,
    Configuration,
    Deployment,
    EndpointError,
    EntraOptions,
    Profile,
    SettingsChangeError,
    normalize_endpoint,
)
from desktop.ui.async_slots import AsyncWork
from desktop.ui.sign_in import SignInPanel, SignInPort

_log = logging.getLogger(__name__)

LOCKED_TIP = "Set by your organisation"
FONT_SIZES = (9, 10, 11, 12, 13, 14, 16, 18, 20, 24)


def _tr(text: str) -> str:
    return QCoreApplication.translate("SettingsDialog", text)


# -- what the dialog needs from the services (desktop.services.Connections and desktop.auth key stores fit) -----------


class CheckStepLike(Protocol):
    """One line of a connection test."""

    @property
    def title(self) -> str:
        """What was checked."""

    @property
    def ok(self) -> bool:
        """Whether it worked."""

    @property
    def message(self) -> str:
        """What happened, in plain words."""


class ReportLike(Protocol):
    """A connection test's result."""

    @property
    def steps(self) -> Sequence[CheckStepLike]:
        """The checks in order."""

    @property
    def ok(self) -> bool:
        """Whether chatting will work (a step may fail, e.g. one of the two APIs, and chat still work)."""


class FoundDeploymentLike(Protocol):
    """A deployment found by discovery."""

    @property
    def name(self) -> str:
        """The deployment name."""

    @property
    def model_name(self) -> str | None:
        """The model behind it."""

    @property
    def model_version(self) -> str | None:
        """The model version."""

    @property
    def endpoint(self) -> str:
        """The endpoint of the resource it lives on."""

    @property
    def label(self) -> str:
        """ "gpt-4.1 on contoso-east"."""


class DiscoveryLike(Protocol):
    """What discovery found."""

    @property
    def deployments(self) -> Sequence[FoundDeploymentLike]:
        """The deployments."""

    @property
    def message(self) -> str | None:
        """Why the list is empty or incomplete."""


class ConnectionsPort(SignInPort, Protocol):
    """Sign-in plus the connection test and deployment discovery."""

    async def sign_out(self, profile_id: str) -> Any:
        """Sign out of a profile's account."""

    async def test_connection(self, profile_id: str, deployment: str | None = None) -> ReportLike:
        """Check the saved profile step by step."""

    async def discover_deployments(self, profile_id: str) -> DiscoveryLike:
        """List the deployments the profile can use (never raises)."""


class KeyStoreLike(Protocol):
    """Where API keys live (desktop.auth.KeyStore and SessionKeyStore fit)."""

    async def abackend_name(self) -> str:
        """The store's name for the user."""

    async def aget(self, profile_id: str) -> str | None:
        """The key of a profile, or None."""

    async def aset(self, profile_id: str, key: str) -> None:
        """Store a key (raises ApiKeyFormatError or KeyringUnavailableError)."""

    async def adelete(self, profile_id: str) -> bool:
        """Remove a key; whether there was one."""


# -- small shared pieces (also used by the first-run guide) --------------------------------------------------------

AUTH_LABELS: dict[AuthMethod, str] = {
    "entra": "Sign in with Microsoft",
    "api_key": "API key",
    "azure_cli": "Azure CLI (advanced)",
}
API_LABELS: dict[str, str] = {
    "responses": "works with the Responses API",
    "chat": "works with Chat Completions",
    "unknown": "not tested yet",
}


def describe_endpoint(text: str) -> tuple[bool, str]:
    """What the app understood from a pasted address, or why it cannot use it (for live feedback)."""
    try:
        found = normalize_endpoint(text)
    except EndpointError as error:
        return False, str(error)
    words = _tr("Resource: {host}").format(host=found.resource_host)
    if found.deployment:
        words += _tr(", deployment: {name}").format(name=found.deployment)
    if found.cloud not in (None, "public"):
        words += f" ({CLOUDS[found.cloud].label})"
    return True, words


def deployment_text(deployment: Deployment) -> str:
    """One list line: name, model and which API it answers."""
    model = deployment.model_name
    what = deployment.name if not model or model == deployment.name else f"{deployment.name} ({model})"
    return f"{what} — {_tr(API_LABELS[deployment.api])}"


def with_endpoint_deployment(profile: Profile) -> Profile:
    """Add the deployment named in a pasted URL (".../deployments/NAME/...") to the profile's list."""
    try:
        name = normalize_endpoint(profile.endpoint).deployment
    except EndpointError:
        return profile
    if not name or any(d.name == name for d in profile.deployments):
        return profile
    return replace(
        profile,
        deployments=(*profile.deployments, Deployment(name)),
        default_deployment=profile.default_deployment or name,
    )


def lock_icon(size: int = 16) -> QIcon:
    """A padlock drawn in code: icon themes are missing on Windows, macOS and minimal Linux desktops."""
    themed = QIcon.fromTheme("object-locked")
    if not themed.isNull():
        return themed
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = QColor("#6b6b6b")
    painter.setPen(QPen(color, size / 8))
    painter.drawArc(QRectF(size * 0.28, size * 0.08, size * 0.44, size * 0.5), 0, 180 * 16)
    painter.drawLine(QPointF(size * 0.28, size * 0.33), QPointF(size * 0.28, size * 0.45))
    painter.drawLine(QPointF(size * 0.72, size * 0.33), QPointF(size * 0.72, size * 0.45))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(QRectF(size * 0.15, size * 0.45, size * 0.7, size * 0.5), 2, 2)
    painter.end()
    return QIcon(pixmap)


def lock(widget: QWidget, locked: bool) -> None:
    """Grey out a setting the organisation fixed, and say why on hover."""
    widget.setEnabled(not locked)
    widget.setToolTip(_tr(LOCKED_TIP) if locked else "")


def steps_html(report: ReportLike) -> str:
    """A connection test's steps as coloured lines."""
    lines = []
    for step in report.steps:
        mark, color = ("✔", "#107c10") if step.ok else ("✘", "#c42b1c")
        lines.append(
            f'<span style="color:{color}">{mark}</span> <b>{html.escape(step.title)}</b> — {html.escape(step.message)}'
        )
    return "<br>".join(lines)


def _labelled(widget: QWidget, name: str) -> QWidget:
    widget.setAccessibleName(name)
    return widget


# -- the connection editor --------------------------------------------------------------------------------------------


class ProfileEditor(QWidget):
    """Edits one connection (a view only: the dialog does the saving, testing and signing in)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._profile: Profile | None = None
        self.blocked_label = QLabel(self)
        self.blocked_label.setWordWrap(True)
        self.blocked_label.setStyleSheet("color: #c42b1c;")

        self.name_edit = QLineEdit(self)
        self.endpoint_edit = QLineEdit(self)
        self.endpoint_edit.setPlaceholderText("https://my-resource.openai.azure.com")
        self.endpoint_feedback = QLabel(self)
        self.endpoint_feedback.setWordWrap(True)
        self.endpoint_feedback.setAccessibleName(_tr("What the app understood from the address"))
        self.endpoint_edit.textChanged.connect(self._on_endpoint_edit_text_changed)
        self.auth_combo = QComboBox(self)
        self.auth_combo.currentIndexChanged.connect(self._on_auth_combo_changed)
        form = QFormLayout()
        form.addRow(_tr("Name:"), _labelled(self.name_edit, _tr("Connection name")))
        form.addRow(_tr("Address:"), _labelled(self.endpoint_edit, _tr("Address of your Azure OpenAI resource")))
        form.addRow("", self.endpoint_feedback)
        form.addRow(_tr("Connect with:"), _labelled(self.auth_combo, _tr("How to connect")))

        # API key
        self.key_box = QGroupBox(_tr("API key"), self)
        self.key_edit = QLineEdit(self.key_box)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(_tr("Paste the key from the Azure portal (Keys and Endpoint)"))
        self.show_key_check = QCheckBox(_tr("Show"), self.key_box)
        self.show_key_check.toggled.connect(self._on_show_key_toggled)
        self.key_status = QLabel(self.key_box)
        self.key_status.setWordWrap(True)
        self.key_status.setAccessibleName(_tr("Where the key is kept"))
        self.remove_key_button = QPushButton(_tr("Remove key"), self.key_box)
        self.session_box = QWidget(self.key_box)
        self.session_label = QLabel(self.session_box)
        self.session_label.setWordWrap(True)
        self.session_button = QPushButton(_tr("Keep the key for this session only"), self.session_box)
        session_layout = QVBoxLayout(self.session_box)
        session_layout.setContentsMargins(0, 0, 0, 0)
        session_layout.addWidget(self.session_label)
        session_layout.addWidget(self.session_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.session_box.setVisible(False)
        key_row = QHBoxLayout()
        key_row.addWidget(_labelled(self.key_edit, _tr("API key")), 1)
        key_row.addWidget(self.show_key_check)
        key_row.addWidget(self.remove_key_button)
        key_layout = QVBoxLayout(self.key_box)
        key_layout.addLayout(key_row)
        key_layout.addWidget(self.key_status)
        key_layout.addWidget(self.session_box)

        # Microsoft sign-in
        self.entra_box = QGroupBox(_tr("Microsoft sign-in"), self)
        self.account_label = QLabel(self.entra_box)
        self.account_label.setWordWrap(True)
        self.account_label.setAccessibleName(_tr("Signed-in account"))
        self.sign_in_button = QPushButton(_tr("Sign in"), self.entra_box)
        self.sign_out_button = QPushButton(_tr("Sign out"), self.entra_box)
        self.advanced_toggle = QToolButton(self.entra_box)
        self.advanced_toggle.setText(_tr("Advanced"))
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.setAccessibleName(_tr("Show advanced sign-in options"))
        self.advanced_toggle.toggled.connect(self._on_advanced_toggled)
        self.advanced_box = QWidget(self.entra_box)
        self.tenant_edit = QLineEdit(self.advanced_box)
        self.tenant_edit.setPlaceholderText("organizations")
        self.cloud_combo = QComboBox(self.advanced_box)
        for cloud in CLOUDS.values():
            self.cloud_combo.addItem(cloud.label, cloud.name)
        self.client_id_edit = QLineEdit(self.advanced_box)
        advanced_form = QFormLayout(self.advanced_box)
        advanced_form.setContentsMargins(16, 0, 0, 0)
        advanced_form.addRow(_tr("Organisation (tenant):"), _labelled(self.tenant_edit, _tr("Tenant")))
        advanced_form.addRow(_tr("Cloud:"), _labelled(self.cloud_combo, _tr("Azure cloud")))
        advanced_form.addRow(_tr("App (client) ID:"), _labelled(self.client_id_edit, _tr("Client ID")))
        self.advanced_box.setVisible(False)
        account_row = QHBoxLayout()
        account_row.addWidget(self.account_label, 1)
        account_row.addWidget(self.sign_in_button)
        account_row.addWidget(self.sign_out_button)
        entra_layout = QVBoxLayout(self.entra_box)
        entra_layout.addLayout(account_row)
        entra_layout.addWidget(self.advanced_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        entra_layout.addWidget(self.advanced_box)

        # Deployments
        self.deployments_box = QGroupBox(_tr("Deployments (models)"), self)
        self.deployments_list = QListWidget(self.deployments_box)
        self.deployments_list.setFixedHeight(100)
        self.find_button = QPushButton(_tr("Find my deployments"), self.deployments_box)
        self.remove_deployment_button = QPushButton(_tr("Remove"), self.deployments_box)
        self.manual_edit = QLineEdit(self.deployments_box)
        self.manual_edit.setPlaceholderText(_tr("Or type a deployment name"))
        self.add_deployment_button = QPushButton(_tr("Add"), self.deployments_box)
        self.manual_edit.returnPressed.connect(self.add_deployment_button.click)
        self.add_deployment_button.clicked.connect(self._on_add_deployment_clicked)
        self.remove_deployment_button.clicked.connect(self._on_remove_deployment_clicked)
        self.find_status = QLabel(self.deployments_box)
        self.find_status.setWordWrap(True)
        self.default_combo = QComboBox(self.deployments_box)
        self.test_button = QPushButton(_tr("Test connection"), self.deployments_box)
        self.test_results = QLabel(self.deployments_box)
        self.test_results.setWordWrap(True)
        self.test_results.setTextFormat(Qt.TextFormat.RichText)
        self.test_results.setAccessibleName(_tr("Connection test results"))
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.find_button)
        list_buttons.addWidget(self.remove_deployment_button)
        list_buttons.addStretch(1)
        manual_row = QHBoxLayout()
        manual_row.addWidget(_labelled(self.manual_edit, _tr("Deployment name to add")), 1)
        manual_row.addWidget(self.add_deployment_button)
        deployments_form = QFormLayout()
        deployments_form.addRow(_tr("Use by default:"), _labelled(self.default_combo, _tr("Default deployment")))
        dep_layout = QVBoxLayout(self.deployments_box)
        dep_layout.addWidget(_labelled(self.deployments_list, _tr("Deployments")))
        dep_layout.addLayout(list_buttons)
        dep_layout.addWidget(self.find_status)
        dep_layout.addLayout(manual_row)
        dep_layout.addLayout(deployments_form)
        dep_layout.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignLeft)
        dep_layout.addWidget(self.test_results)

        # Chat defaults
        self.defaults_box = QGroupBox(_tr("New chats start with"), self)
        self.instructions_edit = QPlainTextEdit(self.defaults_box)
        self.instructions_edit.setTabChangesFocus(True)
        self.instructions_edit.setPlaceholderText(_tr("Instructions for the assistant, e.g. “Answer briefly.”"))
        self.instructions_edit.setMaximumHeight(70)
        self.temperature_spin = QDoubleSpinBox(self.defaults_box)
        self.temperature_spin.setRange(-0.1, 2.0)
        self.temperature_spin.setSingleStep(0.1)
        self.temperature_spin.setDecimals(1)
        self.temperature_spin.setSpecialValueText(_tr("Model default"))
        self.max_tokens_spin = QSpinBox(self.defaults_box)
        self.max_tokens_spin.setRange(0, 1_000_000)
        self.max_tokens_spin.setSingleStep(256)
        self.max_tokens_spin.setSpecialValueText(_tr("Model default"))
        self.effort_combo = QComboBox(self.defaults_box)
        self.effort_combo.addItem(_tr("Model default"), None)
        for effort in REASONING_EFFORTS:
            self.effort_combo.addItem(_tr(effort.capitalize()), effort)
        defaults_form = QFormLayout(self.defaults_box)
        defaults_form.addRow(_tr("Instructions:"), _labelled(self.instructions_edit, _tr("Instructions")))
        defaults_form.addRow(
            _tr("Creativity (temperature):"), _labelled(self.temperature_spin, _tr("Temperature, 0 to 2"))
        )
        defaults_form.addRow(_tr("Longest answer (tokens):"), _labelled(self.max_tokens_spin, _tr("Max output tokens")))
        defaults_form.addRow(_tr("Reasoning effort:"), _labelled(self.effort_combo, _tr("Reasoning effort")))

        layout = QVBoxLayout(self)
        layout.addWidget(self.blocked_label)
        layout.addLayout(form)
        for box in (self.key_box, self.entra_box, self.deployments_box, self.defaults_box):
            layout.addWidget(box)
        layout.addStretch(1)

    def event(self, event: QEvent) -> bool:
        """Keep the minimum height at the wrapped content's height, so the scroll area scrolls instead of squeezing.

        Works around QScrollArea (widgetResizable) not re-reading heightForWidth when wrapped labels change.
        """
        if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Resize):
            height = self.heightForWidth(self.width())
            if height > 0 and height != self.minimumHeight():
                self.setMinimumHeight(height)
        return super().event(event)

    # -- load / collect --------------------------------------------------------------------------------------------

    def load(self, profile: Profile, allowed_auth: Sequence[AuthMethod]) -> None:
        """Show a profile (locks applied)."""
        self._profile = profile
        self.blocked_label.setText(profile.blocked_reason or "")
        self.blocked_label.setVisible(bool(profile.blocked_reason))
        self.name_edit.setText(profile.display_name)
        self.endpoint_edit.setText(profile.endpoint)
        self.auth_combo.blockSignals(True)
        self.auth_combo.clear()
        for method in AUTH_METHODS:
            if method in allowed_auth or method == profile.auth_method:
                self.auth_combo.addItem(_tr(AUTH_LABELS[method]), method)
        self.auth_combo.setCurrentIndex(max(0, self.auth_combo.findData(profile.auth_method)))
        self.auth_combo.blockSignals(False)
        self.key_edit.clear()
        self.session_box.setVisible(False)
        self.tenant_edit.setText(profile.entra.tenant)
        self.cloud_combo.setCurrentIndex(max(0, self.cloud_combo.findData(profile.entra.cloud)))
        self.client_id_edit.setText(profile.entra.client_id)
        self.set_deployments(profile.deployments, profile.default_deployment)
        self.find_status.clear()
        self.test_results.clear()
        defaults = profile.chat_defaults
        self.instructions_edit.setPlainText(defaults.instructions)
        self.temperature_spin.setValue(defaults.temperature if defaults.temperature is not None else -0.1)
        self.max_tokens_spin.setValue(defaults.max_output_tokens or 0)
        self.effort_combo.setCurrentIndex(max(0, self.effort_combo.findData(defaults.reasoning_effort)))
        locks = {
            "display_name": (self.name_edit,),
            "endpoint": (self.endpoint_edit,),
            "auth_method": (self.auth_combo,),
            "entra.tenant": (self.tenant_edit,),
            "entra.cloud": (self.cloud_combo,),
            "entra.client_id": (self.client_id_edit,),
            "deployments": (self.find_button, self.remove_deployment_button, self.manual_edit),
        }
        for name, widgets in locks.items():
            for widget in widgets:
                lock(widget, profile.is_locked(name))
        self.add_deployment_button.setEnabled(not profile.is_locked("deployments"))
        self._on_auth_combo_changed()

    def set_deployments(self, deployments: Sequence[Deployment], default: str | None) -> None:
        """Fill the deployment list and the default choice."""
        self.deployments_list.clear()
        if default and all(d.name != default for d in deployments):
            # A default typed before the list existed (older settings, a policy) is still a deployment to show.
            deployments = (Deployment(default), *deployments)
        for deployment in deployments:
            item = QListWidgetItem(deployment_text(deployment))
            item.setData(Qt.ItemDataRole.UserRole, deployment)
            self.deployments_list.addItem(item)
        self._refill_default(default)

    def deployments(self) -> tuple[Deployment, ...]:
        """The deployments in the list."""
        items = (self.deployments_list.item(i) for i in range(self.deployments_list.count()))
        return tuple(item.data(Qt.ItemDataRole.UserRole) for item in items)

    def _refill_default(self, default: str | None) -> None:
        names = [d.name for d in self.deployments()]
        self.default_combo.clear()
        self.default_combo.addItems(names)
        if default in names:
            self.default_combo.setCurrentText(default)

    def profile(self) -> Profile | None:
        """The edited profile (endpoint as typed; the dialog validates it), or None if nothing is loaded."""
        base = self._profile
        if base is None:
            return None
        method: AuthMethod = self.auth_combo.currentData() or base.auth_method
        temperature = self.temperature_spin.value()
        return with_endpoint_deployment(
            replace(
                base,
                display_name=self.name_edit.text().strip() or _tr("My connection"),
                endpoint=self.endpoint_edit.text().strip(),
                auth_method=method,
                entra=replace(
                    base.entra,
                    tenant=self.tenant_edit.text().strip() or EntraOptions.tenant,
                    cloud=self.cloud_combo.currentData(),
                    client_id=self.client_id_edit.text().strip() or EntraOptions.client_id,
                ),
                deployments=self.deployments(),
                default_deployment=self.default_combo.currentText() or None,
                chat_defaults=ChatDefaults(
                    instructions=self.instructions_edit.toPlainText().strip(),
                    temperature=None if temperature < 0 else round(temperature, 1),
                    max_output_tokens=self.max_tokens_spin.value() or None,
                    reasoning_effort=self.effort_combo.currentData(),
                ),
            )
        )

    def add_deployment(self, deployment: Deployment) -> bool:
        """Add a deployment unless one of that name is listed; whether it was added."""
        if any(d.name == deployment.name for d in self.deployments()):
            return False
        item = QListWidgetItem(deployment_text(deployment))
        item.setData(Qt.ItemDataRole.UserRole, deployment)
        self.deployments_list.addItem(item)
        self._refill_default(self.default_combo.currentText() or deployment.name)
        return True

    def set_account(self, username: str | None) -> None:
        """Show who is signed in (None = nobody)."""
        if username:
            self.account_label.setText(_tr("Signed in as {name}").format(name=username))
        else:
            self.account_label.setText(_tr("Not signed in"))
        self.sign_out_button.setEnabled(bool(username))

    # -- slots -----------------------------------------------------------------------------------------------------

    def _on_endpoint_edit_text_changed(self, text: str) -> None:
        if not text.strip():
            self.endpoint_feedback.setText(_tr("Paste the endpoint from the Azure portal (Keys and Endpoint)."))
            self.endpoint_feedback.setStyleSheet("")
            return
        ok, words = describe_endpoint(text)
        self.endpoint_feedback.setText(("✔ " if ok else "") + words)
        self.endpoint_feedback.setStyleSheet("" if ok else "color: #c42b1c;")

    def _on_auth_combo_changed(self) -> None:
        method = self.auth_combo.currentData()
        self.key_box.setVisible(method == "api_key")
        self.entra_box.setVisible(method == "entra")

    def _on_show_key_toggled(self, shown: bool) -> None:
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)

    def _on_advanced_toggled(self, shown: bool) -> None:
        self.advanced_box.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def _on_add_deployment_clicked(self) -> None:
        name = self.manual_edit.text().strip()
        if not name:
            return
        if not self.add_deployment(Deployment(name)):
            self.find_status.setText(_tr("“{name}” is already in the list.").format(name=name))
        self.manual_edit.clear()

    def _on_remove_deployment_clicked(self) -> None:
        row = self.deployments_list.currentRow()
        if row >= 0:
            self.deployments_list.takeItem(row)
            self._refill_default(self.default_combo.currentText())


# -- the app preferences page ---------------------------------------------------------------------------------------


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
        form.addRow(_tr("Retries when Azure is busy:"), _labelled(self.retries_spin, _tr("Retries")))
        form.addRow(_tr("Give up waiting after:"), _labelled(self.timeout_spin, _tr("Request timeout")))
        form.addRow(_tr("Appearance:"), _labelled(self.theme_combo, _tr("Theme")))
        form.addRow(_tr("Text size:"), _labelled(self.font_combo, _tr("Text size")))
        form.addRow("", self.send_on_enter_check)
        form.addRow("", self.notify_check)
        form.addRow(_tr("Proxy:"), _labelled(self.proxy_combo, _tr("Proxy")))
        form.addRow("", _labelled(self.proxy_edit, _tr("Proxy address")))
        self._widgets: dict[str, QWidget] = {
            "max_retries": self.retries_spin,
            "request_timeout": self.timeout_spin,
            "theme": self.theme_combo,
            "font_size": self.font_combo,
            "send_on_enter": self.send_on_enter_check,
            "notify_when_background": self.notify_check,
            "proxy": self.proxy_combo,
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
        }

    def _on_proxy_combo_changed(self) -> None:
        self.proxy_edit.setEnabled(self.proxy_combo.currentData() == "manual" and self.proxy_combo.isEnabled())


# -- the dialog -------------------------------------------------------------------------------------------------------


class SettingsDialog(QDialog):
    """Connections and preferences; Save applies at once (emits `settings_saved`), Close discards unsaved edits."""

    settings_saved = Signal()
    connection_chosen = Signal(str)  # "Use for chats": new chats use this connection from now on

    def __init__(
        self,
        configuration: Configuration,
        connections: ConnectionsPort,
        key_store: KeyStoreLike,
        session_keys: KeyStoreLike,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._configuration = configuration
        self._connections = connections
        self._keys = key_store
        self._session_keys = session_keys
        self._drafts: dict[str, Profile] = {}
        self._removed: set[str] = set()
        self._active_id: str | None = None
        self._current: str | None = None
        self._pending_key: tuple[str, str] | None = None  # (profile id, key) waiting for session-only consent
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
        account = self._connections.account(profile.id)
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
        allowed = self._configuration.settings.allowed_auth_methods
        method: AuthMethod = "api_key" if "api_key" in allowed else allowed[0]
        profile = Profile(id=Profile.new_id(), display_name=_tr("New connection"), endpoint="", auth_method=method)
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
        profile_id = await self._save_current()
        if profile_id is None:
            return False
        try:
            self._configuration.update_app(active_profile_id=profile_id)
        except (SettingsChangeError, OSError) as error:
            self._say(str(error), error=True)
            return False
        self._active_id = profile_id
        for row in range(self.profile_list.count()):
            item = self.profile_list.item(row)
            item.setText(self._list_text(self._drafts[item.data(Qt.ItemDataRole.UserRole)]))
        self._say(_tr("New chats now use “{name}”.").format(name=self._drafts[profile_id].display_name))
        _log.info("new chats use connection %s", profile_id)
        self.settings_saved.emit()
        self.connection_chosen.emit(profile_id)
        return True

    def _on_work_failed(self, error: BaseException) -> None:
        self._say(_tr("Something went wrong: {error}").format(error=type(error).__name__), error=True)

    # -- saving ----------------------------------------------------------------------------------------------------

    def _checked_profile(self, profile: Profile) -> Profile | None:
        """The profile with its endpoint normalised, or None after saying what is wrong with it."""
        try:
            base_url = normalize_endpoint(profile.endpoint).base_url
        except EndpointError as error:
            self.select_profile(profile.id)
            self._say(_tr("“{name}”: {problem}").format(name=profile.display_name, problem=error), error=True)
            return None
        return replace(profile, endpoint=base_url)

    def _save_profile(self, profile: Profile) -> bool:
        checked = self._checked_profile(profile)
        if checked is None:
            return False
        saved = self._configuration.settings.profile(checked.id)
        if saved is not None:
            checked = _keep_service_updates(checked, saved)
        if checked == saved:
            return True
        try:
            self._configuration.put_profile(checked)
        except (SettingsChangeError, OSError) as error:
            self._say(str(error), error=True)
            return False
        return True

    async def save(self) -> bool:
        """Validate and write every change (settings file and key store); say plainly what failed."""
        self._collect()
        self._say(_tr("Saving…"))
        for profile in self._drafts.values():
            if self._checked_profile(profile) is None:
                return False
        settings = self._configuration.settings
        try:
            for profile_id in sorted(self._removed):
                if settings.profile(profile_id) is not None:
                    self._configuration.delete_profile(profile_id)
                await self._forget_key(profile_id)
            self._removed.clear()
            for profile in self._drafts.values():
                if not self._save_profile(profile):
                    return False
            changes = {
                k: v
                for k, v in {**self.app_page.values(), "active_profile_id": self._active_id}.items()
                if getattr(self._configuration.settings.app, k) != v and k not in settings.locked
            }
            if changes:
                self._configuration.update_app(**changes)
        except (SettingsChangeError, OSError) as error:
            self._say(str(error), error=True)
            return False
        if not await self.store_typed_key():
            return False
        self.reload()
        self._say(_tr("Saved."))
        self.settings_saved.emit()
        return True

    async def _save_current(self) -> str | None:
        """Save the connection in the editor (to test or sign in with it); return its id, or None on a problem."""
        self._collect()
        if self._current is None:
            return None
        profile = self._drafts[self._current]
        if not self._save_profile(profile) or not await self.store_typed_key():
            return None
        saved = self._configuration.settings.profile(profile.id)
        if saved is not None:
            self._drafts[profile.id] = saved
        self.settings_saved.emit()
        return profile.id

    # -- keys ------------------------------------------------------------------------------------------------------

    async def refresh_key_status(self, profile_id: str) -> None:
        """Say whether a key is saved for the connection and where."""
        from desktop.services import KeyringUnavailableError  # loaded already: the key store comes from desktop.auth

        # Look-ups run in worker threads and may finish out of order: only the latest one may write the status.
        self._key_status_request += 1
        request = self._key_status_request
        if await self._session_keys.aget(profile_id) is not None:
            text = await self._session_keys.abackend_name()
        else:
            try:
                has_key = await self._keys.aget(profile_id) is not None
                where = await self._keys.abackend_name()
            except KeyringUnavailableError as error:
                text = str(error)
            else:
                text = (
                    _tr("A key is saved in: {store}. Paste a new one to replace it.").format(store=where)
                    if has_key
                    else _tr("No key saved yet. It will be kept in: {store}.").format(store=where)
                )
        if self._current == profile_id and request == self._key_status_request:
            self.editor.key_status.setText(text)

    async def store_typed_key(self) -> bool:
        """Store the key typed in the editor (keyring first); offer session-only when no keyring works."""
        from desktop.services import ApiKeyFormatError, KeyringUnavailableError

        key = self.editor.key_edit.text().strip()
        if not key or self._current is None or self.editor.auth_combo.currentData() != "api_key":
            return True
        profile_id = self._current
        try:
            await self._keys.aset(profile_id, key)
        except ApiKeyFormatError as error:
            self._say(str(error), error=True)
            return False
        except KeyringUnavailableError as error:
            self._pending_key = (profile_id, key)
            self.editor.session_label.setText(
                _tr(
                    "{problem} You can still use the key until you close the app: it is then kept in memory only, "
                    "never written to disk, and you will paste it again next time."
                ).format(problem=error)
            )
            self.editor.session_box.setVisible(True)
            self.editor.session_button.setFocus()
            self._say(_tr("The key was not saved: there is no password store on this computer."), error=True)
            return False
        await self._session_keys.adelete(profile_id)
        self.editor.key_edit.clear()
        await self.refresh_key_status(profile_id)
        return True

    async def keep_key_for_session(self) -> None:
        """The user agreed: keep the pending key in memory for this session only."""
        if self._pending_key is None:
            return
        profile_id, key = self._pending_key
        self._pending_key = None
        await self._session_keys.aset(profile_id, key)
        self.editor.session_box.setVisible(False)
        if self._current == profile_id:
            self.editor.key_edit.clear()
        await self.refresh_key_status(profile_id)
        self._say(_tr("The key will be used until you close the app."))

    async def remove_key(self) -> None:
        """Remove the connection's key from wherever it is kept."""
        if self._current is None:
            return
        profile_id = self._current
        removed = await self._forget_key(profile_id)
        await self.refresh_key_status(profile_id)
        self._say(_tr("The key was removed.") if removed else _tr("There was no saved key to remove."))

    async def _forget_key(self, profile_id: str) -> bool:
        from desktop.services import KeyringUnavailableError

        removed = await self._session_keys.adelete(profile_id)
        try:
            removed = await self._keys.adelete(profile_id) or removed
        except KeyringUnavailableError as error:
            _log.info("key of %s not removed from the keyring: %s", profile_id, error)
        return removed

    # -- sign-in, discovery, test ----------------------------------------------------------------------------------

    async def sign_in(self) -> None:
        """Save the connection, then open the sign-in panel for it."""
        profile_id = await self._save_current()
        if profile_id is None:
            return
        panel = SignInPanel(self._connections, profile_id, self)
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
        await self._connections.sign_out(self._current)
        self.editor.set_account(None)
        self._say(_tr("Signed out."))

    async def find_deployments(self) -> None:
        """Save the connection, list its deployments and add the ones on this resource."""
        profile_id = await self._save_current()
        if profile_id is None:
            return
        button, status = self.editor.find_button, self.editor.find_status
        button.setEnabled(False)
        status.setText(_tr("Looking for your deployments…"))
        try:
            result = await self._connections.discover_deployments(profile_id)
        finally:
            button.setEnabled(True)
        if self._current != profile_id:
            return
        host = normalize_endpoint(self._drafts[profile_id].endpoint).resource_host
        here = [d for d in result.deployments if _host(d.endpoint) == host]
        elsewhere = [d.label for d in result.deployments if _host(d.endpoint) != host]
        added = [d.name for d in here if self.editor.add_deployment(Deployment(d.name, d.model_name, d.model_version))]
        words = [result.message] if result.message else []
        if here:
            words.insert(
                0, _tr("Found {count} deployment(s); {added} added.").format(count=len(here), added=len(added))
            )
        elif not result.message:
            words.append(_tr("No deployments were found on this resource. Type the deployment name instead."))
        if elsewhere:
            words.append(
                _tr(
                    "Also on your other resources: {names}. Add a connection with that resource's address to use them."
                ).format(names=", ".join(elsewhere))
            )
        status.setText(" ".join(words))
        self._collect()

    async def test_connection(self) -> ReportLike | None:
        """Save the connection and test it step by step; show each step in plain words."""
        profile_id = await self._save_current()
        if profile_id is None:
            return None
        deployment = self.editor.default_combo.currentText() or None
        button, results = self.editor.test_button, self.editor.test_results
        button.setEnabled(False)
        results.setText(_tr("Testing the connection…"))
        try:
            report = await self._connections.test_connection(profile_id, deployment)
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


def _keep_service_updates(edited: Profile, saved: Profile) -> Profile:
    """Keep what the services wrote while the dialog was open: the sign-in record and each deployment's API."""
    apis = {d.name: d.api for d in saved.deployments}
    deployments = tuple(
        replace(d, api=apis[d.name]) if d.api == "unknown" and d.name in apis else d for d in edited.deployments
    )
    entra = replace(edited.entra, authentication_record=saved.entra.authentication_record)
    return replace(edited, entra=entra, deployments=deployments)


def _host(endpoint: str) -> str | None:
    try:
        return normalize_endpoint(endpoint).resource_host
    except EndpointError:
        return None
