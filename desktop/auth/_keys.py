"""API keys in the operating system's keyring, one entry per profile; never in a file, never in plain text."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TypeVar

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from desktop.log import add_secret

log = logging.getLogger(__name__)
T = TypeVar("T")
SERVICE_NAME = "Azure OpenAI Chat"
_KEY_CHARS = re.compile(r"^[\x21-\x7e]+$")
_BACKEND_NAMES = {
    "keyring.backends.SecretService.Keyring": "Secret Service (GNOME Keyring or KDE Wallet)",
    "keyring.backends.libsecret.Keyring": "Secret Service (libsecret)",
    "keyring.backends.kwallet.DBusKeyring": "KDE Wallet",
    "keyring.backends.kwallet.DBusKeyringKWallet4": "KDE Wallet",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Manager",
    "keyring.backends.macOS.Keyring": "macOS Keychain",
}
_NO_STORE = (
    "This computer has no password store the app can use (such as GNOME Keyring, KDE Wallet, Windows Credential "
    "Manager or the macOS Keychain), so the key cannot be saved."
)


class KeyringUnavailableError(RuntimeError):
    """No safe password store can be used; `str(error)` is a sentence for the user."""


class ApiKeyFormatError(ValueError):
    """The text is not a plausible API key; `str(error)` is a sentence for the user."""


def clean_api_key(text: str) -> str:
    """Return the key without surrounding spaces or quotes, or raise `ApiKeyFormatError` saying what is wrong."""
    key = text.strip().strip("\"'`").strip()
    if not key:
        raise ApiKeyFormatError("Enter the key (Azure portal → your resource → Keys and Endpoint).")
    if "://" in key or key.lower().endswith((".azure.com", ".azure.us", ".azure.cn")):
        raise ApiKeyFormatError("This looks like an address, not a key. Paste the address in the endpoint field.")
    if not _KEY_CHARS.match(key):
        raise ApiKeyFormatError("A key cannot contain spaces or line breaks. Copy it again from the Azure portal.")
    if len(key) < 16:
        raise ApiKeyFormatError("This key is too short. Copy the whole key from the Azure portal.")
    return key


def _class_path(backend: KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def _refusal(backend: KeyringBackend) -> str | None:
    """Why this backend must not hold keys, or None when it may."""
    module = type(backend).__module__
    if module.startswith("keyrings.alt"):
        # keyrings.alt keeps secrets in files (plain or with a password typed on a console): never for us.
        return "The only password store available keeps passwords in a file, which the app does not use for keys."
    if module in ("keyring.backends.fail", "keyring.backends.null"):
        return _NO_STORE
    try:
        priority = float(backend.priority)
    except Exception as error:  # backends signal "not usable here" by raising from `priority`
        return f"The password store cannot be reached ({error})."
    if priority <= 0:
        return _NO_STORE
    return None


def _choose(backend: KeyringBackend) -> KeyringBackend:
    """Return the backend to use, unwrapping keyring's chainer to its best acceptable member."""
    from keyring.backends.chainer import ChainerBackend

    if not isinstance(backend, ChainerBackend):
        reason = _refusal(backend)
        if reason is not None:
            raise KeyringUnavailableError(reason)
        return backend
    members: list[KeyringBackend] = list(backend.backends)
    reasons = [_refusal(member) for member in members]
    usable = [member for member, reason in zip(members, reasons, strict=True) if reason is None]
    if not usable:
        raise KeyringUnavailableError(next((r for r in reasons if r is not None), _NO_STORE))
    return usable[0]


