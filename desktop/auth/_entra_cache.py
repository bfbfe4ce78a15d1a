"""Removing one account from the app's MSAL persistent token cache (azure-identity has no sign-out API)."""

from __future__ import annotations

__all__ = ["forget_cached_account"]


def forget_cached_account(cache_name: str, home_account_id: str, *, allow_unencrypted_storage: bool) -> int:
    """Delete every token and account entry of `home_account_id` from the named cache; returns how many."""
    import msal
    from azure.identity import TokenCachePersistenceOptions

    # Private on purpose: it is the exact loader azure-identity uses, so we open the same store (encrypted or not,
    # CAE or not) that the credentials wrote. tests/auth/test_entra_session.py::test_sign_out_* guards this.
    from azure.identity._persistent_cache import _load_persistent_cache

    options = TokenCachePersistenceOptions(name=cache_name, allow_unencrypted_storage=allow_unencrypted_storage)
    kinds = msal.TokenCache.CredentialType
    removed = 0
    for is_cae in (False, True):
        cache = _load_persistent_cache(options, is_cae)
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
