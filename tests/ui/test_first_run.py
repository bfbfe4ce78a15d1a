"""The first-run guide against the simulator: a key profile, a work-account profile, and the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton, QStyle, QStyleOptionButton, QWidget

from desktop.auth import KeyStore
from desktop.services import ConnectionSetup, KeyPlace
from desktop.services._connections import Connections
from desktop.simulator import Simulator, SimulatorConfig
from desktop.ui.first_run import FirstRunDialog, Page
from tests.services.test_connections_keys import KEY_TABLE, NEW_KEY, PID, KeyCase
from tests.ui.test_settings_dialog import UiWorld, in_loop, make_world, world
from tests.ui.test_settings_dialog_keys import key_table_world
from tests.ui.test_sign_in import WINDOWS, _release_windows

__all__ = ["_release_windows", "world"]  # fixtures used here


def guide(
    world: UiWorld, qtbot: Any, connections: Any = None, profile_id: str | None = None
) -> tuple[FirstRunDialog, list[str], list[bool]]:
    # Parented to a window, as in the app: closing the guide must not count as closing the last window.
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    WINDOWS.append(window)
    setup = ConnectionSetup(world.configuration, connections or world.connections)
    dialog = FirstRunDialog(setup, window, profile_id=profile_id)
    qtbot.addWidget(dialog)
    dialog.show()
    finished: list[str] = []
    demo: list[bool] = []
    dialog.setup_finished.connect(finished.append)
    dialog.demo_requested.connect(lambda: demo.append(True))
    return dialog, finished, demo


def _text_fits(button: QPushButton) -> bool:
    """Whether the button's words fit inside its frame and padding as laid out now (focused or not)."""
    QApplication.processEvents()
    option = QStyleOptionButton()
    button.initStyleOption(option)
    contents = button.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, option, button)
    return contents.width() >= button.fontMetrics().horizontalAdvance(button.text())


@in_loop
async def test_key_path_to_a_working_profile(
    world: UiWorld, sim: Simulator, qtbot: Any, arun: Any, memory_keyring: Any
) -> None:
    dialog, finished, _ = guide(world, qtbot)
    assert dialog.page is Page.CHOOSE and dialog.demo_choice.isVisible()
    qtbot.mouseClick(dialog.key_choice, Qt.MouseButton.LeftButton)
    assert dialog.page is Page.ADDRESS and dialog.key_edit.isVisible() and not dialog.sign_in_button.isVisible()
    dialog.endpoint_edit.setText("http://example.com")
    assert "not encrypted" in dialog.endpoint_feedback.text()
    await dialog.next()
    assert dialog.page is Page.ADDRESS and "not encrypted" in dialog.status_label.text()
    dialog.endpoint_edit.setText(sim.base_url)
    assert dialog.status_label.text() == ""  # the last Next's words no longer stand under a corrected address
    assert dialog.endpoint_feedback.text().startswith("✔")
    dialog.key_edit.setText(sim.api_key)
    await dialog.next()
    assert dialog.page is Page.DEPLOYMENT
    names = [dialog.deployment_combo.itemText(i) for i in range(dialog.deployment_combo.count())]
    assert names == ["gpt-4.1", "gpt-4o-mini", "o4-mini"]
    dialog.deployment_combo.setCurrentText("gpt-4o-mini")
    await dialog.next()
    assert dialog.page is Page.TEST
    assert "Everything works" in dialog.test_results.text()
    # The API the model does not offer is a neutral note, not a red cross next to "Everything works".
    assert "✘" not in dialog.test_results.text()
    assert "this model answers through Chat Completions" in dialog.test_results.text()
    assert dialog.next_button.text() == "Start chatting"
    assert dialog.next_button.hasFocus()
    assert _text_fits(dialog.next_button)  # its focus frame does not clip the words ("tart chattin")
    dialog.back_button.setFocus()
    assert _text_fits(dialog.next_button) and _text_fits(dialog.back_button)
    await dialog.next()
    assert not dialog.isVisible()
    settings = world.fresh().settings
    (profile,) = settings.profiles
    assert finished == [profile.id]
    assert settings.app.first_run_done and settings.app.active_profile_id == profile.id
    assert profile.default_deployment == "gpt-4o-mini"
    assert profile.display_name == sim.base_url.split("/")[2]  # named after the host, never "127"
    # Every model found is saved, so the picker offers them all.
    assert sorted(d.name for d in profile.deployments) == ["gpt-4.1", "gpt-4o-mini", "o4-mini"]
    chosen = next(d for d in profile.deployments if d.name == "gpt-4o-mini")
    assert chosen.api == "chat"  # the test found it answers Chat Completions only
    assert memory_keyring.store[("Azure OpenAI Chat", profile.id)] == sim.api_key
    assert sim.api_key not in world.settings_text()


