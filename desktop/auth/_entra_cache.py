"""Removing one account from the app's persistent token cache, with msal and msal-extensions' public APIs only.

azure-identity has no sign-out. Its persistent cache (`TokenCachePersistenceOptions(name=...)`) is the msal-extensions
store that Microsoft's developer tools share by design: `~/.IdentityService/<name>.nocae` (and `.cae` for tokens with
continuous access evaluation), kept in libsecret on Linux (schema `<name>.nocae`, attribute MsalClientID =
Microsoft.Developer.IdentityService, label MSALCache), in the Keychain on macOS and DPAPI-protected on Windows.
tests/auth/test_entra_session.py::test_sign_out_* signs in with the real azure-identity and proves the entries go.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["forget_cached_account"]

_SUFFIXES = (".nocae", ".cae")
_SERVICE = "Microsoft.Developer.IdentityService"
_ACCOUNT = "MSALCache"


def _persistence(cache_name: str, allow_unencrypted_storage: bool) -> Any:
    import msal_extensions

    if sys.platform.startswith("win") and "LOCALAPPDATA" in os.environ:
        path = os.path.join(os.environ["LOCALAPPDATA"], ".IdentityService", cache_name)
        return msal_extensions.FilePersistenceWithDataProtection(path)
    path = os.path.expanduser(os.path.join("~", ".IdentityService", cache_name))
    if sys.platform.startswith("darwin"):
        return msal_extensions.KeychainPersistence(path, _SERVICE, cache_name)
    try:
        return msal_extensions.LibsecretPersistence(path, cache_name, {"MsalClientID": _SERVICE}, label=_ACCOUNT)
    except Exception:
        if not allow_unencrypted_storage:
            raise
    return msal_extensions.FilePersistence(path)


def forget_cached_account(cache_name: str, home_account_id: str, *, allow_unencrypted_storage: bool) -> int:
    """Delete every token and account entry of `home_account_id` from the named cache; returns how many."""
    import msal
    import msal_extensions

    kinds = msal.TokenCache.CredentialType
    removed = 0
    for suffix in _SUFFIXES:
        path_name = cache_name + suffix
        persistence = _persistence(path_name, allow_unencrypted_storage)
        if not os.path.exists(persistence.get_location()):
            continue  # never written: nothing to forget (and nothing to create)
        cache = msal_extensions.PersistedTokenCache(persistence)
        for kind, remove in (
            (kinds.REFRESH_TOKEN, cache.remove_rt),
            (kinds.ACCESS_TOKEN, cache.remove_at),
            (kinds.ID_TOKEN, cache.remove_idt),
            (kinds.ACCOUNT, cache.remove_account),
        ):
            for entry in list(cache.search(kind, query={"home_account_id": home_account_id})):
                remove(entry)
                removed += 1
    return removed