class ApiKeyStore(ABC):
    """Where API keys live, per profile id: the OS keyring (`KeyStore`) or this session's memory."""

    persistent: bool = True

    @abstractmethod
    def backend_name(self) -> str:
        """Name of the store for the settings screen."""

    @abstractmethod
    def get(self, profile_id: str) -> str | None:
        """Return the key of a profile, or None if it has none."""

    @abstractmethod
    def _write(self, profile_id: str, key: str) -> None: ...

    @abstractmethod
    def delete(self, profile_id: str) -> bool:
        """Remove the key of a profile; return whether there was one."""

    def set(self, profile_id: str, key: str) -> None:
        """Store (or overwrite) the key of a profile after checking it looks like a key."""
        add_secret(key.strip().strip("\"'`").strip())  # scrubbed from logs from the moment it is typed
        self._write(profile_id, clean_api_key(key))

    def replace(self, profile_id: str, key: str) -> bool:
        """Store a new key over the old one; return whether there was an old one."""
        add_secret(key.strip().strip("\"'`").strip())
        key = clean_api_key(key)
        had_key = self.get(profile_id) is not None
        self._write(profile_id, key)
        return had_key

    async def _run(self, call: Callable[..., T], *args: str) -> T:
        # Keyring backends talk to D-Bus/OS services and may block (even show an unlock prompt): not on the loop.
        return await asyncio.to_thread(call, *args)

    async def abackend_name(self) -> str:
        """`backend_name` from a worker thread."""
        return await self._run(self.backend_name)

    async def aget(self, profile_id: str) -> str | None:
        """`get` from a worker thread."""
        return await self._run(self.get, profile_id)

    async def aset(self, profile_id: str, key: str) -> None:
        """`set` from a worker thread."""
        await self._run(self.set, profile_id, key)

    async def areplace(self, profile_id: str, key: str) -> bool:
        """`replace` from a worker thread."""
        return await self._run(self.replace, profile_id, key)

    async def adelete(self, profile_id: str) -> bool:
        """`delete` from a worker thread."""
        return await self._run(self.delete, profile_id)


class KeyStore(ApiKeyStore):
    """API keys in the OS keyring; raises `KeyringUnavailableError` rather than ever storing a key elsewhere."""

    def __init__(self, backend: KeyringBackend | None = None, service: str = SERVICE_NAME) -> None:
        self._requested = backend
        self._service = service
        self._backend: KeyringBackend | None = None
        self._lock = threading.Lock()

    def _resolve(self) -> KeyringBackend:
        with self._lock:
            if self._backend is None:
                # Resolved on first use (in a worker thread): detecting the backend may probe D-Bus.
                self._backend = _choose(self._requested or keyring.get_keyring())
            return self._backend

    def _call(self, what: str, call: Callable[[KeyringBackend], T]) -> T:
        backend = self._resolve()
        try:
            return call(backend)
        except keyring.errors.KeyringLocked:
            raise KeyringUnavailableError(
                "The password store is locked. Unlock it (for example by signing in to your desktop again) "
                "and try again."
            ) from None
        except Exception as error:
            log.warning("Keyring %s failed during %s: %s", _class_path(backend), what, type(error).__name__)
            with self._lock:
                self._backend = None  # it may work again later (e.g. after the user unlocks it)
            raise KeyringUnavailableError(
                f"The password store ({self.backend_name()}) could not {what} the key "
                f"({type(error).__name__}). Check that it is running and unlocked, then try again."
            ) from None

    def backend_name(self) -> str:
        """Name of the keyring in use, in words a user recognises."""
        backend = self._backend or self._requested or keyring.get_keyring()
        return _BACKEND_NAMES.get(_class_path(backend), backend.name)

    def get(self, profile_id: str) -> str | None:
        """Return the key of a profile, or None if it has none."""
        key = self._call("read", lambda b: b.get_password(self._service, profile_id))
        if key:
            add_secret(key)  # known to the log filter before any caller (or qasync's executor) can log it
        return key

    def _write(self, profile_id: str, key: str) -> None:
        stored = self._call(
            "save",
            lambda b: (b.set_password(self._service, profile_id, key), b.get_password(self._service, profile_id))[1],
        )
        if stored != key:
            raise KeyringUnavailableError(
                "The password store did not keep the key. Try again, or use it for this session only."
            )

    def delete(self, profile_id: str) -> bool:
        """Remove the key of a profile; return whether there was one."""

        def remove(backend: KeyringBackend) -> bool:
            try:
                backend.delete_password(self._service, profile_id)
            except keyring.errors.PasswordDeleteError:
                return False
            return True

        return self._call("delete", remove)


class SessionKeyStore(ApiKeyStore):
    """Keys kept in memory for this session only, offered (with the user's consent) when no keyring works."""

    persistent = False

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}

    def backend_name(self) -> str:
        """Says where keys are: nowhere on disk."""
        return "This session only (keys are forgotten when the app closes)"

    def get(self, profile_id: str) -> str | None:
        """Return the key of a profile, or None if it has none."""
        return self._keys.get(profile_id)

    def _write(self, profile_id: str, key: str) -> None:
        add_secret(key)
        self._keys[profile_id] = key

    def delete(self, profile_id: str) -> bool:
        """Remove the key of a profile; return whether there was one."""
        return self._keys.pop(profile_id, None) is not None

    async def _run(self, call: Callable[..., T], *args: str) -> T:
        # Memory only: nothing blocks, so no thread hop.
        return call(*args)
