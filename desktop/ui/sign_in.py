"""The non-modal "finish signing in in your browser" panel, with sign-in from another device by code."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.async_slots import AsyncWork

if TYPE_CHECKING:
    from desktop.services import SignInProblem

_log = logging.getLogger(__name__)

DeviceCodePrompt = Callable[[str, str, datetime], None]


def _tr(text: str) -> str:
    return QCoreApplication.translate("SignInPanel", text)


class AccountLike(Protocol):
    """Who is signed in (desktop.auth.EntraAccount fits)."""

    @property
    def username(self) -> str:
        """The sign-in name shown to the user."""


class SignInPort(Protocol):
    """The part of the connection setup the sign-in panel uses (desktop.services.ConnectionSetup fits)."""

    async def sign_in(
        self, profile_id: str, device_code_prompt: DeviceCodePrompt | None = None, *, allow_unencrypted: bool = False
    ) -> AccountLike:
        """Sign in in the browser; raises EntraSignInError (ALLOW_UNENCRYPTED asks for consent first)."""

    async def sign_in_device_code(
        self, profile_id: str, prompt: DeviceCodePrompt, *, allow_unencrypted: bool = False
    ) -> AccountLike:
        """Sign in from another device; `prompt` receives the address and code."""

    def cancel_sign_in(self, profile_id: str) -> None:
        """Cancel a pending sign-in; it then ends with SignInCancelledError."""

    def account(self, profile_id: str) -> AccountLike | None:
        """The signed-in account of a profile, or None."""


class State(enum.Enum):
    """Where the panel is in the flow (tests and screen readers read it)."""

    IDLE = "idle"
    BROWSER = "browser"
    DEVICE = "device"
    SIGNED_IN = "signed_in"
    CANCELLED = "cancelled"
    PROBLEM = "problem"


def _problem_of(error: BaseException) -> tuple[SignInProblem, bool]:
    """The plain-words problem for a failure, and whether it was a cancellation."""
    # desktop.auth loads keyring; the UI imports it only here, once a sign-in has already loaded it.
    from desktop.services import EntraSignInError, SignInCancelledError, describe_sign_in_problem

    if not isinstance(error, EntraSignInError):
        _log.error("sign-in failed unexpectedly", exc_info=error)
    return describe_sign_in_problem(error), isinstance(error, SignInCancelledError)


class SignInPanel(QDialog):
    """Runs one Microsoft sign-in for a profile and shows each step; never blocks the window behind it."""

    signed_in = Signal(str)  # the account's user name

    def __init__(self, connections: SignInPort, profile_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._connections = connections
        self._profile_id = profile_id
        self._switch_to_device = False
        self._allow_unencrypted = False
        self._problem: SignInProblem | None = None
        self.state = State.IDLE
        self.work = AsyncWork(self, self._on_work_failed)
        self.setModal(False)
        self.setWindowTitle(_tr("Sign in with Microsoft"))
        self.setAccessibleName(self.windowTitle())
        self.setMinimumWidth(460)

        self.heading = QLabel(self)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.heading.setFont(font)
        self.heading.setWordWrap(True)
        self.explanation = QLabel(self)
        self.explanation.setWordWrap(True)
        self.explanation.setAccessibleName(_tr("Sign-in status"))
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)  # busy indicator: nothing to count while the browser is open
        self.progress.setAccessibleName(_tr("Waiting for sign-in"))
        self.progress.setTextVisible(False)

        self.code_label = QLabel(self)
        code_font = self.code_label.font()
        code_font.setPointSizeF(code_font.pointSizeF() * 2.4)
        code_font.setBold(True)
        code_font.setLetterSpacing(code_font.SpacingType.AbsoluteSpacing, 3)
        self.code_label.setFont(code_font)
        self.code_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code_label.setAccessibleName(_tr("Sign-in code"))
        self.copy_button = QPushButton(_tr("Copy code"), self)
        self.copy_button.setAccessibleName(_tr("Copy the sign-in code"))
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.link_label = QLabel(self)
        self.link_label.setOpenExternalLinks(True)
        self.link_label.setWordWrap(True)
        self.link_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.link_label.setAccessibleName(_tr("Where to enter the code"))
        self.code_box = QWidget(self)
        code_layout = QVBoxLayout(self.code_box)
        code_layout.setContentsMargins(0, 0, 0, 0)
        code_layout.addWidget(self.link_label)
        code_row = QHBoxLayout()
        code_row.addWidget(self.code_label, 1)
        code_row.addWidget(self.copy_button)
        code_layout.addLayout(code_row)

        self.action_button = QPushButton(self)
        self.action_button.clicked.connect(self._on_action_clicked)
        self.device_button = QPushButton(_tr("Sign in from another device"), self)
        self.device_button.setAccessibleName(_tr("Sign in from another device with a code"))
        self.device_button.clicked.connect(self._on_device_clicked)
        self.cancel_button = QPushButton(_tr("Cancel"), self)
        self.cancel_button.setAccessibleName(_tr("Cancel sign-in"))
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.close_button = QPushButton(_tr("Close"), self)
        self.close_button.clicked.connect(self.close)

        buttons = QHBoxLayout()
        buttons.addWidget(self.device_button)
        buttons.addWidget(self.action_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.explanation)
        layout.addWidget(self.progress)
        layout.addWidget(self.code_box)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self._show(State.IDLE, "", "")

    # -- flow ------------------------------------------------------------------------------------------------------

    def start(self, device_code: bool = False) -> None:
        """Show the panel and start signing in (from a slot: returns at once)."""
        self.show()
        self.work.start(self.run(device_code))

    async def run(self, device_code: bool = False) -> bool:
        """Sign in (browser first, or by code); return whether the user is now signed in."""
        while True:
            self._switch_to_device = False
            try:
                if device_code:
                    self._show_device_waiting()
                    account = await self._connections.sign_in_device_code(
                        self._profile_id, self._on_device_code, allow_unencrypted=self._allow_unencrypted
                    )
                else:
                    self._show(
                        State.BROWSER,
                        _tr("Finish signing in in your browser"),
                        _tr(
                            "A sign-in page opened in your web browser. Sign in with your work account there, "
                            "then come back here. If no page opened, sign in from another device instead."
                        ),
                    )
                    account = await self._connections.sign_in(
                        self._profile_id, allow_unencrypted=self._allow_unencrypted
                    )
            except Exception as error:
                if self._switch_to_device:
                    device_code = True
                    continue
                problem, cancelled = _problem_of(error)
                if cancelled:
                    self._show(State.CANCELLED, _tr("Sign-in cancelled"), _tr("Nothing was changed."))
                else:
                    self._show_problem(problem)
                return False
            name = account.username
            self._show(
                State.SIGNED_IN,
                _tr("You are signed in"),
                _tr("Signed in as {name}.").format(name=name) if name else _tr("Signed in."),
            )
            self.signed_in.emit(name)
            return True

    def cancel(self) -> None:
        """Cancel the pending sign-in (the running flow then ends as cancelled)."""
        if self.state in (State.BROWSER, State.DEVICE):
            self._connections.cancel_sign_in(self._profile_id)

    # -- views -----------------------------------------------------------------------------------------------------

    def _show(self, state: State, heading: str, text: str) -> None:
        self.state = state
        self.heading.setText(heading)
        self.explanation.setText(text)
        waiting = state in (State.BROWSER, State.DEVICE)
        self.progress.setVisible(waiting)
        self.cancel_button.setVisible(waiting)
        self.close_button.setVisible(not waiting)
        self.device_button.setVisible(state == State.BROWSER)
        self.code_box.setVisible(state == State.DEVICE and bool(self.code_label.text()))
        self.action_button.setVisible(False)
        if waiting:
            self.cancel_button.setFocus()
        elif state != State.IDLE:
            self.close_button.setDefault(True)
            self.close_button.setFocus()

    def _show_device_waiting(self) -> None:
        self.code_label.clear()
        self._show(
            State.DEVICE,
            _tr("Sign in from another device"),
            _tr("Getting a sign-in code from Microsoft…"),
        )

    def _on_device_code(self, uri: str, code: str, expires_on: datetime) -> None:
        if self.state != State.DEVICE:
            return
        self.code_label.setText(code)
        self.link_label.setText(f'<a href="{uri}">{uri}</a>')
        self.explanation.setText(
            _tr(
                "On a phone or another computer, open the address below and enter this code. "
                "The code works until {time}."
            ).format(time=expires_on.astimezone().strftime("%H:%M"))
        )
        self.code_box.setVisible(True)
        self.copy_button.setFocus()

    def _show_problem(self, problem: SignInProblem) -> None:
        self._problem = problem
        text = problem.explanation
        if problem.code and problem.link:
            text += " " + _tr('(Error code <a href="{link}">{code}</a>.)').format(link=problem.link, code=problem.code)
        self._show(State.PROBLEM, problem.title, text)
        self.explanation.setOpenExternalLinks(True)
        action = problem.action.value
        label = {
            "sign_in_again": _tr("Try again"),
            "check_network": _tr("Try again"),
            "use_device_code": _tr("Sign in from another device"),
            "allow_unencrypted": _tr("Keep my sign-in in a private file"),
            "contact_admin": _tr("Copy details for IT"),
        }.get(action)
        if label is not None:
            self.action_button.setText(label)
            self.action_button.setAccessibleName(label)
            self.action_button.setVisible(True)
            self.action_button.setFocus()

    # -- slots -----------------------------------------------------------------------------------------------------

    def _on_cancel_clicked(self) -> None:
        self.cancel()

    def _on_device_clicked(self) -> None:
        if self.state == State.BROWSER:
            # The browser attempt ends as "cancelled"; run() then continues with the device code flow.
            self._switch_to_device = True
            self._connections.cancel_sign_in(self._profile_id)

    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.code_label.text())
        self.copy_button.setText(_tr("Copied"))

    def _on_action_clicked(self) -> None:
        problem = self._problem
        if problem is None:
            return
        action = problem.action.value
        if action == "contact_admin":
            details = f"{problem.title}\n{problem.explanation}" + (f"\n{problem.code}" if problem.code else "")
            QGuiApplication.clipboard().setText(details)
            self.action_button.setText(_tr("Copied"))
            return
        if action == "allow_unencrypted":
            # The user read the explanation and agreed; the session keeps the sign-in in a private file.
            self._allow_unencrypted = True
        self.work.start(self.run(device_code=action == "use_device_code"))

    def _on_work_failed(self, error: BaseException) -> None:
        self._show_problem(_problem_of(error)[0])

    def reject(self) -> None:
        """Esc cancels a pending sign-in too."""
        self.cancel()
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the panel while waiting cancels the sign-in: nothing keeps running unseen."""
        self.cancel()
        super().closeEvent(event)
