"""The first-run guide: choose how to connect, give the address, pick a model, test, start chatting.

A view of `desktop.services.ConnectionSetup`: it keeps no key policy and writes no settings itself.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
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

from desktop.config import AuthMethod, Profile, SettingsChangeError
from desktop.ui.async_slots import AsyncWork
from desktop.ui.settings_parts import describe_endpoint, steps_html
from desktop.ui.sign_in import SignInPanel

if TYPE_CHECKING:
    from desktop.services import ConnectionSetup, DiscoveryResult

#: Every control shows where the keyboard focus is: buttons get a highlight-coloured frame (the command-link buttons
#: draw no focus of their own, and Fusion's push-button focus is too faint to see). Push buttons have the same box
#: (border + padding) in every state: layouts size them unfocused, so a wider focused box clipped their words.
FOCUS_STYLE = (
    "QCommandLinkButton:focus { border: 2px solid palette(highlight); border-radius: 4px; }"
    "QPushButton { border: 1px solid palette(mid); border-radius: 4px; padding: 5px 15px;"
    " background: palette(button); }"
    "QPushButton:hover { background: palette(midlight); }"
    "QPushButton:pressed { background: palette(mid); }"
    "QPushButton:disabled { color: palette(mid); }"
    "QPushButton:focus { border: 2px solid palette(highlight); padding: 4px 14px; }"
)


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

    def __init__(self, setup: ConnectionSetup, parent: QWidget | None = None, *, profile_id: str | None = None) -> None:
        """`profile_id` names the connection being set up (a new one by default)."""
        super().__init__(parent)
        self._setup = setup
        self._configuration = setup.configuration
        self._method: AuthMethod = "api_key"
        self._profile_id = profile_id or Profile.new_id()
        self._signed_in = False
        self._found: DiscoveryResult | None = None
        self.sign_in_panel: SignInPanel | None = None
        self.work = AsyncWork(self, self._on_work_failed)
        self.setWindowTitle(_tr("Welcome to Azure OpenAI Chat"))
        self.setAccessibleName(self.windowTitle())
        self.resize(620, 480)
        self.setStyleSheet(FOCUS_STYLE)
        settings = self._configuration.settings
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
        self.deployment_combo.setAccessibleName(_tr("Model"))
        self.deployment_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.deployment_combo.setMinimumContentsLength(24)
        self.deployment_combo.currentTextChanged.connect(self.deployment_combo.setToolTip)
        self.find_status = _text("", deployment)
        self.find_button = QPushButton(_tr("Look for my models again"), deployment)
        self.find_button.clicked.connect(lambda: self.work.start(self.find_deployments()))
        deployment_layout = QVBoxLayout(deployment)
        deployment_layout.addWidget(_title(_tr("Which model do you want to chat with?"), deployment))
        deployment_layout.addWidget(
            _text(
                _tr(
                    "Azure calls each model you can use a “deployment”. Pick one from the list, or type its "
                    "deployment name as shown in the Azure portal."
                ),
                deployment,
            )
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
        # Enter is handled in keyPressEvent (Next on every page): no button is Qt's default or auto-default, so a
        # button clicked earlier (a welcome choice) can never become what Enter presses on a later page.
        for push in self.findChildren(QPushButton):
            push.setAutoDefault(False)
            push.setDefault(False)
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

    def _show_page(self, page: Page, *, keep_status: bool = False) -> None:
        self.pages.setCurrentIndex(page)
        if not keep_status:
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
        first.setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter means Next on every page (a focused button is pressed instead; Escape still closes)."""
        if event.key() not in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            super().keyPressEvent(event)
            return
        focused = self.focusWidget()
        if isinstance(focused, QAbstractButton) and focused is not self.next_button and focused.isVisible():
            focused.click()
        elif self.page != Page.CHOOSE and self.next_button.isEnabled():
            self.work.start(self.next())
        event.accept()

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
        # What the last "Next" said about the address is stale once it is edited: the words under the field judge
        # the new one (a corrected address under a red "could not be read" read as still wrong).
        self.status_label.clear()
        ok, words = describe_endpoint(text) if text.strip() else (True, "")
        self.endpoint_feedback.setText(("✔ " if ok and words else "") + words)
        self.endpoint_feedback.setStyleSheet("" if ok else "color: #c42b1c;")

    def _on_back_clicked(self) -> None:
        # Nothing typed is cleared: going forward again finds every field as it was.
        if self.page != Page.CHOOSE:
            self._show_page(Page(self.page - 1))

    async def next(self) -> None:
        """Check the step on screen and go on (the last step finishes the guide)."""
        self.next_button.setEnabled(False)
        try:
            if self.page == Page.ADDRESS:
                if await self._save_address() and await self._access_accepted():
                    self._show_page(Page.DEPLOYMENT)
                    await self.find_deployments()
            elif self.page == Page.DEPLOYMENT:
                if await self._save_deployment():
                    self._show_page(Page.TEST)
                    await self.test_connection()
            elif self.page == Page.TEST:
                self._finish()
        finally:
            self.next_button.setEnabled(True)
            if self.page == Page.TEST:
                self.next_button.setFocus()  # it was disabled while the page opened: Enter now starts chatting

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

    def _draft(self) -> Profile | None:
        from desktop.services import SetupError

        try:
            return self._setup.draft_for_address(self._profile_id, self.endpoint_edit.text(), self._method)
        except SetupError as error:
            self._say(str(error))
            return None

    async def _save_address(self, *, consent: bool = False) -> bool:
        draft = self._draft()
        if draft is None:
            return False
        key = self.key_edit.text() if self._method == "api_key" else None
        if key is not None and not key.strip() and await self._setup.has_key(self._profile_id):
            key = None  # stored already (the user came back a step)
        elif key is not None and not key.strip():
            self._say(_tr("Paste the key (Azure portal → your resource → Keys and Endpoint)."))
            self.key_edit.setFocus()
            return False
        result = await self._setup.save(draft, key, consent=consent)
        if result.needs_consent:
            self._say(
                _tr(
                    "{problem} You can still use the key until you close the app: it is kept in memory only and "
                    "you will paste it again next time."
                ).format(problem=result.problem)
            )
            self.session_button.setVisible(True)
            self.session_button.setFocus()
            return False
        if not result.ok:
            self._say(result.problem or "")
            return False
        if self._method != "api_key" and not self._signed_in:
            self._say(_tr("Sign in with Microsoft first."))
            self.sign_in_button.setFocus()
            return False
        return True

    async def _access_accepted(self) -> bool:
        """Whether the resource accepts the key (or the sign-in); if not, stay on this page and say so."""
        refused = await self._setup.access_refused(self._profile_id)
        if refused is None:
            return True
        self._say(refused)
        (self.key_edit if self._method == "api_key" else self.sign_in_button).setFocus()
        return False

    async def keep_key_for_session(self) -> None:
        """The user agreed to keep the key in memory for this session; go on."""
        if not await self._save_address(consent=True):
            return
        self.session_button.setVisible(False)
        if await self._access_accepted():
            self._show_page(Page.DEPLOYMENT)
            await self.find_deployments()

    async def sign_in(self) -> None:
        """Save the address, then sign in with Microsoft in the non-modal panel."""
        draft = self._draft()
        if draft is None:
            return
        result = await self._setup.save(draft)
        if not result.ok:
            self._say(result.problem or "")
            return
        panel = SignInPanel(self._setup, self._profile_id, self)
        panel.signed_in.connect(self._on_sign_in_panel_signed_in)
        self.sign_in_panel = panel
        panel.start()

    def _on_sign_in_panel_signed_in(self, username: str) -> None:
        self._signed_in = True
        self.account_label.setText(_tr("Signed in as {name}.").format(name=username))
        self.status_label.clear()

    async def find_deployments(self) -> None:
        """List the models to pick from (typing a deployment name always works)."""
        from desktop.services import found_deployments, plural

        self.find_status.setText(_tr("Looking for your models…"))
        result = await self._setup.discover(self._profile_id)
        profile = self._configuration.settings.profile(self._profile_id)
        here = found_deployments(profile, result) if profile is not None else []
        names = [d.name for d in profile.deployments] if profile is not None else []
        names += [d.name for d in here if d.name not in names]
        typed = self.deployment_combo.currentText()
        self.deployment_combo.clear()
        self.deployment_combo.addItems(names)
        for row, name in enumerate(names):
            self.deployment_combo.setItemData(row, name, Qt.ItemDataRole.ToolTipRole)
        if typed:
            self.deployment_combo.setCurrentText(typed)
        words = _tr("Found {models}.").format(models=plural(len(here), _tr("model"), _tr("models"))) if here else ""
        self.find_status.setText(" ".join(w for w in (words, result.message or "") if w))
        self._found = result

    async def _save_deployment(self) -> bool:
        from desktop.services import DiscoveryResult

        name = self.deployment_combo.currentText().strip()
        if not name:
            self._say(_tr("Choose a model, or type its deployment name."))
            return False
        # Every model found is saved (the picker then offers them all); the chosen one is the default.
        found = self._found or DiscoveryResult((), "none")
        result = await self._setup.save_found(self._profile_id, found, chosen=name)
        if not result.ok:
            self._say(result.problem or "")
        return result.ok

    async def test_connection(self) -> None:
        """Run the connection test and show each step."""
        self.test_results.setText(_tr("Testing the connection…"))
        report = await self._setup.test_connection(self._profile_id)
        advice = (
            _tr("Everything works. Choose Start chatting.")
            if report.ok
            else _tr("Something is not right yet. Go Back to fix it, or start anyway and fix it later in Settings.")
        )
        self.test_results.setText(steps_html(report) + "<br><br>" + advice)

    def _on_work_failed(self, error: BaseException) -> None:
        self._say(_tr("Something went wrong: {error}").format(error=type(error).__name__))
