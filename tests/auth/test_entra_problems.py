"""The one table from sign-in failures to plain words, options validation, and the token cache (no IdP needed)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

import pytest
from azure.core.credentials import AccessTokenInfo
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from azure.identity import AuthenticationRequiredError, CredentialUnavailableError

from desktop.auth import (
    ENTRA_CLOUDS,
    EntraAccount,
    EntraOptions,
    EntraSignInError,
    SignInAction,
    SignInProblem,
    SignInRequiredError,
    describe_sign_in_problem,
)
from desktop.auth._entra_session import _CachedToken

A = SignInAction


def _wrapped(cause: Exception, message: str) -> ClientAuthenticationError:
    # What azure-identity's wrap_exceptions does: a ClientAuthenticationError raised from the real cause.
    try:
        raise ClientAuthenticationError(message=message) from cause
    except ClientAuthenticationError as error:
        return error


CASES: list[tuple[str, BaseException | str, SignInAction, str, str | None]] = [
    (
        "closed browser",
        ClientAuthenticationError("Timed out after waiting 180 seconds for the user to authenticate"),
        A.SIGN_IN_AGAIN,
        "Sign-in not finished",
        None,
    ),
    (
        "device code never entered",
        ClientAuthenticationError("Timed out waiting for user to authenticate"),
        A.SIGN_IN_AGAIN,
        "Sign-in not finished",
        None,
    ),
    (
        "declined consent",
        ClientAuthenticationError("Authentication failed: AADSTS65004: User declined to consent to access the app."),
        A.CONTACT_ADMIN,
        "Permission was not granted",
        "AADSTS65004",
    ),
    (
        "mfa required",
        ClientAuthenticationError(
            "Authentication failed: AADSTS50076: Due to a configuration change made by your administrator, or "
            "because you moved to a new location, you must use multi-factor authentication to access '...'."
        ),
        A.CONTACT_ADMIN,
        "Your organisation requires an extra check",
        "AADSTS50076",
    ),
    (
        "conditional access",
        ClientAuthenticationError("Authentication failed: AADSTS53003: Access has been blocked by Conditional Access"),
        A.CONTACT_ADMIN,
        "Your organisation requires an extra check",
        "AADSTS53003",
    ),
    (
        "no browser",
        CredentialUnavailableError("Failed to open a browser"),
        A.USE_DEVICE_CODE,
        "No web browser could be opened",
        None,
    ),
    (
        "expired sign-in",
        AuthenticationRequiredError(["scope"], message="Interaction required"),
        A.SIGN_IN_AGAIN,
        "Please sign in again",
        None,
    ),
    (
        "cache encryption impossible",
        _wrapped(
            ValueError("Cache encryption is impossible because libsecret dependencies are not installed"),
            "Authentication failed: Cache encryption is impossible because libsecret ...",
        ),
        A.ALLOW_UNENCRYPTED,
        "Cannot store your sign-in securely",
        None,
    ),
    (
        "corporate proxy certificate",
        _wrapped(
            ServiceRequestError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed"),
            "Authentication failed: ...",
        ),
        A.CONTACT_ADMIN,
        "The connection is not trusted",
        None,
    ),
    (
        "network unreachable",
        _wrapped(
            ServiceRequestError("<urllib3.connection.HTTPSConnection>: Failed to establish a new connection"),
            "Authentication failed: ...",
        ),
        A.CHECK_NETWORK,
        "Cannot reach Microsoft sign-in",
        None,
    ),
    (
        "network error by class only",
        _wrapped(ServiceRequestError("boom"), "Authentication failed: boom"),
        A.CHECK_NETWORK,
        "Cannot reach Microsoft sign-in",
        None,
    ),
    (
        "cancelled",
        ClientAuthenticationError("Authentication failed: state mismatch: abc vs None"),
        A.NONE,
        "Sign-in cancelled",
        None,
    ),
    (
        "wrong tenant from the service",
        "Tenant provided in token does not match resource token",
        A.SIGN_IN_AGAIN,
        "Wrong organisation (tenant)",
        None,
    ),
    (
        "user not in tenant",
        ClientAuthenticationError(
            "Authentication failed: AADSTS50020: User account 'x' from identity provider 'y' does not exist in "
            "tenant 'Contoso' and cannot access the application."
        ),
        A.SIGN_IN_AGAIN,
        "Wrong organisation (tenant)",
        "AADSTS50020",
    ),
    (
        "azure cli signed out",
        CredentialUnavailableError("Please run 'az login' to set up an account"),
        A.SIGN_IN_AGAIN,
        "Azure CLI is not signed in",
        None,
    ),
    (
        "unknown with a code",
        ClientAuthenticationError("Authentication failed: AADSTS99999: Something new."),
        A.SIGN_IN_AGAIN,
        "Sign-in failed",
        "AADSTS99999",
    ),
]


@pytest.mark.parametrize(("error", "action", "title", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_failure_maps_to_plain_words(
    error: BaseException | str, action: SignInAction, title: str, code: str | None
) -> None:
    problem = describe_sign_in_problem(error)
    assert (problem.action, problem.title, problem.code) == (action, title, code)
    if code:
        assert problem.link == f"https://login.microsoftonline.com/error?code={code.removeprefix('AADSTS')}"
    else:
        assert problem.link is None
    assert "Traceback" not in problem.explanation
    assert problem.explanation.endswith(".")


def test_our_errors_carry_their_problem() -> None:
    problem = SignInProblem("t", "e.", SignInAction.NONE)
    error = SignInRequiredError(problem)
    assert isinstance(error, EntraSignInError)
    assert describe_sign_in_problem(error) is problem


def test_options_defaults_and_clouds() -> None:
    options = EntraOptions()
    assert options.tenant == "organizations"
    assert options.client_id == "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
    assert options.authority == "https://login.microsoftonline.com"
    assert options.scope == "https://cognitiveservices.azure.com/.default"
    assert EntraOptions(cloud="usgov").authority == "https://login.microsoftonline.us"
    assert EntraOptions(cloud="china").scope == "https://cognitiveservices.azure.cn/.default"
    assert {c.arm_scope for c in ENTRA_CLOUDS.values()} >= {"https://management.azure.com/.default"}
    assert EntraOptions(authority_host="https://idp.example:8443").authority == "https://idp.example:8443"


@pytest.mark.parametrize("changes", [{"cloud": "mars"}, {"tenant": "  "}, {"client_id": ""}])
def test_bad_options_are_refused_in_plain_words(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"\w+ .*\."):
        EntraOptions(**changes)


@pytest.mark.parametrize("record", ["{", "[]", '{"username": "a"}', "null"])
def test_damaged_record_is_a_value_error(record: str) -> None:
    with pytest.raises(ValueError, match="damaged"):
        EntraAccount.from_record_json(record)


def test_token_cache_shares_one_fetch_between_concurrent_awaits(arun: Any) -> None:
    calls = 0

    async def fetch() -> AccessTokenInfo:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)  # yield so the other awaits pile up behind the lock
        return AccessTokenInfo(f"token-{calls}", int(time.time()) + 3600)

    async def main() -> list[str]:
        cached = _CachedToken(fetch)
        first = await asyncio.gather(*(cached() for _ in range(10)))
        return [*first, await cached()]

    assert arun(main()) == ["token-1"] * 11
    assert calls == 1


@pytest.mark.parametrize(
    ("expires_in", "refresh_in", "fetches"),
    [(3600, None, 1), (299, None, 2), (3600, -1, 2), (3600, 60, 1)],
    ids=["fresh", "inside-5-minute-margin", "refresh-on-passed", "refresh-on-ahead"],
)
def test_token_cache_refreshes_before_expiry(expires_in: int, refresh_in: int | None, fetches: int, arun: Any) -> None:
    calls = 0

    async def fetch() -> AccessTokenInfo:
        nonlocal calls
        calls += 1
        now = int(time.time())
        refresh_on = None if refresh_in is None else now + refresh_in
        return AccessTokenInfo(f"token-{calls}", now + expires_in, refresh_on=refresh_on)

    async def main() -> None:
        cached = _CachedToken(fetch)
        await cached()
        await cached()

    arun(main())
    assert calls == fetches


def test_importing_auth_stays_light() -> None:
    # azure.identity costs ~160-280 ms to import: it must load on first use, on the worker thread, not at start-up.
    code = (
        "import sys, desktop.auth; print(sorted(m for m in ('azure.identity', 'msal', 'PySide6') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"
