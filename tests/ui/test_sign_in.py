"""The sign-in panel with a scripted connections object: browser, cancel, device code, problems and consent."""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import dataclass, field
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from desktop.auth import EntraSignInError, SignInAction, SignInCancelledError, SignInProblem, describe_sign_in_problem
from desktop.ui.sign_in import SignInPanel, State
from tests.ui.test_settings_dialog import in_loop


@dataclass
class Account:
    username: str


@dataclass
class FakeSignIn:
    """Scripted sign-in outcomes; `hold` keeps the browser sign-in pending until cancelled."""

    hold: bool = False
    errors: list[EntraSignInError] = field(default_factory=list)
    calls: list[tuple[str, bool]] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    code_shown: asyncio.Event = field(default_factory=asyncio.Event)
    device_go: asyncio.Event = field(default_factory=asyncio.Event)

    async def sign_in(self, profile_id: str, device_code_prompt: Any = None, *, allow_unencrypted: bool = False) -> Any:
        self.calls.append(("browser", allow_unencrypted))
        self.started.set()
        if self.errors:
            raise self.errors.pop(0)
        if self.hold:
            await self.cancelled.wait()
            self.cancelled.clear()
            raise SignInCancelledError(describe_sign_in_problem("cancelled"))
        return Account("ada@contoso.example")

    async def sign_in_device_code(self, profile_id: str, prompt: Any, *, allow_unencrypted: bool = False) -> Any:
        self.calls.append(("device", allow_unencrypted))
        expires = datetime.datetime(2030, 1, 1, 12, 15, tzinfo=datetime.UTC)
        prompt("https://microsoft.com/devicelogin", "ABCD-1234", expires)
        self.code_shown.set()
        await self.device_go.wait()
        return Account("ada@contoso.example")

    def cancel_sign_in(self, profile_id: str) -> None:
        self.cancelled.set()

    def account(self, profile_id: str) -> Any:
        return None


WINDOWS: list[QWidget] = []


@pytest.fixture(autouse=True)
def _release_windows() -> Any:
    yield
    WINDOWS.clear()


def make_panel(qtbot: Any, fake: FakeSignIn) -> tuple[SignInPanel, list[str]]:
    # A window behind the panel, as in the app: closing the panel then never counts as closing the last window.
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    panel = SignInPanel(fake, "p1", window)
    WINDOWS.append(window)  # Python owns the window: keep it alive for the whole test
    names: list[str] = []
    panel.signed_in.connect(names.append)
    return panel, names


@in_loop
async def test_browser_sign_in_shows_the_account(qtbot: Any, arun: Any) -> None:
    panel, names = make_panel(qtbot, FakeSignIn())
    assert await panel.run() is True
    assert panel.state is State.SIGNED_IN
    assert panel.explanation.text() == "Signed in as ada@contoso.example."
    assert names == ["ada@contoso.example"]
    assert panel.close_button.isVisibleTo(panel) and not panel.cancel_button.isVisibleTo(panel)


@in_loop
async def test_waiting_panel_is_non_modal_and_cancel_ends_it(qtbot: Any, arun: Any) -> None:
    fake = FakeSignIn(hold=True)
    panel, names = make_panel(qtbot, fake)
    panel.start()
    await fake.started.wait()
    assert not panel.isModal()
    assert panel.state is State.BROWSER
    assert panel.heading.text() == "Finish signing in in your browser"
    assert panel.cancel_button.isVisible() and panel.device_button.isVisible()
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    await panel.work.wait()
    assert panel.state is State.CANCELLED
    assert names == []


@in_loop
async def test_escape_cancels_a_pending_sign_in(qtbot: Any, arun: Any) -> None:
    fake = FakeSignIn(hold=True)
    panel, _ = make_panel(qtbot, fake)
    panel.start()
    await fake.started.wait()
    qtbot.keyClick(panel, Qt.Key.Key_Escape)
    await panel.work.wait()
    assert panel.state is State.CANCELLED


