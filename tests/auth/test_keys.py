"""KeyStore logic over keyring backends: refusals of unsafe or missing stores, errors in plain words, async hops."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.backends.chainer import ChainerBackend
from keyring.errors import KeyringLocked, PasswordDeleteError

from desktop.auth import (
    SERVICE_NAME,
    ApiKeyFormatError,
    KeyringUnavailableError,
    KeyStore,
    SessionKeyStore,
    clean_api_key,
)

KEY = "0123456789abcdef0123456789abcdef"
KEY2 = "fedcba9876543210fedcba9876543210"


class DictBackend(KeyringBackend):
    """A working backend that remembers which threads called it."""

    priority: float = 1
    # Every KeyringBackend subclass is a candidate in keyring's own backend discovery; keep test doubles out of it.
    viable = False

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}
        self.threads: set[int] = set()

    def get_password(self, service: str, username: str) -> str | None:
        self.threads.add(threading.get_ident())
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class PlaintextFile(DictBackend):
    """Stands in for keyrings.alt's plain-file keyring (same module, so it must be refused)."""

    priority = 0.5


PlaintextFile.__module__ = "keyrings.alt.file"


class LockedBackend(DictBackend):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")


class BrokenBackend(DictBackend):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"D-Bus went away while storing {password}")


class ForgetfulBackend(DictBackend):
    def set_password(self, service: str, username: str, password: str) -> None:
        pass


class UnreachableBackend(DictBackend):
    @property
    def priority(self) -> float:  # type: ignore[override]
        raise RuntimeError("The Secret Service daemon is neither running nor activatable through D-Bus")


def chainer(*members: KeyringBackend) -> ChainerBackend:
    class Chain(ChainerBackend):
        backends = tuple(members)
        viable = False

    return Chain()


def test_cycle_on_the_installed_keyring(memory_keyring: Any) -> None:
    store = KeyStore()
    assert store.persistent
    assert store.get("p1") is None
    store.set("p1", f"  {KEY}\n")
    assert memory_keyring.store == {(SERVICE_NAME, "p1"): KEY}
    assert store.get("p1") == KEY
    assert store.replace("p1", KEY2) is True
    assert store.get("p1") == KEY2
    assert store.replace("p2", KEY) is False
    assert store.delete("p1") is True
    assert store.delete("p1") is False
    assert store.get("p1") is None
    assert store.get("p2") == KEY


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        (fail.Keyring(), "no password store"),
        (null.Keyring(), "no password store"),
        (chainer(), "no password store"),
        (PlaintextFile(), "keeps passwords in a file"),
        (chainer(PlaintextFile()), "keeps passwords in a file"),
        (UnreachableBackend(), "cannot be reached"),
    ],
)
def test_unusable_backends_are_refused(backend: KeyringBackend, message: str) -> None:
    store = KeyStore(backend)
    for call in (lambda: store.get("p"), lambda: store.set("p", KEY), lambda: store.delete("p")):
        with pytest.raises(KeyringUnavailableError, match=message):
            call()
    if isinstance(backend, DictBackend):
        assert backend.store == {}


def test_chainer_uses_its_best_safe_member_only() -> None:
    plain, safe = PlaintextFile(), DictBackend()
    store = KeyStore(chainer(plain, safe))
    store.set("p", KEY)
    assert plain.store == {}
    assert safe.store == {(SERVICE_NAME, "p"): KEY}


def test_locked_store_says_unlock_it() -> None:
    with pytest.raises(KeyringUnavailableError, match="Unlock it"):
        KeyStore(LockedBackend()).get("p")


def test_failure_on_use_is_plain_and_never_echoes_the_key(logfail: Any, caplog: pytest.LogCaptureFixture) -> None:
    logfail.allow("desktop.auth", "failed during save")
    with pytest.raises(KeyringUnavailableError) as caught:
        KeyStore(BrokenBackend()).set("p", KEY)
    assert "could not save the key" in str(caught.value)
    assert KEY not in str(caught.value)
    assert caught.value.__cause__ is None
    assert KEY not in caplog.text


