"""Configuration: edits are validated against values and policy, saved at once, and never half-applied."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from desktop.config import (
    SCHEMA_VERSION,
    Configuration,
    InstructionsPreset,
    Profile,
    SettingsChangeError,
    SettingsSaveError,
    SettingsStore,
    load_policy,
)

POLICY = {
    "profiles": [
        {
            "id": "corp",
            "display_name": "Corp",
            "endpoint": "https://corp.openai.azure.com",
            "auth_method": "entra",
            "deployments": [{"name": "gpt-4o"}],
        }
    ],
    "locks": {"allowed_auth_methods": ["entra"], "max_retries": 4, "disable_demo": True},
}


def config(tmp_path: Path, policy: dict[str, Any] | None = None) -> Configuration:
    loaded = None
    if policy is not None:
        path = tmp_path / "policy.json"
        path.write_text(json.dumps(policy))
        loaded = load_policy(path).policy
    configuration = Configuration(SettingsStore(tmp_path / "cfg"), loaded)
    assert configuration.load() == ()
    return configuration


def saved(tmp_path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tmp_path / "cfg" / "settings.json").read_text())
    return data


def test_update_app_saves_and_validates(tmp_path: Path) -> None:
    c = config(tmp_path)
    settings = c.update_app(theme="dark", max_retries=0, request_timeout=30, proxy="http://proxy:3128")
    assert (settings.app.theme, settings.app.max_retries, settings.app.request_timeout) == ("dark", 0, 30.0)
    assert saved(tmp_path)["app"]["proxy"] == "http://proxy:3128"
    for bad in ({"theme": "neon"}, {"max_retries": -1}, {"font_size": "big"}, {"proxy": "http://u:p@proxy:1"}):
        with pytest.raises(SettingsChangeError, match="cannot be used"):
            c.update_app(**bad)
    with pytest.raises(SettingsChangeError, match="Unknown setting: colour"):
        c.update_app(colour="red")
    assert c.settings.app.theme == "dark"
    assert saved(tmp_path)["app"]["theme"] == "dark"


def test_instructions_presets_are_saved_and_bad_ones_skipped(tmp_path: Path, logfail: Any) -> None:
    logfail.allow("desktop.config._store", "unreadable entries")
    c = config(tmp_path)
    c.update_app(instruction_presets=(InstructionsPreset("Legal review", "Check the contract's risks."),))
    assert saved(tmp_path)["app"]["instruction_presets"] == [
        {"name": "Legal review", "text": "Check the contract's risks."}
    ]
    again = Configuration(SettingsStore(tmp_path / "cfg"))
    assert again.load() == ()
    assert again.settings.app.instruction_presets == (
        InstructionsPreset("Legal review", "Check the contract's risks."),
    )
    with pytest.raises(SettingsChangeError, match="without a name or instructions"):
        c.update_app(instruction_presets=(InstructionsPreset("Empty", " "),))
    data = saved(tmp_path)
    data["app"]["instruction_presets"].append({"name": "", "text": "x"})
    (tmp_path / "cfg" / "settings.json").write_text(json.dumps(data))
    skipped = Configuration(SettingsStore(tmp_path / "cfg"))
    assert any("instruction_presets[1]" in problem for problem in skipped.load())
    assert [p.name for p in skipped.settings.app.instruction_presets] == ["Legal review"]


def test_profiles_are_added_replaced_and_deleted(tmp_path: Path) -> None:
    c = config(tmp_path)
    profile = Profile(Profile.new_id(), "Mine", "https://mine.openai.azure.com/openai/deployments/x/chat/completions")
    c.put_profile(profile)
    c.update_app(active_profile_id=profile.id)
    stored = c.settings.profile(profile.id)
    assert stored is not None
    assert stored.endpoint == "https://mine.openai.azure.com/openai/v1/"
    c.put_profile(replace(stored, display_name="Renamed"))
    assert [p.display_name for p in c.settings.profiles] == ["Renamed"]
    assert c.settings.active_profile == replace(stored, display_name="Renamed")
    with pytest.raises(SettingsChangeError, match="cannot be saved"):
        c.put_profile(replace(stored, endpoint="ftp://x"))
    c.delete_profile(profile.id)
    assert c.settings.profiles == ()
    assert c.settings.app.active_profile_id is None
    assert saved(tmp_path)["profiles"] == []


def test_policy_limits_what_can_change(tmp_path: Path) -> None:
    c = config(tmp_path, POLICY)
    with pytest.raises(SettingsChangeError, match="fixed this setting: max_retries"):
        c.update_app(max_retries=1)
    corp = c.settings.profile("corp")
    assert corp is not None
    with pytest.raises(SettingsChangeError, match="cannot be changed: endpoint"):
        c.put_profile(replace(corp, endpoint="https://other.openai.azure.com/openai/v1/"))
    with pytest.raises(SettingsChangeError, match="cannot be deleted"):
        c.delete_profile("corp")
    with pytest.raises(SettingsChangeError, match="does not allow"):
        c.put_profile(Profile("k", "Key", "https://k.openai.azure.com/openai/v1/", auth_method="api_key"))
    with pytest.raises(SettingsChangeError, match="turned off the demo"):
        c.put_profile(Profile("d", "Demo", "http://127.0.0.1:1/openai/v1/", auth_method="entra", is_demo=True))
    # What is the user's to choose (sign-in record, chat defaults) is kept for the managed connection.
    c.put_profile(replace(corp, entra=replace(corp.entra, authentication_record="{}"), default_deployment="gpt-4o"))
    reloaded = config(tmp_path, POLICY).settings.profile("corp")
    assert reloaded is not None
    assert reloaded.managed
    assert reloaded.entra.authentication_record == "{}"
    assert saved(tmp_path)["app"]["max_retries"] == 2  # the policy's value is not written into the user's file


def test_read_only_file_allows_changes_for_this_session_only(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / "settings.json"
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}))
    c = Configuration(SettingsStore(tmp_path / "cfg"))
    assert "newer version" in c.load()[0]
    assert c.read_only
    assert c.update_app(theme="light").app.theme == "light"
    assert json.loads(path.read_text()) == {"schema_version": SCHEMA_VERSION + 1}
    with pytest.raises(SettingsSaveError):
        c.save()


def test_failed_save_undoes_the_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = config(tmp_path)
    c.update_app(theme="dark")

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(SettingsSaveError, match="No space left"):
        c.update_app(theme="light")
    assert c.settings.app.theme == "dark"