@in_loop
async def test_sign_in_from_another_device_shows_the_code_large(qtbot: Any, arun: Any) -> None:
    fake = FakeSignIn(hold=True)
    panel, names = make_panel(qtbot, fake)
    panel.start()
    await fake.started.wait()
    qtbot.mouseClick(panel.device_button, Qt.MouseButton.LeftButton)
    await fake.code_shown.wait()
    await asyncio.sleep(0)  # let the prompt's label updates run (no time passes)
    assert panel.state is State.DEVICE
    assert panel.code_label.text() == "ABCD-1234"
    assert panel.code_label.font().pointSizeF() > 2 * panel.explanation.font().pointSizeF()
    assert "https://microsoft.com/devicelogin" in panel.link_label.text()
    assert panel.code_box.isVisible()
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "ABCD-1234"
    fake.device_go.set()
    await panel.work.wait()
    assert panel.state is State.SIGNED_IN
    assert names == ["ada@contoso.example"]
    assert fake.calls == [("browser", False), ("device", False)]


@in_loop
async def test_missing_password_store_asks_for_consent_then_retries(qtbot: Any, arun: Any) -> None:
    problem = describe_sign_in_problem(
        "Cache encryption is impossible because libsecret dependencies are not installed"
    )
    assert problem.action is SignInAction.ALLOW_UNENCRYPTED
    fake = FakeSignIn(errors=[EntraSignInError(problem)])
    panel, _ = make_panel(qtbot, fake)
    assert await panel.run() is False
    assert panel.state is State.PROBLEM
    assert panel.heading.text() == problem.title
    assert panel.action_button.text() == "Keep my sign-in in a private file"
    qtbot.mouseClick(panel.action_button, Qt.MouseButton.LeftButton)
    await panel.work.wait()
    assert panel.state is State.SIGNED_IN
    assert fake.calls == [("browser", False), ("browser", True)]


@in_loop
async def test_problem_with_an_error_code_links_it_and_copies_details(qtbot: Any, arun: Any) -> None:
    error = EntraSignInError(describe_sign_in_problem("AADSTS65004: User declined to consent"))
    panel, _ = make_panel(qtbot, FakeSignIn(errors=[error]))
    assert await panel.run() is False
    assert "AADSTS65004" in panel.explanation.text() and "href" in panel.explanation.text()
    assert panel.action_button.text() == "Copy details for IT"
    panel.action_button.click()
    assert "Permission was not granted" in QGuiApplication.clipboard().text()


@in_loop
async def test_no_browser_offers_the_device_code(qtbot: Any, arun: Any) -> None:
    no_browser = SignInProblem("No web browser could be opened", "Use a code.", SignInAction.USE_DEVICE_CODE)
    fake = FakeSignIn(errors=[EntraSignInError(no_browser)])
    fake.device_go.set()
    panel, _ = make_panel(qtbot, fake)
    assert await panel.run() is False
    assert panel.action_button.text() == "Sign in from another device"
    panel.action_button.click()
    await panel.work.wait()
    assert panel.state is State.SIGNED_IN
    assert fake.calls[-1] == ("device", False)


@in_loop
async def test_panel_tab_order_reaches_its_buttons(qtbot: Any, arun: Any) -> None:
    fake = FakeSignIn(hold=True)
    panel, _ = make_panel(qtbot, fake)
    panel.start()
    await fake.started.wait()
    panel.activateWindow()
    assert QGuiApplication.focusObject() is panel.cancel_button
    qtbot.keyClick(panel.cancel_button, Qt.Key.Key_Tab)
    assert QGuiApplication.focusObject() is panel.device_button
    qtbot.keyClick(panel.device_button, Qt.Key.Key_Space)  # keyboard only: switch to the code
    await fake.code_shown.wait()
    fake.device_go.set()
    await panel.work.wait()
    assert panel.state is State.SIGNED_IN
