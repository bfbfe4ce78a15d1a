"""The first-run guide: choose how to connect, give the address, pick a deployment, test, start chatting."""

from __future__ import annotations

import enum
from dataclasses import replace

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCommandLinkButton,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.config import (
    AuthMethod,
    Configuration,
    Deployment,
    EndpointError,
    EntraOptions,
    Profile,
    SettingsChangeError,
)
from desktop.config import normalize_endpoint as _normalize
from desktop.ui.async_slots import AsyncWork
from desktop.ui.settings_dialog import (
    ConnectionsPort,
    FoundDeploymentLike,
    KeyStoreLike,
    describe_endpoint,
    steps_html,
    with_endpoint_deployment,
)
from desktop.ui.sign_in import SignInPanel


def _tr(text: str) -> str:
    return QCoreApplication.translate("FirstRun", text)


class Page(enum.IntEnum):
    """The guide's steps, in order."""

    CHOOSE = 0
    ADDRESS = 1
    DEPLOYMENT = 2
    TEST = 3


def _title(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.3)
    font.setBold(True)
    label.setFont(font)
    label.setWordWrap(True)
    return label


def _text(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    return label


class FirstRunDialog(QDialog):
    """A short guided start; emits `setup_finished(profile_id)` or `demo_requested`, and sets first_run_done."""

    setup_finished = Signal(str)
    demo_requested = Signal()

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
        self._method: AuthMethod = "api_key"
        self._profile_id = Profile.new_id()
        self._signed_in = False
        self._found: dict[str, FoundDeploymentLike] = {}
        self.sign_in_panel: SignInPanel | None = None
        self.work = AsyncWork(self, self._on_work_failed)
        self.setWindowTitle(_tr("Welcome to Azure OpenAI Chat"))
        self.setAccessibleName(self.windowTitle())
        self.resize(620, 480)
        settings = configuration.settings
        self.pages = QStackedWidget(self)

        # 1. choose
        choose = QWidget(self.pages)
        self.entra_choice = QCommandLinkButton(
            _tr("Sign in with my work account"),
            _tr("Your organisation uses Microsoft sign-in for Azure OpenAI."),
            choose,
        )
        self.key_choice = QCommandLinkButton(
            _tr("Paste an address and a key"),
            _tr("Someone gave you the address of an Azure OpenAI resource and a key."),
            choose,
        )
        self.demo_choice = QCommandLinkButton(
            _tr("Try the demo"),
            _tr("See how the app works with made-up answers. Nothing leaves this computer."),
            choose,
        )
        self.entra_choice.setVisible("entra" in settings.allowed_auth_methods)
        self.key_choice.setVisible("api_key" in settings.allowed_auth_methods)
        self.demo_choice.setVisible(settings.demo_allowed)
        self.entra_choice.clicked.connect(lambda: self.choose("entra"))
        self.key_choice.clicked.connect(lambda: self.choose("api_key"))
        self.demo_choice.clicked.connect(self.start_demo)
        choose_layout = QVBoxLayout(choose)
        choose_layout.addWidget(_title(_tr("How do you connect to Azure OpenAI?"), choose))
        for button in (self.entra_choice, self.key_choice, self.demo_choice):
            choose_layout.addWidget(button)
        choose_layout.addStretch(1)

        # 2. address (+ key or sign-in)
        address = QWidget(self.pages)
        self.endpoint_edit = QLineEdit(address)
        self.endpoint_edit.setPlaceholderText("https://my-resource.openai.azure.com")
        self.endpoint_edit.setAccessibleName(_tr("Address of your Azure OpenAI resource"))
        self.endpoint_feedback = _text("", address)
        self.endpoint_edit.textChanged.connect(self._on_endpoint_edit_text_changed)
        self.key_edit = QLineEdit(address)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setAccessibleName(_tr("API key"))
        self.key_edit.setPlaceholderText(_tr("Paste the key"))
        self.key_label = QLabel(_tr("Key:"), address)
        self.sign_in_button = QPushButton(_tr("Sign in with Microsoft"), address)
        self.sign_in_button.clicked.connect(lambda: self.work.start(self.sign_in()))
        self.account_label = _text("", address)
        self.session_button = QPushButton(_tr("Keep the key for this session only"), address)
        self.session_button.setVisible(False)
        self.session_button.clicked.connect(lambda: self.work.start(self.keep_key_for_session()))
        self.address_help = _text(
            _tr("In the Azure portal, open your Azure OpenAI resource and copy the endpoint from Keys and Endpoint."),
            address,
        )
        form = QFormLayout()
        form.addRow(_tr("Address:"), self.endpoint_edit)
        form.addRow("", self.endpoint_feedback)
        form.addRow(self.key_label, self.key_edit)
        address_layout = QVBoxLayout(address)
        address_layout.addWidget(_title(_tr("Where is your Azure OpenAI resource?"), address))
        address_layout.addWidget(self.address_help)
        address_layout.addLayout(form)
        address_layout.addWidget(self.sign_in_button, 0, Qt.AlignmentFlag.AlignLeft)
        address_layout.addWidget(self.account_label)
        address_layout.addWidget(self.session_button, 0, Qt.AlignmentFlag.AlignLeft)
        address_layout.addStretch(1)

        # 3. deployment
        deployment = QWidget(self.pages)
        self.deployment_combo = QComboBox(deployment)
        self.deployment_combo.setEditable(True)
        self.deployment_combo.setAccessibleName(_tr("Deployment"))
        self.find_status = _text("", deployment)
        self.find_button = QPushButton(_tr("Find my deployments again"), deployment)
        self.find_button.clicked.connect(lambda: self.work.start(self.find_deployments()))
        deployment_layout = QVBoxLayout(deployment)
        deployment_layout.addWidget(_title(_tr("Which model do you want to chat with?"), deployment))
        deployment_layout.addWidget(
            _text(_tr("Pick a deployment from the list, or type its name as shown in the Azure portal."), deployment)
        )
        deployment_layout.addWidget(self.deployment_combo)
        deployment_layout.addWidget(self.find_status)
        deployment_layout.addWidget(self.find_button, 0, Qt.AlignmentFlag.AlignLeft)
        deployment_layout.addStretch(1)

        # 4. test
        test = QWidget(self.pages)
        self.test_results = _text("", test)
        self.test_results.setTextFormat(Qt.TextFormat.RichText)
        self.test_results.setAccessibleName(_tr("Connection test results"))
        self.test_button = QPushButton(_tr("Test again"), test)
        self.test_button.clicked.connect(lambda: self.work.start(self.test_connection()))
        test_layout = QVBoxLayout(test)
        test_layout.addWidget(_title(_tr("Checking the connection"), test))
        test_layout.addWidget(self.test_results)
        test_layout.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignLeft)
        test_layout.addStretch(1)

        for page in (choose, address, deployment, test):
            self.pages.addWidget(page)
        self.status_label = _text("", self)
        self.status_label.setStyleSheet("color: #c42b1c;")
        self.back_button = QPushButton(_tr("Back"), self)
        self.next_button = QPushButton(_tr("Next"), self)
        self.next_button.setDefault(True)
        self.back_button.clicked.connect(self._on_back_clicked)
        self.next_button.clicked.connect(lambda: self.work.start(self.next()))
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        self._show_page(Page.CHOOSE)

    # -- navigation ------------------------------------------------------------------------------------------------

    @property
    def page(self) -> Page:
        """The step on screen."""
        return Page(self.pages.currentIndex())

    def _show_page(self, page: Page) -> None:
        self.pages.setCurrentIndex(page)
        self.status_label.clear()
        self.back_button.setVisible(page != Page.CHOOSE)
        self.next_button.setVisible(page != Page.CHOOSE)
        self.next_button.setText(_tr("Start chatting") if page == Page.TEST else _tr("Next"))
        first = {
            Page.CHOOSE: self.entra_choice if self.entra_choice.isVisible() else self.key_choice,
            Page.ADDRESS: self.endpoint_edit,
            Page.DEPLOYMENT: self.deployment_combo,
            Page.TEST: self.next_button,
        }[page]
        first.setFocus()

    def choose(self, method: AuthMethod) -> None:
        """Step 1: how to connect."""
        self._method = method
        key = method == "api_key"
        self.key_label.setVisible(key)
        self.key_edit.setVisible(key)
        self.sign_in_button.setVisible(not key)
        self.account_label.setVisible(not key)
        self._show_page(Page.ADDRESS)

    def _on_endpoint_edit_text_changed(self, text: str) -> None:
        ok, words = describe_endpoint(text) if text.strip() else (True, "")
        self.endpoint_feedback.setText(("✔ " if ok and words else "") + words)
        self.endpoint_feedback.setStyleSheet("" if ok else "color: #c42b1c;")

    def _on_back_clicked(self) -> None:
        if self.page != Page.CHOOSE:
            self._show_page(Page(self.page - 1))

    async def next(self) -> None:
        """Check the step on screen and go on (the last step finishes the guide)."""
        self.next_button.setEnabled(False)
        try:
            if self.page == Page.ADDRESS:
                if await self._save_address():
                    self._show_page(Page.DEPLOYMENT)
                    await self.find_deployments()
            elif self.page == Page.DEPLOYMENT:
                if self._save_deployment():
                    self._show_page(Page.TEST)
                    await self.test_connection()
            elif self.page == Page.TEST:
                self._finish()
        finally:
            self.next_button.setEnabled(True)

    def start_demo(self) -> None:
        """ "Try the demo": the app starts demo mode (the lead's code, on `demo_requested`)."""
        if not self._update_app(first_run_done=True):
            return
        self.demo_requested.emit()
        self.accept()

    def _finish(self) -> None:
        if self._update_app(first_run_done=True, active_profile_id=self._profile_id):
            self.setup_finished.emit(self._profile_id)
            self.accept()

    # -- steps -----------------------------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.status_label.setText(text)

    def _update_app(self, **changes: object) -> bool:
        try:
            self._configuration.update_app(**changes)
        except (SettingsChangeError, OSError) as error:
            self._say(str(error))
            return False
        return True

    def _put(self, profile: Profile) -> bool:
        try:
            self._configuration.put_profile(profile)
        except (SettingsChangeError, OSError) as error:
            self._say(str(error))
            return False
        return True

    def _profile(self) -> Profile | None:
        return self._configuration.settings.profile(self._profile_id)

    async def _save_address(self) -> bool:
        try:
            found = _normalize(self.endpoint_edit.text())
        except EndpointError as error:
            self._say(str(error))
            return False
        current = self._profile()
        profile = with_endpoint_deployment(
            Profile(
                id=self._profile_id,
                display_name=found.resource_host.split(".")[0],
                endpoint=self.endpoint_edit.text().strip(),
                auth_method=self._method,
                entra=current.entra if current is not None else EntraOptions(),
            )
        )
        if not self._put(replace(profile, endpoint=found.base_url)):
            return False
        if self._method == "api_key":
            return await self._store_key()
        if not self._signed_in:
            self._say(_tr("Sign in with Microsoft first."))
            return False
        return True

    async def _store_key(self) -> bool:
        from desktop.services import ApiKeyFormatError, KeyringUnavailableError

        key = self.key_edit.text().strip()
        if not key and (await self._session_keys.aget(self._profile_id) or await self._keys.aget(self._profile_id)):
            return True  # stored already (the user came back a step)
        try:
            await self._keys.aset(self._profile_id, key)
        except ApiKeyFormatError as error:
            self._say(str(error))
            return False
        except KeyringUnavailableError as error:
            self._say(
                _tr(
                    "{problem} You can still use the key until you close the app: it is kept in memory only and "
                    "you will paste it again next time."
                ).format(problem=error)
            )
            self.session_button.setVisible(True)
            self.session_button.setFocus()
            return False
        self.key_edit.clear()
        return True

    async def keep_key_for_session(self) -> None:
        """The user agreed to keep the key in memory for this session; go on."""
        await self._session_keys.aset(self._profile_id, self.key_edit.text().strip())
        self.key_edit.clear()
        self.session_button.setVisible(False)
        await self.next()

    async def sign_in(self) -> None:
        """Save the address, then sign in with Microsoft in the non-modal panel."""
        try:
            found = _normalize(self.endpoint_edit.text())
        except EndpointError as error:
            self._say(str(error))
            return
        profile = Profile(
            id=self._profile_id,
            display_name=found.resource_host.split(".")[0],
            endpoint=found.base_url,
            auth_method="entra",
        )
        if not self._put(with_endpoint_deployment(profile)):
            return
        panel = SignInPanel(self._connections, self._profile_id, self)
        panel.signed_in.connect(self._on_sign_in_panel_signed_in)
        self.sign_in_panel = panel
        panel.start()

    def _on_sign_in_panel_signed_in(self, username: str) -> None:
        self._signed_in = True
        self.account_label.setText(_tr("Signed in as {name}.").format(name=username))
        self.status_label.clear()

    async def find_deployments(self) -> None:
        """List the deployments to pick from (typing a name always works)."""
        self.find_status.setText(_tr("Looking for your deployments…"))
        result = await self._connections.discover_deployments(self._profile_id)
        profile = self._profile()
        names = [d.name for d in profile.deployments] if profile is not None else []
        names += [d.name for d in result.deployments if d.name not in names]
        typed = self.deployment_combo.currentText()
        self.deployment_combo.clear()
        self.deployment_combo.addItems(names)
        if typed:
            self.deployment_combo.setCurrentText(typed)
        found = len(result.deployments)
        words = _tr("Found {count} deployment(s).").format(count=found) if found else ""
        self.find_status.setText(" ".join(w for w in (words, result.message or "") if w))
        self._found = {d.name: d for d in result.deployments}

    def _save_deployment(self) -> bool:
        name = self.deployment_combo.currentText().strip()
        profile = self._profile()
        if not name or profile is None:
            self._say(_tr("Choose a deployment, or type its name."))
            return False
        found = self._found.get(name)
        deployment = Deployment(name, found.model_name, found.model_version) if found else Deployment(name)
        others = tuple(d for d in profile.deployments if d.name != name)
        return self._put(replace(profile, deployments=(deployment, *others), default_deployment=name))

    async def test_connection(self) -> None:
        """Run the connection test and show each step."""
        self.test_results.setText(_tr("Testing the connection…"))
        report = await self._connections.test_connection(self._profile_id)
        advice = (
            _tr("Everything works. Choose Start chatting.")
            if report.ok
            else _tr("Something is not right yet. Go Back to fix it, or start anyway and fix it later in Settings.")
        )
        self.test_results.setText(steps_html(report) + "<br><br>" + advice)

    def _on_work_failed(self, error: BaseException) -> None:
        self._say(_tr("Something went wrong: {error}").format(error=type(error).__name__))