def test_a_store_that_does_not_keep_the_key_is_reported() -> None:
    with pytest.raises(KeyringUnavailableError, match="did not keep the key"):
        KeyStore(ForgetfulBackend()).set("p", KEY)


def test_store_works_again_after_a_failure(logfail: Any) -> None:
    logfail.allow("desktop.auth", "failed during")

    class Flaky(DictBackend):
        fail_next = True

        def get_password(self, service: str, username: str) -> str | None:
            if self.fail_next:
                self.fail_next = False
                raise OSError("temporarily unavailable")
            return super().get_password(service, username)

    store = KeyStore(Flaky())
    with pytest.raises(KeyringUnavailableError):
        store.get("p")
    assert store.get("p") is None


@pytest.mark.parametrize(
    ("backend", "name"),
    [
        (DictBackend(), "test keys DictBackend"),
        (fail.Keyring(), "fail Keyring"),
    ],
)
def test_backend_name(backend: KeyringBackend, name: str) -> None:
    assert KeyStore(backend).backend_name() == name


def test_backend_names_users_recognise() -> None:
    from keyring.backends import SecretService, Windows, macOS

    assert KeyStore(SecretService.Keyring()).backend_name().startswith("Secret Service")
    assert KeyStore(Windows.WinVaultKeyring()).backend_name() == "Windows Credential Manager"
    assert KeyStore(macOS.Keyring()).backend_name() == "macOS Keychain"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter the key"),
        ("   ", "Enter the key"),
        ("https://res.openai.azure.com", "looks like an address"),
        ("res.openai.azure.com", "looks like an address"),
        ("0123456789 abcdef0123456789abcdef", "cannot contain spaces"),
        ("0123456789abcdef\n0123456789abcdef", "cannot contain spaces"),
        ("abc123", "too short"),
    ],
)
def test_bad_keys_are_refused_before_storing(memory_keyring: Any, text: str, message: str) -> None:
    with pytest.raises(ApiKeyFormatError, match=message):
        KeyStore().set("p", text)
    with pytest.raises(ApiKeyFormatError, match=message):
        SessionKeyStore().replace("p", text)
    assert memory_keyring.store == {}


def test_clean_api_key_strips_quotes_and_spaces() -> None:
    assert clean_api_key(f' "{KEY}" ') == KEY


def test_session_store_keeps_keys_in_memory_only() -> None:
    store = SessionKeyStore()
    assert not store.persistent
    assert "session only" in store.backend_name()
    store.set("p", KEY)
    assert store.replace("p", KEY2) is True
    assert store.get("p") == KEY2
    assert store.delete("p") is True
    assert store.delete("p") is False


def test_async_wrappers_run_keyring_calls_off_the_loop_thread(arun: Any) -> None:
    backend = DictBackend()
    store = KeyStore(backend)

    async def cycle() -> tuple[Any, ...]:
        await store.aset("p", KEY)
        got = await store.aget("p")
        replaced = await store.areplace("p", KEY2)
        deleted = await store.adelete("p")
        return got, replaced, deleted, await store.abackend_name()

    assert arun(cycle()) == (KEY, True, True, "test keys DictBackend")
    assert threading.get_ident() not in backend.threads


def test_async_wrappers_raise_the_plain_errors(arun: Any) -> None:
    async def read() -> str | None:
        return await KeyStore(fail.Keyring()).aget("p")

    with pytest.raises(KeyringUnavailableError, match="no password store"):
        arun(read())

    async def session_cycle() -> str | None:
        store = SessionKeyStore()
        await store.aset("p", KEY)
        return await store.aget("p")

    assert arun(session_cycle()) == KEY


def test_secret_service_without_a_session_bus_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from keyring.backends import SecretService

    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    with pytest.raises(KeyringUnavailableError, match="cannot be reached"):
        KeyStore(SecretService.Keyring()).get("p")
