"""The sign-in panel end to end: real Connections, real azure-identity/MSAL, the fake identity provider, the real
encrypted token cache; then sign-out from the same connection."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from fake_idp import USERNAME, EntraHarness
from PySide6.QtWidgets import QWidget

from desktop.auth import EntraOptions, EntraSession, SessionKeyStore
from desktop.config import Configuration, Profile, SettingsStore
from desktop.config import EntraOptions as ProfileEntraOptions
from desktop.services import Connections
from desktop.ui.sign_in import SignInPanel, State
from tests.ui.test_settings_dialog import in_loop

PROFILE = "work"


def _connections(entra: EntraHarness, config_dir: Path) -> tuple[Configuration, Connections]:
    configuration = Configuration(SettingsStore(config_dir))
    configuration.load()
    configuration.put_profile(
        Profile(
            id=PROFILE,
            display_name="Contoso",
            endpoint="https://contoso.openai.azure.com/openai/v1/",
            auth_method="entra",
            entra=ProfileEntraOptions(),
        )
    )
    configuration.update_app(active_profile_id=PROFILE)

    def sessions(options: EntraOptions, allow_unencrypted: bool) -> EntraSession:
        # The profile's options, pointed at the fake identity provider instead of login.microsoftonline.com.
        record = entra.idp.reusable_record(options.record_json) if options.record_json else None
        pointed = dataclasses.replace(options, authority_host=entra.idp.host, record_json=record)
        session = EntraSession(pointed, cache_name=entra.cache_name, allow_unencrypted_storage=allow_unencrypted)
        entra.sessions.append(session)
        return session

    keys = SessionKeyStore()
    return configuration, Connections(configuration, keys, SessionKeyStore(), entra_sessions=sessions)


@in_loop
async def test_sign_in_panel_signs_in_saves_the_account_and_signs_out(
    entra: EntraHarness, qtbot: Any, arun: Any, tmp_path: Path
) -> None:
    configuration, connections = _connections(entra, tmp_path / "config")
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    panel = SignInPanel(connections, PROFILE, window)
    names: list[str] = []
    panel.signed_in.connect(names.append)

    assert await panel.run() is True  # the browser step is the fake IdP's patched webbrowser.open

    assert panel.state is State.SIGNED_IN
    assert names == [USERNAME]
    assert USERNAME in panel.explanation.text()
    # The account record (no secrets) is saved in the profile, so the next start is silent.
    saved = json.loads((tmp_path / "config" / "settings.json").read_text(encoding="utf-8"))
    profile = next(p for p in saved["profiles"] if p["id"] == PROFILE)
    assert USERNAME in json.dumps(profile)
    assert "refresh" not in json.dumps(saved).lower()
    in_memory = configuration.settings.profile(PROFILE)
    assert in_memory is not None
    assert in_memory.entra.authentication_record is not None
    assert entra.idp.grants["authorization_code"] == 1

    await connections.sign_out(PROFILE)
    assert connections.account(PROFILE) is None
    assert await connections.restore(PROFILE) is False  # signed out for real: a silent sign-in is no longer possible
    await connections.aclose()
