"""SettingsStore: round trips, atomic writes, migrations, and damaged or too-new files that lose nothing."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from desktop.config import (
    SCHEMA_VERSION,
    AppSettings,
    ChatDefaults,
    Deployment,
    EntraOptions,
    Profile,
    Settings,
    SettingsSaveError,
    SettingsStore,
)

STAMP = "20250102-030405"


def make_store(tmp_path: Path) -> SettingsStore:
    return SettingsStore(tmp_path / "config", timestamp=lambda: STAMP)


def sample_settings() -> Settings:
    profile = Profile(
        id="7d1c3f3e-0000-4000-8000-000000000001",
        display_name="Work",
        endpoint="https://res.openai.azure.com/openai/v1/",
        auth_method="entra",
        entra=EntraOptions(tenant="contoso.onmicrosoft.com", cloud="public", authentication_record='{"a": 1}'),
        deployments=(
            Deployment("gpt-4o", "gpt-4o", "2024-11-20", "responses", model_format="OpenAI"),
            Deployment("old", api="chat", refused=("temperature", "effort:minimal")),
        ),
        default_deployment="gpt-4o",
        chat_defaults=ChatDefaults("Be brief.", 0.3, 2048, "none"),
    )
    demo = Profile(id="demo", display_name="Demo", endpoint="http://127.0.0.1:1/openai/v1/", is_demo=True)
    app = AppSettings(
        active_profile_id=profile.id,
        max_retries=4,
        request_timeout=120.0,
        theme="dark",
        font_size=13,
        send_on_enter=False,
        proxy="http://proxy.contoso.com:8080",
        first_run_done=True,
        window_geometry="AdnQywADAAAAAAGd",
        sidebar_collapsed=True,
    )
    return Settings(app=app, profiles=(profile, demo))


def write_json(store: SettingsStore, data: Any) -> bytes:
    store.config_dir.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(data).encode()
    store.path.write_bytes(raw)
    return raw


def test_missing_file_gives_defaults_quietly(tmp_path: Path) -> None:
    result = make_store(tmp_path).load()
    assert result.settings == Settings()
    assert result.notices == ()
    assert not result.read_only


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.save(sample_settings())
    result = store.load()
    assert result.settings == sample_settings()
    assert result.notices == ()
    assert json.loads(store.path.read_text())["schema_version"] == SCHEMA_VERSION


def test_save_leaves_no_temporary_files_and_is_private(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.save(sample_settings())
    store.save(Settings())
    assert sorted(p.name for p in store.config_dir.iterdir()) == ["settings.json"]
    if os.name == "posix":
        assert store.path.stat().st_mode & 0o077 == 0


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store(tmp_path)
    store.save(sample_settings())
    before = store.path.read_bytes()

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(SettingsSaveError, match="No space left on device"):
        store.save(Settings())
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in store.config_dir.iterdir()) == ["settings.json"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "damaged"),
        (b"\xff\xfe\x00garbage", "damaged"),
        (b"", "damaged"),
        (b"[1, 2, 3]", "not a settings file"),
        (b'{"schema_version": "two"}', "version number is not valid"),
        (b'{"schema_version": 0}', "version number is not valid"),
        (b"[" * 100_000, "damaged"),
    ],
)
def test_corrupt_file_is_moved_aside(tmp_path: Path, logfail: Any, content: bytes, reason: str) -> None:
    logfail.allow("desktop.config", "unreadable")
    store = make_store(tmp_path)
    store.config_dir.mkdir(parents=True)
    store.path.write_bytes(content)
    result = store.load()
    aside = store.config_dir / f"settings.json.corrupt-{STAMP}"
    assert result.settings == Settings()
    assert not result.read_only
    assert aside.read_bytes() == content
    assert not store.path.exists()
    (notice,) = result.notices
    assert reason in notice
    assert str(aside) in notice
    store.save(sample_settings())
    assert store.load().settings == sample_settings()


def test_two_corrupt_files_in_the_same_second_both_survive(tmp_path: Path, logfail: Any) -> None:
    logfail.allow("desktop.config", "unreadable")
    store = make_store(tmp_path)
    store.config_dir.mkdir(parents=True)
    for content in (b"first", b"second"):
        store.path.write_bytes(content)
        store.load()
    assert (store.config_dir / f"settings.json.corrupt-{STAMP}").read_bytes() == b"first"
    assert (store.config_dir / f"settings.json.corrupt-{STAMP}-2").read_bytes() == b"second"


def test_unopenable_file_is_moved_aside(tmp_path: Path, logfail: Any) -> None:
    logfail.allow("desktop.config", "unreadable")
    store = make_store(tmp_path)
    store.path.mkdir(parents=True)  # a directory where the file should be: reading raises IsADirectoryError
    result = store.load()
    assert "could not be opened" in result.notices[0]
    assert (store.config_dir / f"settings.json.corrupt-{STAMP}").is_dir()


def test_file_that_cannot_be_moved_aside_is_never_overwritten(
    tmp_path: Path, logfail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    logfail.allow("desktop.config", "Could not move")
    store = make_store(tmp_path)
    store.config_dir.mkdir(parents=True)
    store.path.write_bytes(b"{broken")

    def broken_replace(src: Any, dst: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", broken_replace)
    result = store.load()
    monkeypatch.undo()
    assert result.read_only
    assert "will not overwrite" in result.notices[0]
    with pytest.raises(SettingsSaveError, match="kept untouched"):
        store.save(sample_settings())
    assert store.path.read_bytes() == b"{broken"


def test_newer_schema_is_left_untouched(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    raw = write_json(store, {"schema_version": SCHEMA_VERSION + 1, "app": {"theme": "neon"}, "future": [1]})
    result = store.load()
    assert result.read_only
    assert result.settings == Settings()
    assert "newer version" in result.notices[0]
    assert str(store.path) in result.notices[0]
    with pytest.raises(SettingsSaveError, match="newer version"):
        store.save(sample_settings())
    assert store.path.read_bytes() == raw
    assert sorted(p.name for p in store.config_dir.iterdir()) == ["settings.json"]


V1_FILE: dict[str, Any] = {
    "schema_version": 1,
    "active_profile": "p1",
    "theme": "light",
    "font_size": 12,
    "send_on_enter": False,
    "max_retries": 3,
    "timeout": 90,
    "geometry": "abc",
    "profiles": [
        {
            "id": "p1",
            "name": "Team",
            "endpoint": "https://team.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01",
            "auth": "key",
            "system_prompt": "You are helpful.",
            "temperature": 0.5,
        },
        {"id": "p2", "name": "Gov", "endpoint": "gov.openai.azure.us", "auth": "aad", "tenant": "contoso.us"},
        {"id": "p3", "name": "CLI", "endpoint": "https://x.openai.azure.com", "auth": "cli", "deployment": "mini"},
    ],
}
V1_EXPECTED = Settings(
    app=AppSettings(
        active_profile_id="p1",
        max_retries=3,
        request_timeout=90.0,
        theme="light",
        font_size=12,
        send_on_enter=False,
        window_geometry="abc",
    ),
    profiles=(
        Profile(
            id="p1",
            display_name="Team",
            endpoint="https://team.openai.azure.com/openai/v1/",
            auth_method="api_key",
            deployments=(Deployment("gpt-4o"),),
            default_deployment="gpt-4o",
            chat_defaults=ChatDefaults(instructions="You are helpful.", temperature=0.5),
        ),
        Profile(
            id="p2",
            display_name="Gov",
            endpoint="https://gov.openai.azure.us/openai/v1/",
            auth_method="entra",
            entra=EntraOptions(tenant="contoso.us"),
        ),
        Profile(
            id="p3",
            display_name="CLI",
            endpoint="https://x.openai.azure.com/openai/v1/",
            auth_method="azure_cli",
            deployments=(Deployment("mini"),),
            default_deployment="mini",
        ),
    ),
)
# One sample per earlier schema version: a new version adds its predecessor here (the test below insists).
EARLIER_VERSIONS: dict[int, tuple[dict[str, Any], Settings]] = {1: (V1_FILE, V1_EXPECTED)}


def test_every_earlier_version_has_a_sample() -> None:
    assert set(EARLIER_VERSIONS) == set(range(1, SCHEMA_VERSION))


@pytest.mark.parametrize("version", sorted(EARLIER_VERSIONS))
def test_earlier_versions_migrate(tmp_path: Path, version: int) -> None:
    data, expected = EARLIER_VERSIONS[version]
    store = make_store(tmp_path)
    raw = write_json(store, data)
    result = store.load()
    assert result.notices == ()
    assert result.settings == expected
    assert (store.config_dir / f"settings.json.v{version}-backup").read_bytes() == raw
    store.save(result.settings)
    assert json.loads(store.path.read_text())["schema_version"] == SCHEMA_VERSION
    assert store.load().settings == expected


def test_file_without_version_is_read_as_version_1(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    write_json(store, {k: v for k, v in V1_FILE.items() if k != "schema_version"})
    assert store.load().settings == V1_EXPECTED


def test_bad_values_fall_back_one_by_one_and_the_file_is_copied(tmp_path: Path, logfail: Any) -> None:
    logfail.allow("desktop.config", "unreadable entries")
    store = make_store(tmp_path)
    store.save(sample_settings())
    good = json.loads(store.path.read_text())
    good["app"]["theme"] = "neon"
    good["app"]["max_retries"] = "three"
    good["app"]["request_timeout"] = True
    good["app"]["proxy"] = "http://bob:secret@proxy:8080"
    good["profiles"][0]["chat_defaults"]["temperature"] = 9
    good["profiles"][0]["deployments"].append({"model_name": "nameless"})
    good["profiles"].append({"id": "x", "display_name": "Broken", "endpoint": "ftp://nope"})
    good["profiles"].append({"display_name": "No id", "endpoint": "https://a.openai.azure.com"})
    good["profiles"].append("not an object")
    good["profiles"].append(dict(good["profiles"][1]))
    raw = write_json(store, good)
    result = store.load()
    expected = sample_settings()
    first = expected.profiles[0]
    expected = replace(
        expected,
        app=replace(expected.app, theme="system", max_retries=2, request_timeout=600.0, proxy="system"),
        profiles=(replace(first, chat_defaults=replace(first.chat_defaults, temperature=None)), expected.profiles[1]),
    )
    assert result.settings == expected
    (notice,) = result.notices
    for words in ("app.theme", "app.max_retries", "app.proxy", "temperature", "“Broken” was skipped", "same id"):
        assert words in notice
    assert "secret" not in notice
    assert (store.config_dir / f"settings.json.backup-{STAMP}").read_bytes() == raw


def test_no_safety_copy_means_no_overwrite(tmp_path: Path, logfail: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    logfail.allow("desktop.config", "Could not copy")
    store = make_store(tmp_path)
    raw = write_json(store, V1_FILE)

    def broken_copy(*args: Any, **kwargs: Any) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(shutil, "copy2", broken_copy)
    result = store.load()
    assert result.read_only
    assert result.settings == V1_EXPECTED
    assert "Read-only file system" in result.notices[0]
    with pytest.raises(SettingsSaveError):
        store.save(result.settings)
    assert store.path.read_bytes() == raw


def test_a_huge_settings_file_is_set_aside_unread_with_a_notice(tmp_path: Path, logfail: Any) -> None:
    logfail.allow("desktop.config", "moved to")
    store = make_store(tmp_path)
    store.config_dir.mkdir(parents=True)
    with store.path.open("w") as fh:  # valid JSON, just absurdly large
        fh.write('{"schema_version": 2, "app": {}, "profiles": [], "padding": "')
        fh.write("x" * (2 * 1024 * 1024))
        fh.write('"}')
    size = store.path.stat().st_size
    result = store.load()
    assert result.settings == Settings()
    assert len(result.notices) == 1
    assert "far larger than settings can be" in result.notices[0]
    aside = store.config_dir / f"settings.json.too-large-{STAMP}"
    assert aside.stat().st_size == size  # kept whole, never read into memory
    assert str(aside) in result.notices[0]
    assert not store.path.exists()


def test_unknown_fields_survive_a_save_or_the_old_file_is_copied_first(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.save(sample_settings())
    data = json.loads(store.path.read_text())
    data["sync"] = {"enabled": True, "server": "https://sync.example"}  # a newer version's top-level section
    data["profiles"][0]["colour"] = "teal"  # and a newer field inside a profile
    original = write_json(store, data)

    result = store.load()
    assert result.notices == ()
    store.save(replace(result.settings, app=replace(result.settings.app, theme="light")))
    saved = json.loads(store.path.read_text())
    assert saved["sync"] == {"enabled": True, "server": "https://sync.example"}
    assert saved["app"]["theme"] == "light"
    backup = store.config_dir / f"settings.json.before-save-{STAMP}"
    assert backup.read_bytes() == original  # the profile's colour is kept there

    store.save(result.settings)  # only the first save after loading needs the copy
    assert sorted(p.name for p in store.config_dir.iterdir() if "before-save" in p.name) == [backup.name]
