"""The one key policy: keyring first; this session's memory only with the user's consent; read once, then cached."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from desktop.auth import ApiKeyStore, KeyringUnavailableError, clean_api_key
from desktop.log import add_secret

__all__ = ["KeyLookup", "KeyPlace", "KeySaved", "KeyVault"]

_log = logging.getLogger(__name__)


class KeyPlace(enum.Enum):
    """Where a profile's key is kept."""

    KEYRING = "keyring"
    SESSION = "session"
    NOWHERE = "nowhere"


@dataclass(frozen=True, slots=True)
class KeyLookup:
    """The key a profile uses (None = none), where it came from, and why the keyring could not be read (or None)."""

    key: str | None
    place: KeyPlace
    keyring_problem: str | None = None


@dataclass(frozen=True, slots=True)
class KeySaved:
    """The outcome of saving a key: where it went, or (NOWHERE) why the user's consent is needed first."""

    place: KeyPlace
    problem: str | None = None

    @property
    def needs_consent(self) -> bool:
        """The keyring failed and the user has not agreed to keep the key for this session only."""
        return self.place is KeyPlace.NOWHERE


class KeyVault:
    """API keys per profile under one precedence table, shared by the chat turns and every setup screen.

    Reading: a key read before (this session) → the keyring → the session store. Saving: the keyring; a successful
    save drops any session copy; when the keyring fails, the session store only if the user agreed to it for this
    profile, otherwise nothing is stored and the outcome asks for consent. So a key reaches the session store only
    with consent (or from the app itself: the demo's own key), and whatever is there may be read. A key is read from the
    stores once per session and kept in memory; it is forgotten when it is replaced or removed.
    """

    def __init__(self, keyring: ApiKeyStore, session: ApiKeyStore) -> None:
        self.keyring = keyring
        self.session = session
        self._consent: set[str] = set()
        self._cache: dict[str, KeyLookup] = {}

    def allow_session(self, profile_id: str) -> None:
        """Record the user's consent to keep this profile's key in memory for this session only."""
        self._consent.add(profile_id)

    def session_allowed(self, profile_id: str) -> bool:
        """Whether the user agreed to a session-only key for this profile."""
        return profile_id in self._consent

    def forget(self, profile_id: str) -> None:
        """Drop the cached key so the next read asks the stores again."""
        self._cache.pop(profile_id, None)

    async def read(self, profile_id: str) -> KeyLookup:
        """The key this profile uses now (cached after the first successful read)."""
        cached = self._cache.get(profile_id)
        if cached is not None:
            return cached
        problem: str | None = None
        try:
            key = await self.keyring.aget(profile_id)
        except KeyringUnavailableError as error:
            key, problem = None, str(error)
        if key is not None:
            found = KeyLookup(key, KeyPlace.KEYRING)
        else:
            session_key = await self.session.aget(profile_id)
            if session_key is None:
                # Not cached: a key saved later (or a keyring unlocked later) must be found on the next read.
                return KeyLookup(None, KeyPlace.NOWHERE, problem)
            found = KeyLookup(session_key, KeyPlace.SESSION, problem)
        assert found.key is not None
        add_secret(found.key)  # scrubbed from every log record from now on
        self._cache[profile_id] = found
        return found

    async def save(self, profile_id: str, text: str, *, consent: bool = False) -> KeySaved:
        """Store a typed key (ApiKeyFormatError if it is not one); `consent` = the user agreed to session-only."""
        key = clean_api_key(text)
        if consent:
            self.allow_session(profile_id)
        self.forget(profile_id)
        try:
            await self.keyring.aset(profile_id, key)
        except KeyringUnavailableError as error:
            if profile_id not in self._consent:
                return KeySaved(KeyPlace.NOWHERE, str(error))
            await self.session.aset(profile_id, key)
            add_secret(key)
            self._cache[profile_id] = KeyLookup(key, KeyPlace.SESSION, str(error))
            return KeySaved(KeyPlace.SESSION, str(error))
        await self.session.adelete(profile_id)
        add_secret(key)
        self._cache[profile_id] = KeyLookup(key, KeyPlace.KEYRING)
        return KeySaved(KeyPlace.KEYRING)

    async def remove(self, profile_id: str) -> bool:
        """Remove the key from both stores (the keyring may be unreachable: then only the session copy goes)."""
        self.forget(profile_id)
        removed = await self.session.adelete(profile_id)
        try:
            removed = await self.keyring.adelete(profile_id) or removed
        except KeyringUnavailableError as error:
            _log.info("key of %s not removed from the keyring: %s", profile_id, error)
        return removed

    async def restore(self, profile_id: str, previous: KeyLookup) -> None:
        """Put back a key read before a change that had to be undone (the save transaction's rollback)."""
        self.forget(profile_id)
        if previous.key is None:
            await self.remove(profile_id)
        elif previous.place is KeyPlace.SESSION:
            await self.session.aset(profile_id, previous.key)
        else:
            try:
                await self.keyring.aset(profile_id, previous.key)
            except KeyringUnavailableError as error:
                _log.warning("the previous key of %s could not be put back: %s", profile_id, error)

    async def keyring_name(self) -> str:
        """The keyring's name for the user (or why it cannot be used)."""
        try:
            return await self.keyring.abackend_name()
        except Exception as error:  # the keyring itself may be the problem; the words must still be shown
            return str(error)

    async def describe(self, profile_id: str) -> str:
        """One sentence for the settings screen: whether a key is saved for the profile, and where."""
        found = await self.read(profile_id)
        if found.place is KeyPlace.SESSION:
            return await self.session.abackend_name()
        if found.keyring_problem is not None:
            return found.keyring_problem
        where = await self.keyring_name()
        if found.key is not None:
            return f"A key is saved in: {where}. Paste a new one to replace it."
        return f"No key saved yet. It will be kept in: {where}."
