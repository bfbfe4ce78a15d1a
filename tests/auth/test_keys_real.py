"""API keys in the real OS keyring (Secret Service in CI), and a canary that no key ever reaches a file."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend

from desktop.auth import ApiKeyStore, KeyStore
from desktop.config import Configuration, Profile, SettingsStore


def _secret_service() -> KeyringBackend | str:
    """The Secret Service backend, or why it cannot be used here."""
    from keyring.backends import SecretService

    try:
        SecretService.Keyring.priority  # noqa: B018 - probes D-Bus and raises when no daemon answers
    except Exception as error:
        return str(error)
    return SecretService.Keyring()


@pytest.fixture
def real_keyring() -> KeyringBackend:
    """The Secret Service; skipped when absent unless AOC_REQUIRE_KEYRING=1 (then the test fails)."""
    from tests.conftest import real_keyring_required

    backend = _secret_service()
    if isinstance(backend, str):
        reason = (
            f"no Secret Service reachable ({backend}); run under dbus-run-session with "
            "`printf pw | gnome-keyring-daemon --unlock --components=secrets`"
        )
        if real_keyring_required():
            pytest.fail(reason)
        pytest.skip(reason)
    return backend


@pytest.fixture
def profile_ids() -> Iterator[list[str]]:
    """Fresh profile ids; whatever a test leaves in the real keyring under them is removed afterwards."""
    ids: list[str] = []
    yield ids
    backend = _secret_service()
    if not isinstance(backend, str):
        store = KeyStore(backend)
        for profile_id in ids:
            store.delete(profile_id)


@pytest.mark.keyring_real
def test_real_keyring_cycle(real_keyring: KeyringBackend, profile_ids: list[str], arun: Any) -> None:
    store = KeyStore(real_keyring)
    profile_id = Profile.new_id()
    profile_ids.append(profile_id)
    key, key2 = uuid.uuid4().hex, uuid.uuid4().hex
    assert store.backend_name().startswith("Secret Service")
    assert store.get(profile_id) is None
    store.set(profile_id, key)
    assert KeyStore(real_keyring).get(profile_id) == key  # a second instance: really stored, not cached
    assert arun(store.areplace(profile_id, key2)) is True
    assert arun(store.aget(profile_id)) == key2
    assert store.delete(profile_id) is True
    assert store.get(profile_id) is None
    assert arun(store.adelete(profile_id)) is False


def _canary_cycle(tmp_path: Path, store: ApiKeyStore, profile_ids: list[str]) -> None:
    """Add, use, replace and delete a key as the app does, logging everything at DEBUG into the profile dir."""
    profile_dir = tmp_path / "profile"
    profile_dir.mkdir()
    handler = logging.FileHandler(profile_dir / "app.log", encoding="utf-8")
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    canary, canary2 = f"CANARY{uuid.uuid4().hex}", f"CANARY{uuid.uuid4().hex}"
    try:
        config = Configuration(SettingsStore(profile_dir))
        config.load()
        profile = Profile(Profile.new_id(), "Canary", "https://canary.openai.azure.com/", auth_method="api_key")
        profile_ids.append(profile.id)
        config.put_profile(profile)
        config.update_app(active_profile_id=profile.id)
        store.set(profile.id, canary)
        assert store.get(profile.id) == canary  # use
        store.replace(profile.id, canary2)
        assert store.get(profile.id) == canary2
        config.update_app(theme="dark")
        assert store.delete(profile.id)
        config.delete_profile(profile.id)
        config.save()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    files = [p for p in profile_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"settings.json", "app.log"}
    for path in files:
        content = path.read_bytes()
        assert canary.encode() not in content, path
        assert canary2.encode() not in content, path


def test_canary_key_never_reaches_a_file(tmp_path: Path, memory_keyring: Any, profile_ids: list[str]) -> None:
    _canary_cycle(tmp_path, KeyStore(), profile_ids)
    assert memory_keyring.store == {}


@pytest.mark.keyring_real
def test_canary_key_never_reaches_a_file_real_keyring(
    tmp_path: Path, real_keyring: KeyringBackend, profile_ids: list[str]
) -> None:
    _canary_cycle(tmp_path, KeyStore(real_keyring), profile_ids)
