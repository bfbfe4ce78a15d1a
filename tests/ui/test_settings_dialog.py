"""The settings dialog against real settings on disk, an in-memory keyring and the simulator."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget

from desktop.auth import KeyStore, SessionKeyStore
from desktop.config import Configuration, Deployment, Profile, SettingsStore, load_policy, normalize_endpoint
from desktop.services import ConnectionSetup
from desktop.services._connections import Connections
from desktop.simulator import Simulator
from desktop.ui.settings_dialog import SettingsDialog, describe_endpoint
from tests.services.test_connections_fixtures import RECORD, Sessions

PORTAL_URL = "https://contoso-east.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"


@dataclass
class UiWorld:
    """Settings on disk, key stores, fake Entra sessions and the real Connections service."""

    folder: Path
    configuration: Configuration
    keys: KeyStore
    session_keys: SessionKeyStore
    sessions: Sessions
    connections: Connections

    def dialog(self, qtbot: Any) -> SettingsDialog:
        dialog = SettingsDialog(self.setup())
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    def setup(self, configuration: Configuration | None = None) -> ConnectionSetup:
        return ConnectionSetup(configuration or self.configuration, self.connections)

    def fresh(self) -> Configuration:
        configuration = Configuration(SettingsStore(self.folder))
        configuration.load()
        return configuration

    def settings_text(self) -> str:
        return (self.folder / "settings.json").read_text(encoding="utf-8")


def make_world(
    folder: Path, keys: KeyStore, policy_file: Path | None = None, session_keys: SessionKeyStore | None = None
) -> UiWorld:
    policy = load_policy(policy_file).policy if policy_file is not None else None
    configuration = Configuration(SettingsStore(folder), policy)
    configuration.load()
    session_keys, sessions = session_keys or SessionKeyStore(), Sessions()
    connections = Connections(configuration, keys, session_keys, entra_sessions=sessions, check_timeout=10.0)
    return UiWorld(folder, configuration, keys, session_keys, sessions, connections)


@pytest.fixture
def world(tmp_path: Path, memory_keyring: Any, arun: Any) -> Iterator[UiWorld]:
    w = make_world(tmp_path / "config", KeyStore(memory_keyring))
    yield w
    arun(w.connections.aclose())


def add_key_profile(world: UiWorld, sim: Simulator, pid: str = "p1") -> Profile:
    profile = Profile(id=pid, display_name="Simulator", endpoint=sim.base_url, default_deployment="gpt-4.1")
    world.configuration.put_profile(profile)
    world.keys.set(pid, sim.api_key)
    return profile


async def drain_ui_work() -> None:
    """Wait for every task the dialogs started (never the simulator's own server tasks)."""
    while True:
        pending = [
            t
            for t in asyncio.all_tasks()
            if t is not asyncio.current_task() and not t.done() and "desktop/ui/" in t.get_coro().cr_code.co_filename
        ]
        if not pending:
            return
        await asyncio.gather(*pending, return_exceptions=True)


def in_loop(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body on the qasync loop, as the app does: tasks started by slots progress on awaits."""

    async def body(*args: Any, **kwargs: Any) -> None:
        try:
            await test(*args, **kwargs)
        finally:
            await drain_ui_work()

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        kwargs["arun"](body(*args, **kwargs))

    return run


@in_loop
async def test_round_trip_edit_save_and_reload_from_disk(
    world: UiWorld, qtbot: Any, arun: Any, memory_keyring: Any
) -> None:
    dialog = world.dialog(qtbot)
    assert dialog.empty_label.isVisible()
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    editor = dialog.editor
    editor.name_edit.clear()
    qtbot.keyClicks(editor.name_edit, "Contoso")
    assert dialog.profile_list.currentItem().text() == "Contoso"
    editor.endpoint_edit.setText(PORTAL_URL)
    editor.auth_combo.setCurrentIndex(editor.auth_combo.findData("api_key"))
    editor.key_edit.setText("  0123456789abcdef0123456789abcdef  ")
    editor.temperature_spin.setValue(0.7)
    editor.max_tokens_spin.setValue(2048)
    editor.effort_combo.setCurrentIndex(editor.effort_combo.findData("high"))
    editor.instructions_edit.setPlainText("Answer briefly.")
    assert await dialog.use_for_chats()  # takes effect at once: the connection is saved with the choice
    assert world.fresh().settings.app.active_profile_id == world.fresh().settings.profiles[0].id
    page = dialog.app_page
    page.retries_spin.setValue(4)
    page.timeout_spin.setValue(120)
    page.theme_combo.setCurrentIndex(page.theme_combo.findData("dark"))
    page.font_combo.setCurrentIndex(page.font_combo.findData(14))
    page.send_on_enter_check.setChecked(False)
    page.notify_check.setChecked(False)
    page.proxy_combo.setCurrentIndex(page.proxy_combo.findData("manual"))
    assert page.proxy_edit.isEnabled()
    page.proxy_edit.setText("http://proxy.example.com:8080")

    saved: list[bool] = []
    dialog.settings_saved.connect(lambda: saved.append(True))
    assert await dialog.save() is True
    assert saved == [True]
    assert dialog.status_label.text() == "Saved."

    settings = world.fresh().settings
    (profile,) = settings.profiles
    assert profile.display_name == "Contoso"
    assert profile.endpoint == "https://contoso-east.openai.azure.com/openai/v1/"
    assert [d.name for d in profile.deployments] == ["gpt-4o"]
    assert profile.default_deployment == "gpt-4o"
    assert profile.chat_defaults.temperature == 0.7
    assert profile.chat_defaults.max_output_tokens == 2048
    assert profile.chat_defaults.reasoning_effort == "high"
    assert profile.chat_defaults.instructions == "Answer briefly."
    app = settings.app
    assert app.active_profile_id == profile.id
    assert (app.max_retries, app.request_timeout, app.theme, app.font_size) == (4, 120.0, "dark", 14)
    assert (app.send_on_enter, app.notify_when_background) == (False, False)
    assert app.proxy == "http://proxy.example.com:8080"
    # The key went to the keyring, trimmed, and never to the settings file or the widget.
    assert memory_keyring.store[("Azure OpenAI Chat", profile.id)] == "0123456789abcdef0123456789abcdef"
    assert "0123456789abcdef0123456789abcdef" not in world.settings_text()
    assert editor.key_edit.text() == ""
    assert "A key is saved in" in editor.key_status.text()

    # A second dialog on the fresh configuration shows the same values.
    again = SettingsDialog(world.setup(world.fresh()))
    qtbot.addWidget(again)
    await again.work.wait()
    assert again.editor.name_edit.text() == "Contoso"
    assert again.app_page.retries_spin.value() == 4
    assert again.profile_list.item(0).text().endswith("(in use)")


@pytest.mark.parametrize(
    ("text", "ok", "words"),
    [
        (PORTAL_URL, True, "Resource: contoso-east.openai.azure.com, deployment: gpt-4o"),
        ("  contoso.openai.azure.us  ", True, "Resource: contoso.openai.azure.us (Azure US Government)"),
        ("http://contoso.example.com", False, "not encrypted"),
        ("0123456789abcdef0123456789abcdef", False, "looks like a key"),
        ("https://user:pw@contoso.openai.azure.com", False, "user name or password"),
    ],
)
@in_loop
async def test_endpoint_feedback(world: UiWorld, qtbot: Any, arun: Any, text: str, ok: bool, words: str) -> None:
    assert describe_endpoint(text)[0] is ok
    dialog = world.dialog(qtbot)
    dialog.add_button.click()
    dialog.editor.endpoint_edit.setText(text)
    assert words in dialog.editor.endpoint_feedback.text()
    await dialog.work.wait()


@in_loop
async def test_bad_address_is_refused_on_save_and_nothing_is_written(world: UiWorld, qtbot: Any, arun: Any) -> None:
    dialog = world.dialog(qtbot)
    dialog.add_button.click()
    dialog.editor.endpoint_edit.setText("ftp://contoso")
    assert await dialog.save() is False
    assert "not supported" in dialog.status_label.text()
    assert world.fresh().settings.profiles == ()
    # The edit is kept so the user can fix it.
    assert dialog.editor.endpoint_edit.text() == "ftp://contoso"


@in_loop
async def test_a_bad_key_is_explained_and_not_stored(
    world: UiWorld, qtbot: Any, arun: Any, memory_keyring: Any
) -> None:
    dialog = world.dialog(qtbot)
    dialog.add_button.click()
    dialog.editor.endpoint_edit.setText("contoso.openai.azure.com")
    dialog.editor.key_edit.setText("https://contoso.openai.azure.com")
    assert await dialog.save() is False
    assert "looks like an address" in dialog.status_label.text()
    assert memory_keyring.store == {}


@in_loop
async def test_no_keyring_offers_keeping_the_key_for_this_session(tmp_path: Path, qtbot: Any, arun: Any) -> None:
    world = make_world(tmp_path / "config", KeyStore(fail.Keyring()))
    dialog = world.dialog(qtbot)
    await dialog.work.wait()
    dialog.add_button.click()
    await dialog.work.wait()
    assert "no password store" in dialog.editor.key_status.text()
    dialog.editor.endpoint_edit.setText("contoso.openai.azure.com")
    dialog.editor.key_edit.setText("0123456789abcdef0123456789abcdef")
    assert await dialog.save() is False
    assert dialog.editor.session_box.isVisible()
    assert "kept in memory only" in dialog.editor.session_label.text()
    pid = dialog.current_profile_id
    assert pid is not None
    qtbot.mouseClick(dialog.editor.session_button, Qt.MouseButton.LeftButton)
    await dialog.work.wait()
    assert world.session_keys.get(pid) == "0123456789abcdef0123456789abcdef"
    assert not dialog.editor.session_box.isVisible()
    assert "This session only" in dialog.editor.key_status.text()
    assert "0123456789abcdef" not in world.settings_text()
    await world.connections.aclose()


@in_loop
async def test_replace_and_remove_a_key(
    world: UiWorld, sim: Simulator, qtbot: Any, arun: Any, memory_keyring: Any
) -> None:
    add_key_profile(world, sim)
    dialog = world.dialog(qtbot)
    await dialog.work.wait()
    assert "A key is saved in" in dialog.editor.key_status.text()
    dialog.editor.key_edit.setText("fedcba9876543210fedcba9876543210")
    assert await dialog.save()
    assert memory_keyring.store[("Azure OpenAI Chat", "p1")] == "fedcba9876543210fedcba9876543210"
    dialog.editor.remove_key_button.click()
    await dialog.work.wait()
    assert memory_keyring.store == {}
    assert "No key saved yet" in dialog.editor.key_status.text()
    assert dialog.status_label.text() == "The key was removed."


@in_loop
async def test_test_connection_shows_each_step(world: UiWorld, sim: Simulator, qtbot: Any, arun: Any) -> None:
    add_key_profile(world, sim)
    dialog = world.dialog(qtbot)
    await dialog.work.wait()
    qtbot.mouseClick(dialog.editor.test_button, Qt.MouseButton.LeftButton)
    await dialog.work.wait()
    text = dialog.editor.test_results.text()
    assert text.count("✔") >= 3 and "✘" not in text
    assert "gpt-4.1" in text
    # The API the test found is shown and saved.
    assert "answers through Responses" in dialog.editor.deployments_list.item(0).text()
    assert world.fresh().settings.profile("p1").deployments[0].api == "responses"  # type: ignore[union-attr]


@in_loop
async def test_test_connection_with_a_wrong_key_says_so(world: UiWorld, sim: Simulator, qtbot: Any, arun: Any) -> None:
    add_key_profile(world, sim)
    world.keys.set("p1", "wrong-key-0123456789abcdef0123456789")
    dialog = world.dialog(qtbot)
    report = await dialog.test_connection()
    assert report is not None and not all(step.ok for step in report.steps)
    assert "✘" in dialog.editor.test_results.text()


@in_loop
async def test_find_my_deployments_lists_the_simulator_deployments(
    world: UiWorld, sim: Simulator, qtbot: Any, arun: Any
) -> None:
    add_key_profile(world, sim)
    dialog = world.dialog(qtbot)
    await dialog.find_deployments()
    names = [d.name for d in dialog.editor.deployments()]
    assert names == ["gpt-4.1", "gpt-4o-mini", "o4-mini"]
    assert "Found 3 models; 2 new." in dialog.editor.find_status.text()
    assert await dialog.save()
    saved = world.fresh().settings.profile("p1")
    assert saved is not None and [d.name for d in saved.deployments] == names


@in_loop
async def test_typed_deployments_and_the_default(world: UiWorld, sim: Simulator, qtbot: Any, arun: Any) -> None:
    add_key_profile(world, sim)
    dialog = world.dialog(qtbot)
    editor = dialog.editor
    qtbot.keyClicks(editor.manual_edit, "my-chat")
    qtbot.keyClick(editor.manual_edit, Qt.Key.Key_Return)
    qtbot.keyClicks(editor.manual_edit, "my-chat")
    editor.add_deployment_button.click()
    assert "already in the list" in editor.find_status.text()
    editor.default_combo.setCurrentText("my-chat")
    editor.deployments_list.setCurrentRow(0)
    editor.remove_deployment_button.click()
    assert await dialog.save()
    saved = world.fresh().settings.profile("p1")
    assert saved is not None
    assert saved.deployments == (Deployment("my-chat"),)
    assert saved.default_deployment == "my-chat"


@in_loop
async def test_prices_per_model_are_saved_and_only_for_the_selected_model(
    world: UiWorld, sim: Simulator, qtbot: Any, arun: Any
) -> None:
    add_key_profile(world, sim)
    dialog = world.dialog(qtbot)
    editor = dialog.editor
    for name in ("gpt-4.1", "gpt-4o-mini"):
        editor.manual_edit.setText(name)
        editor.add_deployment_button.click()
    assert not editor.input_price_spin.isEnabled()  # no model selected yet
    assert editor.prices_label.text() == "Select a model above to set its prices."
    editor.deployments_list.setCurrentRow(0)
    assert editor.prices_label.text() == "Prices of “gpt-4.1”:"
    assert editor.input_price_spin.text() == "Not set"
    editor.input_price_spin.setValue(2.0)
    editor.output_price_spin.setValue(8.0)
    editor.cached_price_spin.setValue(0.5)
    editor.currency_edit.setText("EUR")
    editor.deployments_list.setCurrentRow(1)
    assert editor.input_price_spin.text() == "Not set"  # the other model keeps no price
    editor.output_price_spin.setValue(0.6)
    editor.deployments_list.setCurrentRow(0)
    assert editor.input_price_spin.value() == 2.0  # switching back shows the first model's prices again
    assert await dialog.save()
    saved = world.fresh().settings.profile("p1")
    assert saved is not None and saved.currency == "EUR"
    assert saved.deployments == (
        Deployment("gpt-4.1", input_price=2.0, cached_input_price=0.5, output_price=8.0),
        Deployment("gpt-4o-mini", output_price=0.6),
    )


@in_loop
async def test_remove_a_connection_on_save_deletes_its_key(
    world: UiWorld, sim: Simulator, qtbot: Any, arun: Any, memory_keyring: Any
) -> None:
    add_key_profile(world, sim)
    dialog = world.dialog(qtbot)
    dialog.remove_button.click()
    assert "will be removed when you save" in dialog.status_label.text()
    assert world.fresh().settings.profiles != ()
    assert await dialog.save()
    assert world.fresh().settings.profiles == ()
    assert memory_keyring.store == {}


@in_loop
async def test_sign_in_and_out_from_settings(world: UiWorld, sim: Simulator, qtbot: Any, arun: Any) -> None:
    dialog = world.dialog(qtbot)
    dialog.add_button.click()
    editor = dialog.editor
    editor.endpoint_edit.setText(sim.base_url)
    editor.auth_combo.setCurrentIndex(editor.auth_combo.findData("entra"))
    assert editor.entra_box.isVisible() and not editor.key_box.isVisible()
    assert editor.account_label.text() == "Not signed in"
    qtbot.mouseClick(editor.advanced_toggle, Qt.MouseButton.LeftButton)
    assert editor.advanced_box.isVisible()
    editor.tenant_edit.setText("contoso.onmicrosoft.com")
    await dialog.sign_in()
    panel = dialog.sign_in_panel
    assert panel is not None
    await panel.work.wait()
    assert editor.account_label.text() == "Signed in as ada@contoso.example"
    pid = dialog.current_profile_id
    assert world.sessions.last.options.tenant == "contoso.onmicrosoft.com"
    # Saving again keeps the sign-in record the service stored while the dialog was open.
    assert await dialog.save()
    saved = world.fresh().settings.profile(pid)
    assert saved is not None and saved.entra.authentication_record == RECORD
    editor.sign_out_button.click()
    await dialog.work.wait()
    assert editor.account_label.text() == "Not signed in"
    assert world.sessions.last.signed_out


POLICY = {
    "policy_version": 1,
    "profiles": [
        {
            "id": "contoso-prod",
            "display_name": "Contoso AI",
            "endpoint": "https://contoso.openai.azure.com/",
            "auth_method": "entra",
            "deployments": [{"name": "gpt-4o", "api": "responses"}],
            "default_deployment": "gpt-4o",
        }
    ],
    "locks": {"max_retries": 5, "proxy": "none", "lock_endpoint": True},
}


@in_loop
async def test_policy_locks_are_greyed_with_a_tooltip(
    tmp_path: Path, memory_keyring: Any, qtbot: Any, arun: Any
) -> None:
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(POLICY), encoding="utf-8")
    world = make_world(tmp_path / "config", KeyStore(memory_keyring), policy_file)
    dialog = world.dialog(qtbot)
    item = dialog.profile_list.item(0)
    assert not item.icon().isNull()
    assert item.toolTip() == "Set by your organisation"
    editor = dialog.editor
    for widget in (editor.name_edit, editor.endpoint_edit, editor.auth_combo, editor.tenant_edit):
        assert not widget.isEnabled()
        assert widget.toolTip() == "Set by your organisation"
    assert editor.instructions_edit.isEnabled()  # the user keeps the chat defaults
    editor.deployments_list.setCurrentRow(0)  # the policy lists the deployments: their prices are its own too
    assert not editor.input_price_spin.isEnabled() and editor.input_price_spin.toolTip() == "Set by your organisation"
    assert not dialog.remove_button.isEnabled()
    page = dialog.app_page
    assert not page.retries_spin.isEnabled() and page.retries_spin.toolTip() == "Set by your organisation"
    assert not page.proxy_combo.isEnabled() and not page.proxy_edit.isEnabled()
    assert page.theme_combo.isEnabled()
    # Saving works: user fields change, locked ones stay.
    editor.instructions_edit.setPlainText("Be formal.")
    page.theme_combo.setCurrentIndex(page.theme_combo.findData("light"))
    assert await dialog.save(), dialog.status_label.text()
    settings = world.configuration.settings
    assert settings.app.theme == "light" and settings.app.max_retries == 5
    profile = settings.profile("contoso-prod")
    assert profile is not None and profile.chat_defaults.instructions == "Be formal."
    await world.connections.aclose()


def _tab_through(window: QWidget, qtbot: Any) -> set[QWidget]:
    """Press Tab until focus comes back round; return every widget that got the focus."""
    seen: set[QWidget] = set()
    first = QApplication.focusWidget()
    assert first is not None, "nothing has the keyboard focus"
    widget = first
    for _ in range(300):
        seen.add(widget)
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
        widget = QApplication.focusWidget()
        if widget is first:
            break
    return seen


def _focusable(root: QWidget) -> list[QWidget]:
    return [
        w
        for w in root.findChildren(QWidget)
        if w.isVisibleTo(root)
        and w.isEnabled()
        and w.focusPolicy() & Qt.FocusPolicy.TabFocus
        and not w.objectName().startswith("qt_")  # Qt's own inner parts (a spin box's line edit)
    ]


@in_loop
async def test_keyboard_only_tab_reaches_every_control(world: UiWorld, sim: Simulator, qtbot: Any, arun: Any) -> None:
    add_key_profile(world, sim)
    dialog = world.dialog(qtbot)
    await dialog.work.wait()
    dialog.activateWindow()
    dialog.tabs.tabBar().setFocus()
    for index in range(dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(index)
        page = dialog.tabs.currentWidget()
        reached = _tab_through(dialog, qtbot)
        assert len(reached) > 8
        missing = [w for w in _focusable(page) if w not in reached]
        assert not missing, [type(w).__name__ + ":" + w.accessibleName() for w in missing]
    for widget in _focusable(dialog):
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.metaObject().className() in (
            "QLineEdit",
            "QComboBox",
            "QSpinBox",
            "QDoubleSpinBox",
            "QPlainTextEdit",
            "QListWidget",
        ):
            assert widget.accessibleName(), widget.metaObject().className()


@in_loop
async def test_endpoint_base_url_is_what_is_stored(world: UiWorld, qtbot: Any, arun: Any) -> None:
    dialog = world.dialog(qtbot)
    dialog.add_button.click()
    dialog.editor.endpoint_edit.setText('"https://contoso.cognitiveservices.azure.com/"')
    assert await dialog.save()
    (profile,) = world.fresh().settings.profiles
    assert profile.endpoint == normalize_endpoint("contoso.cognitiveservices.azure.com").base_url


@in_loop
async def test_an_instructions_preset_is_added_in_settings(world: UiWorld, qtbot: Any, arun: Any) -> None:
    dialog = world.dialog(qtbot)
    editor = dialog.app_page.presets_editor
    new = editor.add()
    ok = new.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.keyClicks(new.name_edit, "Concise")  # the name of a built-in preset is taken
    new.text_edit.setPlainText("Be short.")
    assert not ok.isEnabled() and "exists already" in new.problem.text()
    new.name_edit.setText("Legal review")
    assert ok.isEnabled()
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert [editor.list.item(i).text() for i in range(editor.list.count())] == ["Legal review"]
    assert await dialog.save() is True
    presets = world.fresh().settings.app.instruction_presets
    assert [(p.name, p.text) for p in presets] == [("Legal review", "Be short.")]
    editor.list.setCurrentRow(0)
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    assert await dialog.save() is True
    assert world.fresh().settings.app.instruction_presets == ()
