"""Admin policy: where it lives, how it is read (broken files are ignored, never fatal) and how it merges."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from desktop.config import (
    POLICY_ENV,
    AppSettings,
    ChatDefaults,
    Deployment,
    EntraOptions,
    Profile,
    Settings,
    apply_policy,
    default_policy_path,
    load_policy,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "packaging" / "policy" / "policy.example.json"
POLICY: dict[str, Any] = {
    "policy_version": 1,
    "profiles": [
        {
            "id": "contoso-prod",
            "display_name": "Contoso AI",
            "endpoint": "https://contoso.openai.azure.com/",
            "auth_method": "entra",
            "tenant": "contoso.onmicrosoft.com",
            "cloud": "public",
            "client_id": "11111111-2222-3333-4444-555555555555",
            "deployments": [{"name": "gpt-4o", "model_name": "gpt-4o", "api": "responses"}],
            "default_deployment": "gpt-4o",
        },
        {"display_name": "Sandbox", "endpoint": "sandbox.openai.azure.com", "auth_method": "entra"},
    ],
    "locks": {
        "allowed_auth_methods": ["entra", "api_key"],
        "disable_api_keys": True,
        "disable_demo": True,
        "lock_endpoint": True,
        "max_retries": 5,
        "proxy": "none",
    },
}


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {}, Path("/etc/azure-openai-chat/policy.json")),
        ("darwin", {}, Path("/Library/Application Support/Azure OpenAI Chat/policy.json")),
        ("win32", {"ProgramData": "D:\\PD"}, Path("D:\\PD") / "Azure OpenAI Chat" / "policy.json"),
        ("linux", {POLICY_ENV: "/tmp/p.json"}, Path("/tmp/p.json")),
    ],
)
def test_default_path(platform: str, environ: dict[str, str], expected: Path) -> None:
    assert default_policy_path(platform, environ) == expected


def test_env_override_is_used_by_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(POLICY_ENV, str(write(tmp_path, POLICY)))
    result = load_policy()
    assert result.policy is not None
    assert result.notices == ()


def test_no_policy_file_means_no_policy(tmp_path: Path) -> None:
    assert load_policy(tmp_path / "absent.json").policy is None
    assert load_policy(tmp_path / "absent.json").notices == ()
    settings = Settings(profiles=(Profile("a", "A", "https://a.openai.azure.com/openai/v1/"),))
    assert apply_policy(settings, None) is settings


def test_shipped_example_is_valid() -> None:
    result = load_policy(EXAMPLE)
    assert result.policy is not None
    assert result.notices == ()
    assert result.policy.profiles


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{oops", "not valid JSON"),
        ("\udcff", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"policy_version": 99}', "policy_version 99"),
    ],
)
def test_broken_policy_is_ignored_with_a_notice(tmp_path: Path, logfail: Any, content: str, why: str) -> None:
    logfail.allow("desktop.config", "Ignoring the policy file")
    path = tmp_path / "policy.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    result = load_policy(path)
    assert result.policy is None
    (notice,) = result.notices
    assert why in notice
    assert str(path) in notice


def test_unreadable_policy_is_ignored(tmp_path: Path, logfail: Any) -> None:
    logfail.allow("desktop.config", "Ignoring the policy file")
    (tmp_path / "policy.json").mkdir()
    result = load_policy(tmp_path / "policy.json")
    assert result.policy is None
    assert "could not be opened" in result.notices[0]


def test_bad_entries_are_skipped_and_reported(tmp_path: Path, logfail: Any) -> None:
    logfail.allow("desktop.config", "has problems")
    data = json.loads(json.dumps(POLICY))
    data["profiles"].append({"id": "bad", "display_name": "Bad", "endpoint": "http://evil.example.com"})
    data["profiles"].append(7)
    data["profiles"].append(dict(data["profiles"][0]))
    data["locks"].update({"max_retries": "lots", "colour": "red", "allowed_auth_methods": ["magic"]})
    result = load_policy(write(tmp_path, data))
    assert result.policy is not None
    assert [p.display_name for p in result.policy.profiles] == ["Contoso AI", "Sandbox"]
    assert dict(result.policy.app_values) == {"proxy": "none"}
    assert result.policy.allowed_auth_methods == ("entra", "azure_cli")
    (notice,) = result.notices
    for words in ("not encrypted", "is not a connection", "repeats the id", "max_retries", "colour", "allowed_auth"):
        assert words in notice


def user_settings() -> Settings:
    return Settings(
        app=AppSettings(max_retries=1, proxy="system", theme="dark"),
        profiles=(
            Profile(
                id="contoso-prod",
                display_name="My rename",
                endpoint="https://elsewhere.openai.azure.com/openai/v1/",
                auth_method="api_key",
                entra=EntraOptions(tenant="other", authentication_record='{"username": "me@contoso.com"}'),
                deployments=(Deployment("mine"),),
                default_deployment="mine",
                chat_defaults=ChatDefaults(instructions="Answer in French."),
                managed=True,
            ),
            Profile("own", "Own key", "https://own.openai.azure.com/openai/v1/", auth_method="api_key"),
            Profile("own-entra", "Own Entra", "https://own.openai.azure.com/openai/v1/", auth_method="entra"),
            Profile("demo", "Demo", "http://127.0.0.1:1/openai/v1/", auth_method="api_key", is_demo=True),
        ),
    )


def test_merge_managed_profiles_and_locks(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, POLICY)).policy
    merged = apply_policy(user_settings(), policy)
    managed = merged.profile("contoso-prod")
    assert managed is not None
    assert managed.managed
    assert (managed.display_name, managed.endpoint, managed.auth_method) == (
        "Contoso AI",
        "https://contoso.openai.azure.com/openai/v1/",
        "entra",
    )
    assert managed.entra == EntraOptions(
        tenant="contoso.onmicrosoft.com",
        client_id="11111111-2222-3333-4444-555555555555",
        authentication_record='{"username": "me@contoso.com"}',
    )
    assert managed.deployments == (Deployment("gpt-4o", "gpt-4o", None, "responses"),)
    assert managed.default_deployment == "mine"  # the user's choice wins where nothing is locked
    assert managed.chat_defaults.instructions == "Answer in French."
    assert managed.is_locked("endpoint")
    assert managed.is_locked("deployments")
    assert managed.blocked_reason is None
    sandbox = merged.profiles[1]
    assert sandbox.managed
    assert not sandbox.is_locked("deployments")
    assert sandbox.id == load_policy(write(tmp_path, POLICY)).policy.profiles[1].id  # type: ignore[union-attr]
    reasons = {p.id: p.blocked_reason for p in merged.profiles}
    assert reasons["own"] == "Your organisation does not allow connecting with an API key."
    assert reasons["own-entra"] == "Your organisation allows only the connections it has set up."
    assert reasons["demo"] == "Your organisation has turned off the demo."
    assert merged.app.max_retries == 5
    assert merged.app.proxy == "none"
    assert merged.app.theme == "dark"
    assert merged.locked == {"max_retries", "proxy"}
    assert merged.allowed_auth_methods == ("entra",)
    assert not merged.demo_allowed
    assert not merged.custom_profiles_allowed


def test_single_managed_profile_becomes_active_and_blocked_active_is_none(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, {"profiles": POLICY["profiles"][:1]})).policy
    merged = apply_policy(Settings(), policy)
    assert merged.active_profile is not None
    assert merged.active_profile.id == "contoso-prod"
    locked_out = load_policy(write(tmp_path, {"locks": {"disable_api_keys": True}})).policy
    settings = user_settings()
    settings = replace(settings, app=replace(settings.app, active_profile_id="own"))
    assert apply_policy(settings, locked_out).active_profile is None


def test_profile_removed_from_policy_stays_as_the_users_own(tmp_path: Path) -> None:
    merged = apply_policy(user_settings(), load_policy(write(tmp_path, {"profiles": []})).policy)
    kept = merged.profile("contoso-prod")
    assert kept is not None
    assert not kept.managed
    assert kept.endpoint == "https://elsewhere.openai.azure.com/openai/v1/"
