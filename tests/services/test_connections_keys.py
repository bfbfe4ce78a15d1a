"""The one key policy, as a table: every keyring state x session key x consent, read and saved through KeyVault.

The guided start and the settings dialog run the same table through their views (tests/ui).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from keyring.backends import fail

from desktop.auth import KeyStore, SessionKeyStore
from desktop.services import KeyPlace, KeyVault

KEYRING_KEY = "keyring-key-0123456789abcdef"
SESSION_KEY = "session-key-0123456789abcdef"
NEW_KEY = "typed-new-key-0123456789abcdef"
PID = "p1"


@dataclass(frozen=True)
class KeyCase:
    """One row: the stores before, and what the app must use before and after the user saves NEW_KEY."""

    keyring: str  # "works" (holds KEYRING_KEY), "none" (works, holds nothing), "fails" (no usable keyring)
    session_key: bool  # a session-only copy exists
    consent: bool  # the user agreed to keep the key for this session only
    used_before: str | None  # the key the app uses before the save
    saved_to: KeyPlace  # where NEW_KEY goes (NOWHERE = consent is asked for and nothing is stored)
    session_after: str | None  # the session store's copy after the save

    @property
    def id(self) -> str:
        return f"keyring-{self.keyring}-{'session' if self.session_key else 'nosession'}-" + (
            "consent" if self.consent else "noconsent"
        )

    @property
    def used_after(self) -> str | None:
        return NEW_KEY if self.saved_to is not KeyPlace.NOWHERE else self.used_before


def _row(keyring: str, session_key: bool, consent: bool) -> KeyCase:
    # Keyring first; a session copy (there only with consent, or the app's own demo key) otherwise.
    used_before = KEYRING_KEY if keyring == "works" else (SESSION_KEY if session_key else None)
    if keyring != "fails":
        # A successful keyring save drops the session copy.
        return KeyCase(keyring, session_key, consent, used_before, KeyPlace.KEYRING, None)
    if consent:
        return KeyCase(keyring, session_key, consent, used_before, KeyPlace.SESSION, NEW_KEY)
    return KeyCase(keyring, session_key, consent, used_before, KeyPlace.NOWHERE, SESSION_KEY if session_key else None)


KEY_TABLE: tuple[KeyCase, ...] = tuple(
    _row(keyring, session_key, consent)
    for keyring in ("works", "none", "fails")
    for session_key in (True, False)
    for consent in (True, False)
)


def key_stores(case: KeyCase, memory_keyring: Any) -> tuple[KeyStore, SessionKeyStore]:
    """The two stores as the row says (the vault's consent is set by `prepare_vault`)."""
    keyring = KeyStore(fail.Keyring() if case.keyring == "fails" else memory_keyring)
    if case.keyring == "works":
        keyring.set(PID, KEYRING_KEY)
    session = SessionKeyStore()
    if case.session_key:
        session.set(PID, SESSION_KEY)
    return keyring, session


def prepare_vault(case: KeyCase, vault: KeyVault) -> None:
    """Give the vault the row's consent (as if the user had agreed earlier in this session)."""
    if case.consent:
        vault.allow_session(PID)


def test_the_table_covers_every_combination() -> None:
    assert len({(c.keyring, c.session_key, c.consent) for c in KEY_TABLE}) == 12


@pytest.mark.parametrize("case", KEY_TABLE, ids=lambda c: c.id)
def test_key_precedence(case: KeyCase, memory_keyring: Any, arun: Any) -> None:
    keyring, session = key_stores(case, memory_keyring)
    vault = KeyVault(keyring, session)
    prepare_vault(case, vault)
    assert arun(vault.read(PID)).key == case.used_before
    saved = arun(vault.save(PID, f"  {NEW_KEY}\n"))
    assert saved.place is case.saved_to
    assert saved.needs_consent == (case.saved_to is KeyPlace.NOWHERE)
    assert arun(vault.read(PID)).key == case.used_after
    assert session.get(PID) == case.session_after
    if case.keyring != "fails":
        assert keyring.get(PID) == NEW_KEY


def test_a_key_is_read_once_per_session_and_forgotten_when_removed(memory_keyring: Any, arun: Any) -> None:
    reads: list[str] = []

    class CountingStore(KeyStore):
        def get(self, profile_id: str) -> str | None:
            reads.append(profile_id)
            return super().get(profile_id)

    keyring = CountingStore(memory_keyring)
    keyring.set(PID, KEYRING_KEY)
    vault = KeyVault(keyring, SessionKeyStore())
    for _ in range(3):
        assert arun(vault.read(PID)).key == KEYRING_KEY
    assert reads == [PID]
    assert arun(vault.remove(PID))
    assert arun(vault.read(PID)).key is None
    assert keyring.get(PID) is None


def test_consent_given_at_save_time_keeps_the_key_for_the_session(arun: Any) -> None:
    vault = KeyVault(KeyStore(fail.Keyring()), SessionKeyStore())
    assert arun(vault.save(PID, NEW_KEY)).needs_consent
    assert arun(vault.read(PID)).key is None
    assert arun(vault.save(PID, NEW_KEY, consent=True)).place is KeyPlace.SESSION
    found = arun(vault.read(PID))
    assert (found.key, found.place) == (NEW_KEY, KeyPlace.SESSION)
    assert found.keyring_problem is not None  # the settings screen says why the keyring was not used
