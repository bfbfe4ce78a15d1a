"""The settings dialog's connection panel: address, key or sign-in, models, test, and new chats' defaults."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
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
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.config import (
    AUTH_METHODS,
    CLOUDS,
    REASONING_EFFORTS,
    AuthMethod,
    ChatDefaults,
    Deployment,
    EntraOptions,
    Profile,
)
from desktop.ui.settings_parts import AUTH_LABELS, deployment_text, describe_endpoint, labelled, lock


def _tr(text: str) -> str:
    return QCoreApplication.translate("SettingsDialog", text)


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
        form.addRow(_tr("Name:"), labelled(self.name_edit, _tr("Connection name")))
        form.addRow(_tr("Address:"), labelled(self.endpoint_edit, _tr("Address of your Azure OpenAI resource")))
        form.addRow("", self.endpoint_feedback)
        form.addRow(_tr("Connect with:"), labelled(self.auth_combo, _tr("How to connect")))

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
        key_row.addWidget(labelled(self.key_edit, _tr("API key")), 1)
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
        advanced_form.addRow(_tr("Organisation (tenant):"), labelled(self.tenant_edit, _tr("Tenant")))
        advanced_form.addRow(_tr("Cloud:"), labelled(self.cloud_combo, _tr("Azure cloud")))
        advanced_form.addRow(_tr("App (client) ID:"), labelled(self.client_id_edit, _tr("Client ID")))
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
        self.deployments_box = QGroupBox(_tr("Models"), self)
        self.models_note = QLabel(
            _tr("Azure calls each model you can use a “deployment”; its name is the one shown in the Azure portal."),
            self.deployments_box,
        )
        self.models_note.setWordWrap(True)
        self.deployments_list = QListWidget(self.deployments_box)
        self.deployments_list.setFixedHeight(100)
        self.find_button = QPushButton(_tr("Find my models"), self.deployments_box)
        self.remove_deployment_button = QPushButton(_tr("Remove"), self.deployments_box)
        self.manual_edit = QLineEdit(self.deployments_box)
        self.manual_edit.setPlaceholderText(_tr("Or type a model’s deployment name"))
        self.add_deployment_button = QPushButton(_tr("Add"), self.deployments_box)
        self.manual_edit.returnPressed.connect(self.add_deployment_button.click)
        self.add_deployment_button.clicked.connect(self._on_add_deployment_clicked)
        self.remove_deployment_button.clicked.connect(self._on_remove_deployment_clicked)
        self.find_status = QLabel(self.deployments_box)
        self.find_status.setWordWrap(True)
        self.default_combo = QComboBox(self.deployments_box)
        self.default_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.default_combo.currentTextChanged.connect(self.default_combo.setToolTip)
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
        manual_row.addWidget(labelled(self.manual_edit, _tr("Model to add")), 1)
        manual_row.addWidget(self.add_deployment_button)
        deployments_form = QFormLayout()
        deployments_form.addRow(_tr("Use by default:"), labelled(self.default_combo, _tr("Default model")))
        dep_layout = QVBoxLayout(self.deployments_box)
        dep_layout.addWidget(self.models_note)
        dep_layout.addWidget(labelled(self.deployments_list, _tr("Models")))
        dep_layout.addLayout(list_buttons)
        dep_layout.addWidget(self.find_status)
        dep_layout.addLayout(manual_row)
        dep_layout.addLayout(deployments_form)
        dep_layout.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignLeft)
        dep_layout.addWidget(self.test_results)

        # Prices (optional): per million tokens, for the selected model; used only for cost estimates
        self.prices_box = QGroupBox(_tr("Prices, to estimate costs (optional)"), self)
        self.prices_label = QLabel(self.prices_box)
        self.prices_label.setWordWrap(True)
        self.input_price_spin = self._price_spin(_tr("Input price per million tokens"))
        self.cached_price_spin = self._price_spin(_tr("Cached input price per million tokens"))
        self.output_price_spin = self._price_spin(_tr("Output price per million tokens"))
        self.currency_edit = QLineEdit(self.prices_box)
        self.currency_edit.setMaxLength(8)
        self.currency_edit.setPlaceholderText("USD")
        self.currency_edit.setMaximumWidth(90)
        prices_form = QFormLayout()
        prices_form.addRow(_tr("Input (per million tokens):"), self.input_price_spin)
        prices_form.addRow(_tr("Cached input (per million tokens):"), self.cached_price_spin)
        prices_form.addRow(_tr("Output (per million tokens):"), self.output_price_spin)
        prices_form.addRow(_tr("Currency:"), labelled(self.currency_edit, _tr("Currency of the prices")))
        self.prices_note = QLabel(
            _tr(
                "Used only for the estimated costs in Usage and in an answer's Details; without prices no cost is "
                "shown. Cached input costs the input price unless you set a cached price."
            ),
            self.prices_box,
        )
        self.prices_note.setWordWrap(True)
        prices_layout = QVBoxLayout(self.prices_box)
        prices_layout.addWidget(self.prices_label)
        prices_layout.addLayout(prices_form)
        prices_layout.addWidget(self.prices_note)
        self.deployments_list.currentItemChanged.connect(self._on_deployments_list_current_changed)
        for spin in (self.input_price_spin, self.cached_price_spin, self.output_price_spin):
            spin.valueChanged.connect(self._on_price_changed)
        self._show_prices(None)

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
        defaults_form.addRow(_tr("Instructions:"), labelled(self.instructions_edit, _tr("Instructions")))
        defaults_form.addRow(
            _tr("Creativity (temperature):"), labelled(self.temperature_spin, _tr("Temperature, 0 to 2"))
        )
        defaults_form.addRow(_tr("Longest answer (tokens):"), labelled(self.max_tokens_spin, _tr("Max output tokens")))
        defaults_form.addRow(_tr("Reasoning effort:"), labelled(self.effort_combo, _tr("Reasoning effort")))

        layout = QVBoxLayout(self)
        layout.addWidget(self.blocked_label)
        layout.addLayout(form)
        for box in (self.key_box, self.entra_box, self.deployments_box, self.prices_box, self.defaults_box):
            layout.addWidget(box)
        layout.addStretch(1)

    def _price_spin(self, name: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self)
        spin.setRange(-1.0, 1_000_000.0)  # the minimum reads "Not set"
        spin.setDecimals(4)
        spin.setSingleStep(0.1)
        spin.setSpecialValueText(_tr("Not set"))
        spin.setAccessibleName(name)
        return spin

    def _show_prices(self, deployment: Deployment | None) -> None:
        """Show the prices of the selected model (the fields are off while none is selected)."""
        locked = self._profile is not None and self._profile.is_locked("deployments")
        if deployment is None:
            self.prices_label.setText(_tr("Select a model above to set its prices."))
        else:
            self.prices_label.setText(_tr("Prices of “{name}”:").format(name=deployment.name))
        for spin, value in (
            (self.input_price_spin, deployment.input_price if deployment else None),
            (self.cached_price_spin, deployment.cached_input_price if deployment else None),
            (self.output_price_spin, deployment.output_price if deployment else None),
        ):
            spin.blockSignals(True)
            spin.setValue(-1.0 if value is None else value)
            spin.blockSignals(False)
            lock(spin, locked)
            spin.setEnabled(deployment is not None and not locked)

    def _on_deployments_list_current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        self._show_prices(current.data(Qt.ItemDataRole.UserRole) if current is not None else None)

    def _on_price_changed(self) -> None:
        if self.deployments_list.currentRow() < 0:
            return
        item = self.deployments_list.currentItem()

        def price(spin: QDoubleSpinBox) -> float | None:
            return None if spin.value() < 0 else round(spin.value(), 4)

        deployment: Deployment = item.data(Qt.ItemDataRole.UserRole)
        item.setData(
            Qt.ItemDataRole.UserRole,
            replace(
                deployment,
                input_price=price(self.input_price_spin),
                cached_input_price=price(self.cached_price_spin),
                output_price=price(self.output_price_spin),
            ),
        )

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
        self.currency_edit.setText(profile.currency)
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
            "currency": (self.currency_edit,),
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
            item.setToolTip(item.text())  # a long model name is never cut without a way to read it
            item.setData(Qt.ItemDataRole.UserRole, deployment)
            self.deployments_list.addItem(item)
        self._refill_default(default)
        self._show_prices(None)

    def deployments(self) -> tuple[Deployment, ...]:
        """The deployments in the list."""
        items = (self.deployments_list.item(i) for i in range(self.deployments_list.count()))
        return tuple(item.data(Qt.ItemDataRole.UserRole) for item in items)

    def _refill_default(self, default: str | None) -> None:
        names = [d.name for d in self.deployments()]
        self.default_combo.clear()
        self.default_combo.addItems(names)
        for row, name in enumerate(names):
            self.default_combo.setItemData(row, name, Qt.ItemDataRole.ToolTipRole)
        if default in names:
            self.default_combo.setCurrentText(default)

    def profile(self) -> Profile | None:
        """The edited profile (endpoint as typed; the dialog validates it), or None if nothing is loaded."""
        from desktop.services import with_endpoint_deployment  # already loaded: the dialog works through it

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
                currency=self.currency_edit.text().strip() or "USD",
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
        item.setToolTip(item.text())
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