@in_loop
async def test_no_keyring_keeps_the_key_for_the_session_and_goes_on(
    tmp_path: Path, sim: Simulator, qtbot: Any, arun: Any
) -> None:
    from keyring.backends import fail

    world = make_world(tmp_path / "config", KeyStore(fail.Keyring()))
    dialog, _, _ = guide(world, qtbot)
    dialog.choose("api_key")
    dialog.endpoint_edit.setText(sim.base_url)
    dialog.key_edit.setText(sim.api_key)
    await dialog.next()
    assert dialog.page is Page.ADDRESS and dialog.session_button.isVisible()
    assert "kept in memory only" in dialog.status_label.text()
    qtbot.mouseClick(dialog.session_button, Qt.MouseButton.LeftButton)
    await dialog.work.wait()
    assert dialog.page is Page.DEPLOYMENT
    assert dialog.deployment_combo.count() == 3
    await world.connections.aclose()


class ArmOnSimulator(Connections):
    """Connections whose Azure Resource Manager is the simulator's (the tests have no network)."""

    arm_url = ""

    async def discover_deployments(self, profile_id: str, *, arm_base_url: str | None = None) -> Any:
        return await super().discover_deployments(profile_id, arm_base_url=self.arm_url)


@in_loop
async def test_work_account_path_signs_in_then_lists_deployments(
    world: UiWorld, sim: Simulator, qtbot: Any, arun: Any
) -> None:
    connections = ArmOnSimulator(world.configuration, world.keys, world.session_keys, entra_sessions=world.sessions)
    connections.arm_url = sim.arm_url
    dialog, finished, _ = guide(world, qtbot, connections)
    dialog.choose("entra")
    assert dialog.sign_in_button.isVisible() and not dialog.key_edit.isVisible()
    dialog.endpoint_edit.setText(sim.resource_url)
    await dialog.next()
    assert dialog.status_label.text() == "Sign in with Microsoft first."
    await dialog.sign_in()
    assert dialog.sign_in_panel is not None
    await dialog.sign_in_panel.work.wait()
    assert dialog.account_label.text() == "Signed in as ada@contoso.example."
    await dialog.next()
    assert dialog.page is Page.DEPLOYMENT
    assert dialog.deployment_combo.count() >= 1
    await dialog.next()
    assert dialog.page is Page.TEST
    await dialog.next()
    assert finished and world.fresh().settings.app.first_run_done
    await connections.aclose()


@in_loop
async def test_try_the_demo_asks_the_app_for_demo_mode(world: UiWorld, qtbot: Any, arun: Any) -> None:
    dialog, finished, demo = guide(world, qtbot)
    qtbot.mouseClick(dialog.demo_choice, Qt.MouseButton.LeftButton)
    assert demo == [True] and finished == []
    assert world.fresh().settings.app.first_run_done


@in_loop
async def test_back_returns_to_the_previous_step(world: UiWorld, qtbot: Any, arun: Any) -> None:
    dialog, _, _ = guide(world, qtbot)
    dialog.choose("api_key")
    dialog.back_button.click()
    assert dialog.page is Page.CHOOSE and not dialog.back_button.isVisible()


def _focus_is_visible(dialog: FirstRunDialog, widget: QWidget) -> bool:
    """The control looks different with the keyboard focus than without it (after keyboard navigation)."""
    dialog.setAttribute(Qt.WidgetAttribute.WA_KeyboardFocusChange, True)  # what a Tab press sets: focus frames show
    dialog.status_label.setFocus(Qt.FocusReason.OtherFocusReason)  # a label takes no focus: nothing has it
    dialog.setFocus(Qt.FocusReason.OtherFocusReason)
    without = widget.grab().toImage()
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    assert widget.hasFocus(), widget.objectName() or type(widget).__name__
    return widget.grab().toImage() != without


def _focusable(page: QWidget) -> list[QWidget]:
    return [
        w
        for w in page.findChildren(QWidget)
        if w.isVisible() and w.isEnabled() and w.focusPolicy() & Qt.FocusPolicy.TabFocus and w.focusProxy() is None
    ]


