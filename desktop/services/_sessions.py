"""Sign-in sessions as the connections see them: Entra and Azure CLI sessions, their factories, and token calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from desktop.auth import (
    AzureCliSession,
    DeviceCodePrompt,
    EntraAccount,
    EntraSession,
    EntraSignInError,
    SignInProblem,
    describe_sign_in_problem,
)
from desktop.auth import EntraOptions as SignInOptions
from desktop.client import APIError

__all__ = [
    "CliSessionFactory",
    "EntraSessionFactory",
    "SignInSession",
    "TokenSession",
    "cli_session",
    "entra_session",
    "signing_in",
    "token",
]

T = TypeVar("T")
TokenProvider = Callable[[], Awaitable[str]]


class TokenSession(Protocol):
    """Anything that hands out bearer tokens per scope (the Azure CLI session)."""

    def token_provider(self, scope: str | None = None) -> TokenProvider:
        """An async callable returning a cached token for `scope`."""
        ...

    async def close(self) -> None:
        """Release the session's resources."""
        ...


class SignInSession(TokenSession, Protocol):
    """An interactive Microsoft Entra sign-in (`desktop.auth.EntraSession`, or a fake in tests)."""

    @property
    def account(self) -> EntraAccount | None:
        """The signed-in account, or None."""
        ...

    def allow_unencrypted_storage(self) -> None:
        """Record the user's consent to an unencrypted token cache."""
        ...

    def cancel(self) -> None:
        """Cancel a pending sign-in."""
        ...

    async def sign_in_browser(self) -> EntraAccount:
        """Sign in in the system browser."""
        ...

    async def sign_in_device_code(self, prompt: DeviceCodePrompt) -> EntraAccount:
        """Sign in from another device with a code."""
        ...

    async def sign_out(self) -> None:
        """Forget the account and its cached tokens."""
        ...


#: Builds the sign-in session of a profile from its options and the unencrypted-cache consent.
EntraSessionFactory = Callable[[SignInOptions, bool], SignInSession]
#: Builds the Azure CLI session of a profile from (tenant, cloud).
CliSessionFactory = Callable[[str, str], TokenSession]


def entra_session(options: SignInOptions, allow_unencrypted: bool) -> SignInSession:
    return EntraSession(options, allow_unencrypted_storage=allow_unencrypted)


def cli_session(tenant: str, cloud: str) -> TokenSession:
    return AzureCliSession(tenant=tenant, cloud=cloud)


class _RequestSignInError(EntraSignInError, APIError):
    """A sign-in problem met while authenticating a request: an APIError too, so every request path handles it."""

    def __init__(self, problem: SignInProblem) -> None:
        EntraSignInError.__init__(self, problem)
        self.message = str(self)
        self.request_id = None


async def token(session: TokenSession, scope: str) -> str:
    # Looked up on every call: a new sign-in replaces the session's providers, and this keeps clients current.
    try:
        return await session.token_provider(scope)()
    except _RequestSignInError:
        raise
    except EntraSignInError as error:
        raise _RequestSignInError(error.problem) from error


async def signing_in(work: Awaitable[T]) -> T:
    """Await a sign-in step; anything unexpected becomes an EntraSignInError in plain words."""
    try:
        return await work
    except EntraSignInError:
        raise
    except Exception as error:
        raise EntraSignInError(describe_sign_in_problem(error)) from error