async def _press_enter(qtbot: Any, dialog: FirstRunDialog) -> None:
    qtbot.keyClick(QApplication.focusWidget() or dialog, Qt.Key.Key_Return)
    await dialog.work.wait()


@in_loop
async def test_keyboard_only_enter_moves_on_focus_shows_and_a_wrong_key_comes_back(
    world: UiWorld, sim: Simulator, qtbot: Any, arun: Any, memory_keyring: Any
) -> None:
    dialog, finished, demo = guide(world, qtbot)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    # The three welcome choices show which one has the focus.
    for choice in (dialog.entra_choice, dialog.key_choice, dialog.demo_choice):
        assert _focus_is_visible(dialog, choice), choice.text()
    dialog.entra_choice.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(dialog.entra_choice, Qt.Key.Key_Tab)
    assert dialog.key_choice.hasFocus()
    await _press_enter(qtbot, dialog)
    assert dialog.page is Page.ADDRESS and demo == []  # Enter chose the focused choice, not the demo
    assert dialog.endpoint_edit.hasFocus()
    for widget in _focusable(dialog):
        assert _focus_is_visible(dialog, widget), type(widget).__name__
    dialog.endpoint_edit.setFocus()
    qtbot.keyClicks(dialog.endpoint_edit, sim.base_url)
    qtbot.keyClick(dialog.endpoint_edit, Qt.Key.Key_Tab)
    assert dialog.key_edit.hasFocus()
    qtbot.keyClicks(dialog.key_edit, "wrong-key-0123456789abcdef0123")
    await _press_enter(qtbot, dialog)
    # A rejected key: back on the key page, saying so, with the key field ready to paste again.
    assert dialog.page is Page.ADDRESS
    assert dialog.status_label.text().startswith("The API key was not accepted")
    assert dialog.status_label.text().endswith("and paste the key again.")  # here, not "in Settings"
    assert dialog.key_edit.hasFocus()
    dialog.key_edit.selectAll()
    qtbot.keyClicks(dialog.key_edit, sim.api_key)
    await _press_enter(qtbot, dialog)
    assert dialog.page is Page.DEPLOYMENT and dialog.deployment_combo.hasFocus()
    assert dialog.find_status.text().startswith("Found 3 models.")
    for row in range(dialog.deployment_combo.count()):  # a long model name can always be read in full
        name = dialog.deployment_combo.itemText(row)
        assert dialog.deployment_combo.itemData(row, Qt.ItemDataRole.ToolTipRole) == name
    for widget in _focusable(dialog):
        assert _focus_is_visible(dialog, widget), type(widget).__name__
    # Back keeps what was typed.
    dialog.back_button.setFocus()
    qtbot.keyClick(dialog.back_button, Qt.Key.Key_Space)
    assert dialog.page is Page.ADDRESS
    assert (dialog.endpoint_edit.text(), dialog.key_edit.text()) == (sim.base_url, sim.api_key)
    await _press_enter(qtbot, dialog)
    assert dialog.page is Page.DEPLOYMENT
    await _press_enter(qtbot, dialog)
    assert dialog.page is Page.TEST and "Everything works" in dialog.test_results.text()
    assert dialog.next_button.hasFocus()
    await _press_enter(qtbot, dialog)
    assert finished and not dialog.isVisible()
    (profile,) = world.fresh().settings.profiles
    assert profile.default_deployment == "gpt-4.1" and len(profile.deployments) == 3


@pytest.mark.parametrize("case", KEY_TABLE, ids=lambda c: c.id)
@in_loop
async def test_key_precedence_through_the_guided_start(
    tmp_path: Path, qtbot: Any, arun: Any, memory_keyring: Any, case: KeyCase
) -> None:
    simulator = Simulator(SimulatorConfig(api_keys=(NEW_KEY,)))
    await simulator.start()
    world = key_table_world(tmp_path / "config", case, memory_keyring)
    try:
        dialog, _, _ = guide(world, qtbot, profile_id=PID)
        dialog.choose("api_key")
        dialog.endpoint_edit.setText(simulator.base_url)
        dialog.key_edit.setText(NEW_KEY)
        await dialog.next()
        if case.saved_to is KeyPlace.NOWHERE:
            assert dialog.page is Page.ADDRESS and dialog.session_button.isVisible()  # consent is asked for
        else:
            assert dialog.page is Page.DEPLOYMENT and not dialog.session_button.isVisible()
        assert (await world.connections.keys.read(PID)).key == case.used_after
        assert world.session_keys.get(PID) == case.session_after
    finally:
        await world.connections.aclose()
        await simulator.stop()
